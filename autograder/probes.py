"""The probes' own arithmetic, shared by the student process and the trusted checks.

The student process runs these functions inside the probes (for example as the loss that
``LinearClassifier.train`` calls); the trusted side recomputes the same values from the
inputs it chose, so that what the student process reports is checked, never believed.
numpy and the standard library only: ``child.py`` loads this file by path.
"""

from __future__ import annotations

import numpy as np


def lsq_loss(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """The training probe's loss: 0.5 * mean squared error to one-hot labels + reg * sum(W**2).

    Its gradient is ``X.T @ (X @ W - Y) / N + 2 * reg * W``; labels outside [0, C) have no
    one-hot column.
    """
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(np.int64).ravel()
    n, c = X.shape[0], W.shape[1]
    Y = np.zeros((n, c))
    ok = (y >= 0) & (y < c)
    Y[np.arange(n)[ok], y[ok]] = 1.0
    diff = X @ W - Y
    loss = 0.5 * float(np.sum(diff * diff)) / max(n, 1) + float(reg) * float(np.sum(W * W))
    grad = X.T @ diff / max(n, 1) + 2.0 * float(reg) * W
    return loss, grad


def delegation_reply(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float, key: dict) -> tuple[float, np.ndarray]:
    """What the delegation probe's stand-in loss function returns for these arguments.

    A value no loss function computes, made from the arguments and the grader's random
    ``key`` (``A`` shaped like W, numbers ``r``, ``s``, ``t``): a classifier returns it only by
    passing (self.W, X_batch, y_batch, reg) through to its loss function.
    """
    W = np.asarray(W, dtype=np.float64)
    loss = (float(np.sum(np.asarray(key["A"]) * W)) + float(key["r"]) * float(reg)
            + float(key["s"]) * float(np.sum(np.asarray(X, dtype=np.float64)))
            + float(key["t"]) * float(np.sum(np.asarray(y, dtype=np.float64))))
    return loss, np.asarray(key["A"]) * W + float(reg)


class RidgeModel:
    """A closed-form ridge classifier on one-hot labels (``learning_rate`` is ignored)."""

    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False, seed=None,
              **kwargs):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).astype(np.int64)
        n, d = X.shape
        c = int(y.max()) + 1
        Y = np.zeros((n, c))
        Y[np.arange(n), y] = 1.0
        self.W = np.linalg.solve(X.T @ X / n + 2.0 * float(reg) * np.eye(d), X.T @ Y / n)
        return [float(0.5 * np.mean(np.sum((X @ self.W - Y) ** 2, axis=1)))]

    def predict(self, X):
        return np.argmax(np.asarray(X) @ self.W, axis=1)
