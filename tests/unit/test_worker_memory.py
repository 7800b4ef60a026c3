"""Each batch worker's memory cap: a cgroup v2 memory.max where the hierarchy allows, RLIMIT_AS otherwise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from autograder.sandbox import memory


def _fake_hierarchy(root: Path, controllers: str = "cpu memory io") -> Path:
    """A cgroup v2 tree at ``root`` shaped like the one this process is in."""
    own = Path("/proc/self/cgroup").read_text().splitlines()
    unified = next((line.split("::", 1)[1] for line in own if line.startswith("0::")), "/")
    (root / "cgroup.controllers").write_text(controllers + "\n")
    parent = root / unified.lstrip("/")
    parent.mkdir(parents=True, exist_ok=True)
    (parent / "cgroup.controllers").write_text(controllers + "\n")
    (parent / "cgroup.subtree_control").write_text("")
    return parent


def test_a_delegated_hierarchy_gets_a_child_cgroup_with_memory_max(tmp_path, monkeypatch):
    if not any(line.startswith("0::") for line in Path("/proc/self/cgroup").read_text().splitlines()):
        monkeypatch.setattr(memory, "own_cgroup", lambda root=tmp_path: root)
        parent = tmp_path
        (parent / "cgroup.controllers").write_text("memory\n")
        (parent / "cgroup.subtree_control").write_text("")
    else:
        parent = _fake_hierarchy(tmp_path)
    child = memory.cgroup_cap(512 << 20, root=tmp_path, pid=4242)
    assert child == parent / "linclass-worker-4242"
    assert (child / "memory.max").read_text() == str(512 << 20)
    assert (child / "cgroup.procs").read_text() == "4242"
    assert (parent / "cgroup.subtree_control").read_text() == "+memory"


def test_no_memory_controller_means_no_cgroup_and_nothing_left(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "own_cgroup", lambda root=tmp_path: root)
    (tmp_path / "cgroup.controllers").write_text("cpu io\n")
    assert memory.cgroup_cap(1 << 30, root=tmp_path, pid=1) is None
    assert not list(tmp_path.glob("linclass-worker-*"))


def test_without_a_cgroup_the_worker_gets_an_address_space_limit(tmp_path):
    code = ("import resource; from autograder.sandbox import memory;"
            "memory.own_cgroup = lambda root=None: None; print(memory.worker_memory_cap(300));"
            "print(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "300 MB per worker, by RLIMIT_AS" and out[1] == "300"
    code = ("from autograder.sandbox import memory; memory.own_cgroup = lambda root=None: None;"
            "memory.worker_memory_cap(300); import numpy as np; np.ones((1000, 1000, 100))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode != 0 and "MemoryError" in run.stderr  # 800 MB in a 300 MB worker


def test_ended_workers_cgroups_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "own_cgroup", lambda root=tmp_path: root)
    (tmp_path / "linclass-worker-1").mkdir()
    (tmp_path / "linclass-worker-2").mkdir()
    (tmp_path / "linclass-worker-2" / "cgroup.procs").write_text("7")  # (a live one is not empty)
    assert memory.remove_worker_cgroups(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("linclass")] == ["linclass-worker-2"]
