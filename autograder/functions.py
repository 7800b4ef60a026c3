"""Functions with known gradients, for checking the students' gradient-check code.

The child process builds the same function from the plain-data spec (it never receives
code); the trusted side evaluates it here to compute the expected answers.
"""

from __future__ import annotations

import numpy as np


def elementwise_spec(a: np.ndarray, b: np.ndarray) -> dict:
    """Spec of f(x) = sum(a * x**2 + b * sin(x)), understood by the student process."""
    return {"__callable__": "elementwise", "a": np.asarray(a, np.float64), "b": np.asarray(b, np.float64)}


def elementwise_value(spec: dict, x: np.ndarray) -> float:
    return float(np.sum(spec["a"] * x**2 + spec["b"] * np.sin(x)))


def elementwise_gradient(spec: dict, x: np.ndarray) -> np.ndarray:
    return 2 * spec["a"] * x + spec["b"] * np.cos(x)


def as_callable(spec: dict):
    """The trusted-side Python function of a spec (used for diagnosis)."""
    return lambda x: elementwise_value(spec, x)
