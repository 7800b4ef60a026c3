"""Hostile example submission (see README.md): every trick must gain nothing."""

import os

import numpy as np

try:
    from linear_svm import svm_loss_vectorized
    from softmax import softmax_loss_vectorized
except ImportError:
    from .linear_svm import svm_loss_vectorized
    from .softmax import softmax_loss_vectorized


class Agreeable(np.ndarray):
    """An array whose == is True everywhere."""

    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)


class LinearClassifier:
    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False, seed=None):
        os._exit(3)

    def predict(self, X):
        return np.zeros(X.shape[0], dtype=np.int64).view(Agreeable)

    def loss(self, X_batch, y_batch, reg):
        raise NotImplementedError


class LinearSVM(LinearClassifier):
    def loss(self, X_batch, y_batch, reg):
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    def loss(self, X_batch, y_batch, reg):
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)
