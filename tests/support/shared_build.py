"""Build an expensive test artifact once per test session, even across pytest-xdist workers.

``--dist loadgroup`` does not keep an ``xdist_group`` on one worker with this pytest
(xdist's node-id suffix is not applied), so each worker would redo a module fixture's
nbgrader run.  :func:`once` lets the first worker build and the others wait and reuse the
result (a JSON-able value describing files under the shared session temp directory).
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import shutil
from pathlib import Path
from typing import Callable

from kit import ROOT


def once(tmp_path_factory, worker_id: str, key: str, build: Callable[[Path], object]) -> object:
    """``build(directory)`` once per session; every worker gets the same (JSON round-tripped) value."""
    if worker_id == "master":  # not under xdist
        return json.loads(json.dumps(build(tmp_path_factory.mktemp(key))))
    shared = tmp_path_factory.getbasetemp().parent  # the session's directory, common to all workers
    with open(shared / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / f"{key}.json"
        if not done.exists():
            directory = shared / key
            if directory.exists():  # a worker's earlier attempt failed
                shutil.rmtree(directory)
            directory.mkdir()
            done.write_text(json.dumps(build(directory)))
        return json.loads(done.read_text())


def release_cli(directory: Path) -> dict:
    """`linclass release` (validate included) on a copy of the course; its course folder and output."""
    from linclass.cli import main as cli_main
    from linclass.course.release import copy_course

    course = copy_course(ROOT / "assignments", directory / "course")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(["release", "linear_classifiers", "--course", str(course)])
    assert code == 0, out.getvalue()
    return {"course": str(course), "out": out.getvalue()}
