"""Every check that claims to catch a bug fails on a deliberately buggy copy of the function.

The buggy copies of the losses and gradient-check helpers are the variants of
``linclass.assignments.linear_classifiers.misconceptions.CATALOG`` (the same ones the grader uses to diagnose students
and to generate mutant submissions).  Each is run through exactly the checks that the
reference passes in ``test_reference_slides.py``, ``test_reference_properties.py`` and
``test_gradient_check.py`` (the functions of ``reference_checks``), and the test names
which check must reject it:

* a bug in the loss value (``affects`` "loss" or "both") is caught by the slides' worked
  numbers;
* a bug in the gradient (``affects`` "grad") is caught by the numeric gradient check;
* the overflow bugs, which need large scores to show (``inputs`` "large_scores" /
  "row_offsets"), are caught by the stability check;
* a gradient-check helper bug is caught by that helper's checks;
* the training and tuning bugs (behavioural in the catalog, so without a variant there)
  use buggy copies defined below, each rejected by the named check of ``train_problems``,
  ``predict_problems`` or ``tune_problems`` (the checks ``test_training.py`` runs).
"""

from __future__ import annotations

from functools import partial, partialmethod

import numpy as np
import pytest
from reference_checks import (
    agreement_problems,
    grad_check_sparse_problems,
    loss_problems,
    numerical_gradient_problems,
    predict_problems,
    rel_error_problems,
    train_problems,
    tune_problems,
)

from linclass.assignments.linear_classifiers.misconceptions import CATALOG, LOSS_PARTS, REFERENCE, sample_args
from solutions.linear_classifiers.linear_classifier import LinearSVM, Softmax
from solutions.linear_classifiers.linear_svm import svm_loss_naive
from solutions.linear_classifiers.softmax import softmax_loss_naive

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


@pytest.mark.parametrize("misconception", LOSS_VARIANTS, ids=lambda m: m.id)
def test_agreement_check_rejects_the_buggy_variant(misconception):
    """The naive == vectorized check (1e-10) tells each variant from the reference, on the
    catalog's inputs of the kind that reveals it (large scores for the overflow bugs)."""
    part = misconception.parts[0]
    W, X, y, reg = sample_args(part, misconception.inputs)
    reference = svm_loss_naive if part.startswith("svm") else softmax_loss_naive
    with np.errstate(all="ignore"):
        assert agreement_problems(misconception.variant, reference, W, X, y, reg)


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


# ------------------------------------------------------------------- training and tuning
# The catalog's training/tuning misconceptions are behavioural (no variant): these are
# deliberately buggy copies of the reference, one option per bug, each tied to the catalog
# id it reproduces (or None for bugs the catalog does not list).
def buggy_train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False,
                seed=None, *, bug=""):
    rng = np.random.default_rng(None if bug == "unseeded" else seed)
    num_train, dim = X.shape
    if self.W is None or bug == "reinitializes":
        self.W = 0.001 * rng.standard_normal((dim, int(np.max(y)) + 1))
    history, batch = [], None
    for _ in range(num_iters):
        if bug == "first_rows":
            batch = np.arange(min(batch_size, num_train))
        elif bug == "one_minibatch":
            batch = rng.choice(num_train, size=batch_size) if batch is None else batch
        else:
            batch = rng.choice(num_train, size=batch_size, replace=bug != "without_replacement")
        loss, grad = self.loss(X[batch], y[batch], reg)
        history.append(float(loss))
        if bug == "ascent":
            self.W = self.W + learning_rate * grad
        elif bug == "in_place":
            self.W -= learning_rate * grad
        else:
            self.W = self.W - learning_rate * grad
    return None if bug == "no_history" else history


TRAIN_BUGS = {  # bug option -> (catalog id or None, the check of train_problems that must reject it)
    "ascent": ("sgd_ascent", "history"),
    "one_minibatch": ("sgd_reused_minibatch", "minibatches"),
    "first_rows": ("sgd_first_rows_only", "minibatches"),
    "reinitializes": ("sgd_reinitializes_w", "keeps W"),
    "in_place": (None, "no mutation"),
    "unseeded": (None, "seed"),
    "without_replacement": (None, "with replacement"),
    "no_history": (None, "history"),
}


def _buggy_predict_wrong_axis(self, X):
    return np.argmax(X @ self.W, axis=0)


def _buggy_predict_floats(self, X):
    return np.argmax(X @ self.W, axis=1).astype(np.float64)


PREDICT_BUGS = {"predict_wrong_axis": _buggy_predict_wrong_axis, "predict_float_labels": _buggy_predict_floats}


def _buggy_tune(model_cls, X_train, y_train, X_val, y_val, learning_rates, regularization_strengths,
                num_iters=1500, batch_size=200, seed=0, *, bug=""):
    results, best, best_key, model = {}, None, -1.0, None
    for lr in learning_rates:
        for reg in regularization_strengths:
            model = model if bug == "one_model" and model is not None else model_cls()
            kwargs = {} if bug == "ignores_pair" else {"learning_rate": lr, "reg": reg}
            model.train(X_train, y_train, num_iters=num_iters, batch_size=batch_size, seed=seed, **kwargs)
            train_acc = float(np.mean(model.predict(X_train) == y_train))
            val_acc = float(np.mean(model.predict(X_val) == y_val))
            results[(lr, reg)] = (train_acc, val_acc)
            key = train_acc if bug == "by_training" else val_acc
            if key > best_key:
                best, best_key = model, key
    return best, float(np.mean(best.predict(X_val) == y_val)), results


TUNE_BUGS = {
    "by_training": ("tune_selects_by_train", "selects by validation"),
    "one_model": ("tune_reuses_model", "fresh model"),
    "ignores_pair": ("tune_ignores_hyperparameters", "passes hyperparameters"),
}


def test_buggy_copies_name_real_catalog_entries():
    ids = {m.id for m in CATALOG}
    named = [c for c, _ in (*TRAIN_BUGS.values(), *TUNE_BUGS.values()) if c] + list(PREDICT_BUGS)
    assert set(named) <= ids


def test_unbugged_copies_pass():
    """Control: the copies with no bug pass every check (so the bug is what is caught)."""
    Clean = type("Clean", (LinearSVM,), {"train": partialmethod(buggy_train, bug="")})
    assert not any(train_problems(Clean).values())
    assert not any(tune_problems(partial(_buggy_tune, bug="")).values())


@pytest.mark.parametrize("cls", [LinearSVM, Softmax])
@pytest.mark.parametrize("bug", sorted(TRAIN_BUGS))
def test_train_checks_reject_the_buggy_copy(cls, bug):
    Buggy = type(f"Buggy{cls.__name__}", (cls,), {"train": partialmethod(buggy_train, bug=bug)})
    check = TRAIN_BUGS[bug][1]
    assert train_problems(Buggy)[check], f"the {check!r} check accepts the {bug!r} bug"


@pytest.mark.parametrize("bug", sorted(PREDICT_BUGS))
def test_predict_checks_reject_the_buggy_copy(bug):
    assert predict_problems(type("Buggy", (LinearSVM,), {"predict": PREDICT_BUGS[bug]}))


@pytest.mark.parametrize("bug", sorted(TUNE_BUGS))
def test_tune_checks_reject_the_buggy_copy(bug):
    check = TUNE_BUGS[bug][1]
    assert tune_problems(partial(_buggy_tune, bug=bug))[check], f"the {check!r} check accepts the {bug!r} bug"
