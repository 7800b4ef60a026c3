"""Run a command under a child subreaper and report every process it leaves behind.

Usage::

    python tests/support/hostile_reaper.py REPORT.json TIMEOUT_SECONDS -- COMMAND ARGS...

This process marks itself a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``), so any
process the command starts, including one that calls ``setsid()`` or double-forks, is
re-parented to it when its own parent exits, instead of to init.  After the command ends
(or is killed when it overruns ``TIMEOUT_SECONDS``), every process still running below
this one is recorded (pid, command line, whether it carries the sandbox marker) in
REPORT.json, then killed by pid with SIGKILL and reaped: these are processes the test
itself started, and the machine stays clean even when the grader under test leaks.
REPORT.json: ``{"returncode", "timed_out", "seconds", "leftovers": [...]}``.

Linux only (``/proc`` and ``prctl``).  Used by ``tests/hostile/test_hostile.py``.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
MARKER = b"LINCLASS_SANDBOX="


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rpartition(b")")[2].split()
        return fields[0].decode(), int(fields[1])
    except (OSError, IndexError, ValueError):
        return None


def descendants(root: int) -> list[int]:
    """Live (non-zombie) processes below ``root``."""
    parent_of = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = _stat(int(name))
            if info and info[0] != "Z":
                parent_of[int(name)] = info[1]
    found, frontier = [], {root}
    while frontier:
        frontier = {pid for pid, ppid in parent_of.items() if ppid in frontier and pid not in found}
        found += sorted(frontier)
    return found


def describe(pid: int) -> dict:
    """Pid, command line and whether the process carries the sandbox marker."""
    entry = {"pid": pid, "cmdline": "", "sandbox_marker": False}
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            entry["cmdline"] = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()[:300]
        with open(f"/proc/{pid}/environ", "rb") as fh:
            entry["sandbox_marker"] = any(item.startswith(MARKER) for item in fh.read().split(b"\0"))
    except OSError:
        pass
    return entry


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv: list[str]) -> int:
    report_path, timeout = argv[0], float(argv[1])
    command = argv[3:] if argv[2] == "--" else argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    start = time.monotonic()
    child = os.fork()
    if child == 0:
        try:
            os.setpgid(0, 0)
            os.execv(command[0], command)
        finally:
            os._exit(127)
    status, timed_out = None, False
    while status is None:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == child:
            status = st
        elif pid == 0:
            if time.monotonic() - start > timeout:
                timed_out = True
                for target in [child] + descendants(os.getpid()):
                    try:
                        os.kill(target, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            time.sleep(0.02)
    seconds = time.monotonic() - start
    time.sleep(0.2)  # let orphans be re-parented here
    leftovers = [describe(pid) for pid in descendants(os.getpid())]
    for _ in range(10):  # kill what is left (it is ours), then its own orphans, until nothing remains
        pids = descendants(os.getpid())
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
        _reap()
    _reap()
    code = os.waitstatus_to_exitcode(status) if status is not None else None
    with open(report_path, "w") as fh:
        json.dump({"returncode": code, "timed_out": timed_out, "seconds": seconds, "leftovers": leftovers}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
