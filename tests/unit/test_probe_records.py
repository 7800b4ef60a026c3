"""The training probe's records as the trusted side reads them (suite/test_classifier.py:
consistent): exact repeats of a loss() call merge, and nothing a forged record holds makes the
grader fail with anything but a verdict."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.verdicts import CheckFailed
from linclass.assignments.linear_classifiers.harness_ops import lsq_loss
from linclass.assignments.linear_classifiers.suite.test_classifier import consistent


def honest_trace(rng, X, y, steps=4, lr=0.1, reg=0.0, repeat=1):
    W, seen, batches = rng.standard_normal((X.shape[1], 3)), [], []
    for _ in range(steps):
        rows = rng.integers(0, len(X), 5)
        for _ in range(repeat):  # a loss() line pasted `repeat` times: the same W, the same rows
            seen.append(W.copy())
            batches.append(rows)
        W = W - lr * lsq_loss(W, X[rows], y[rows], reg)[1]
    return {"W_seen": seen, "batches": batches, "regs": [reg] * len(seen), "W_final": W, "_batch_size": 5}


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng, rng.standard_normal((30, 4)), rng.integers(0, 3, 30)


def test_exact_repeats_merge_into_one_call(data):
    rng, X, y = data
    merged = consistent(honest_trace(rng, X, y, repeat=2), X, y)
    assert len(merged["W_seen"]) == len(merged["batches"]) == len(merged["regs"]) == 4
    assert len(consistent(honest_trace(rng, X, y), X, y)["W_seen"]) == 4


def test_a_repeat_with_other_rows_is_not_merged(data):
    rng, X, y = data
    trace = honest_trace(rng, X, y, repeat=2)
    trace["batches"][1] = (trace["batches"][1] + 1) % len(X)  # a second call on the same W, other rows
    with pytest.raises(CheckFailed, match="did not move W along the gradient"):
        consistent(trace, X, y)


@pytest.mark.parametrize("forged", [
    lambda W: [W, W],  # a list where an array belongs
    lambda W: {"W": W},
    lambda W: W.astype(str),
    lambda W: float("nan"),
])
def test_forged_records_get_a_verdict_never_an_error(data, forged):
    rng, X, y = data
    trace = honest_trace(rng, X, y, repeat=2)
    trace["W_seen"][0] = trace["W_seen"][1] = forged(trace["W_seen"][0])
    with pytest.raises(CheckFailed):
        consistent(trace, X, y)
    trace = honest_trace(rng, X, y, repeat=2)
    trace["batches"][0] = trace["batches"][1] = [list(trace["batches"][0])]
    trace["regs"][0] = trace["regs"][1] = [0.0]
    with pytest.raises(CheckFailed):
        consistent(trace, X, y)
