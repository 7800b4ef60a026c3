"""The warm zygote: student processes forked from one pre-started interpreter.

A hostile submission graded between two correct ones in one worker must not harm the zygote or
the next submission: the correct ones get exactly the results of a cold start
(``LINCLASS_ZYGOTE=0``), and the restarts after a hang or a crash are forks, not fresh
interpreters.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from hostile_corpus import load_case, materialize

from autograder.batch import grade_batch
from autograder.run import grade_submission
from autograder.sandbox import spawn
from linclass.assignments.linear_classifiers.mutants import write_reference

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("zygote")]

#: What varies between two gradings of the same code: the CPU-time comparisons' measurements.
TIMED = "faster than naive"


def comparable(results: dict) -> list[tuple]:
    """Each check's name, score, status and (outside the timed checks) message."""
    return [(t["name"], t["score"], t["status"], "" if TIMED in t["name"] else t["output"]) for t in results["tests"]]


@pytest.fixture(scope="module")
def classroom(tmp_path_factory) -> Path:
    room = tmp_path_factory.mktemp("zygote_class")
    write_reference(room / "s1_correct")
    materialize(load_case("infinite_loop"), room / "s2_hang")
    materialize(load_case("segfault"), room / "s3_crash")
    materialize(load_case("fork_setsid"), room / "s4_fork")
    shutil.copytree(room / "s1_correct", room / "s5_correct")
    return room


def test_hostile_between_correct_ones_in_one_worker(classroom, tmp_path, monkeypatch):
    if os.environ.get("LINCLASS_ZYGOTE") == "0":
        pytest.skip("LINCLASS_ZYGOTE=0 in this environment")
    forks: list[int] = []
    original = spawn.Zygote.fork

    def counting(self, *args, **kwargs):
        started = original(self, *args, **kwargs)
        forks.append(self.popen.pid)
        return started

    monkeypatch.setattr(spawn.Zygote, "fork", counting)
    warm_out = tmp_path / "warm"
    grade_batch([classroom], warm_out, jobs=1, quiet=True)  # one worker: this process and its zygote
    if not spawn.forks_allowed("auto"):
        pytest.skip("this machine has no PID namespaces: every start is cold")
    zygotes = set(forks)
    assert len(zygotes) == 1, f"every student process comes from one zygote, got {zygotes}"
    # the hang and the crash each cost a restart: more forks than submissions, all from the same zygote
    assert len(forks) > 5

    monkeypatch.setenv("LINCLASS_ZYGOTE", "0")
    cold = grade_submission(classroom / "s1_correct", tmp_path / "cold", student_id="s1_correct")
    for sid in ("s1_correct", "s5_correct"):
        warm = json.loads((warm_out / sid / "results.json").read_text())
        assert warm["score"] == warm["max_score"] == cold.results["score"]
        assert comparable(warm) == comparable(cold.results), sid
    hang = json.loads((warm_out / "s2_hang" / "results.json").read_text())
    crash = json.loads((warm_out / "s3_crash" / "results.json").read_text())
    assert "time limit" in json.dumps(hang) and "crashed the process" in json.dumps(crash)
    assert hang["score"] < hang["max_score"] and crash["score"] < crash["max_score"]


def test_cold_and_warm_starts_give_the_same_grade(tmp_path, monkeypatch):
    sub = write_reference(tmp_path / "student")
    warm = grade_submission(sub, tmp_path / "warm")
    monkeypatch.setenv("LINCLASS_ZYGOTE", "0")
    cold = grade_submission(sub, tmp_path / "cold")
    assert comparable(warm.results) == comparable(cold.results)
    assert warm.results["sandbox"] == cold.results["sandbox"]


def test_a_dead_zygote_is_replaced(tmp_path):
    first = spawn.zygote(spawn_sites())
    if first is None:
        pytest.skip("LINCLASS_ZYGOTE=0 in this environment")
    os.kill(first.popen.pid, 9)
    first.popen.wait()
    result = grade_submission(write_reference(tmp_path / "student"), tmp_path / "out")
    assert result.score == result.max_score
    assert spawn.zygote(spawn_sites()) is not first


def spawn_sites() -> list[str]:
    from autograder.sandbox.site import python_dirs

    return python_dirs()[0]


def test_a_dead_zygote_is_noticed_at_once(tmp_path):
    # the review found exit_of spinning until its deadline on a dead zygote's closed socket
    zyg = spawn.Zygote(spawn_sites())
    try:
        os.kill(zyg.popen.pid, 9)
        zyg.popen.wait()
        start = time.monotonic()
        assert zyg.exit_of(12345, timeout=60.0) is None
        assert time.monotonic() - start < 30.0  # at once, not at the 60 s deadline (a wide margin for CI)
        assert not zyg.alive()
        with pytest.raises(spawn.SpawnError):
            zyg.fork({}, {}, tmp_path, (0, 1, 2, 2), timeout=60.0)
    finally:
        zyg.close()
