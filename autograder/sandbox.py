"""Run a student's code in a sandboxed child process and call it from the grader.

The grader (trusted) never imports student code.  :class:`StudentProcess` starts
``python -I -S -B autograder/child.py`` with:

- a clean environment (minimal ``PATH``, ``HOME``/``TMPDIR`` = the sandbox directory, BLAS
  thread counts 1, and a marker variable carrying a random nonce);
- a fresh temporary directory as working directory, holding only the student's code;
- its own session and process group (``start_new_session``), stdin from ``/dev/null``;
- rlimits: CPU seconds (what is left of the submission's budget), address space, file
  size, core dumps 0, and (when not root) the number of processes.  ``child.py`` applies
  them as its very first action, before numpy or any student code is loaded; this keeps
  the spawn free of ``preexec_fn`` (unsafe when the grader has threads) and fast;
- an audit-hook policy (:mod:`autograder.policy`) installed before any student code runs.

Requests and replies travel on two dedicated pipes as :mod:`autograder.wire` frames (JSON
+ ``.npy``, never pickle).  stdout/stderr are drained by the parent while it waits for a
reply and only ``Limits.output_bytes`` of each are kept per call.  A call that exceeds its
wall-clock limit, or garbles the protocol, gets the whole process group killed with
SIGKILL; the child is reaped (its CPU time counts against the budget), then ``/proc`` is
swept for any process still carrying the nonce (a grandchild that called ``setsid``) and
those are killed too.  The next call restarts the child and reloads the code, skipping
the unit that hung or crashed while loading, so one bad function costs only its own calls.

The child's side of the protocol (ops, the probes, the callable specs and what each reply
contains) is documented in ``autograder/child.py``.
"""

from __future__ import annotations

import atexit
import functools
import importlib.machinery
import importlib.util
import json
import math
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from linclass.assignment import ALIAS_PACKAGES, MODULES, PARTS
from linclass.student.runtime import SHIMS

from . import wire

CHILD = Path(__file__).resolve().with_name("child.py")
#: The submission importer, shared with the public self-check (standard library only).
RUNTIME_MODULE = Path(__file__).resolve().parent.parent / "linclass" / "student" / "runtime.py"
HARNESS_FILES = (*(str(Path(__file__).resolve().with_name(n))
                   for n in ("child.py", "wire.py", "policy.py", "probes.py")), str(RUNTIME_MODULE))
MARKER = "LINCLASS_SANDBOX"
PACKAGE = "submission"  # the sandbox sub-directory holding a module submission's files
KIT_PACKAGES = ("solutions", "autograder", "linclass")


@dataclass(frozen=True)
class Limits:
    """Limits of one submission's student process (overridable from config.toml ``[limits]``)."""

    call_seconds: float = 20.0  # wall clock per call (and per loaded unit)
    cpu_seconds_total: float = 120.0  # CPU budget of the whole submission (all child restarts together)
    memory_mb: int = 1024  # RLIMIT_AS
    output_bytes: int = 64_000  # stdout/stderr kept per call (rest dropped, drained)
    file_bytes: int = 16 << 20  # RLIMIT_FSIZE
    processes: int = 0  # extra processes allowed (0 = none)


@dataclass
class StudentError:
    """Why a call produced no value, in words for the report."""

    kind: str  # "exception" | "timeout" | "exit" | "memory" | "missing" | "forbidden" | "protocol" | "budget"
    message: str
    detail: str = ""  # e.g. the student-code-only traceback (truncated)


@dataclass
class CallResult:
    """The outcome of one call into the student process.

    ``value`` is the decoded reply (plain types only, see :mod:`autograder.wire`).
    ``seconds`` is measured by the parent around the round trip (wall clock), and
    ``cpu_seconds`` is the student process's CPU time over the same span, as the kernel counts
    it (all its threads): unlike the wall clock it does not grow when the machine is busy, and
    the student cannot report it.  ``inputs_after`` holds the
    positional ndarray arguments as they were after the call (None for the others).
    ``calls`` has one record per callable argument (see ``child.py``); ``notes`` what the
    wire converted (an ndarray or float subclass made plain, ...); ``child_seconds`` the
    child's own (untrusted) measurement.
    """

    ok: bool
    value: Any | None
    error: StudentError | None
    seconds: float
    stdout: str
    inputs_after: list | None
    stderr: str = ""
    calls: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    child_seconds: float | None = None
    cpu_seconds: float | None = None


def process_cpu_ns(pid: int) -> int | None:
    """CPU time (ns) used so far by process ``pid`` and all its threads, read from the kernel.

    The process-wide CPU clock of another process has the clock id
    ``(~pid << 3) | CPUCLOCK_SCHED`` (``MAKE_PROCESS_CPUCLOCK`` in the kernel); where that
    clock cannot be read, the per-thread ``/proc/<pid>/task/*/schedstat`` run times are summed.
    """
    try:
        return time.clock_gettime_ns(((~pid) << 3) | 2)
    except OSError:
        pass
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as fh:
                total += int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total


def _cpu_delta(before: int | None, after: int | None) -> float | None:
    return (after - before) / 1e9 if before is not None and after is not None else None


class SandboxError(RuntimeError):
    """The student process could not be started at all (a problem of the grader, not the student)."""


class _Crash(Exception):
    """The child is gone or unusable (it has been killed and reaped)."""

    def __init__(self, error: StudentError) -> None:
        super().__init__(error.message)
        self.error = error


def _kit_dirs() -> list[str]:
    dirs = []
    for name in KIT_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        for loc in (spec.submodule_search_locations or []) if spec else []:
            dirs.append(str(Path(loc).resolve()))
    return dirs


#: Third-party distributions the student process may import: numpy only.  Everything else in
#: site-packages (cffi, for one, which reaches libc without an audit event) stays invisible.
STUDENT_PACKAGES = ("numpy", "numpy.libs")


@functools.lru_cache(maxsize=1)
def _student_site() -> tuple[str, tuple[str, ...]]:
    """A private site directory holding links to the allowed packages only.

    Returns
    -------
    site : str
        The directory to put on the child's ``sys.path``.
    targets : tuple of str
        The real package directories behind the links (readable by the child).
    """
    home = Path(np.__file__).resolve().parent.parent
    site_dir = Path(tempfile.mkdtemp(prefix="linclass-site-"))
    atexit.register(shutil.rmtree, site_dir, True)
    targets = []
    for name in STUDENT_PACKAGES:
        if (home / name).exists():
            (site_dir / name).symlink_to(home / name)
            targets.append(str(home / name))
    return str(site_dir), tuple(targets)




@functools.lru_cache(maxsize=1)
def _student_search_path() -> tuple[str, ...]:
    """The directories the student process imports from: its interpreter's own (``-I -S``:
    the standard library only, asked of the interpreter once) and the private site dir."""
    out = subprocess.run([sys.executable, "-I", "-S", "-c", "import sys; print('\\n'.join(sys.path))"],
                         capture_output=True, text=True, check=True, env={}).stdout
    found = [p for p in out.splitlines() if p] + [_student_site()[0]]
    return tuple(p for p in dict.fromkeys(found) if os.path.exists(p))


@functools.lru_cache(maxsize=4096)
def importable_in_sandbox(name: str) -> bool:
    """Can the student process import the module ``name`` (its own files aside)?

    Answered from the same search path and the same finders the student process uses,
    without importing anything: the standard library, the allowed third-party packages
    (numpy) and the grader's shims.  A module the policy refuses (``ctypes``) is
    importable here: refusing it is the policy's job, with its own message.
    """
    if name in SHIMS:
        return True
    parts = name.split(".")
    if parts[0] in sys.builtin_module_names:
        return len(parts) == 1
    spec = importlib.machinery.PathFinder.find_spec(parts[0], list(_student_search_path()))
    for i in range(1, len(parts)):
        if spec is None or spec.submodule_search_locations is None:
            return False
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: i + 1]),
                                                         list(spec.submodule_search_locations))
    return spec is not None


def _python_dirs() -> tuple[list[str], list[str]]:
    """(the child's site directories, the directories it may read: stdlib and allowed packages)."""
    site_dir, targets = _student_site()
    paths = sysconfig.get_paths()
    stdlib = [paths["stdlib"], paths["platstdlib"], sys.base_prefix + "/lib"]
    readable = [p for p in dict.fromkeys(stdlib) if os.path.isdir(p)]
    return [site_dir], readable + [site_dir, *targets]


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


class StudentProcess:
    """One submission's sandboxed student process; a context manager.

    The child starts lazily (on the first call or the first look at :attr:`load_report`)
    and restarts transparently after a crash or a timeout.

    Parameters
    ----------
    submission : autograder.submission.Submission
        What to load (its ``kind``, ``units`` and ``modules``).
    limits : Limits
        Time, memory, output, file-size and process limits.
    """

    def __init__(self, submission: Any, limits: Limits = Limits()) -> None:
        self.submission = submission
        self.limits = limits
        self.nonce = secrets.token_hex(16)
        self.dir = Path(tempfile.mkdtemp(prefix="linclass-sandbox-")).resolve()
        self.restarts = -1  # number of (re)starts after the first
        self.load_output = ""
        self._pid: int | None = None
        self._popen: subprocess.Popen | None = None
        self._fds: dict[str, int] = {}
        self._reader: wire.FrameReader | None = None
        self._cpu_used = 0.0
        self._failed: dict[int, dict] = {}  # load step index -> error (it crashed or hung the child)
        self._load_report: dict[str, Any] | None = None
        self._closed = False
        self._out = bytearray()
        self._err = bytearray()
        self._dropped = [0, 0]
        self._plan, self._files, self._imports = self._make_plan()
        self._sites, self._readable = _python_dirs()
        self._deny = _kit_dirs()

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

    @property
    def load_report(self) -> dict[str, Any]:
        """``{symbol or part name: "ok" | StudentError}`` for every part of the assignment."""
        if self._load_report is None:
            try:
                self._ensure()
            except _Crash as exc:
                self._load_report = {key: exc.error for p in PARTS for key in (p.symbol, p.name)}
        return self._load_report or {}

    @property
    def cpu_seconds_used(self) -> float:
        """CPU seconds used by the children reaped so far plus the running one."""
        return self._cpu_used + self._live_cpu()

    def call(self, target: str, *args: Any, **kwargs: Any) -> CallResult:
        """Call the student's function ``target`` (a top-level name, e.g. ``"svm_loss_naive"``)."""
        return self._run({"op": "call", "target": target, "args": list(args), "kwargs": kwargs}, target)

    def call_many(self, target: str, arglists: list[tuple]) -> list[CallResult]:
        """Call ``target`` on every argument tuple, in one round trip.

        ``seconds`` of each result is the parent-measured time between consecutive replies.
        After a crash the remaining calls run in a restarted child; after a timeout (or when
        the CPU budget is gone) they are reported as not run.
        """
        results: list[CallResult] = []
        pending = [tuple(a) for a in arglists]
        while pending:
            try:
                self._ensure()
                self._drain_idle()
                request = {"op": "call_many", "target": target, "arglists": [list(a) for a in pending]}
                start, cpu = time.perf_counter(), self._cpu_ns()
                self._send(wire.encode(request), start + self.limits.call_seconds, target)
                for _ in range(len(pending)):
                    frame = self._receive(start + self.limits.call_seconds, target)
                    now, cpu_now = time.perf_counter(), self._cpu_ns()
                    results.append(self._result(frame, now - start, list(pending[0]), _cpu_delta(cpu, cpu_now)))
                    pending.pop(0)
                    start, cpu = now, cpu_now
            except _Crash as exc:
                results.append(self._failure(exc.error, time.perf_counter() - start))
                pending.pop(0)
                if exc.error.kind in ("timeout", "budget"):
                    for _ in pending:
                        results.append(self._failure(StudentError(
                            exc.error.kind, f"not run: {exc.error.message} on an earlier input"), 0.0))
                    pending = []
        return results

    def method(self, cls: str, method: str, *args: Any, W: Any = None, **kwargs: Any) -> CallResult:
        """``obj = cls(); obj.W = W (if given); obj.method(*args, **kwargs)``.

        value = ``{"result": <return value>, "W": <obj.W after the call>}``.
        """
        request = {"op": "method", "cls": cls, "method": method, "args": list(args), "kwargs": kwargs, "W": W}
        return self._run(request, f"{cls}.{method}")

    def probe_delegation(self, cls: str, names: list[str], key: dict, W: Any, X: Any, y: Any,
                         reg: float) -> CallResult:
        """``cls().loss(X, y, reg)`` with its loss functions replaced by recording stand-ins (``child.py``)."""
        request = {"op": "probe_delegation", "cls": cls, "names": list(names), "key": key, "W": W, "X": X, "y": y,
                   "reg": reg}
        return self._run(request, f"{cls}.loss", [X, y, reg])

    def probe_train(self, X: Any, y: Any, W0: Any = None, record: bool = True, **train_kwargs: Any) -> CallResult:
        """The student's ``LinearClassifier.train`` observed through a recording loss (see ``child.py``)."""
        request = {"op": "probe_train", "X": X, "y": y, "W0": W0, "record": record, "kwargs": train_kwargs}
        return self._run(request, "LinearClassifier.train", [X, y])

    def probe_tune(self, spec: dict) -> CallResult:
        """The student's ``tune_hyperparameters`` with a probe model of designed accuracies.

        ``spec``: ``learning_rates``, ``regularization_strengths``, ``acc_train`` and
        ``acc_val`` (``{(lr, reg): accuracy}``), optionally ``num_iters``, ``batch_size``,
        ``seed`` (passed on to the student's function) and ``n`` (probe set size, 1000).
        """
        spec = dict(spec)
        kwargs = dict(spec.pop("kwargs", {}) or {})
        for key in ("num_iters", "batch_size", "seed"):
            if key in spec:
                kwargs[key] = spec.pop(key)
        spec["kwargs"] = kwargs
        return self._run({"op": "probe_tune", "spec": spec}, "tune_hyperparameters")

    def tune(self, cls: str, X_train: Any, y_train: Any, X_val: Any, y_val: Any, lrs: Any, regs: Any,
             **kw: Any) -> CallResult:
        """The student's ``tune_hyperparameters`` with class ``cls`` (a student class or ``"ridge"``).

        value = ``{"best_val", "results", "best_W"}``.
        """
        request = {"op": "tune", "cls": cls, "X_train": X_train, "y_train": y_train, "X_val": X_val,
                   "y_val": y_val, "lrs": list(lrs), "regs": list(regs), "kwargs": kw}
        return self._run(request, "tune_hyperparameters")

    def leftovers(self) -> list[int]:
        """Pids of processes of this sandbox still running (the child excepted while it is alive)."""
        pids = running_with_marker(self.nonce)
        return [p for p in pids if p != self._pid]

    def alive(self) -> bool:
        """Is a child process running right now?"""
        return self._pid is not None

    def close(self) -> None:
        """Kill the child (and anything it started) and remove the sandbox directory."""
        if self._closed:
            return
        self._closed = True
        if self._pid is not None:
            self._kill()
        else:
            self._sweep()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.dir.exists():  # read-only entries left by the student
            for root, dirs, _files in os.walk(self.dir):
                for d in dirs:
                    os.chmod(os.path.join(root, d), 0o700)
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ plan
    def _make_plan(self) -> tuple[list[dict], dict[str, str], dict]:
        """The load steps, the files to write into the sandbox, and the import table.

        A module submission's files go under ``submission/`` as they were handed in; the
        child's :class:`~linclass.student.imports.SubmissionImporter` then resolves every way
        real code imports them (``cs231n.classifiers.X``, ``classifiers.X``, ``.X``, ``X``).
        """
        sub = self.submission
        plan: list[dict] = []
        files: dict[str, str] = {}
        imports: dict = {"files": {}, "packages": list(ALIAS_PACKAGES), "unloadable": {}}
        if getattr(sub, "kind", "") == "notebook":
            for unit in sub.units:
                if unit.kind == "cell":
                    plan.append({"kind": "cell", "name": unit.name, "source": unit.source})
            return plan, files, imports
        homes = dict(getattr(sub, "homes", {}) or {})
        unloadable = dict(getattr(sub, "unloadable", {}) or {})
        for unit in getattr(sub, "units", []):
            if unit.kind == "module":
                files[f"{PACKAGE}/{unit.name}"] = unit.source
                home = homes.get(unit.name)
                if home is None:
                    continue
                if unit.name in unloadable:
                    imports["unloadable"][home] = unloadable[unit.name]
                else:
                    imports["files"][home] = str(self.dir / PACKAGE / unit.name)
        modules = dict(getattr(sub, "modules", {}) or {})
        for module in MODULES:
            rel = modules.get(module)
            if rel is not None and homes.get(rel) in imports["files"]:
                plan.append({"kind": "module", "module": module, "home": homes[rel], "file": rel})
        return plan, files, imports

    def _prepare_dir(self) -> None:
        for entry in os.listdir(self.dir):
            path = self.dir / entry
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        for rel, source in self._files.items():
            target = self.dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source, encoding="utf-8")

    # ------------------------------------------------------------------ process
    def _remaining_cpu(self) -> float:
        return self.limits.cpu_seconds_total - self._cpu_used

    def _budget_error(self, what: str) -> StudentError:
        return StudentError("budget", f"the CPU time budget of {self.limits.cpu_seconds_total:g} s for your "
                                      f"whole submission ran out {what}")

    def _spawn(self) -> None:
        if self._closed:
            raise _Crash(StudentError("protocol", "the student process was already closed"))
        remaining = self._remaining_cpu()
        if remaining < 0.5:
            raise _Crash(self._budget_error("before this call"))
        self._prepare_dir()
        cpu = max(1, math.ceil(remaining))
        rlimits = {
            "RLIMIT_CPU": [cpu, cpu + 1],
            "RLIMIT_AS": [self.limits.memory_mb << 20] * 2,
            "RLIMIT_FSIZE": [self.limits.file_bytes] * 2,
            "RLIMIT_CORE": [0, 0],
        }
        if os.geteuid() != 0:
            rlimits["RLIMIT_NPROC"] = [self._nproc_limit()] * 2
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        parts = [{"name": p.name, "module": p.module, "cell": p.cell, "symbol": p.symbol} for p in PARTS]
        cfg = {
            "rlimits": rlimits, "req_fd": req_r, "rep_fd": rep_w, "sandbox": str(self.dir),
            "site_packages": self._sites, "read_dirs": self._readable, "deny_dirs": self._deny,
            "exempt_files": list(HARNESS_FILES), "allow_processes": self.limits.processes > 0,
            "memory_mb": self.limits.memory_mb, "kind": getattr(self.submission, "kind", "modules"),
            "imports": self._imports, "runtime_module": str(RUNTIME_MODULE), "parts": parts, "package": PACKAGE,
        }
        env = {
            "PATH": "/usr/bin:/bin", "HOME": str(self.dir), "TMPDIR": str(self.dir), "LC_ALL": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            MARKER: self.nonce,
        }
        try:
            popen = subprocess.Popen(
                [sys.executable, "-I", "-S", "-B", str(CHILD), json.dumps(cfg)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=(req_r, rep_w), cwd=self.dir, env=env, start_new_session=True, close_fds=True,
            )
        finally:
            os.close(req_r)
            os.close(rep_w)
        self._popen = popen
        self._pid = popen.pid
        self._fds = {"req": req_w, "rep": rep_r, "out": popen.stdout.fileno(), "err": popen.stderr.fileno()}
        for fd in self._fds.values():
            os.set_blocking(fd, False)
        # Replies larger than twice the child's own memory cannot be honest: cap what the
        # grader buffers.
        cap = max(256 << 20, 2 * (self.limits.memory_mb << 20))
        self._reader = wire.FrameReader(wire.Limits(max_frame_bytes=cap, max_json_bytes=min(cap, 256 << 20)))
        self.restarts += 1
        try:
            self._receive(time.perf_counter() + max(30.0, self.limits.call_seconds), "startup", "at startup")
        except _Crash as exc:
            _, err = self._take_output()
            raise SandboxError(f"the student process did not start ({exc.error.message}): {err[-2000:]}") from None
        self._take_output()

    def _nproc_limit(self) -> int:
        if self.limits.processes <= 0:
            return 0
        uid = os.geteuid()
        count = 0
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    if os.stat(f"/proc/{name}").st_uid == uid:
                        count += 1
                except OSError:
                    pass
        return count + 1 + self.limits.processes

    def _live_cpu(self) -> float:
        if self._pid is None:
            return 0.0
        try:
            with open(f"/proc/{self._pid}/stat", "rb") as fh:
                fields = fh.read().rpartition(b")")[2].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def _kill(self) -> int | None:
        """SIGKILL the child's process group, reap it, sweep; returns its wait status."""
        pid, status = self._pid, None
        if pid is None:
            return None
        for send in (os.killpg, os.kill):
            try:
                send(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            _, status, usage = os.wait4(pid, 0)
            self._cpu_used += usage.ru_utime + usage.ru_stime
        except ChildProcessError:
            pass
        if self._popen is not None:
            self._popen.returncode = -9 if status is None else os.waitstatus_to_exitcode(status)
            for stream in (self._popen.stdout, self._popen.stderr):
                try:
                    stream.close()
                except OSError:
                    pass
        for key in ("req", "rep"):
            try:
                os.close(self._fds[key])
            except (KeyError, OSError):
                pass
        self._pid, self._popen, self._fds = None, None, {}
        self._sweep()
        return status

    def _sweep(self) -> None:
        for pid in running_with_marker(self.nonce):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _died(self, what: str) -> StudentError:
        """The child stopped answering on its own: reap it (and its group) and say why."""
        deadline = time.monotonic() + 1.0
        exited = False
        while time.monotonic() < deadline:
            try:  # WNOWAIT: leave it a zombie so that its process group can still be killed
                exited = os.waitid(os.P_PID, self._pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
            except ChildProcessError:
                break
            if exited:
                break
            time.sleep(0.002)
        status = self._kill()
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

    # ------------------------------------------------------------------ I/O
    def _keep(self, which: int, data: bytes) -> None:
        buf = self._out if which == 0 else self._err
        room = self.limits.output_bytes - len(buf)
        if room > 0:
            buf += data[:room]
        self._dropped[which] += max(0, len(data) - max(room, 0))

    def _take_output(self) -> tuple[str, str]:
        texts = []
        for which, buf in enumerate((self._out, self._err)):
            text = bytes(buf).decode("utf-8", errors="replace")
            if self._dropped[which]:
                text += f"\n[... {self._dropped[which]} more bytes of output were dropped]"
            texts.append(text)
        self._out, self._err, self._dropped = bytearray(), bytearray(), [0, 0]
        return texts[0], texts[1]

    def _drain_idle(self) -> None:
        """Read (and drop) whatever the child printed between calls."""
        for key in ("out", "err"):
            fd = self._fds.get(key)
            while fd is not None:
                try:
                    data = os.read(fd, 1 << 16)
                except BlockingIOError:
                    break
                except OSError:
                    break
                if not data:
                    break
        self._out, self._err, self._dropped = bytearray(), bytearray(), [0, 0]

    def _pump(self, deadline: float, what: str, label: str, payload: memoryview | None = None) -> None:
        """Move bytes until ``payload`` is written (if given) or a reply frame is complete."""
        fds = self._fds
        poller = select.poll()
        watching = {fds["rep"]: "rep"}
        for key in ("out", "err"):
            if key in fds:
                watching[fds[key]] = key
        if payload is not None:
            watching[fds["req"]] = "req"
        for fd, key in watching.items():
            poller.register(fd, select.POLLOUT if key == "req" else select.POLLIN)
        while True:
            if payload is not None and not payload:
                return
            if payload is None and self._frame is not None:
                return
            left = deadline - time.perf_counter()
            if left <= 0:
                self._kill()
                raise _Crash(StudentError("timeout", f"time limit of {self.limits.call_seconds:g} s exceeded "
                                                     f"{label}"))
            for fd, _ev in poller.poll(max(1, int(left * 1000))):
                key = watching.get(fd)
                if key == "req":
                    try:
                        n = os.write(fd, payload[: 1 << 20])
                        payload = payload[n:]
                    except BlockingIOError:
                        pass
                    except OSError:  # the child closed its end: it is dying
                        raise _Crash(self._died(what)) from None
                    continue
                try:
                    data = os.read(fd, 1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    poller.unregister(fd)
                    del watching[fd]
                    if key == "rep":
                        raise _Crash(self._died(what))
                    if key in fds:
                        fds.pop(key)
                    continue
                if key == "rep":
                    try:
                        self._reader.feed(data)
                        self._frame = self._reader.pop()
                    except wire.WireError:
                        self._kill()
                        raise _Crash(StudentError("protocol", f"your code interfered with the grader's "
                                                              f"connection {what}")) from None
                else:
                    self._keep(0 if key == "out" else 1, data)

    def _send(self, data: bytes, deadline: float, target: str, what: str | None = None) -> None:
        self._frame = None
        what = what or f"during {target}"
        self._pump(deadline, what, f"in {target}", memoryview(data))

    def _receive(self, deadline: float, target: str, what: str | None = None) -> wire.Decoded:
        what = what or f"during {target}"
        self._frame = self._reader.pop() if self._reader.pending() else None
        self._pump(deadline, what, f"in {target}")
        frame, self._frame = self._frame, None
        try:
            decoded = wire.decode(*frame)
        except wire.WireError:
            self._kill()
            raise _Crash(StudentError("protocol", f"your code interfered with the connection {what}")) from None
        if type(decoded.value) is not dict or type(decoded.value.get("ok")) is not bool:
            self._kill()
            raise _Crash(StudentError("protocol", f"your code interfered with the grader's connection {what}"))
        return decoded

    # ------------------------------------------------------------------ loading
    def _ensure(self) -> None:
        """A running child with the student's code loaded."""
        if self._pid is not None:
            return
        while True:
            self._spawn()
            crashed = False
            for index, step in enumerate(self._plan):
                if index in self._failed:
                    continue
                label = f"cell {step['name']}" if step["kind"] == "cell" else step["file"]
                try:
                    deadline = time.perf_counter() + self.limits.call_seconds
                    self._send(wire.encode({"op": "load_step", "index": index, "step": step}), deadline, label,
                               f"while loading {label}")
                    self._receive(deadline, label, f"while loading {label}")
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
            out, err = self._take_output()
            if not self.load_output:
                self.load_output = (out + err)[: self.limits.output_bytes]
            if not crashed:
                break
        if self._load_report is None:
            plan = [{k: v for k, v in step.items() if k != "source"} for step in self._plan]
            deadline = time.perf_counter() + self.limits.call_seconds
            self._send(wire.encode({"op": "report", "failed": self._failed, "plan": plan}), deadline, "loading")
            reply = self._receive(deadline, "loading").value
            self._take_output()
            report = {}
            for key, status in (reply.get("value") or {}).items():
                report[key] = "ok" if status == "ok" else self._error(status)
            self._load_report = {**report, **self._unloadable_parts()}

    def _unloadable_parts(self) -> dict[str, StudentError]:
        """The parts of modules that cannot be run at all (Python 2 code) or are not the student's
        (the course's own file), with the reason.

        Decided on the trusted side from the source text, so the student process cannot
        claim such a part loaded.
        """
        sub = self.submission
        unloadable = dict(getattr(sub, "unloadable", {}) or {})
        not_graded = dict(getattr(sub, "not_graded", {}) or {})
        modules = dict(getattr(sub, "modules", {}) or {})
        found = {}
        for part in PARTS:
            reason = unloadable.get(modules.get(part.module, "")) or not_graded.get(part.module)
            if reason is not None:
                error = StudentError("unloadable", f"not graded: {reason}")
                found[part.symbol] = found[part.name] = error
        return found

    # ------------------------------------------------------------------ calls
    @staticmethod
    def _error(raw: Any) -> StudentError:
        if type(raw) is not dict:
            return StudentError("protocol", "the student process sent a malformed error")
        kind, message, detail = raw.get("kind"), raw.get("message"), raw.get("detail", "")
        return StudentError(kind if type(kind) is str else "protocol",
                            message if type(message) is str else "unknown error",
                            detail if type(detail) is str else "")

    def _failure(self, error: StudentError, seconds: float) -> CallResult:
        out, err = self._take_output()
        return CallResult(ok=False, value=None, error=error, seconds=seconds, stdout=out, inputs_after=None,
                          stderr=err)

    def _cpu_ns(self) -> int | None:
        return process_cpu_ns(self._pid) if self._pid is not None else None

    def _result(self, decoded: wire.Decoded, seconds: float, args: list | None = None,
                cpu_seconds: float | None = None) -> CallResult:
        reply = decoded.value
        out, err = self._take_output()
        inputs_after = reply.get("inputs_after")
        changed = reply.get("inputs_changed")
        if args is not None and type(inputs_after) is list and type(changed) is list \
                and len(inputs_after) == len(changed) == len(args):
            inputs_after = [after if flag is True else (arg if isinstance(arg, np.ndarray) else None)
                            for arg, after, flag in zip(args, inputs_after, changed)]
        calls = reply.get("calls")
        child_seconds = reply.get("child_seconds")
        common = dict(seconds=seconds, stdout=out, stderr=err,
                      inputs_after=inputs_after if type(inputs_after) is list else None,
                      calls=calls if type(calls) is list else [], notes=list(decoded.notes),
                      child_seconds=child_seconds if type(child_seconds) is float else None,
                      cpu_seconds=cpu_seconds)
        if reply["ok"]:
            return CallResult(ok=True, value=reply.get("value"), error=None, **common)
        return CallResult(ok=False, value=None, error=self._error(reply.get("error")), **common)

    def _run(self, request: dict, target: str, args: list | None = None) -> CallResult:
        start = time.perf_counter()
        if self._closed:
            return self._failure(StudentError("protocol", "the student process was already closed"), 0.0)
        try:
            self._ensure()
            self._drain_idle()
            data = wire.encode(request)
            start, cpu = time.perf_counter(), self._cpu_ns()
            deadline = start + self.limits.call_seconds
            self._send(data, deadline, target)
            decoded = self._receive(deadline, target)
            return self._result(decoded, time.perf_counter() - start,
                                args if args is not None else request.get("args"), _cpu_delta(cpu, self._cpu_ns()))
        except _Crash as exc:
            return self._failure(exc.error, time.perf_counter() - start)
