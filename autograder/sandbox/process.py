"""One submission's sandboxed student process: start it, load the code, send requests, clean up.

The grader (trusted) never imports student code.  :class:`StudentProcess` gets a student
process from :mod:`.spawn`: forked from this grading process's zygote (a warm interpreter with
numpy imported that never sees student code), or started cold as
``python -I -S -B autograder/harness/child.py``.  Either way it has:

- a clean environment (minimal ``PATH``, ``HOME``/``TMPDIR`` = the sandbox directory, BLAS
  thread counts 1, and a marker variable carrying a random nonce);
- a fresh sandbox directory for every start, holding only the student's code (so nothing a
  crashed run left there, a symlink for one, is ever written through), owned by the
  submission's own uid when the grader is root;
- its own session and process group, stdin from ``/dev/null``;
- rlimits: CPU seconds (what is left of the submission's budget), address space, file
  size, core dumps 0, and the number of processes;
- the kernel's layers (:mod:`autograder.harness.confine`: namespaces, Landlock, seccomp),
  checked from outside (:mod:`.levels`) and recorded in :attr:`StudentProcess.sandbox`;
- an audit-hook policy (:mod:`autograder.harness.policy`) installed before any student code runs.

Requests travel on the :class:`~.channel.Channel`.  A call that exceeds its wall-clock limit,
or garbles the protocol, gets the whole process group killed with SIGKILL (and with the init
of its PID namespace, everything it started); the process is reaped (its CPU time counts
against the budget).  The next call restarts it and reloads the code, skipping the unit that
hung or crashed while loading, so one bad function costs only its own calls.

What the student process serves is documented in ``autograder/harness/server.py``.
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
import signal
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from autograder.harness import wire
from autograder.harness.confine import reachable
from linclass.assignment import Assignment

from . import levels
from .channel import Channel, ChannelError
from .limits import Limits
from .plan import PACKAGE, LoadPlan
from .replies import CallResult, StudentError, error_from, failure, process_cpu_ns, reply_budget, result_from
from .site import imports_from, kit_dirs, python_dirs
from .spawn import HARNESS, SpawnError, Started, cold_start, forks_allowed, no_pid_namespace, zygote

#: The harness's own files: the student process may read them (for tracebacks).
HARNESS_FILES = tuple(str(HARNESS / name) for name in ("child.py", "wire.py", "policy.py", "runtime.py", "server.py",
                                                      "confine.py", "zygote.py"))
MARKER = "LINCLASS_SANDBOX"
#: The uids given to students' processes when the grader runs as root (one per submission).
STUDENT_UIDS = (2_000_000_000, 2_100_000_000)
#: Questions one request may ask the grader (``Server.ask``).
MAX_QUERIES = 1000
#: Threads a student process may run besides its main one (``RLIMIT_NPROC`` counts them).
THREADS = 16


class SandboxError(RuntimeError):
    """The student process could not be started at all (a problem of the grader, not the student)."""


class _Crash(Exception):
    """The student process is gone or unusable (it has been killed and reaped)."""

    def __init__(self, error: StudentError) -> None:
        super().__init__(error.message)
        self.error = error


def in_namespace(inode: int) -> list[int]:
    """Pids of live processes in the PID namespace whose ``/proc/<pid>/ns/pid`` inode is ``inode``
    (the kernel's own account: a process cannot leave its PID namespace)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}/ns/pid").st_ino != inode:
                continue
            with open(f"/proc/{name}/stat", "rb") as fh:
                if fh.read().rpartition(b")")[2].split()[0] != b"Z":
                    found.append(int(name))
        except (OSError, IndexError):
            continue
    return found


def _uid_blocked() -> str | None:
    """The folder that keeps another uid out of the sandboxes' folder, or None (the
    interpreter's own folders are reached by descriptor)."""
    return reachable([tempfile.gettempdir()])


def separate_uids(sandbox: str) -> bool:
    """Whether each student process runs as a uid of its own (a fresh one per submission): the
    grader is root, the level is not ``minimal`` and the sandboxes' folder is reachable by
    another uid."""
    return sandbox != "minimal" and os.geteuid() == 0 and _uid_blocked() is None


def running_with_marker(nonce: str | None = None) -> list[int]:
    """Pids of live processes whose environment carries the sandbox marker (any nonce, or ``nonce``)."""
    want = f"{MARKER}={nonce}".encode() if nonce else f"{MARKER}=".encode()
    found = []
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for name in entries:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as fh:
                env = fh.read()
        except OSError:
            continue
        if any(item == want if nonce else item.startswith(want) for item in env.split(b"\0")):
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    state = fh.read().rpartition(b")")[2].split()[0]
            except (OSError, IndexError):
                continue
            if state != b"Z":
                found.append(int(name))
    return found


def remove_tree(path: Path) -> bool:
    """Remove a sandbox directory whatever the student left in it; True when it is gone.

    Never follows a link: a directory made unwritable is made writable again only when it is
    a real directory of the sandbox (``lstat``), and nothing here raises.
    """
    def retry(function, failed, _info):
        parent = os.path.dirname(failed)
        try:
            if stat.S_ISDIR(os.lstat(parent).st_mode):
                os.chmod(parent, 0o700)
            function(failed)
        except OSError:
            pass

    try:
        shutil.rmtree(path, onerror=retry)
    except OSError:
        pass
    return not os.path.lexists(path)


def _write_new(path: Path, text: str) -> None:
    """Create ``path`` (in a directory made for it): never through an existing file or link."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


@dataclass
class Usage:
    """What one submission's student process cost the grader, for the grader's log and the
    speed benchmark (never for grading: the CPU time comes from the kernel, the rest is wall
    time measured here).

    Attributes
    ----------
    starts : int
        Processes started (the first and every restart after a hang or crash).
    start_seconds : float
        Wall time the grader waited for processes to start (fork or exec, confinement, the
        first reply); of a start begun early (:meth:`StudentProcess.start`), only the wait
        that the caller's own work did not hide.
    requests : int
        Requests served (calls, batches of calls and the assignment's own requests; loading steps
        excluded).
    request_seconds : float
        Wall time of those requests, from sending the first byte to decoding the reply.
    student_cpu_seconds : float
        CPU time the student process used in them, as the kernel counts it.
    bytes_sent : int
        Bytes of the requests.
    """

    starts: int = 0
    start_seconds: float = 0.0
    requests: int = 0
    request_seconds: float = 0.0
    student_cpu_seconds: float = 0.0
    bytes_sent: int = 0

    def line(self) -> str:
        """One line for the grader's log."""
        return (f"student process: {self.starts} start(s) in {self.start_seconds * 1e3:.0f} ms, {self.requests} "
                f"requests in {self.request_seconds:.3f} s (its CPU {self.student_cpu_seconds:.3f} s), "
                f"{self.bytes_sent / 1e6:.1f} MB sent")


class StudentProcess:
    """One submission's sandboxed student process; a context manager.

    The process starts lazily (on the first call or the first look at :attr:`load_report`)
    and restarts transparently after a crash or a timeout.

    Parameters
    ----------
    submission : autograder.submission.Submission
        What to load (its ``kind``, ``units`` and ``modules``).
    assignment : Assignment
        Its parts, modules and the requests its checks make (``harness_ops.py``).
    limits : Limits
        Time, memory, output, file-size and process limits.
    sandbox : {"auto", "strict", "minimal"}
        ``auto``: every kernel layer the machine offers (recorded in :attr:`sandbox`);
        ``strict``: refuse to start without the full set (:class:`SandboxError`);
        ``minimal``: the kernel layers off (the audit hook and rlimits only).
    """

    def __init__(self, submission: Any, assignment: Assignment, limits: Limits | None = None,
                 sandbox: str = "auto") -> None:
        if sandbox not in levels.MODES:
            raise ValueError(f"sandbox must be one of {', '.join(levels.MODES)}, not {sandbox!r}")
        self.submission = submission
        self.assignment = assignment
        self.limits = limits or Limits()
        self.mode = sandbox
        #: What held the student process at its last start (see :mod:`.levels`).
        self.sandbox: dict | None = None
        self.nonce = secrets.token_hex(16)
        self.dir: Path | None = None  # this start's sandbox directory
        self.restarts = -1  # number of (re)starts after the first
        #: What this process has cost so far (:class:`Usage`).
        self.usage = Usage()
        self._pid: int | None = None
        self._started: Started | None = None
        self._ended: tuple[int, float] | None = None  # its (wait status, CPU seconds), once it ended
        self._asked: float | None = 0.0  # when the current start was asked for (None: started early)
        self._greeted = False  # its start-up message was read (and its confinement checked)
        self._loaded = False  # the student's code was loaded into it
        #: How the student process was started, when that is worth saying (a cold start).
        self.start_notes: list[str] = []
        self._channel: Channel | None = None
        self._cpu_used = 0.0
        self._failed: dict[int, dict] = {}  # load step index -> error (it crashed or hung the process)
        self._load_report: dict[str, Any] | None = None
        self._closed = False
        self._plan: LoadPlan | None = None
        self._sites, self._readable = python_dirs()
        self._deny = kit_dirs()
        self._worker: int | None = None  # the process that runs the student's code (PID 2 of its namespace)
        self._tree: set[int] = set()  # the student process and its namespace's init
        self._pid_namespace: int | None = None  # the inode of its PID namespace, once it has one
        self._uid = self._student_uid()

    # ------------------------------------------------------------------ public API
    def __enter__(self) -> StudentProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def start(self) -> None:
        """Fork the student process now, without waiting for it: it confines itself while the
        caller goes on, and the first call waits for its start-up message.  A start that fails
        here is tried again, and reported, by that first call."""
        if self._pid is not None or self._closed:
            return
        try:
            self._fork()
        except (_Crash, SandboxError, OSError):
            return
        self._asked = None  # (its start is counted from the first wait for it)

    @property
    def load_report(self) -> dict[str, Any]:
        """``{symbol or part name: "ok" | StudentError}`` for every part of the assignment."""
        if self._load_report is None:
            try:
                self._ensure()
            except _Crash as exc:
                self._load_report = {key: exc.error for p in self.assignment.parts for key in (p.symbol, p.name)}
        return self._load_report or {}

    def call(self, target: str, *args: Any, repeat: int = 1, **kwargs: Any) -> CallResult:
        """Call the student's function ``target``; with ``repeat`` > 1, that many times on the
        same argument objects (the value is then the list of the results)."""
        request = {"op": "call", "target": target, "args": list(args), "kwargs": kwargs, "repeat": repeat}
        return self._run(request, target, list(args), reply_budget(args, kwargs) * max(1, repeat))

    def call_many(self, target: str, arglists: list[tuple]) -> list[CallResult]:
        """Call ``target`` on every argument tuple, in one round trip.

        ``seconds`` of each result is the grader-measured time between consecutive replies.
        After a crash the remaining calls run in a restarted process; after a timeout (or when
        the CPU budget is gone) they are reported as not run.
        """
        results: list[CallResult] = []
        pending = [tuple(a) for a in arglists]
        start = time.perf_counter()
        while pending:
            try:
                self._ensure()
                self._channel.drain_idle()
                data = wire.encode({"op": "call_many", "target": target, "arglists": [list(a) for a in pending]})
                start, cpu = time.perf_counter(), self._cpu_ns()
                self._exchange_send(data, start + self.limits.call_seconds, target)
                self._count(data, 0.0, 0.0)
                for _ in range(len(pending)):
                    decoded = self._exchange_receive(start + self.limits.call_seconds, target,
                                                     reply_budget(pending[0]))
                    now, cpu_now = time.perf_counter(), self._cpu_ns()
                    cpu_seconds = _cpu_delta(cpu, cpu_now)
                    self._count(None, now - start, cpu_seconds)
                    results.append(result_from(decoded.value, decoded.notes, now - start,
                                               self._channel.take_output(), list(pending[0]), cpu_seconds))
                    pending.pop(0)
                    start, cpu = now, cpu_now
            except _Crash as exc:
                results.append(failure(exc.error, time.perf_counter() - start, self._output()))
                pending.pop(0)
                if exc.error.kind in ("timeout", "budget"):
                    for _ in pending:
                        results.append(failure(StudentError(
                            exc.error.kind, f"not run: {exc.error.message} on an earlier input"), 0.0))
                    pending = []
        return results

    def method(self, cls: str, method: str, *args: Any, set: dict | None = None, get: tuple[str, ...] = (),
               **kwargs: Any) -> CallResult:
        """``obj = cls()``; set the attributes ``set``; ``obj.method(*args, **kwargs)``.

        value = ``{"result": <return value>, <name>: obj.<name> for each name of get}``.
        """
        request = {"op": "method", "cls": cls, "method": method, "args": list(args), "kwargs": kwargs,
                   "set": dict(set or {}), "get": list(get)}
        return self._run(request, f"{cls}.{method}", list(args), reply_budget(args, kwargs, set))

    def request(self, op: str, target: str, fields: dict, args: list | None = None,
                reply_bytes: int | None = None, answer: Callable[[Any], Any] | None = None) -> CallResult:
        """One of the assignment's requests (``harness_ops.py``): ``{"op": op, **fields}``.

        ``target`` names the student code it exercises (for messages); ``args`` are the
        positional arguments it passes on, whose changes come back in ``inputs_after``;
        ``reply_bytes`` caps the reply (default: :func:`~.replies.reply_budget` of ``fields``);
        ``answer(question)`` answers the questions the request asks on its way (``Server.ask``).
        """
        return self._run({"op": op, **fields}, target, args, reply_bytes or reply_budget(fields), answer)

    def leftovers(self) -> list[int]:
        """Pids of processes of this sandbox still running (the current student process excepted)."""
        return [p for p in self._members() if p not in self._tree]

    def _members(self) -> list[int]:
        """The processes of this sandbox: its PID namespace's (when it has one), else those whose
        environment carries its marker (which a process could drop: the documented weaker level)."""
        if self._pid_namespace is not None:
            return in_namespace(self._pid_namespace)
        return running_with_marker(self.nonce)

    def close(self) -> None:
        """Kill the process (and anything it started) and remove its sandbox directory."""
        if self._closed:
            return
        self._closed = True
        if self._pid is not None:
            self._kill()
        else:
            self._sweep()
        if self.dir is not None:
            remove_tree(self.dir)

    # ------------------------------------------------------------------ process
    def _output(self) -> tuple[str, str]:
        return self._channel.take_output() if self._channel is not None else ("", "")

    def _remaining_cpu(self) -> float:
        return self.limits.cpu_seconds_total - self._cpu_used

    def _budget_error(self, what: str) -> StudentError:
        return StudentError("budget", f"the CPU time budget of {self.limits.cpu_seconds_total:g} s for your "
                                      f"whole submission ran out {what}")

    def _new_sandbox(self) -> Path:
        """A fresh sandbox directory for this start, with the submission's files (the last start's is removed)."""
        if self.dir is not None:
            remove_tree(self.dir)
        self.dir = Path(tempfile.mkdtemp(prefix="linclass-sandbox-")).resolve()
        self._plan = LoadPlan.of(self.submission, self.assignment.spec, self.dir)
        for rel, source in self._plan.files.items():
            _write_new(self.dir / rel, source)
        if self._uid is not None:  # the student's uid owns its sandbox; nobody else's can enter it
            for path in [self.dir, *self.dir.rglob("*")]:
                os.lchown(path, self._uid, self._uid)
        return self.dir

    def _student_uid(self) -> int | None:
        """A fresh unprivileged uid for this submission (:func:`separate_uids`)."""
        self._no_uid = ""
        if self.mode == "minimal" or os.geteuid() != 0:
            return None
        blocked = _uid_blocked()
        if blocked is not None:
            self._no_uid = (f"no separate uid: the sandboxes' folder {blocked} cannot be reached by another uid "
                            "(set TMPDIR to a folder other users can enter)")
            return None
        return secrets.randbelow(STUDENT_UIDS[1] - STUDENT_UIDS[0]) + STUDENT_UIDS[0]

    def _confinement(self, sandbox: Path) -> dict:
        """What the student process's bootstrap asks of the kernel (``confine.confine``)."""
        read = [*self._readable, str(HARNESS)]
        return {"enabled": self.mode != "minimal", "uid": self._uid, "gid": self._uid, "no_uid": self._no_uid,
                "read": read, "write": [str(sandbox), os.devnull], "imports_from": imports_from(read),
                "sandbox": str(sandbox), "sandbox_bytes": self.limits.sandbox_mb << 20,
                "allow_processes": self.limits.processes > 0}

    def _fork(self) -> None:
        """Start the student process (from the zygote, or cold) with this start's limits and sandbox."""
        if self._closed:
            raise _Crash(StudentError("protocol", "the student process was already closed"))
        remaining = self._remaining_cpu()
        if remaining < 0.5:
            raise _Crash(self._budget_error("before this call"))
        sandbox = self._new_sandbox()
        cpu = max(1, math.ceil(remaining))
        rlimits = {
            "RLIMIT_CPU": [cpu, cpu + 1],
            "RLIMIT_AS": [self.limits.memory_mb << 20] * 2,
            "RLIMIT_FSIZE": [self.limits.file_bytes] * 2,
            "RLIMIT_CORE": [0, 0],
        }
        if self._uid is not None:  # its own uid: the init, the student's process, its threads and processes
            rlimits["RLIMIT_NPROC"] = [3 + THREADS + self.limits.processes] * 2
        elif os.geteuid() != 0:
            rlimits["RLIMIT_NPROC"] = [self._nproc_limit()] * 2
        parts = [{"name": p.name, "module": p.module, "cell": p.cell, "symbol": p.symbol}
                 for p in self.assignment.parts]
        cfg = {
            "rlimits": rlimits, "sandbox": str(sandbox),
            "site_packages": self._sites, "read_dirs": self._readable, "deny_dirs": self._deny,
            "exempt_files": list(HARNESS_FILES), "allow_processes": self.limits.processes > 0,
            "memory_mb": self.limits.memory_mb, "kind": getattr(self.submission, "kind", "modules"),
            "imports": self._plan.imports, "parts": parts,
            "ops_module": str(self.assignment.ops_path) if self.assignment.ops_path.is_file() else None,
            "package": PACKAGE, "confine": self._confinement(sandbox),
        }
        env = {"HOME": str(sandbox), "TMPDIR": str(sandbox), MARKER: self.nonce}
        (req_r, req_w), (rep_r, rep_w), (out_r, out_w), (err_r, err_w) = (os.pipe() for _ in range(4))
        theirs = (req_r, rep_w, out_w, err_w)
        asked = time.perf_counter()
        try:
            self._started = self._start(cfg, env, sandbox, theirs)
        except BaseException:
            for fd in (req_w, rep_r, out_r, err_r):
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        pid = self._started.pid
        self.usage.starts += 1
        self._pid, self._worker, self._tree = pid, pid, {pid}
        self._greeted = self._loaded = False
        self._asked = asked
        self._channel = Channel(req_w, rep_r, out_r, err_r, self.limits.output_bytes)
        self.restarts += 1

    def _greet(self) -> None:
        """Wait for the started process's start-up message, and check how it is confined."""
        waited_from = self._asked if self._asked is not None else time.perf_counter()
        try:
            hello = self._exchange_receive(time.perf_counter() + max(30.0, self.limits.call_seconds), "startup",
                                           what="at startup").value
        except _Crash as exc:
            _, err = self._output()
            raise SandboxError(f"the student process did not start ({exc.error.message}): {err[-2000:]}") from None
        self._greeted = True
        self.usage.start_seconds += time.perf_counter() - waited_from
        self._output()
        self._find_worker()
        report = hello.get("value", {}).get("sandbox", {}) if isinstance(hello, dict) else {}
        self.sandbox = levels.assess(levels.verify(report if isinstance(report, dict) else {}, self._worker))
        if self.mode == "strict" and self.sandbox["level"] != "full":
            self._kill()
            raise SandboxError("--sandbox strict: the student process is not fully confined ("
                               + "; ".join(self.sandbox["missing"] + self.sandbox["notes"]) + ")")

    def _start(self, cfg: dict, env: dict, sandbox: Path, fds: tuple[int, int, int, int]) -> Started:
        """Fork from the zygote (a few ms); start cold when there is none (or it failed, said once).

        Only a process in a PID namespace is forked: without one, what it leaves running is found
        by the marker in its environment, which only an exec'd process shows in ``/proc``.
        """
        self._pid_namespace = None
        warm = zygote(self._sites) if forks_allowed(self.mode) else None
        if warm is not None:
            try:
                return warm.fork(cfg, env, sandbox, fds)
            except SpawnError as exc:
                self.start_notes.append(f"started cold: {exc}")
        return cold_start(cfg, env, sandbox, fds)

    def _find_worker(self) -> None:
        """The process that runs the student's code: the student process itself, or (in a PID
        namespace) the grandchild below its init, as the kernel lists them.  A warm start that
        turns out to have no PID namespace of its own makes every later start cold."""
        pid = self._pid
        for _ in range(2):
            try:
                with open(f"/proc/{pid}/task/{pid}/children", "rb") as fh:
                    children = fh.read().split()
            except OSError:
                break
            if len(children) != 1:
                break
            pid = int(children[0])
            self._tree.add(pid)
        self._worker = pid
        try:
            inode = os.stat(f"/proc/{pid}/ns/pid").st_ino
            own = os.stat("/proc/self/ns/pid").st_ino
        except OSError:
            return
        if inode != own:
            self._pid_namespace = inode
        elif self._started is not None and self._started.warm:
            no_pid_namespace()  # (this machine has none: later starts are cold)

    def _nproc_limit(self) -> int:
        uid = os.geteuid()
        count = 0
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    if os.stat(f"/proc/{name}").st_uid == uid:
                        count += 1
                except OSError:
                    pass
        return count + 3 + THREADS + self.limits.processes

    def _cpu_ns(self) -> int | None:
        return process_cpu_ns(self._worker) if self._worker is not None else None

    def _kill(self) -> int | None:
        """SIGKILL the process group, reap it, sweep; returns its wait status."""
        pid, status = self._pid, None
        if pid is None:
            return None
        live = self._cpu_ns()  # before the kill: a killed namespace's CPU time never reaches wait4
        for send in (os.killpg, os.kill):
            try:
                send(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        ended = self._ended or self._started.exited(timeout=10.0)
        status, cpu = ended if ended is not None else (None, 0.0)
        self._cpu_used += max(cpu, (live or 0) / 1e9)
        if self._channel is not None:
            self._channel.close()
        self._pid, self._started, self._ended, self._worker, self._tree = None, None, None, None, set()
        self._sweep()
        return status

    def _sweep(self, wait: float = 2.0) -> None:
        """SIGKILL what this sandbox left running, and wait (a little) until the kernel has
        torn it down: a kill is asynchronous."""
        deadline, pause = time.monotonic() + wait, 0.0005
        while (left := self._members()) and time.monotonic() < deadline:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(pause)  # a teardown takes a millisecond or two: look again soon, then less often
            pause = min(2 * pause, 0.02)

    def _died(self, what: str) -> StudentError:
        """The process stopped answering on its own: reap it (and its group) and say why."""
        self._ended = self._started.exited(timeout=1.0)
        exited = self._ended is not None
        status = self._kill()  # (the rest of its process group, and its namespace, go too)
        if not exited:
            return StudentError("protocol", f"your code closed the grader's connection {what}")
        if status is None:
            return StudentError("exit", f"the process ended unexpectedly {what}")
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig == signal.SIGXCPU or (sig == signal.SIGKILL and self._remaining_cpu() < 1.0):
                return self._budget_error(what)
            name = signal.Signals(sig).name if sig in signal.valid_signals() else f"signal {sig}"
            hint = (f"; this can happen when the memory limit of {self.limits.memory_mb} MB is exceeded"
                    if sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS) else "")
            return StudentError("exit", f"your code crashed the process ({name}) {what}{hint}")
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
        return StudentError("exit", f"your code exited the process (exit code {code}) {what}")

    # ------------------------------------------------------------------ exchanges
    def _crash(self, exc: ChannelError, target: str, what: str) -> _Crash:
        if exc.reason == "timeout":
            self._kill()
            return _Crash(StudentError("timeout", f"time limit of {self.limits.call_seconds:g} s exceeded in {target}"))
        if exc.reason == "closed":
            return _Crash(self._died(what))
        return self._interfered(what)

    def _interfered(self, what: str) -> _Crash:
        """The process broke the protocol: it is killed, and the call fails as the student's."""
        self._kill()
        return _Crash(StudentError("protocol", f"your code interfered with the grader's connection {what}"))

    def _exchange_send(self, data: bytes, deadline: float, target: str, what: str | None = None) -> None:
        try:
            self._channel.send(data, deadline)
        except ChannelError as exc:
            raise self._crash(exc, target, what or f"during {target}") from None

    def _exchange_receive(self, deadline: float, target: str, max_bytes: int = 1 << 20,
                          what: str | None = None) -> wire.Decoded:
        try:
            return self._channel.receive(deadline, max_bytes)
        except ChannelError as exc:
            raise self._crash(exc, target, what or f"during {target}") from None

    # ------------------------------------------------------------------ loading
    def _ensure(self) -> None:
        """A running process with the student's code loaded."""
        if self._pid is not None and self._loaded:
            return
        idle_deaths = 0
        while True:
            if self._pid is None:
                self._fork()
            if not self._greeted:
                self._greet()
                ended = self._started.exited() if self._started is not None else None
                if ended is not None:  # it died before any student code, while idle (e.g. killed for memory):
                    self._ended = ended  # no loading step is to blame; start again (once)
                    self._kill()
                    idle_deaths += 1
                    if idle_deaths > 1:
                        raise SandboxError("the student process died twice before any student code was loaded")
                    continue
            crashed = False
            for index, step in enumerate(self._plan.steps):
                if index in self._failed:
                    continue
                label = LoadPlan.label(step)
                try:
                    deadline = time.perf_counter() + self.limits.call_seconds
                    self._exchange_send(wire.encode({"op": "load_step", "index": index, "step": step}), deadline,
                                        label, f"while loading {label}")
                    self._exchange_receive(deadline, label, what=f"while loading {label}")
                except _Crash as exc:
                    if exc.error.kind == "timeout":
                        exc.error.message = (f"time limit of {self.limits.call_seconds:g} s exceeded while "
                                             f"loading {label}")
                    self._failed[index] = {"kind": exc.error.kind, "message": exc.error.message,
                                           "detail": exc.error.detail}
                    if exc.error.kind == "budget":
                        raise
                    crashed = True
                    break
            self._output()
            if not crashed:
                self._loaded = True
                break
        if self._load_report is None:
            plan = [{k: v for k, v in step.items() if k != "source"} for step in self._plan.steps]
            deadline = time.perf_counter() + self.limits.call_seconds
            self._exchange_send(wire.encode({"op": "report", "failed": self._failed, "plan": plan}), deadline,
                                "loading")
            reply = self._exchange_receive(deadline, "loading").value
            self._output()
            report = {}
            for key, status in (reply.get("value") or {}).items():
                if type(key) is str:
                    report[key] = "ok" if status == "ok" else error_from(status)
            self._load_report = {**report, **self._plan.not_loadable}

    # ------------------------------------------------------------------ calls
    def _run(self, request: dict, target: str, args: list | None, max_bytes: int,
             answer: Callable[[Any], Any] | None = None) -> CallResult:
        start = time.perf_counter()
        if self._closed:
            return failure(StudentError("protocol", "the student process was already closed"), 0.0)
        try:
            self._ensure()
            self._channel.drain_idle()
            data = wire.encode(request)
            start, cpu = time.perf_counter(), self._cpu_ns()
            deadline = start + self.limits.call_seconds
            self._exchange_send(data, deadline, target)
            decoded = self._exchange_receive(deadline, target, max_bytes)
            decoded = self._answer_queries(decoded, answer, deadline, target, max_bytes)
            seconds, cpu_seconds = time.perf_counter() - start, _cpu_delta(cpu, self._cpu_ns())
            self._count(data, seconds, cpu_seconds)
            return result_from(decoded.value, decoded.notes, seconds, self._channel.take_output(), args, cpu_seconds)
        except _Crash as exc:
            return failure(exc.error, time.perf_counter() - start, self._output())

    def _count(self, request: bytes | None, seconds: float, cpu_seconds: float | None) -> None:
        """Add to :attr:`usage`: one request sent (its bytes), and wall and CPU time spent serving it."""
        if request is not None:
            self.usage.requests += 1
            self.usage.bytes_sent += len(request)
        self.usage.request_seconds += seconds
        self.usage.student_cpu_seconds += cpu_seconds or 0.0

    def _answer_queries(self, decoded: wire.Decoded, answer: Callable[[Any], Any] | None, deadline: float,
                        target: str, max_bytes: int) -> wire.Decoded:
        """Answer the questions a request asks on its way (``Server.ask``) until its reply comes.

        A question where none is expected, more than :data:`MAX_QUERIES` of them, or one that
        ``answer`` cannot take (no probe asks it) is the student process breaking the protocol.
        """
        for asked in range(MAX_QUERIES + 1):
            value = decoded.value
            if not (type(value) is dict and "query" in value):
                return decoded
            if answer is None or asked == MAX_QUERIES:
                raise self._interfered(f"during {target}")
            try:
                reply = answer(value["query"])
            except Exception:  # noqa: BLE001 - a question no probe asks: the process is not to be trusted
                raise self._interfered(f"during {target} (a question the probe never asks)") from None
            self._exchange_send(wire.encode({"answer": reply}), deadline, target)
            decoded = self._exchange_receive(deadline, target, max_bytes)
        return decoded  # (not reached: the last round raises)


def _cpu_delta(before: int | None, after: int | None) -> float | None:
    return (after - before) / 1e9 if before is not None and after is not None else None
