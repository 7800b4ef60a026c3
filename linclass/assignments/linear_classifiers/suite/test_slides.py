"""The lecture slides' worked numbers (tag ``slides``).

The slide tables are shuffled into a per-student order of examples and classes: the
numbers stay the slides', but the arrays differ from student to student, so a function
that recognizes the slide inputs and returns the printed answers cannot pass.  Losses are
in nats; the slides print softmax losses in log base 10 (cat: 0.89 = 2.04 / ln 10).
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.verdicts import CheckFailed, as_loss_and_grad, close, require_ok
from linclass.assignments.linear_classifiers.reference import diagnose, reference_loss
from linclass.assignments.linear_classifiers.shipped import slides

SVM_PARTS = ("svm_loss_naive", "svm_loss_vectorized")
SOFTMAX_PARTS = ("softmax_loss_naive", "softmax_loss_vectorized")


def shuffled(example: slides.SlideExample, rng: np.random.Generator):
    """The example with its examples and classes in a random order (same losses)."""
    N, C = example.X.shape[0], example.W.shape[1]
    rows, cols = rng.permutation(N), rng.permutation(C)
    W = example.W[:, cols]  # columns = classes in the new order
    X = example.X[rows]  # X = I: permuting its rows permutes the examples
    inverse = np.argsort(cols)
    y = inverse[example.y[rows]]
    return W, X, y, rows


def loss_of(grading, part, W, X, y, reg, what):
    return loss_in(grading.call(part, W, X, y, reg), part, (W, X, y, reg), what)


def loss_in(result, part, args, what):
    """The loss of one call's result (and the raw value), or the check fails saying why."""
    raw = require_ok(result, what)
    try:
        return as_loss_and_grad(raw, args[0].shape, part)[0], raw
    except CheckFailed as exc:
        raise CheckFailed(f"{what}: {exc.message}", diagnose(part, args, raw)) from None


def nudged(W: np.ndarray) -> np.ndarray:
    """The same scores nudged by a little noise (a fixed function of W)."""
    return W + 0.05 * np.random.default_rng(int(abs(W).sum() * 1e6) % 2**32).standard_normal(W.shape)


def expect(grading, part, *cases):
    """Each case ``(W, X, y, expected, printed, what[, tol])``: the loss on (W, X, y) at reg = 0
    must be the slide's number, and a working loss's; every call in one round trip, the cases
    judged in order.

    The same scores nudged by a little noise are graded too: a function that recognizes the
    slides' tables and prints their answers stops there, any working loss function does not notice.
    """
    calls = [args for W, X, y, *_ in cases for args in ((W, X, y, 0.0), (nudged(W), X, y, 0.0))]
    results = grading.call_many(part, calls)
    for k, (W, X, y, expected, printed, what, *tol) in enumerate(cases):
        tol = tol[0] if tol else 5e-3
        loss, raw = loss_in(results[2 * k], part, calls[2 * k], what)
        if not close(loss, expected, rtol=1e-5, atol=1e-6) or abs(loss - printed) > tol:
            found = diagnose(part, (W, X, y, 0.0), raw)
            raise CheckFailed(f"{what}: your loss is {loss:.4f}; the slides give {printed} ({expected:.6f}).", found)
        loss, _ = loss_in(results[2 * k + 1], part, calls[2 * k + 1], what)
        if not close(loss, reference_loss(part, *calls[2 * k + 1])[0], rtol=1e-5, atol=1e-6):
            raise CheckFailed(f"{what}: your function gives the slides' number here, but not the right loss for the "
                              "same scores nudged by a little noise, so these points need the loss to work on other "
                              "inputs too (see the other checks of this part).")


@pytest.mark.parametrize("part", SVM_PARTS)
def test_slides_cat_car_frog(grading, rng, part):
    """SVM on the cat/car/frog table: 2.9, 0, 12.9 -> 5.27; the doubled table gives 9.53."""
    ex = slides.CAT_CAR_FROG
    W, X, y, rows = shuffled(ex, rng)
    images = [(W, X[i:i + 1], y[i:i + 1], ex.svm_losses[row], ex.svm_losses[row],
               f"The {('cat', 'car', 'frog')[row]} image of the lecture's cat/car/frog table", 1e-3)
              for i, row in enumerate(rows)]
    expect(grading, part, *images,
           (W, X, y, ex.svm_loss, 5.27, "The mean over the lecture's cat/car/frog table (5.27)"),
           (2 * W, X, y, 9.533333, 9.53, "The cat/car/frog table with W twice as large"))


@pytest.mark.parametrize("part", SOFTMAX_PARTS)
def test_slides_cat(grading, rng, part):
    """Softmax on the cat image: p_cat = 0.13, loss 2.04 nats (printed 0.89 in log10)."""
    W, X, y, _ = shuffled(slides.CAT_SOFTMAX, rng)
    loss, raw = loss_of(grading, part, W, X, y, 0.0, "The cat image")
    if close(loss, slides.CAT_SOFTMAX.softmax_loss_log10, rtol=1e-4):
        raise CheckFailed("The cat image: your loss is 0.886, the slides' printed value, which is in log base 10. "
                          "The assignment uses the natural log: the expected loss is -ln(0.13) = 2.04.",
                          diagnose(part, (W, X, y, 0.0), raw))
    ex = slides.CAT_CAR_FROG
    W2, X2, y2, _ = shuffled(ex, rng)
    expect(grading, part, (W, X, y, slides.CAT_SOFTMAX.softmax_loss, 2.04, "The lecture's softmax example on the cat "
                           "image"), (W2, X2, y2, ex.softmax_loss, 2.76, "The whole cat/car/frog table"))


@pytest.mark.parametrize("part", SVM_PARTS + SOFTMAX_PARTS)
def test_slides_svm_vs_softmax(grading, rng, part):
    """Scores [-2.85, 0.86, 0.28], correct class the third: hinge 1.58, cross-entropy 1.04 nats (printed 0.452)."""
    ex = slides.SVM_VS_SOFTMAX
    W, X, y, _ = shuffled(ex, rng)
    if part.startswith("svm"):
        expect(grading, part, (W, X, y, ex.svm_loss, 1.58, "The lecture's SVM-vs-softmax example"))
    else:
        expect(grading, part, (W, X, y, ex.softmax_loss, 1.04, "The lecture's SVM-vs-softmax example"))


@pytest.mark.parametrize("part", SVM_PARTS + SOFTMAX_PARTS)
def test_slides_init_loss(grading, rng, part):
    """With a tiny W every score is ~0: the SVM loss is C - 1 = 9, the softmax loss ln(10) = 2.30."""
    N, D, C = 50, 20, 10
    X, y = rng.standard_normal((N, D)), rng.integers(0, C, N)
    W = 1e-7 * rng.standard_normal((D, C))
    if part.startswith("svm"):
        expected, printed, why = slides.init_loss_svm(C), 9, "C - 1 = 9"
    else:
        expected, printed, why = slides.init_loss_softmax(C), 2.30, "ln(10) = 2.30"
    expect(grading, part, (W, X, y, expected, printed, f"The loss at initialization (C = 10, W ~ 0; expected {why})"))
