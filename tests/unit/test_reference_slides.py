"""The reference reproduces every worked number of the lecture slides (seeds-catalog section 5).

Inputs come from the assignment's shipped ``slides`` module (X = I, W = the slide's score
table transposed, so ``X @ W`` is the slide's table).  Each parametrized case's id names the example (E1, E2,
... as in the seeds catalog) and its ``where`` the slide file:line it reproduces.  The
comparison itself lives in ``reference_checks.slide_case_problem``: the same check is shown
to reject the known buggy variants in ``test_reference_catches_bugs.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference_checks import SLIDE_CASES, mismatch, slide_case_problem

from linclass.assignments.linear_classifiers.shipped import slides
from solutions.linear_classifiers.gradient_check import eval_numerical_gradient
from solutions.linear_classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from solutions.linear_classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized

LOSSES = {"svm": (svm_loss_naive, svm_loss_vectorized), "softmax": (softmax_loss_naive, softmax_loss_vectorized)}
PAIRS = [(case, fn) for case in SLIDE_CASES for fn in LOSSES[case.kind]]


@pytest.mark.parametrize(("case", "loss_fn"), PAIRS,
                         ids=[f"{c.id}[{c.where.split(' ')[0].rstrip(',')}]-{f.__name__}" for c, f in PAIRS])
def test_slide_worked_number(case, loss_fn):
    """Slide example ``case.id`` (slide lines ``case.where``): the reference reproduces it."""
    assert slide_case_problem(loss_fn, case) is None


def test_every_slide_kind_is_covered():
    """Both losses have per-example, mean, gradient, regularized and init cases."""
    ids = {c.id for c in SLIDE_CASES}
    for needed in ("E1-svm-example0", "E1-svm-mean", "E1-svm-dW", "E1-svm-reg0.1", "E1b-svm-doubled-table",
                   "E3-svm-hinge", "E5-svm-init-tinyW-C10", "E9-svm-cifar-table", "E2-softmax-cat-log10",
                   "E2-softmax-cat-probs", "E3-softmax-log10", "E1-softmax-dW", "E5-softmax-init-tinyW-C10",
                   "E9-softmax-cifar-table"):
        assert needed in ids


def test_e2_cat_exponentials_as_printed():
    """E2, 000:610-638 / 002:606-635: exp of the cat scores prints as 24.5 / 164.0 / 0.18, and
    normalizing them gives the probabilities the reference's gradient implies."""
    exps = np.exp(slides.CAT_SOFTMAX.scores[0])
    for value, recomputed, printed in zip(exps, slides.CAT_EXP_SCORES, ("24.5", "164.0", "0.18")):
        assert mismatch(value, recomputed, printed) is None
    _, dW = softmax_loss_vectorized(slides.CAT_SOFTMAX.W, slides.CAT_SOFTMAX.X, slides.CAT_SOFTMAX.y, 0.0)
    np.testing.assert_allclose(dW[0] + np.eye(3)[0], exps / exps.sum(), rtol=1e-12)


def test_e2_log10_is_the_slides_convention():
    """E2, 002:635 / 004:720 (D1): the slides' 0.89 is -log10(p_cat); the natural log gives 2.04."""
    loss, _ = softmax_loss_naive(slides.CAT_SOFTMAX.W, slides.CAT_SOFTMAX.X, slides.CAT_SOFTMAX.y, 0.0)
    assert mismatch(loss, 2.040355, "2.04") is None
    assert mismatch(slides.nats_to_log10(loss), 0.886115, "0.89") is None
    assert mismatch(-math.log10(0.13), None, "0.89") is None  # the slide's own arithmetic, rounded p


def test_e3_probability_0016_only_from_rounded_exponentials():
    """E3, 002:790-793 (D2): the slide's 0.016 comes from its rounded exps 0.058/2.36/1.32;
    the exact probability 0.015449 rounds to 0.015."""
    printed_exps = np.array([0.058, 2.36, 1.32])
    assert mismatch(printed_exps[0] / printed_exps.sum(), None, "0.016") is None
    assert mismatch(slides.SVM_VS_SOFTMAX.softmax_probs[0], None, "0.016") is not None
    exps = np.exp(slides.SVM_VS_SOFTMAX.scores[0])
    for value, printed in zip(exps, ("0.058", "2.36", "1.32")):
        assert mismatch(value, None, printed) is None


@pytest.mark.parametrize(("perturbed", "slope", "where"),
                         list(zip(slides.WALKTHROUGH_PERTURBED, slides.WALKTHROUGH_DW,
                                  ("000:981", "000:1065", "001:377"))))
def test_e4_numeric_gradient_walkthrough(perturbed, slope, where):
    """E4, 000:879-1110 and 001:108-424: (L(W + h e_i) - L(W)) / h with h = 0.0001 gives -2.5,
    0.6 and 0.  These are forward differences of an unknown loss: only the arithmetic on the
    printed loss values can be reproduced (within 1e-9; float64 gives -2.500000000000835)."""
    value = (perturbed - slides.WALKTHROUGH_LOSS) / slides.WALKTHROUGH_H
    assert value == pytest.approx(slope, abs=1e-9)


def test_e13_numeric_gradient_of_w_squared_plus_3():
    """E13, 003:1029-1053 and 003:1408: L = w**2 + 3 at w = 2 is 7 with gradient 4; the
    reference's centered difference gets 4 to 1e-9 (a forward one with h = 1e-4 gets 4.0001)."""
    w = np.array([2.0])
    assert float(w[0] ** 2 + 3) == 7.0
    assert eval_numerical_gradient(lambda v: float(v[0] ** 2 + 3), w)[0] == pytest.approx(4.0, abs=1e-9)


@pytest.mark.parametrize("num_classes", [3, 10])
def test_e5_loss_at_init_sanity_values(num_classes):
    """E5 / Q3 / Q10, 000:462-465, 000:699-704, 002:761-762: with W ~ 0 the SVM loss is C - 1
    (9 for C = 10) and the softmax loss ln C (2.30 for C = 10), as the slide fixtures say."""
    assert slides.init_loss_svm(num_classes) == num_classes - 1
    assert slides.init_loss_softmax(num_classes) == pytest.approx(math.log(num_classes))
    if num_classes == 10:
        assert mismatch(slides.init_loss_softmax(10), 2.302585, "2.30") is None


def test_e1_regularization_adds_reg_times_sum_of_squares():
    """Seeds-catalog 5, E1 with reg = 0.1: sum(W**2) = 89.54, so the SVM loss is
    5.266667 + 8.954 = 14.220667, and dW gains 2 * reg * W."""
    ex = slides.CAT_CAR_FROG
    assert float(np.sum(ex.W ** 2)) == pytest.approx(89.54)
    for fn in LOSSES["svm"] + LOSSES["softmax"]:
        loss0, dW0 = fn(ex.W, ex.X, ex.y, 0.0)
        loss1, dW1 = fn(ex.W, ex.X, ex.y, 0.1)
        assert loss1 - loss0 == pytest.approx(8.954, rel=1e-12)
        np.testing.assert_allclose(dW1 - dW0, 0.2 * ex.W, rtol=1e-12, atol=1e-15)
