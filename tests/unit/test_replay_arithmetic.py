"""The arithmetic the trusted side replays SGD with: same_array (autograder/verdicts.py) and the
least-squares gradient from precomputed one-hot rows (harness_ops.lsq_gradient)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from autograder.verdicts import same_array
from linclass.assignments.linear_classifiers.harness_ops import lsq_gradient, lsq_loss, one_hot

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, (4, 3), elements=finite), arrays(np.float64, (4, 3), elements=finite),
       st.sampled_from([(1e-8, 1e-10), (1e-6, 1e-8), (0.0, 1e-3)]))
def test_same_array_agrees_with_allclose_on_finite_arrays_of_one_shape(a, b, tolerances):
    rtol, atol = tolerances
    assert same_array(a, b, rtol=rtol, atol=atol) == np.allclose(a, b, rtol=rtol, atol=atol)
    assert same_array(b + 0.0, b, rtol=rtol, atol=atol)


def test_same_array_refuses_what_allclose_lets_through():
    W = np.full((3, 2), 0.5)
    assert np.allclose(W[:1], W) and not same_array(W[:1], W)  # a broadcast row is not the matrix
    assert np.allclose(np.float64(0.5), W) and not same_array(np.float64(0.5), W)
    inf = np.full((3, 2), np.inf)
    assert np.allclose(inf, inf) and not same_array(inf, inf)
    assert not same_array(np.full((3, 2), np.nan), W)
    assert not same_array(W.tolist(), W)  # a list is not an array the student returned


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 12), st.integers(1, 5), st.integers(2, 4), st.floats(0.0, 10.0), st.integers(0, 2**32 - 1),
       st.sampled_from([np.float64, np.float32]))
def test_the_replay_gradient_is_bit_for_bit_the_probe_loss_gradient(n, d, c, reg, seed, dtype):
    rng = np.random.default_rng(seed)
    X, W = rng.standard_normal((20, d)).astype(dtype), rng.standard_normal((d, c)).astype(dtype)
    y = rng.integers(-1, c + 1, 20)  # labels outside [0, c) included: they have no one-hot column
    rows = rng.integers(0, 20, n)
    expected = lsq_loss(W, X[rows], y[rows], reg)[1]
    assert expected.dtype == np.float64
    assert np.array_equal(lsq_gradient(W, X[rows], one_hot(y, 20, c)[rows], reg), expected)


def test_labels_that_do_not_match_the_rows_are_refused_as_before():
    """A train that passes one label for several rows gets an IndexError from the probe loss."""
    with pytest.raises(IndexError):
        lsq_loss(np.zeros((3, 2)), np.ones((4, 3)), np.array([1]), 0.1)
    with pytest.raises(IndexError):
        one_hot(np.array([0, 1]), 3, 2)


def test_same_array_refuses_arrays_that_are_not_numbers():
    W = np.zeros((2, 2))
    assert not same_array(np.array([["a", "b"], ["c", "d"]]), W)
    assert not same_array(np.zeros((2, 2), dtype="U3"), W)
