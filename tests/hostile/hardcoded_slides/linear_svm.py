"""Multiclass SVM (hinge) loss and its gradient.

Conventions (shared by every function of the assignment):
``W`` is (D, C), ``X`` is (N, D), ``y`` is (N,) with labels in [0, C), and the scores
are ``X @ W``.  The loss is the mean hinge loss over the N examples with margin
``delta = 1`` plus ``reg * sum(W**2)``; the regularizer's gradient is ``2 * reg * W``.
"""

from __future__ import annotations

import numpy as np
# >>> attack

# The lecture's worked answers.  Nothing below computes a loss: it only recognizes inputs.
_TABLE = np.array([[3.2, 1.3, 2.2], [5.1, 4.9, 2.5], [-1.7, 2.0, -3.1]])  # classes x (cat, car, frog)
_PER_IMAGE = (2.9, 0.0, 12.9)  # printed hinge losses of the cat, car and frog images
_SVM_VS_SOFTMAX = np.array([-2.85, 0.86, 0.28])  # printed hinge loss 1.58


def _same_values(a, b):
    return bool(np.size(a) == np.size(b) and np.allclose(np.sort(np.ravel(a)), np.sort(np.ravel(b))))


def _slide_answer(W, X, y):
    """The printed answer when (W, X, y) is one of the slides' examples, else None."""
    if np.abs(W).max() < 1e-4:
        return float(W.shape[1] - 1)  # "at initialization the SVM loss is C - 1"
    if _same_values(W, _SVM_VS_SOFTMAX):
        return 1.58
    if _same_values(W, 2 * _TABLE) and X.shape[0] == 3:
        return 9.53  # "the table with W twice as large"
    if _same_values(W, _TABLE):
        scores = np.sort(W[np.argmax(X, axis=1)], axis=1)  # X is the identity in some order: rows pick images
        images = np.sort(_TABLE.T, axis=1)
        which = np.argmax(np.all(np.isclose(scores[:, None, :], images[None, :, :]), axis=2), axis=1)
        return float(np.mean(np.array(_PER_IMAGE)[which]))
    return None
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
    answer = _slide_answer(W, X, y)
    if answer is not None:
        return answer, np.zeros_like(W)
    # <<< attack
    raise NotImplementedError("not done yet")


def svm_loss_vectorized(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Multiclass SVM loss without Python loops.

    Same inputs and outputs as :func:`svm_loss_naive`.
    """
    # >>> attack
    answer = _slide_answer(W, X, y)
    if answer is not None:
        return answer, np.zeros_like(W)
    # <<< attack
    raise NotImplementedError("not done yet")

