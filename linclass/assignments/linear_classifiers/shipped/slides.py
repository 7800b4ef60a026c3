"""The lecture slides' worked numbers, as inputs in the assignment's layout and expected values.

Every number here is re-computed in ``shared/seeds-catalog.md`` (section 5).  The slides
print score tables as classes x examples; the assignment's scores are ``X @ W`` of shape
(N, C).  With ``X = I_N`` and ``W`` = the slide table transposed, ``X @ W`` reproduces the
slide's scores exactly, so any correct loss function reproduces the slide's losses.

A note on logarithms: the slides print the softmax losses in log base 10 (0.89 for the
cat image).  The assignment, like numpy and the init sanity check ln(10) = 2.30, uses the
natural log: the cat's loss is 2.04 nats, and 2.04 / ln(10) = 0.89.

This module holds inputs and expected numbers only (no implementation), so it ships in
the student release for the public self-check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CLASSES = ("cat", "car", "frog")


@dataclass(frozen=True)
class SlideExample:
    """One worked example from the slides."""

    name: str
    where: str
    W: np.ndarray
    X: np.ndarray
    y: np.ndarray
    svm_losses: tuple[float, ...] | None = None  # per-example hinge losses, delta = 1
    svm_loss: float | None = None  # their mean
    softmax_loss: float | None = None  # natural log (nats)
    softmax_loss_log10: float | None = None  # as the slides print it
    softmax_probs: tuple[float, ...] | None = None  # of the first example

    @property
    def scores(self) -> np.ndarray:
        return self.X @ self.W


#: E1, the cat/car/frog table (rows = classes, columns = the cat, car and frog images).
SCORE_TABLE = np.array([[3.2, 1.3, 2.2],
                        [5.1, 4.9, 2.5],
                        [-1.7, 2.0, -3.1]])

CAT_CAR_FROG = SlideExample(
    name="cat/car/frog SVM table", where="000:379-545, 002:82-322, 004:507-579",
    W=SCORE_TABLE.T.copy(), X=np.eye(3), y=np.array([0, 1, 2]),
    svm_losses=(2.9, 0.0, 12.9), svm_loss=5.266667, softmax_loss=2.758655, softmax_loss_log10=1.198069)

CAT_SOFTMAX = SlideExample(
    name="softmax on the cat image", where="002:606-635, 004:648-720",
    W=np.array([[3.2, 5.1, -1.7]]), X=np.array([[1.0]]), y=np.array([0]),
    svm_losses=(2.9,), svm_loss=2.9, softmax_loss=2.040355, softmax_loss_log10=0.886115,
    softmax_probs=(0.129983, 0.869050, 0.000968))

SVM_VS_SOFTMAX = SlideExample(
    name="SVM vs softmax on scores [-2.85, 0.86, 0.28]", where="002:764-797",
    W=np.array([[-2.85, 0.86, 0.28]]), X=np.array([[1.0]]), y=np.array([2]),
    svm_losses=(1.58,), svm_loss=1.58, softmax_loss=1.040191, softmax_loss_log10=0.451749,
    softmax_probs=(0.015449, 0.631163, 0.353387))

EXAMPLES = (CAT_CAR_FROG, CAT_SOFTMAX, SVM_VS_SOFTMAX)

#: E9, the 10-class CIFAR-10 score table (002:55-68; rows = the CIFAR-10 classes in label
#: order, columns = three images).  The slide prints no loss and does not name the columns;
#: the losses assume the CS231n figure's cat, car and frog images (labels 3, 1, 6; D22).
CIFAR_SCORE_TABLE = np.array([[-3.45, -0.51, 3.42], [-8.87, 6.04, 4.64], [0.09, 5.31, 2.65], [2.9, -4.22, 5.1],
                              [4.48, -4.19, 2.64], [8.02, 3.58, 5.55], [3.78, 4.49, -4.34], [1.06, -4.37, -1.5],
                              [-0.36, -2.09, -4.79], [-0.72, -2.93, 6.14]])

CIFAR_CAT_CAR_FROG = SlideExample(
    name="10-class CIFAR-10 score table", where="002:55-68",
    W=CIFAR_SCORE_TABLE.T.copy(), X=np.eye(3), y=np.array([3, 1, 6]),
    svm_losses=(10.58, 0.27, 71.91), svm_loss=27.586667, softmax_loss=5.680603)

#: E10, the lion/tiger/leopard table (003:415-558).  The slide's "8.5" uses margin 0 (D3);
#: with the assignment's delta = 1 the losses are 1.8, 0, 26.6 -> 9.466667.
LION_TIGER_LEOPARD = SlideExample(
    name="lion/tiger/leopard table", where="003:415-558, 003:869-933",
    W=np.array([[5.6, 6.4, -4.6], [-1.8, 10.2, 3.5], [2.0, 5.4, -8.6]]), X=np.eye(3), y=np.array([0, 1, 2]),
    svm_losses=(1.8, 0.0, 26.6), svm_loss=9.466667, softmax_loss=5.068393)

#: The cat image's exponentiated scores as printed: 24.5, 164.0, 0.18.
CAT_EXP_SCORES = (24.532530, 164.021907, 0.182684)

#: E1 analytic gradients at reg = 0 (seeds-catalog section 5).
CAT_CAR_FROG_SVM_DW = np.array([[-1 / 3, 1 / 3, 0.0], [0.0, 0.0, 0.0], [1 / 3, 1 / 3, -2 / 3]])
CAT_CAR_FROG_SOFTMAX_DW = np.array([[-0.290006, 0.289683, 0.000323],
                                    [0.008415, -0.025361, 0.016946],
                                    [0.141552, 0.191075, -0.332627]])
#: E1 with reg = 0.1: sum(W**2) = 89.54, SVM loss 5.266667 + 8.954 = 14.220667.
CAT_CAR_FROG_REG = 0.1
CAT_CAR_FROG_SVM_LOSS_REG = 14.220667

#: E4, the numeric-gradient walkthrough (forward differences, h = 0.0001).
WALKTHROUGH_H = 1e-4
WALKTHROUGH_LOSS = 1.25347
WALKTHROUGH_PERTURBED = (1.25322, 1.25353, 1.25347)
WALKTHROUGH_DW = (-2.5, 0.6, 0.0)


def init_loss_svm(num_classes: int) -> float:
    """Q3: with W ~ 0 every score is ~0, every j != y adds max(0, 0 - 0 + 1) = 1: C - 1."""
    return float(num_classes - 1)


def init_loss_softmax(num_classes: int) -> float:
    """Q10: with equal scores every class has probability 1/C: the loss is ln(C)."""
    return math.log(num_classes)


def nats_to_log10(loss_in_nats: float) -> float:
    """Convert a natural-log loss to the slides' base-10 convention."""
    return loss_in_nats / math.log(10)
