"""Properties of the reference losses: naive == vectorized, gradients, inputs, dtypes, stability.

The checks come from ``reference_checks`` and are shown to reject the known buggy
variants in ``test_reference_catches_bugs.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_checks import (
    agreement_problems,
    float32_problems,
    gradient_inputs,
    gradient_problems,
    kink_distance,
    mutation_problems,
    stability_inputs,
    stability_problems,
)

from solutions.linear_classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from solutions.linear_classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized

PAIRS = {"svm": (svm_loss_naive, svm_loss_vectorized), "softmax": (softmax_loss_naive, softmax_loss_vectorized)}
ALL_LOSSES = [svm_loss_naive, svm_loss_vectorized, softmax_loss_naive, softmax_loss_vectorized]
KIND = {fn: ("svm" if fn.__name__.startswith("svm") else "softmax") for fn in ALL_LOSSES}
BOUNDED = settings(max_examples=50, deadline=None, database=None)


@st.composite
def problems(draw):
    """Random (W, X, y, reg): N 1..12, D 1..8, C 2..7, reg 0 or in [0, 10], scores up to ~1e4."""
    N, D, C = draw(st.integers(1, 12)), draw(st.integers(1, 8)), draw(st.integers(2, 7))
    scale = draw(st.sampled_from([1e-3, 1.0, 10.0, 1e3]))
    reg = draw(st.one_of(st.just(0.0), st.floats(0.0, 10.0)))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    W, X, y = scale * rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.integers(0, C, N)
    return W, X, y, reg


@pytest.mark.parametrize("kind", ["svm", "softmax"])
@BOUNDED
@given(problem=problems())
def test_naive_and_vectorized_agree(kind, problem):
    """On random shapes (including N = 1, C = 2, reg = 0 and scores up to ~1e4) the naive and
    vectorized versions give the same loss and gradient to 1e-10 (relative and absolute)."""
    naive, vectorized = PAIRS[kind]
    assert agreement_problems(vectorized, naive, *problem) == []


@pytest.mark.parametrize("kind", ["svm", "softmax"])
@pytest.mark.parametrize(("N", "D", "C", "reg", "scale"),
                         [(1, 3, 2, 0.0, 1.0), (1, 1, 2, 0.5, 1.0), (4, 2, 2, 0.0, 1e4), (9, 4, 3, 1e-3, 1e3)])
def test_naive_and_vectorized_agree_on_edge_shapes(kind, N, D, C, reg, scale):
    """The named edge cases, fixed: N = 1, D = 1, C = 2, reg = 0, large scores."""
    rng = np.random.default_rng(N * 100 + D * 10 + C)
    W, X, y = scale * rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.integers(0, C, N)
    naive, vectorized = PAIRS[kind]
    assert agreement_problems(vectorized, naive, W, X, y, reg) == []


@pytest.mark.parametrize("loss_fn", ALL_LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("seed", "reg", "shape"), [(0, 0.1, (6, 5, 4)), (1, 0.0, (6, 5, 4)), (2, 1.0, (1, 3, 2)),
                                                     (3, 1.0, (12, 7, 10))])
def test_gradient_check(loss_fn, seed, reg, shape):
    """The analytic dW matches centered differences (h = 1e-5) with relative error < 1e-7.

    The SVM loss has kinks where a margin s_j - s_y + 1 is 0; a numeric step across a kink
    would disagree with the one-sided analytic gradient.  Perturbing one entry of W by h
    moves every score by at most h * max|X|, so ``gradient_inputs`` draws inputs until every
    margin is at least 10 such steps away from 0 (asserted below).  Between kinks the hinge
    is piecewise linear, so there the centered difference is exact up to rounding, and the
    SVM meets the same 1e-7 bound as the softmax.

    The bound is relative to each entry's size, and the centered difference carries a
    rounding noise of about eps * |L| / h ~ 1e-10: entries much below 1e-3 cannot meet it
    even for a correct gradient.  Hence the larger shape is checked with reg = 1, whose
    2 * reg * W keeps every entry well above that noise.
    """
    kind = KIND[loss_fn]
    if kind == "svm":
        assert kink_distance(*gradient_inputs(kind, seed, shape)) >= 10
    assert gradient_problems(loss_fn, kind, seed=seed, reg=reg, shape=shape) == []


@pytest.mark.parametrize("loss_fn", ALL_LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed", [0, 1])
def test_inputs_are_not_modified(loss_fn, seed):
    """W, X and y are compared with copies taken before the call."""
    assert mutation_problems(loss_fn, seed) == []


@pytest.mark.parametrize("loss_fn", ALL_LOSSES, ids=lambda f: f.__name__)
def test_float32_inputs(loss_fn):
    """float32 W and X give finite results close to the float64 ones."""
    assert float32_problems(loss_fn) == []


@pytest.mark.parametrize("loss_fn", ALL_LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stability_with_large_scores(loss_fn, seed):
    """Scores up to 1e4 and rows offset from each other by 1e3 give finite losses and
    gradients, unchanged by the offsets (see ``reference_checks.stability_inputs``)."""
    W, X, Ws, Xs, y = stability_inputs(seed)
    assert np.max(np.abs(X @ W)) == pytest.approx(1e4)
    np.testing.assert_allclose(Xs @ Ws - X @ W, np.arange(len(X))[:, None] * 1e3 * np.ones(W.shape[1]), atol=1e-9)
    assert stability_problems(loss_fn, seed) == []
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no overflow, not even internally
        loss_fn(Ws, Xs, y, 0.0)


@pytest.mark.parametrize("loss_fn", ALL_LOSSES, ids=lambda f: f.__name__)
def test_returns_python_float_and_gradient_shaped_like_w(loss_fn, rng):
    W, X, y = rng.standard_normal((5, 3)), rng.standard_normal((4, 5)), rng.integers(0, 3, 4)
    loss, dW = loss_fn(W, X, y, 0.1)
    assert type(loss) is float
    assert dW.shape == W.shape and dW.dtype == np.float64
