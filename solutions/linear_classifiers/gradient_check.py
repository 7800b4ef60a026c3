"""Numeric gradients and the relative error used to compare them with analytic ones."""

from __future__ import annotations

from typing import Callable

import numpy as np


def eval_numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centered-difference gradient of ``f`` at ``x``.

    Each entry is ``(f(x + h e_i) - f(x - h e_i)) / (2h)``, whose error shrinks like h**2
    (a forward difference only shrinks like h).  ``x`` is perturbed in place, one entry at
    a time, and every entry is restored, even if ``f`` raises.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a scalar.
    x : ndarray
        The point at which to evaluate the gradient.
    h : float, optional
        Step size.

    Returns
    -------
    ndarray
        Float64 array shaped like ``x``.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        original = x[ix]
        try:
            x[ix] = original + h
            f_plus = f(x)
            x[ix] = original - h
            f_minus = f(x)
        finally:
            x[ix] = original
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def grad_check_sparse(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
    seed: int | None = None,
) -> np.ndarray:
    """Compare ``analytic_grad`` with centered differences at random entries of ``x``.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a scalar.
    x : ndarray
        The point of the check; perturbed in place and restored.
    analytic_grad : ndarray
        The gradient to check, shaped like ``x``.
    num_checks : int, optional
        How many random entries to check.
    h : float, optional
        Step size.
    seed : int or None, optional
        Seed of the entry sampler: the same seed checks the same entries.

    Returns
    -------
    ndarray of shape (num_checks,)
        The relative error at each checked entry.
    """
    rng = np.random.default_rng(seed)
    errors = np.empty(num_checks, dtype=np.float64)
    for k in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        original = x[ix]
        try:
            x[ix] = original + h
            f_plus = f(x)
            x[ix] = original - h
            f_minus = f(x)
        finally:
            x[ix] = original
        numeric = (f_plus - f_minus) / (2 * h)
        errors[k] = rel_error(numeric, analytic_grad[ix])
    return errors


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """Largest entrywise relative error ``|x - y| / max(1e-8, |x| + |y|)``.

    The floor of 1e-8 keeps two zeros (or two tiny numbers) from dividing by zero.
    As a rule of thumb: below 1e-7 the gradients agree; up to 1e-4 is acceptable for a
    kinked loss such as the SVM's; above 1e-2 the gradient is probably wrong.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
