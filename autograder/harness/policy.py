"""The audit-hook policy of the student process (loaded by ``child.py`` by file path).

:func:`install` adds a :func:`sys.addaudithook` hook before any student code runs.  Python
offers no way to remove an audit hook, and this one keeps everything it needs (the
allowed directories and the builtins it calls) in closure variables captured at install
time, so monkeypatching ``os``, ``os.path`` or ``builtins`` afterwards does not change its
decisions; no module attribute refers to the hook.

Denied (each raises :class:`PolicyViolation`, a ``PermissionError``, with a plain message
such as ``reading /x/solutions/losses.py is not allowed during grading``, and is
recorded in the list :func:`install` returns, so catching the error hides nothing):

- opening a file for writing outside the sandbox directory (``/dev/null`` excepted);
- opening for reading anything under the kit's own package directories (``solutions/``,
  ``autograder/``, ``linclass/``; the harness's own three files excepted), and anything
  outside the sandbox directory, the Python standard library, ``site-packages`` and a few
  harmless device/proc files; opening directories; paths given as custom path objects
  (their ``__fspath__`` could answer differently the second time);
- importing ``solutions``, ``autograder``, ``linclass``, ``ctypes``/``_ctypes`` and, unless
  processes are allowed, ``multiprocessing`` (and re-importing ``subprocess`` or
  ``_posixsubprocess`` afresh: both are pre-imported with ``fork_exec`` replaced, so that
  ``import subprocess`` by numpy.testing or matplotlib works but starts nothing);
- starting processes (``os.fork``, ``os.exec*``, ``os.posix_spawn*``, ``os.system``,
  ``subprocess.Popen``, ...) unless processes are allowed; signalling other processes
  (``os.kill``, ``os.killpg``, ``signal.pthread_kill``; ``os.pidfd_open`` and
  ``signal.pidfd_send_signal``, which raise no audit event, are deleted);
- sockets and network clients, ``ctypes.*`` events, ``resource.setrlimit``/``prlimit``,
  ``sqlite3``, ``gc.get_objects``/``get_referrers``/``get_referents``, ``input()``;
- removing, renaming, linking, ``chmod``/``chown``/``truncate``/``mkdir``/``utime`` outside
  the sandbox directory, any ``symlink``/``link``, ``chdir`` outside the sandbox directory.

What this cannot stop (the outer container is the real boundary)
----------------------------------------------------------------
An audit hook lives inside the process it polices.  Code that can write arbitrary process
memory can switch it off: numpy's ``__array_interface__`` accepts a raw address and gives a
writable view of any memory (no audit event), and with ``id()`` giving object addresses a
determined student could find and clear the interpreter's hook list or patch the harness.
``ctypes`` is kept out of ``sys.modules`` (numpy is imported without it) and its audited
entry points are denied, but a hand-built extension-module spec could still load
``_ctypes``/``_posixsubprocess`` without an ``import`` event.  Such a process could then
read files, fork (rlimits cannot limit root's processes) and signal the grader.  Grade
inside a container (Gradescope, a CI runner) with the kit's files not mounted read-write
and no network; see autograder/SECURITY.md.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import Iterable


class PolicyViolation(PermissionError):
    """Something the grading sandbox does not allow; the message is for the student."""


#: Modules that may never be imported by student code.
DENIED_MODULES = ("solutions", "autograder", "linclass", "ctypes", "_ctypes", "cffi", "_cffi_backend")
#: Also denied unless processes are allowed.
PROCESS_MODULES = ("subprocess", "_posixsubprocess", "multiprocessing", "_multiprocessing")

_PROCESS_EVENTS = ("os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
                   "subprocess.Popen", "os.startfile", "pty.spawn")
_SIGNAL_EVENTS = ("os.kill", "os.killpg", "signal.pthread_kill")
_NETWORK_PREFIXES = ("socket.", "urllib.", "http.client.", "ftplib.", "poplib.", "imaplib.", "smtplib.",
                     "nntplib.", "telnetlib.", "webbrowser.")
_GC_EVENTS = ("gc.get_objects", "gc.get_referrers", "gc.get_referents")
# event -> (indices of its path arguments, indices of its dir_fd arguments, verb for the message)
_FS_EVENTS = {
    "os.remove": ((0,), (1,), "removing"), "os.rmdir": ((0,), (1,), "removing"),
    "os.rename": ((0, 1), (2, 3), "renaming"), "os.chmod": ((0,), (2,), "changing the permissions of"),
    "os.chown": ((0,), (3,), "changing the owner of"), "os.truncate": ((0,), (), "truncating"),
    "os.mkdir": ((0,), (2,), "creating"), "os.utime": ((0,), (3,), "touching"),
    "os.chflags": ((0,), (), "changing the flags of"), "os.setxattr": ((0,), (), "changing"),
    "os.removexattr": ((0,), (), "changing"), "shutil.rmtree": ((0,), (1,), "removing"),
    "os.chdir": ((0,), (), "changing directory to"),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def install(
    *,
    sandbox_dir: str,
    read_dirs: Iterable[str],
    deny_dirs: Iterable[str],
    exempt_files: Iterable[str] = (),
    allow_processes: bool = False,
) -> list[str]:
    """Install the hook; returns the live list in which every violation is recorded.

    Parameters
    ----------
    sandbox_dir : str
        The only directory student code may write to (its working directory).
    read_dirs : iterable of str
        Directories that may be read besides the sandbox (stdlib, site-packages).
    deny_dirs : iterable of str
        Directories that may never be read (the kit's own packages); wins over read_dirs.
    exempt_files : iterable of str
        Files inside deny_dirs that may still be read (the harness's own source, for
        tracebacks).
    allow_processes : bool
        Allow starting processes (``Limits.processes > 0``).  A started program is not under
        this hook: only for use inside a container.
    """
    # Everything the hook uses is bound here, once: later monkeypatching cannot reach it.
    _str, _bytes, _int, _type, _len, _tuple = str, bytes, int, type, len, tuple
    _lstat, _stat, _readlink, _getcwd = os.lstat, os.stat, os.readlink, os.getcwd
    _islnk, _isdir = stat.S_ISLNK, stat.S_ISDIR
    _Violation = PolicyViolation
    import pathlib

    _pathtypes = (pathlib.PosixPath, pathlib.PurePosixPath)
    _fspath = os.fspath
    my_pid = os.getpid()
    violations: list[str] = []
    _append = violations.append

    def resolve(path: str) -> str:
        """os.path.realpath, built only from the captured builtins."""
        if not path.startswith("/"):
            path = _getcwd() + "/" + path
        todo = [p for p in path.split("/") if p]
        todo.reverse()
        resolved = ""
        links = 0
        while todo:
            name = todo.pop()
            if name == ".":
                continue
            if name == "..":
                resolved = resolved.rpartition("/")[0]
                continue
            candidate = resolved + "/" + name
            try:
                st = _lstat(candidate)
            except OSError:
                resolved = candidate
                continue
            if _islnk(st.st_mode):
                links += 1
                if links > 40:
                    return candidate
                try:
                    target = _readlink(candidate)
                except OSError:
                    resolved = candidate
                    continue
                if target.startswith("/"):
                    resolved = ""
                parts = [p for p in target.split("/") if p]
                parts.reverse()
                todo.extend(parts)
            else:
                resolved = candidate
        return resolved or "/"

    def norm_dirs(dirs: Iterable[str]) -> tuple:
        return _tuple(resolve(d).rstrip("/") or "/" for d in dirs)

    sandbox = norm_dirs([sandbox_dir])[0]
    readable = norm_dirs(read_dirs)
    denied = norm_dirs(deny_dirs)
    exempt = frozenset(resolve(f) for f in exempt_files)
    devices = frozenset(("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"))
    proc_self = f"/proc/{my_pid}/"
    proc_ok = frozenset(("stat", "status", "statm"))
    deny_modules = DENIED_MODULES if allow_processes else DENIED_MODULES + PROCESS_MODULES

    def under(path: str, dirs: tuple) -> bool:
        for d in dirs:
            if path == d or path.startswith(d + "/") or d == "/":
                return True
        return False

    def deny(message: str) -> None:
        _append(message)
        raise _Violation(message)

    def as_text(path) -> str | None:
        t = _type(path)
        if t is _str:
            return path
        if t is _bytes:
            return path.decode("utf-8", "surrogateescape")
        if t in _pathtypes:
            return _fspath(path)
        return None

    def check_read(path: str) -> None:
        real = resolve(path)
        if real in exempt:
            return
        if under(real, denied):
            deny(f"reading {real} is not allowed during grading")
        try:
            is_dir = _isdir(_stat(real).st_mode)
        except OSError:
            is_dir = False
        if is_dir and not under(real, (sandbox,)):
            deny(f"reading the directory {real} is not allowed during grading")
        if under(real, (sandbox,)) or under(real, readable) or real in devices:
            return
        if real.startswith(proc_self) and real[_len(proc_self):] in proc_ok:
            return
        deny(f"reading {real} is not allowed during grading")

    def check_write(path: str, verb: str = "writing") -> None:
        if verb == "writing" and (path == "/dev/stdout" or path == "/dev/stderr"):
            return  # the student's own output streams (captured by the grader)
        real = resolve(path)
        if real == "/dev/null" and verb == "writing":
            return
        if not under(real, (sandbox,)):
            deny(f"{verb} {real} is not allowed during grading (only your working directory can be changed)")

    def on_open(args) -> None:
        path, mode, flags = args
        if _type(path) is _int:
            return  # an already open descriptor
        text = as_text(path)
        if text is None:
            deny(f"opening a file through a {_type(path).__name__} object is not allowed during grading; "
                 "use a string path")
        writing = (_type(flags) is _int and flags & _WRITE_FLAGS) or (
            _type(mode) is _str and ("w" in mode or "a" in mode or "x" in mode or "+" in mode))
        if writing:
            check_write(text)
        else:
            check_read(text)

    def on_import(args) -> None:
        name = args[0]
        if _type(name) is not _str:
            return
        top = name.partition(".")[0]
        if top in deny_modules or name in deny_modules:
            deny(f"importing {name} is not allowed during grading")

    def on_fs(event: str, args) -> None:
        paths, dir_fds, verb = _FS_EVENTS[event]
        for i in dir_fds:
            if i < _len(args) and args[i] is not None and args[i] != -1:
                deny(f"{verb} files relative to a directory descriptor is not allowed during grading")
        for i in paths:
            path = args[i] if i < _len(args) else None
            if _type(path) is _int:
                if event == "os.chdir":
                    deny("changing directory through a file descriptor is not allowed during grading")
                continue  # an already open descriptor (ftruncate, fchmod)
            text = as_text(path)
            if text is None:
                deny(f"{verb} a file given as a {_type(path).__name__} object is not allowed during grading")
            check_write(text, verb)

    def on_listdir(args) -> None:
        path = args[0]
        if path is None or _type(path) is _int:
            return
        text = as_text(path)
        if text is None:
            return
        real = resolve(text)
        if under(real, denied) or not (under(real, (sandbox,)) or under(real, readable)):
            deny(f"listing {real} is not allowed during grading")

    def hook(event: str, args) -> None:
        if event == "open":
            on_open(args)
        elif event == "import":
            on_import(args)
        elif event in _FS_EVENTS:
            on_fs(event, args)
        elif event == "os.listdir" or event == "os.scandir" or event == "glob.glob":
            on_listdir(args)
        elif event in _PROCESS_EVENTS or event.startswith("os.exec") or event.startswith("os.posix_spawn"):
            if not allow_processes:
                deny(f"starting another process ({event}) is not allowed during grading")
        elif event in _SIGNAL_EVENTS:
            deny(f"sending signals to processes ({event}) is not allowed during grading")
        elif event.startswith("ctypes."):
            deny(f"using ctypes ({event}) is not allowed during grading")
        elif event.startswith(_NETWORK_PREFIXES):
            deny(f"network access ({event}) is not allowed during grading")
        elif event == "resource.setrlimit" or event == "resource.prlimit":
            deny("changing resource limits is not allowed during grading")
        elif event.startswith("sqlite3."):
            deny("using sqlite3 is not allowed during grading")
        elif event in _GC_EVENTS:
            deny(f"inspecting the grader's objects ({event}) is not allowed during grading")
        elif event == "builtins.input":
            deny("input() cannot be used during grading: nobody is there to type an answer")
        elif event == "os.symlink" or event == "os.link":
            deny(f"creating links ({event}) is not allowed during grading")

    if not allow_processes:
        # ``subprocess`` stays importable (numpy.testing and matplotlib import it) but cannot
        # start anything: Popen raises the audited "subprocess.Popen" event, and the
        # unaudited fork_exec underneath is replaced.  Re-importing either module fresh is an
        # audited import of a denied name.
        import _posixsubprocess
        import subprocess

        def fork_exec(*args, **kwargs):
            deny("starting another process (fork_exec) is not allowed during grading")

        _posixsubprocess.fork_exec = fork_exec
        subprocess._fork_exec = fork_exec

    # Calls that send signals without an audit event: remove them.
    import signal

    # ... and calls that create files without one (a FIFO named like a report could hang a batch).
    unaudited = ("pidfd_open", "mknod", "mkfifo")
    for module, names in ((os, unaudited), (signal, ("pidfd_send_signal",))):
        for name in names:
            if hasattr(module, name):
                delattr(module, name)
    for cname, names in (("posix", unaudited), ("_signal", ("pidfd_send_signal",))):
        mod = sys.modules.get(cname)
        for name in names:
            if mod is not None and hasattr(mod, name):
                delattr(mod, name)

    sys.addaudithook(hook)
    return violations
