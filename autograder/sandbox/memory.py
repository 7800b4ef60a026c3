"""A memory cap for each batch worker (the grader's own process for a share of the class).

Replies are already bounded by what their request can produce (:func:`.replies.reply_budget`);
this is the backstop: if a worker's memory still runs away, that worker dies, the batch
retries its submission once and goes on.  A cgroup v2 ``memory.max`` is used where the worker
can have a cgroup of its own (a delegated, writable hierarchy); ``RLIMIT_AS`` otherwise.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def own_cgroup(root: Path = CGROUP_ROOT) -> Path | None:
    """This process's cgroup v2 directory, when the unified hierarchy is mounted at ``root``."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    unified = [line.split("::", 1)[1] for line in lines if line.startswith("0::")]
    if not unified or not (root / "cgroup.controllers").is_file():
        return None
    return root / unified[0].lstrip("/")


def cgroup_cap(limit_bytes: int, root: Path = CGROUP_ROOT, pid: int | None = None) -> Path | None:
    """Move process ``pid`` (default: this one) into a new child cgroup with ``memory.max``.

    Returns the cgroup, or None when the hierarchy does not allow it (not v2, not writable,
    no memory controller to delegate); nothing is left behind then.
    """
    pid = os.getpid() if pid is None else pid
    parent = own_cgroup(root)
    if parent is None or "memory" not in (parent / "cgroup.controllers").read_text(errors="replace").split():
        return None
    child = parent / f"linclass-worker-{pid}"
    try:
        if "memory" not in (parent / "cgroup.subtree_control").read_text().split():
            (parent / "cgroup.subtree_control").write_text("+memory")
        child.mkdir(exist_ok=True)
        (child / "memory.max").write_text(str(limit_bytes))
        (child / "cgroup.procs").write_text(str(pid))
    except OSError:
        try:
            child.rmdir()
        except OSError:
            pass
        return None
    return child


def remove_worker_cgroups(root: Path = CGROUP_ROOT) -> int:
    """Remove the (empty) cgroups of workers that have ended; returns how many were removed."""
    parent = own_cgroup(root)
    removed = 0
    for child in parent.glob("linclass-worker-*") if parent is not None else ():
        try:
            child.rmdir()
            removed += 1
        except OSError:
            pass
    return removed


def worker_memory_cap(limit_mb: int = 4096, dry_run: bool = False) -> str:
    """Cap this process at ``limit_mb`` (cgroup v2 if possible, else ``RLIMIT_AS``); say how.

    With ``dry_run`` nothing is changed: the text says what a worker would get.
    """
    limit = limit_mb << 20
    if dry_run:
        parent = own_cgroup()
        how = "a cgroup v2 memory.max (if the hierarchy is delegated), else " if parent else ""
        return f"{limit_mb} MB per worker, by {how}RLIMIT_AS"
    if cgroup_cap(limit) is not None:
        return f"{limit_mb} MB per worker, by cgroup v2 memory.max"
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return f"{limit >> 20} MB per worker, by RLIMIT_AS"
