"""Inputs for the grading checks, randomized per student.

Every check draws from its own generator (the ``rng`` fixture, seeded by the course salt, the
student id and the check: ``autograder.session.student_seed``): two students never see the
same numbers (so hard-coded answers cannot pass), while the same student and salt always get
the same inputs (so grading is reproducible).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from solutions.linear_classifiers.linear_svm import DELTA


@dataclass(frozen=True)
class LossCase:
    """One input of a loss function: ``loss(W, X, y, reg)``."""

    label: str  # plain words for the report, never the numbers themselves
    W: np.ndarray
    X: np.ndarray
    y: np.ndarray
    reg: float

    @property
    def args(self) -> tuple:
        return (self.W, self.X, self.y, self.reg)

    def describe(self) -> str:
        return f"{self.label} (N={self.X.shape[0]}, D={self.X.shape[1]}, C={self.W.shape[1]}, reg={self.reg:g})"


def random_case(rng: np.random.Generator, label: str, N: int, D: int, C: int, reg: float,
                w_scale: float = 0.5, dtype=np.float64) -> LossCase:
    """Gaussian X and W whose scores have margins on both sides of the hinge."""
    X = rng.standard_normal((N, D))
    W = w_scale * rng.standard_normal((D, C))
    y = rng.integers(0, C, size=N)
    y[: min(N, C)] = rng.permutation(C)[: min(N, C)]  # most classes appear at least once
    return LossCase(label, W.astype(dtype), X.astype(dtype), y, float(reg))


def standard_cases(rng: np.random.Generator, count: int = 3) -> list[LossCase]:
    """Random shapes and regularization strengths."""
    return [random_case(rng, f"random input {k + 1}", N=int(rng.integers(6, 40)), D=int(rng.integers(3, 25)),
                        C=int(rng.integers(3, 11)), reg=float(rng.uniform(0.05, 2.0)))
            for k in range(count)]


def edge_cases(rng: np.random.Generator) -> list[LossCase]:
    """N = 1, C = 2 and float32 inputs, without regularization.

    reg = 0 keeps each check to one question: the regularizer (and its convention) is the
    question of the standard cases only, so a convention difference is charged once.
    """
    return [
        random_case(rng, "a single example", N=1, D=5, C=4, reg=0.0),
        random_case(rng, "two classes", N=12, D=6, C=2, reg=0.0),
        random_case(rng, "float32 inputs", N=20, D=8, C=6, reg=0.0, dtype=np.float32),
    ]


def stability_cases(rng: np.random.Generator) -> list[LossCase]:
    """Large scores, in two shapes that reveal different mistakes.

    1. Every row's scores near +1e4: ``exp`` overflows unless each row is shifted by a max.
    2. Rows around +690 and -110 (800 apart): shifting the whole batch by one global max
       underflows the low rows to ``exp(-800) = 0``, and ``log(0)`` is infinite; a per-row
       shift is exact.
    Inside a row the spread stays below ~10, far inside what a correct shift handles: a spread
    of more than ~700 would underflow even textbook code, so it is never used (DESIGN
    section 4, fair edge cases).
    """
    N, D, C = 8, 6, 5
    cases = []
    for label, offsets in (("large scores (about 1e4)", np.full(N, 1e4)),
                           ("rows far apart (scores near 690 and -110)", np.where(np.arange(N) % 2, 690.0, -110.0))):
        base = rng.standard_normal((N, D))
        W = rng.standard_normal((D, C))
        W *= 5.0 / max(1e-12, np.abs(base @ W).max())  # within-row spread <= 10
        X = np.hstack([base, offsets[:, None]])  # the last feature lifts every score of a row
        W = np.vstack([W, np.ones((1, C))])
        cases.append(LossCase(label, W, X, rng.integers(0, C, size=N), 0.0))  # stability only: no regularizer
    return cases


def kink_free_case(rng: np.random.Generator, reg: float, h: float = 1e-5, N: int = 8, D: int = 4,
                   C: int = 3) -> LossCase:
    """A small SVM input whose hinge margins all stay far from 0.

    A centered difference straddles a kink of max(0, .) when a margin is within h of 0, and
    then disagrees with any analytic gradient.  Drawing until every margin is at least
    1000 * h away from 0 keeps a numeric gradient check meaningful for the SVM loss.
    """
    for _ in range(1000):
        case = random_case(rng, f"a small input for the gradient check (reg = {reg:g})", N, D, C, reg, w_scale=1.0)
        scores = case.X @ case.W
        margins = scores - scores[np.arange(N), case.y][:, None] + DELTA
        margins[np.arange(N), case.y] = np.inf
        if np.abs(margins).min() > 1000 * h * (1 + np.abs(case.X).sum(axis=1).max()):
            return case
    raise RuntimeError("could not draw a kink-free input")  # pragma: no cover - astronomically unlikely


#: The end-to-end training check: the student's SGD loop with the harness's least-squares
#: loss on the digits (tests/unit/test_thresholds.py derives the threshold from these settings).
DIGITS_TRAIN_KWARGS = {"learning_rate": 2e-3, "reg": 1e-3, "num_iters": 150, "batch_size": 200}
#: The end-to-end tuning check: (learning rates, regularization strengths) with ridge models.
DIGITS_TUNE_GRID = ((1e-3,), (1e-3, 1e-1, 10.0))


@functools.cache
def digits():
    """The embedded digits, loaded once per grader process (every submission uses the same)."""
    from linclass.assignments.linear_classifiers.shipped.data import get_data

    return get_data("digits")
