"""The reference gradient-check helpers (solutions/linear_classifiers/gradient_check.py).

The checks come from ``reference_checks`` and are shown to reject the known buggy
variants in ``test_reference_catches_bugs.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference_checks import (
    CUBIC_X,
    cubic,
    grad_check_sparse_problems,
    numerical_gradient_problems,
    rel_error_problems,
)

from solutions.linear_classifiers.gradient_check import eval_numerical_gradient, grad_check_sparse, rel_error


def test_eval_numerical_gradient_checks():
    """Centered (error O(h**2) on a cubic), exact on w**2 + 3 (003:1408), restores x even when f raises."""
    assert numerical_gradient_problems(eval_numerical_gradient) == []


@pytest.mark.parametrize("h", [1e-2, 1e-3])
def test_eval_numerical_gradient_error_is_exactly_h_squared_on_a_cubic(h):
    """((x+h)**3 - (x-h)**3) / 2h = 3x**2 + h**2: the centered difference's error, exactly."""
    grad = eval_numerical_gradient(cubic, CUBIC_X.copy(), h=h)
    np.testing.assert_allclose(grad - 3 * CUBIC_X ** 2, h ** 2, rtol=1e-4)


def test_eval_numerical_gradient_perturbs_x_itself(rng):
    """The contract: f sees x perturbed in place (one entry at a time), and x is restored."""
    x = rng.standard_normal((2, 2))
    original = x.copy()
    seen = []
    eval_numerical_gradient(lambda v: seen.append(v is x and int(np.sum(v != original))) or 0.0, x)
    assert seen == [1] * 8 and np.array_equal(x, original)


def test_eval_numerical_gradient_returns_float64_for_float32_input():
    x = np.array([1.0, 2.0], dtype=np.float32)
    grad = eval_numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)), x, h=1e-2)
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, [2.0, 4.0], rtol=1e-5)


def test_grad_check_sparse_checks():
    """Shape (num_checks,), centered accuracy, a wrong gradient flagged, the same seed checks the
    same entries (and another seed others), x restored, even when f raises."""
    assert grad_check_sparse_problems(grad_check_sparse) == []


def test_rel_error_checks():
    """0 vs 0 gives 0.0 (a float, no warning); otherwise max |x - y| / (|x| + |y|)."""
    assert rel_error_problems(rel_error) == []
