"""The training probe's minibatch row lookup (``harness_ops.RowIndex``) against the plain byte-by-byte lookup."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linclass.assignments.linear_classifiers.harness_ops import RowIndex


def by_bytes(X, y, X_batch, y_batch) -> np.ndarray:
    """The definition: the first row of X with the same bytes, when its label matches; else -1."""
    first = {}
    for i in range(len(X)):
        first.setdefault(np.asarray(X[i]).tobytes(), i)
    ids = np.full(len(X_batch), -1, dtype=np.int64)
    for j in range(len(X_batch)):
        i = first.get(np.asarray(X_batch[j], dtype=X.dtype).tobytes(), -1)
        if i >= 0 and y_batch[j] == y[i]:
            ids[j] = i
    return ids


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), d=st.integers(1, 6), batch=st.integers(0, 30))
def test_agrees_with_the_byte_lookup(seed, n, d, batch):
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, (n, d)).astype(np.float64)  # small integers: duplicated rows are common
    X[rng.random((n, d)) < 0.1] = -0.0  # -0.0 and 0.0 are different bytes
    y = rng.integers(0, 3, n)
    rows = rng.integers(0, n, batch)
    X_batch, y_batch = X[rows].copy(), y[rows].copy()
    foreign = rng.random(batch) < 0.2
    X_batch[foreign] += 0.5  # not rows of X
    y_batch[rng.random(batch) < 0.2] += 1  # rows of X with another label
    np.testing.assert_array_equal(RowIndex(X, y).find(X_batch, y_batch), by_bytes(X, y, X_batch, y_batch))


def test_a_hash_collision_is_still_found():
    X = np.arange(12.0).reshape(4, 3)
    y = np.array([0, 1, 2, 0])
    index = RowIndex(X, y)
    index.sorted = np.zeros_like(index.sorted)  # every row hashes alike: the binary search places none right
    np.testing.assert_array_equal(index.find(X[[3, 1, 2]], y[[3, 1, 2]]), [3, 1, 2])


@pytest.mark.parametrize("X_batch, y_batch", [
    ([[0.0, 1.0, 2.0], [6.0, 7.0, 8.0]], [0, 2]),  # lists
    (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([0, 1])),  # another dtype, converted
    (np.arange(4.0).reshape(2, 2), np.array([0, 1])),  # rows of another width
])
def test_minibatches_that_are_not_arrays_of_rows(X_batch, y_batch):
    X = np.arange(12.0).reshape(4, 3)
    y = np.array([0, 1, 2, 0])
    np.testing.assert_array_equal(RowIndex(X, y).find(X_batch, y_batch), by_bytes(X, y, X_batch, y_batch))


def test_rows_of_odd_widths_are_looked_up_one_by_one():
    X = np.arange(15, dtype=np.float32).reshape(5, 3)  # 12-byte rows: not whole 64-bit words
    y = np.zeros(5, dtype=int)
    np.testing.assert_array_equal(RowIndex(X, y).find(X[[4, 0]], y[[4, 0]]), [4, 0])


def test_an_empty_X_has_no_rows():
    index = RowIndex(np.zeros((0, 3)), np.zeros(0, dtype=int))
    np.testing.assert_array_equal(index.find(np.ones((2, 3)), np.array([0, 1])), [-1, -1])


def test_rows_are_those_of_X_as_it_was_sent():
    X = np.arange(12.0).reshape(4, 3)
    y = np.array([0, 1, 2, 0])
    index = RowIndex(X, y)
    X[[0, 1]] = X[[1, 0]]  # a train that reorders its X in place
    y[[0, 1]] = y[[1, 0]]
    np.testing.assert_array_equal(index.find(X[:2], y[:2]), [1, 0])  # indices into X as it was sent
