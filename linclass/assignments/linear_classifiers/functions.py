"""Functions with known gradients, for checking the students' gradient-check code.

The student process builds the same function from a plain-data spec (it never receives
code); the trusted side evaluates :class:`Elementwise` to compute expected answers and to
run the catalog's buggy variants.
"""

from __future__ import annotations

import numpy as np


class Elementwise:
    """``f(x) = sum(a * x**2 + b * sin(x))``, the sandbox's ``"elementwise"`` callable, trusted side."""

    def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a = np.asarray(a, dtype=np.float64)
        self.b = np.asarray(b, dtype=np.float64)

    @classmethod
    def from_spec(cls, spec: dict) -> Elementwise:
        return cls(spec["a"], spec["b"])

    def spec(self) -> dict:
        """The plain-data spec the student process understands."""
        return {"__callable__": "elementwise", "a": self.a, "b": self.b}

    def __call__(self, x: np.ndarray) -> float:
        return float(np.sum(self.a * x**2 + self.b * np.sin(x)))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        return 2 * self.a * x + self.b * np.cos(x)

    def centered(self, x: np.ndarray, h: float) -> np.ndarray:
        """What the centered difference ``(f(x + h) - f(x - h)) / 2h`` gives, exactly, entry by entry.

        Exact for the quadratic term; for the sine, ``b * cos(x) * sin(h) / h``.  So the result
        of a numeric gradient tells which step it really used.
        """
        return 2 * self.a * x + self.b * np.cos(x) * (np.sin(h) / h)
