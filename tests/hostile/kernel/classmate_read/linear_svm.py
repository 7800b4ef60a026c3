"""Multiclass SVM (hinge) loss and its gradient.

Conventions (shared by every function of the assignment):
``W`` is (D, C), ``X`` is (N, D), ``y`` is (N,) with labels in [0, C), and the scores
are ``X @ W``.  The loss is the mean hinge loss over the N examples with margin
``delta = 1`` plus ``reg * sum(W**2)``; the regularizer's gradient is ``2 * reg * W``.
"""

from __future__ import annotations

import numpy as np
# >>> attack

# RED TEAM attack classmate_read (class 4; see tests/hostile/kernel/classmate_read/case.toml)
# Read a classmate's submission in a --jobs 2 batch and put its private token in our own report
# route: the watcher of classmate_tamper reads every module in the other TMPDIR/linclass-
#   sandbox-*/submission/ (dir_fd root descriptor) and rel_error's error message carries the lines it
#   found
RT = {'name': 'classmate_read', 'root': '', 'tag': 'manual', 'sentinel': '', 'solutions': '', 'tcp': 0, 'udp': 0, 'unix': '', 'dummy': 0, 'dummy_cwd': '', 'grader_cwd': '', 'tmp': '', 'batch': False, 'fill_mb': 0}  # RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)

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
