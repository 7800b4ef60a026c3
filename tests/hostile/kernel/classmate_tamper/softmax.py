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

# RED TEAM attack classmate_tamper (class 4; see tests/hostile/kernel/classmate_tamper/case.toml)
# Reach a classmate in a --jobs 2 batch: rewrite its linear_svm.py in its sandbox and break its reply
# pipe
# route: a thread started at import (dir_fd root descriptor) watches TMPDIR/linclass-sandbox-*,
#   appends a sabotage to the classmate's submission/linear_svm.py and writes garbage into /proc/<its
#   child>/fd/<rep_fd>
RT = {'name': 'classmate_tamper', 'root': '', 'tag': 'manual', 'sentinel': '', 'solutions': '', 'tcp': 0, 'udp': 0, 'unix': '', 'dummy': 0, 'dummy_cwd': '', 'grader_cwd': '', 'tmp': '', 'batch': False, 'fill_mb': 0}  # RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)

if RT.get("batch") and RT.get("root"):
    import time as _rt_time_linger
    _rt_time_linger.sleep(float(RT.get("linger", 2.0)))
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
    num_train, num_classes = X.shape[0], W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(num_train):
        scores = X[i] @ W
        shifted = scores - np.max(scores)  # per-example shift: same probabilities, no overflow
        log_probs = shifted - np.log(np.sum(np.exp(shifted)))
        loss -= log_probs[y[i]]
        for j in range(num_classes):
            dscore = np.exp(log_probs[j]) - (j == y[i])  # p_j - 1[j == y_i]
            dW[:, j] += dscore * X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return float(loss), dW


def softmax_loss_vectorized(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Softmax loss without Python loops.

    Same inputs and outputs as :func:`softmax_loss_naive`.
    """
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)

    dscores = np.exp(log_probs)  # the probabilities
    dscores[rows, y] -= 1
    dW = X.T @ (dscores / num_train) + 2 * reg * W
    return float(loss), dW
