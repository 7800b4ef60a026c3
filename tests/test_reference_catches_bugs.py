"""Every check that claims to catch a bug fails on a deliberately buggy copy of the function.

The buggy copies of the losses and gradient-check helpers are the variants of
``autograder.misconceptions.CATALOG`` (the same ones the grader uses to diagnose students
and to generate mutant submissions).  Each is run through exactly the checks that the
reference passes in ``test_reference_slides.py``, ``test_reference_properties.py`` and
``test_gradient_check.py`` (the functions of ``reference_checks``), and the test names
which check must reject it:

* a bug in the loss value (``affects`` "loss" or "both") is caught by the slides' worked
  numbers;
* a bug in the gradient (``affects`` "grad") is caught by the numeric gradient check;
* the overflow bugs, which need large scores to show (``inputs`` "large_scores" /
  "row_offsets"), are caught by the stability check;
* a gradient-check helper bug is caught by that helper's checks.
"""

from __future__ import annotations

import pytest
from reference_checks import (
    grad_check_sparse_problems,
    loss_problems,
    numerical_gradient_problems,
    rel_error_problems,
)

from autograder.misconceptions import CATALOG, LOSS_PARTS, REFERENCE

VALUE_CHECKS = {"eval_numerical_gradient": numerical_gradient_problems,
                "grad_check_sparse": grad_check_sparse_problems, "rel_error": rel_error_problems}
LOSS_VARIANTS = [m for m in CATALOG if m.variant is not None and set(m.parts) <= set(LOSS_PARTS)]
VALUE_VARIANTS = [m for m in CATALOG if m.variant is not None and m.parts[0] in VALUE_CHECKS]


def _kind(part: str) -> str:
    return "svm" if part.startswith("svm") else "softmax"


def _catching_check(misconception) -> str:
    """Which check of ``loss_problems`` must reject this loss misconception."""
    if misconception.inputs in ("large_scores", "row_offsets"):
        return "stability"
    return "gradient" if misconception.affects == "grad" else "slides"


def test_the_catalog_has_variants_to_check():
    assert len(LOSS_VARIANTS) >= 20 and len(VALUE_VARIANTS) >= 8
    assert {m.parts[0] for m in VALUE_VARIANTS} == set(VALUE_CHECKS)


@pytest.mark.parametrize("misconception", LOSS_VARIANTS, ids=lambda m: m.id)
def test_loss_checks_reject_the_buggy_variant(misconception):
    problems = loss_problems(misconception.variant, _kind(misconception.parts[0]))
    check = _catching_check(misconception)
    assert problems[check], f"the {check!r} check accepts {misconception.id}: {misconception.title}"


@pytest.mark.parametrize("misconception", VALUE_VARIANTS, ids=lambda m: m.id)
def test_gradient_check_helper_checks_reject_the_buggy_variant(misconception):
    problems = VALUE_CHECKS[misconception.parts[0]](misconception.variant)
    assert problems, f"the checks of {misconception.parts[0]} accept {misconception.id}: {misconception.title}"


@pytest.mark.parametrize("part", LOSS_PARTS)
def test_loss_checks_accept_the_catalogs_reference(part):
    """Control: the catalog's parametrized implementation with default options (its
    reference) passes every check, so the rejections above come from the bugs alone."""
    assert not any(loss_problems(REFERENCE[part], _kind(part)).values())


@pytest.mark.parametrize("part", sorted(VALUE_CHECKS))
def test_helper_checks_accept_the_catalogs_reference(part):
    """Control, as above.  Known difference: the catalog's reference numerical-gradient
    helpers do not restore x when f raises (solutions/ does, with try/finally)."""
    problems = [p for p in VALUE_CHECKS[part](REFERENCE[part]) if p != "x is not restored when f raises"]
    assert problems == []
