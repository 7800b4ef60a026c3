"""The trusted side's access to the reference implementations and the bug catalog."""

from __future__ import annotations

import numpy as np

from solutions.linear_classifiers.gradient_check import rel_error
from solutions.linear_classifiers.linear_svm import svm_loss_vectorized
from solutions.linear_classifiers.softmax import softmax_loss_vectorized

from . import misconceptions as catalog

LOSS_PARTS = ("svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized")
VECTORIZED_PARTS = ("svm_loss_vectorized", "softmax_loss_vectorized")
NAIVE_OF = {"svm_loss_vectorized": "svm_loss_naive", "softmax_loss_vectorized": "softmax_loss_naive"}

# Naive and vectorized reference versions agree to 1e-10 (tests/), so the fast one serves both.
_REFERENCE = {"svm": svm_loss_vectorized, "softmax": softmax_loss_vectorized}


#: The regularization conventions a course can grade by (``[conventions] regularization``):
#: the factor on ``reg`` that turns the assignment's ``reg * sum(W**2)`` into the course's.
REGULARIZATION = {"full": 1.0, "half": 0.5}  # "half": 0.5 * reg * sum(W**2), gradient reg * W


def reference_loss(part: str, W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float,
                   regularization: str = "full") -> tuple[float, np.ndarray]:
    """The reference (loss, dW) of a loss part, computed in float64, under a regularization convention."""
    f = _REFERENCE[part.split("_")[0]]
    return f(np.asarray(W, np.float64), np.asarray(X, np.float64), y, reg * REGULARIZATION[regularization])


def graded_loss(grading, part: str, W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float):
    """The reference (loss, dW) under the course's regularization convention (its grading config)."""
    return reference_loss(part, W, X, y, reg, grading.config.conventions.get("regularization", "full"))


def diagnose(part: str, args: tuple, reply) -> list:
    """Catalog misconceptions whose buggy output matches ``reply`` (never raises)."""
    try:
        return list(catalog.diagnose(part, args, reply))
    except Exception:  # a diagnosis is a bonus; it must never break a verdict
        return []


def entries(*ids: str) -> list:
    """The catalog entries with these ids (for checks that detect a bug by behaviour)."""
    return [catalog.by_id(i) for i in ids]


__all__ = ["LOSS_PARTS", "NAIVE_OF", "REGULARIZATION", "VECTORIZED_PARTS", "diagnose", "entries", "graded_loss",
           "reference_loss", "rel_error"]
