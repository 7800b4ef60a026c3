"""Starting student processes: forked from a warm zygote, or cold as a fresh interpreter.

A cold start execs ``python -I -S -B child.py CONFIG``: about a fifth of a second, most of it
importing numpy.  A :class:`Zygote` pays that once per grading process: it is a trusted
interpreter that has imported numpy and the harness and forks a fresh student process per
request (a few milliseconds).  Both give the same process, confined the same way, so a
submission gets the same result either way; the zygote is used unless
``LINCLASS_ZYGOTE=0`` (or it cannot start, which is then said in the grader's log).

The student process is a child of whoever started it, so what its end looks like comes from
there: :meth:`Started.exited` and :meth:`Started.reap` give its wait status and the CPU time it
and its descendants used.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HARNESS = Path(__file__).resolve().parent.parent / "harness"
CHILD = HARNESS / "child.py"
#: The environment of every student process before its own (HOME, TMPDIR, marker) is added.
BASE_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1"}


class SpawnError(RuntimeError):
    """No student process could be started (a problem of the grader, not the student)."""


@dataclass
class Started:
    """One student process as its starter sees it.

    Attributes
    ----------
    pid : int
        Its pid (the leader of its own session and process group).
    source : Zygote or subprocess.Popen
        Who started it (and reaps it).
    """

    pid: int
    source: object = field(repr=False, default=None)

    @property
    def warm(self) -> bool:
        """Forked from the zygote (else started cold)."""
        return isinstance(self.source, Zygote)

    def exited(self, timeout: float = 0.0) -> tuple[int, float] | None:
        """(wait status, CPU seconds) once it has ended, waiting up to ``timeout``; else None."""
        if isinstance(self.source, Zygote):
            return self.source.exit_of(self.pid, timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            except ChildProcessError:
                return (0, 0.0)
            if pid:
                self.source.returncode = os.waitstatus_to_exitcode(status)
                return status, usage.ru_utime + usage.ru_stime
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.002)


def cold_start(cfg: dict, env: dict, cwd: Path, fds: tuple[int, int, int, int]) -> Started:
    """A fresh interpreter running ``child.py CONFIG`` (``fds``: its request, reply, stdout and
    stderr pipe ends, as in :meth:`Zygote.fork`)."""
    req_r, rep_w, out_w, err_w = fds
    cfg = {**cfg, "req_fd": req_r, "rep_fd": rep_w}
    popen = subprocess.Popen([sys.executable, "-I", "-S", "-B", str(CHILD), json.dumps(cfg)],
                             stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w, pass_fds=(req_r, rep_w), cwd=cwd,
                             env={**BASE_ENV, **env}, start_new_session=True, close_fds=True)
    return Started(popen.pid, popen)


class Zygote:
    """A warm, trusted process that forks student processes (``harness/zygote.py``).

    Parameters
    ----------
    site_packages : list of str
        The student processes' site folders (numpy), imported once here.
    """

    def __init__(self, site_packages: list[str]) -> None:
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        zcfg = {"site_packages": list(site_packages), "socket_fd": theirs.fileno()}
        self.popen = subprocess.Popen([sys.executable, "-I", "-S", "-B", str(CHILD), "--zygote", json.dumps(zcfg)],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      pass_fds=(theirs.fileno(),), env=dict(BASE_ENV), start_new_session=True,
                                      close_fds=True)
        theirs.close()
        self.site_packages = list(site_packages)
        self._gone = False  # its socket reached EOF: it ended, or it is no longer to be used
        self._exits: dict[int, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def alive(self) -> bool:
        return not self._gone and self.popen.poll() is None

    def fork(self, cfg: dict, env: dict, cwd: Path, fds: tuple[int, int, int, int], timeout: float = 30.0) -> Started:
        """A new student process for ``cfg``, with ``fds`` (request read end, reply write end,
        stdout and stderr write ends) as its own; the caller keeps (and closes) its copies."""
        message = json.dumps({"cfg": cfg, "env": {**BASE_ENV, **env}, "cwd": str(cwd)}).encode()
        with self._lock:
            try:
                socket.send_fds(self.sock, [message], list(fds))
            except OSError as exc:
                raise SpawnError(f"the zygote is gone ({exc})") from None
            deadline = time.monotonic() + timeout
            while True:
                reply = self._receive(deadline)
                if reply is None:
                    why = self._why()
                    self._discard()  # a late fork must never be taken for the next request's
                    raise SpawnError(f"the zygote did not answer in {timeout:g} s{why}")
                if "forked" in reply:
                    return Started(int(reply["forked"]), self)
                if "error" in reply:
                    raise SpawnError(f"the zygote refused: {reply['error']}")

    def exit_of(self, pid: int, timeout: float) -> tuple[int, float] | None:
        """(wait status, CPU seconds) of the zygote's child ``pid`` once reaped, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while pid not in self._exits:
                if self._receive(deadline) is None and (self._gone or time.monotonic() >= deadline):
                    break
            return self._exits.pop(pid, None)

    def _receive(self, deadline: float) -> dict | None:
        """The next message (exits are filed as they come), or None at the deadline or if the zygote ended."""
        remaining = max(0.0, deadline - time.monotonic())
        if not select.select([self.sock], [], [], remaining)[0]:
            return None
        try:
            data = self.sock.recv(1 << 16)
        except OSError:
            data = b""
        if not data:  # the zygote ended: nothing more will come (and no busy wait for it)
            self._gone = True
            return None
        message = json.loads(data)
        if "exited" in message:
            self._exits[int(message["exited"])] = (int(message["status"]), float(message["cpu"]))
        return message

    def _why(self) -> str:
        if self.popen.poll() is None:  # (still running: its stderr has no end to read to)
            return ""
        err = self.popen.stderr.read().decode(errors="replace") if self.popen.stderr else ""
        return f" (it ended: {err.strip()[-500:]})"

    def _discard(self) -> None:
        """Stop using this zygote: it is killed, and the next start makes a new one."""
        self._gone = True
        try:
            self.popen.kill()
        except OSError:
            pass

    def close(self) -> None:
        """End the zygote (its children are confined and killed by their own owners)."""
        try:
            self.sock.close()
        finally:
            try:
                self.popen.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


_zygote: Zygote | None = None
_zygote_lock = threading.Lock()
#: Set when a forked student process got no PID namespace (this machine cannot make one).
_without_pid_namespace = False


def no_pid_namespace() -> None:
    """Record that a forked student process had no PID namespace of its own: from now on every
    start is cold (what it leaves running is then found by its environment marker, which only an
    exec'd process shows in ``/proc``)."""
    global _without_pid_namespace
    _without_pid_namespace = True


def forks_allowed(mode: str) -> bool:
    """Whether student processes of sandbox ``mode`` are forked from the zygote."""
    return mode != "minimal" and not _without_pid_namespace


def warm_up(mode: str = "auto") -> None:
    """Start this grading process's zygote now, so that its interpreter imports numpy while the
    caller imports the engine, reads the submission and collects the checks (a no-op when it
    would not be used).  Cheap to import: neither numpy nor the engine is needed for it."""
    if forks_allowed(mode):
        from .site import python_dirs

        try:
            zygote(python_dirs()[0])
        except OSError:  # no zygote: every start is cold, and says why
            pass


def zygote(site_packages: list[str]) -> Zygote | None:
    """This process's zygote (started on first use, restarted if it died), or None when
    ``LINCLASS_ZYGOTE=0``."""
    global _zygote
    if os.environ.get("LINCLASS_ZYGOTE", "1") == "0":
        return None
    with _zygote_lock:
        if _zygote is None or not _zygote.alive() or _zygote.site_packages != list(site_packages) or \
                getattr(_zygote, "owner", None) != os.getpid():
            _zygote = Zygote(site_packages)
            _zygote.owner = os.getpid()
        return _zygote


@atexit.register
def _close_zygote() -> None:
    if _zygote is not None and getattr(_zygote, "owner", None) == os.getpid():
        _zygote.close()
