"""Hostile example submission (see README.md): every trick must gain nothing."""

import sys

import numpy as np


def softmax_loss_naive(W, X, y, reg):
    sys.exit(0)  # "finish" early, hoping the grader counts a clean exit as success


def softmax_loss_vectorized(W, X, y, reg):
    hoard = []
    for _ in range(1536):  # ~1.5 GB, one MB at a time (bounded even without a sandbox)
        hoard.append(bytearray(1 << 20))
    return 0.0, np.zeros_like(W)
