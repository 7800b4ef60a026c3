"""Hostile example submission (see README.md): every trick must gain nothing."""

import sys

import numpy as np


def softmax_loss_naive(W, X, y, reg):
    sys.exit(0)  # "finish" early, hoping the grader counts a clean exit as success


def softmax_loss_vectorized(W, X, y, reg):
    hoard = np.ones((16384, 16384))  # 2 GiB at once (bounded even without a sandbox)
    return float(hoard[0, 0]), np.zeros_like(W)
