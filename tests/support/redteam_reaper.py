"""Run a grading command under a child subreaper, watch its process tree, then report and kill what it leaves.

Usage::

    python tests/support/redteam_reaper.py REPORT.json TIMEOUT GRACE WATCH_DIR -- COMMAND ARGS...

Like ``hostile_reaper.py``, this process marks itself a *child subreaper*
(``prctl(PR_SET_CHILD_SUBREAPER)``), so every process the command starts, including one that calls
``setsid()`` and double-forks, is re-parented here when its parent exits.  While the command runs it
samples, every 20 ms, every process below it:

- the *grader* processes (the command itself, and below it the multiprocessing workers of a
  ``--jobs`` batch, recognised by their command line) and their peak resident memory (``VmHWM``);
- the peak memory of every other process (the student processes and whatever they start);
- any grader process seen stopped (state ``T``: a SIGSTOP from a student);
- the bytes allocated under WATCH_DIR (the grader's TMPDIR), sampled every 0.2 s.

After the command ends it waits GRACE seconds (a survivor gets the time to act, as it would on a
grading server that keeps running), then records every process still running below it (pid, command
line, whether it carries the sandbox marker) and kills it with SIGKILL: they are processes the test
itself started.  On TIMEOUT everything below is killed.  REPORT.json: ``{"returncode", "timed_out",
"seconds", "leftovers", "grader_peak_kb", "grader_peak_cmd", "student_peak_kb", "stopped", "peaks",
"tmp_peak_bytes", "tmp_owner", "children_maxrss_kb"}``; an *owner* is the red-team case (RT-CONFIG
``name``) whose submission the grader process was serving at that moment, read from its sandbox.

Linux only (``/proc`` and ``prctl``).  Used by ``tests/support/redteam.py``.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
MARKER = b"LINCLASS_SANDBOX="


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a process, or None if it is gone."""
    fields = _read(f"/proc/{pid}/stat").rpartition(b")")[2].split()
    try:
        return fields[0].decode(), int(fields[1])
    except (IndexError, ValueError):
        return None


def _hwm_kb(pid: int) -> int:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(b"VmHWM:"):
            try:
                return int(line.split()[1])
            except (IndexError, ValueError):
                return 0
    return 0


def _cmdline(pid: int) -> str:
    return _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace").strip()


def tree(root: int) -> dict[int, tuple[str, int]]:
    """pid -> (state, ppid) of every process below ``root``."""
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = _stat(int(name))
            if info is not None:
                table[int(name)] = info
    found: dict[int, tuple[str, int]] = {}
    frontier = {root}
    while frontier:
        frontier = {pid for pid, (_s, ppid) in table.items() if ppid in frontier and pid not in found}
        found.update({pid: table[pid] for pid in frontier})
    return found


def describe(pid: int) -> dict:
    """Pid, command line (its start, and any red-team survivor tag in it) and whether it carries the marker."""
    env = _read(f"/proc/{pid}/environ")
    cmd = _cmdline(pid)
    tags = sorted(set(re.findall(r"redteam-survivor-[\w-]+", cmd)))
    return {"pid": pid, "cmdline": cmd[:300], "tags": tags,
            "sandbox_marker": any(item.startswith(MARKER) for item in env.split(b"\0"))}


def disk_bytes(root: str) -> int:
    """Bytes allocated to the files under ``root`` (never following links)."""
    total, stack = 0, [root]
    while stack:
        path = stack.pop()
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total


_OWNERS: dict[str, str | None] = {}


def sandbox_owner(path: str | None) -> str | None:
    """The red-team case whose submission is in the sandbox folder ``path`` (its RT-CONFIG ``name``)."""
    if not path:
        return None
    if path not in _OWNERS:
        owner = None
        try:
            names = sorted(os.listdir(os.path.join(path, "submission")))
        except OSError:
            names = []
        for name in names:
            found = re.search(rb"^RT = \{'name': '([\w-]+)'", _read(os.path.join(path, "submission", name))[:200000],
                              re.MULTILINE)
            if found:
                owner = found.group(1).decode()
                break
        if owner is None:
            return None  # not readable (yet): ask again next time
        _OWNERS[path] = owner
    return _OWNERS[path]


class Watch:
    """What the samples saw."""

    def __init__(self, command_pid: int, watch_dir: str) -> None:
        self.command_pid = command_pid
        self.watch_dir = watch_dir
        self.grader: set[int] = {command_pid}
        self.grader_peak_kb, self.grader_peak_cmd, self.student_peak_kb = 0, "", 0
        self.peaks: dict[int, dict] = {}  # grader pid -> {"kb", "owner"}: whose student it served at its peak
        self.stopped: list[dict] = []  # {"pid", "cmd", "sandbox", "owner"} of each grader process seen stopped
        self.tmp_peak, self.tmp_owner = 0, None
        self._last_disk = 0.0

    def sample(self, me: int) -> None:
        procs = tree(me)
        serving: dict[int, str] = {}  # grader pid -> the sandbox (a folder of WATCH_DIR) of its student process
        for pid, (state, ppid) in sorted(procs.items()):  # the newest child last: it wins
            if ppid in self.grader and pid not in self.grader and state != "Z":
                try:
                    cwd = os.readlink(f"/proc/{pid}/cwd")
                except OSError:
                    continue
                if self.watch_dir and cwd.startswith(self.watch_dir.rstrip("/") + "/") and not cwd.endswith(
                        " (deleted)"):
                    serving[ppid] = cwd
        for pid, (state, ppid) in sorted(procs.items()):
            cmd = _cmdline(pid)
            if pid != self.command_pid and ppid in self.grader and "multiprocessing" in cmd:
                self.grader.add(pid)
            hwm = _hwm_kb(pid)
            if pid in self.grader:
                if hwm > self.grader_peak_kb:
                    self.grader_peak_kb, self.grader_peak_cmd = hwm, cmd[:200]
                peak = self.peaks.setdefault(pid, {"kb": 0, "owner": None})
                if hwm > peak["kb"]:  # a new high-water mark: blame the student it is serving now
                    peak["kb"] = hwm
                    if serving.get(pid):
                        peak["owner"] = sandbox_owner(serving[pid])
                if state == "T":
                    sandbox = serving.get(pid)
                    if not any(e["pid"] == pid and e["sandbox"] == sandbox for e in self.stopped):
                        self.stopped.append({"pid": pid, "cmd": cmd[:200], "sandbox": sandbox, "owner": None})
                for event in self.stopped:
                    if event["owner"] is None:
                        event["owner"] = sandbox_owner(event["sandbox"])
            else:
                self.student_peak_kb = max(self.student_peak_kb, hwm)
        now = time.monotonic()
        if self.watch_dir and now - self._last_disk > 0.2:
            self._last_disk = now
            sizes = {}
            try:
                with os.scandir(self.watch_dir) as entries:
                    for entry in entries:
                        sizes[entry.path] = disk_bytes(entry.path) if entry.is_dir(follow_symlinks=False) else 0
            except OSError:
                pass
            total = sum(sizes.values())
            if total > self.tmp_peak:
                self.tmp_peak = total
                self.tmp_owner = sandbox_owner(max(sizes, key=sizes.get)) if sizes else None


def _reap_any() -> list[tuple[int, int]]:
    done = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return done
        if pid == 0:
            return done
        done.append((pid, status))


def _kill_all(me: int) -> None:
    for _ in range(20):  # kill what is left (it is ours), then its own orphans, until nothing remains
        pids = [p for p, (state, _pp) in tree(me).items() if state != "Z"]
        if not pids:
            break
        for pid in pids:
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        time.sleep(0.05)
        _reap_any()
    _reap_any()


def main(argv: list[str]) -> int:
    report_path, timeout, grace, watch_dir = argv[0], float(argv[1]), float(argv[2]), argv[3]
    command = argv[5:] if argv[4] == "--" else argv[4:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    me = os.getpid()
    start = time.monotonic()
    child = os.fork()
    if child == 0:
        try:
            os.setpgid(0, 0)
            os.execv(command[0], command)
        finally:
            os._exit(127)
    watch = Watch(child, watch_dir)
    status, timed_out = None, False
    while status is None:
        watch.sample(me)
        for pid, st in _reap_any():
            if pid == child:
                status = st
        if status is None and time.monotonic() - start > timeout:
            timed_out = True
            _kill_all(me)
            break
        time.sleep(0.02)
    seconds = time.monotonic() - start
    end = time.monotonic() + grace
    while time.monotonic() < end:  # survivors act now; orphans are re-parented here
        watch.sample(me)
        _reap_any()
        time.sleep(0.02)
    leftovers = [describe(pid) for pid, (state, _pp) in sorted(tree(me).items()) if state != "Z"]
    _kill_all(me)
    code = os.waitstatus_to_exitcode(status) if status is not None else None
    report = {"returncode": code, "timed_out": timed_out, "seconds": seconds, "leftovers": leftovers,
              "grader_peak_kb": watch.grader_peak_kb, "grader_peak_cmd": watch.grader_peak_cmd,
              "student_peak_kb": watch.student_peak_kb, "stopped": watch.stopped, "peaks": watch.peaks,
              "tmp_peak_bytes": watch.tmp_peak, "tmp_owner": watch.tmp_owner,
              "children_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}
    with open(report_path, "w") as fh:
        json.dump(report, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
