"""The catalog of known student bugs: buggy variants for diagnosis, titles and teaching hints.

When a part fails, the trusted grader calls :func:`diagnose` with the inputs it used and the
student's (already decoded) reply.  Every catalog variant of that part is evaluated on the same
inputs, on the trusted side and with numpy only, and the variants whose output matches the
reply are returned.  The feedback then names the likely mistake (``title``) and the line of
thinking that fixes it (``hint``), never the fixed code.

Design
------
The buggy variants are not copies of the reference.  Each family has one parametrized
implementation (vectorized for the losses) whose default options ARE the reference (a test
checks this against ``solutions/``), and a misconception is that implementation with one
option changed:

- losses: :func:`_svm_scores` / :func:`_softmax_scores` turn the (N, C) scores into
  per-example losses and score gradients; :func:`_finish` averages, adds the regularizer and
  shapes dW.  A :class:`LossVariant` chains them: ``scores = X @ W`` -> core -> finish.
- gradient checks: :func:`_numerical_gradient`, :func:`_grad_check_sparse`, :func:`_rel_error`
  wrapped by :class:`Variant`.

The same functions generate the one-bug mutant submissions (``mutants.py`` copies
their source), so the catalog is the single source of truth for the kit's buggy copies.

Behavioural misconceptions (``variant=None``, ``affects="behaviour"``) cannot be recognized
from one return value: the grading suite detects them with probes (recorded minibatches,
weights before and after ``train``, designed accuracies in ``tune_hyperparameters``...) and
refers to them by id.  Two entries have a variant but are behavioural anyway
(``numgrad_x_not_restored``, ``gradcheck_ignores_seed``): their return value can equal the
reference's; the suite sees them through ``inputs_after`` or by repeating a seeded call.

Which inputs reveal a misconception is stated by ``Misconception.inputs``:
``"standard"`` (random inputs, reg > 0), ``"large_scores"`` (|scores| ~ 1e3 with a small
spread inside each row), ``"row_offsets"`` (rows offset from each other by more than 745,
the underflow limit of exp),
``"zero_pairs"`` (both arrays 0 at some entry) or ``"probe"`` (behavioural).
:func:`sample_args` builds small inputs of each kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from .functions import Elementwise

LOSS_PARTS = ("svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized")
SVM_PARTS = ("svm_loss_naive", "svm_loss_vectorized")
SOFTMAX_PARTS = ("softmax_loss_naive", "softmax_loss_vectorized")
AFFECTS = ("loss", "grad", "both", "value", "behaviour")
INPUT_KINDS = ("standard", "large_scores", "row_offsets", "zero_pairs", "probe")


# --------------------------------------------------------------------------------------------
# Parametrized implementations.  Their defaults are the reference; mutants.py copies their
# source into generated submissions, so each must stay self-contained (numpy as np only).
# --------------------------------------------------------------------------------------------


def _svm_scores(scores, y, *, delta=1.0, include_correct=False, squared=False, class_mean=False):
    """Per-example hinge losses (N,) and the gradient of each with respect to its scores (N, C)."""
    rows = np.arange(scores.shape[0])
    margins = np.maximum(0, scores - scores[rows, y][:, np.newaxis] + delta)
    if not include_correct:
        margins[rows, y] = 0
    row_losses = (margins**2 if squared else margins).sum(axis=1)
    slopes = 2 * margins if squared else (margins > 0).astype(np.float64)
    dscores = slopes.copy()
    dscores[rows, y] -= slopes.sum(axis=1)  # every active margin pulls the correct class down
    if class_mean:
        row_losses = row_losses / scores.shape[1]
        dscores = dscores / scores.shape[1]
    return row_losses, dscores


def _softmax_scores(scores, y, *, log10=False, shift="max", axis=1, minus_one=True):
    """Per-example cross-entropies (N,) and the gradient of each with respect to its scores (N, C)."""
    rows = np.arange(scores.shape[0])
    if shift == "max":
        shifted = scores - scores.max(axis=axis, keepdims=True)
    elif shift == "global":
        shifted = scores - scores.max()
    else:
        shifted = scores
    with np.errstate(all="ignore"):
        exp = np.exp(shifted)
        sums = exp.sum(axis=axis, keepdims=True)
        probs = exp / sums
        log_probs = shifted - np.log(sums)
        row_losses = -log_probs[rows, y] / (np.log(10.0) if log10 else 1.0)
    dscores = probs.copy()
    if minus_one:
        dscores[rows, y] -= 1
    return row_losses, dscores


def _finish(W, row_losses, dW_data, reg, *, loss_div=True, grad_div=True, loss_reg=1.0, grad_reg=2.0,
            data_grad_sign=1.0, grad_transposed=False):
    """Average the data terms over the N examples, add the L2 penalty and its gradient."""
    num_train = row_losses.shape[0]
    with np.errstate(all="ignore"):
        loss = row_losses.sum() / (num_train if loss_div else 1) + loss_reg * reg * np.sum(W * W)
        dW = data_grad_sign * dW_data / (num_train if grad_div else 1) + grad_reg * reg * W
    return float(loss), (dW.T if grad_transposed else dW)


def _numerical_gradient(f, x, h=1e-5, *, forward=False, divisor=2.0, restore=True, fixed_h=None):
    """Finite-difference gradient of ``f`` at ``x``, one entry at a time (x perturbed in place)."""
    if fixed_h is not None:
        h = fixed_h
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        original = x[ix]
        try:
            x[ix] = original + h
            f_plus = f(x)
            x[ix] = original if forward else original - h
            f_minus = f(x)
        finally:
            if restore:
                x[ix] = original
        grad[ix] = (f_plus - f_minus) / (h if forward else divisor * h)
    return grad


def _grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None, *, divisor=2.0, use_seed=True,
                       resample=True, restore=True):
    """Relative errors between ``analytic_grad`` and centered differences at random entries."""
    rng = np.random.default_rng(seed if use_seed else None)
    errors = np.empty(num_checks, dtype=np.float64)
    ix = tuple(int(rng.integers(n)) for n in x.shape)
    for k in range(num_checks):
        if resample and k:
            ix = tuple(int(rng.integers(n)) for n in x.shape)
        original = x[ix]
        try:
            x[ix] = original + h
            f_plus = f(x)
            x[ix] = original - h
            f_minus = f(x)
        finally:
            if restore:
                x[ix] = original
        numeric = (f_plus - f_minus) / (divisor * h)
        analytic = analytic_grad[ix]
        errors[k] = abs(numeric - analytic) / max(1e-8, abs(numeric) + abs(analytic))
    return errors


def _rel_error(x, y, *, absolute=True, floor=1e-8, scale="entrywise", reduce="max"):
    """Largest (or mean) relative error between two arrays."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    diff = np.abs(x - y) if absolute else x - y
    if scale == "entrywise":
        denominator = np.abs(x) + np.abs(y)
    else:
        denominator = np.max(np.abs(x)) + np.max(np.abs(y))
    if floor is not None:
        denominator = np.maximum(floor, denominator)
    with np.errstate(all="ignore"):
        ratios = diff / denominator
    return float(np.max(ratios) if reduce == "max" else np.mean(ratios))


# --------------------------------------------------------------------------------------------
# Variants: a parametrized implementation plus the options that select one bug.
# --------------------------------------------------------------------------------------------


def _items(options: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(options.items()))


@dataclass(frozen=True)
class LossVariant:
    """A loss function ``(W, X, y, reg) -> (loss, dW)``: scores, a core, then :func:`_finish`.

    Attributes
    ----------
    core : callable
        :func:`_svm_scores` or :func:`_softmax_scores`.
    core_options, finish_options : tuple of (name, value)
        Keyword options passed to the core and to :func:`_finish` (empty = reference).
    """

    core: Callable
    core_options: tuple[tuple[str, Any], ...] = ()
    finish_options: tuple[tuple[str, Any], ...] = ()

    def __call__(self, W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
        row_losses, dscores = self.core(X @ W, y, **dict(self.core_options))
        return _finish(W, row_losses, X.T @ dscores, reg, **dict(self.finish_options))


@dataclass(frozen=True)
class Variant:
    """A parametrized implementation ``func`` called with fixed keyword ``options``."""

    func: Callable
    options: tuple[tuple[str, Any], ...] = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs, **dict(self.options))


@dataclass(frozen=True)
class Misconception:
    """One known student bug.

    Attributes
    ----------
    id : str
        Stable slug, referenced by the grading suite and the mutant generator.
    parts : tuple of str
        ``linclass.assignment`` part names it can explain.
    affects : str
        ``"loss"``, ``"grad"``, ``"both"`` (loss functions), ``"value"`` (one-value
        functions) or ``"behaviour"`` (seen only by probes, not in one return value).
    title : str
        The mistake in plain words.
    hint : str
        The line of thinking that fixes it, without the fixed code.
    variant : callable or None
        Buggy implementation with the part's signature; None for behavioural entries.
    inputs : str
        Which kind of input reveals it (see :data:`INPUT_KINDS`).
    """

    id: str
    parts: tuple[str, ...]
    affects: str
    title: str
    hint: str
    variant: Callable | None
    inputs: str = "standard"


# --------------------------------------------------------------------------------------------
# The catalog.
# --------------------------------------------------------------------------------------------


def _loss_entry(family: str, slug: str, affects: str, title: str, hint: str, *, inputs: str = "standard",
                core: Mapping[str, Any] | None = None, **finish: Any) -> Misconception:
    core_fn, parts = (_svm_scores, SVM_PARTS) if family == "svm" else (_softmax_scores, SOFTMAX_PARTS)
    if inputs != "standard":
        # Numerical stability is required of the vectorized loss only (DESIGN section 2: "vectorized
        # code subtracts the per-row max"); the naive loop is graded on ordinary inputs.
        parts = tuple(p for p in parts if p.endswith("_vectorized"))
    variant = LossVariant(core_fn, _items(core or {}), _items(finish))
    return Misconception(f"{family}_{slug}", parts, affects, title, hint, variant, inputs)


def _shared_loss_entries(family: str) -> list[Misconception]:
    """Bugs of the averaging and the regularizer, which both losses can have."""
    name = "hinge" if family == "svm" else "cross-entropy"
    return [
        _loss_entry(
            family, "grad_not_divided_by_n", "grad",
            "the gradient of the data loss is not divided by N",
            "Whatever you do to the loss, do to its gradient: the loss averages over the N examples, so "
            "each example's contribution to dW is scaled by the same 1/N. A numeric gradient check that is "
            "off by a factor equal to the batch size points here.",
            grad_div=False),
        _loss_entry(
            family, "half_reg_convention", "both",
            "the regularizer follows the old 0.5 * reg convention (half the penalty, half its gradient)",
            "This assignment defines the penalty as reg times the sum of the squared weights, without the "
            "factor 1/2 of some older notes. Evaluate your loss on the same W with reg = 0 and reg = 1: the "
            "two should differ by exactly the sum of the squared weights.",
            loss_reg=0.5, grad_reg=1.0),
        _loss_entry(
            family, "reg_grad_missing_factor_2", "grad",
            "the regularizer's gradient is missing its factor 2",
            "Differentiate reg * sum(W**2) entry by entry: what is d/dw of w**2? Run the gradient check "
            "with a large reg (e.g. 1e2) so the regularizer dominates; a mismatch that grows with reg "
            "points at the regularizer's gradient.",
            grad_reg=1.0),
        _loss_entry(
            family, "no_reg_in_grad", "grad",
            "the regularizer is missing from the gradient",
            "Every term of the loss contributes to the gradient, the penalty too. Run the gradient check "
            f"once with reg = 0 and once with a large reg: if only the second fails, the {name} part is "
            "fine and the penalty's gradient is missing.",
            grad_reg=0.0),
    ]


_SVM_ENTRIES = [
    _loss_entry(
        "svm", "correct_class_in_sum", "loss",
        "the correct class is included in the hinge sum",
        "The hinge sum runs over the wrong classes only. Work out the term for j = y_i: its margin is "
        "s_y - s_y + delta = delta, so including it adds exactly delta to every example's loss. Sanity "
        "check: with W = 0 the loss should be C - 1, not C.",
        core={"include_correct": True}),
    _loss_entry(
        "svm", "loss_not_divided_by_n", "loss",
        "the data loss is summed over the examples instead of averaged",
        "The loss is the mean over the N examples. Evaluate your loss on a batch and on the same batch "
        "stacked twice: a mean does not change, a sum doubles. Average the data loss before adding the "
        "regularizer.",
        loss_div=False),
    *_shared_loss_entries("svm"),
    _loss_entry(
        "svm", "no_reg_in_loss", "loss",
        "the regularization penalty is missing from the loss",
        "The full loss is the data loss plus the penalty. Evaluate your loss on the same W with reg = 0 "
        "and reg = 1: the two values should differ by the sum of the squared weights.",
        loss_reg=0.0),
    _loss_entry(
        "svm", "delta_zero", "both",
        "the hinge margin delta is 0 instead of 1 (a perceptron-style margin)",
        "The SVM wants the correct score to beat every other score by a margin of delta = 1, not merely "
        "to beat it. With W = 0 all scores tie: every wrong class then violates the margin by exactly 1, "
        "so the loss is C - 1. If you get 0 there, look at your margin.",
        core={"delta": 0.0}),
    _loss_entry(
        "svm", "squared_hinge", "both",
        "the hinge terms are squared",
        "The multiclass SVM adds max(0, margin) itself; its square is a different loss (the L2-SVM). "
        "Check the slide example by hand: the cat image's margins are 2.9 and 0, so its loss is 2.9.",
        core={"squared": True}),
    _loss_entry(
        "svm", "mean_over_classes", "both",
        "the hinge terms are averaged over the classes instead of summed",
        "Per example the loss is the sum of the margins of all wrong classes; only the examples are "
        "averaged. With W = 0 the loss should be C - 1; a value near 1 or below means the classes were "
        "averaged too.",
        core={"class_mean": True}),
    _loss_entry(
        "svm", "grad_sign_flipped", "grad",
        "the data gradient has the wrong sign",
        "Think about directions: raising the score of a wrong class with a positive margin raises the "
        "loss, so its gradient is positive; raising the correct class's score lowers every margin, so its "
        "gradient is negative. Compare the sign of a few entries with a numeric gradient.",
        data_grad_sign=-1.0),
    _loss_entry(
        "svm", "grad_transposed", "grad",
        "dW is transposed: shape (C, D) instead of the shape of W, (D, C)",
        "A gradient has the shape of the parameter it differentiates, and W is (D, C). Combine X, which "
        "is (N, D), with the score gradients, (N, C), so that the shapes work out to (D, C) directly.",
        grad_transposed=True),
]

_SOFTMAX_ENTRIES = [
    _loss_entry(
        "softmax", "log10", "loss",
        "the cross-entropy uses log base 10 instead of the natural log",
        "Cross-entropy uses the natural logarithm. (The slides print their worked losses in log10: the "
        "cat image's 0.89 is 2.04 nats.) Sanity check: with W close to 0 the loss should be close to "
        "ln(C), about 2.303 for 10 classes.",
        core={"log10": True}),
    _loss_entry(
        "softmax", "no_max_shift", "both",
        "the scores are exponentiated without subtracting each row's maximum (overflow)",
        "exp of a number above about 709 overflows to inf, and inf / inf is nan. Softmax probabilities "
        "do not change when the same constant is added to every score of a row; pick the constant that "
        "makes the largest exponent 0. Try your function on scores around 1000.",
        inputs="large_scores", core={"shift": "none"}),
    _loss_entry(
        "softmax", "global_max_shift", "both",
        "the maximum subtracted before exp is taken over the whole batch, not per example",
        "The shift must be constant within one example's row, and each row needs its own: a row whose "
        "scores sit about 1000 below the batch's maximum underflows to exp(...) = 0 and then log(0). "
        "Test a batch whose rows are offset from each other by 1000.",
        inputs="row_offsets", core={"shift": "global"}),
    _loss_entry(
        "softmax", "grad_missing_minus_one", "grad",
        "the gradient misses the -1 at the correct class",
        "Differentiate -log p_y with respect to each score s_j: you get p_j, minus 1 when j is the "
        "correct class. Sanity check: each row of the gradient with respect to the scores sums to 0.",
        core={"minus_one": False}),
    _loss_entry(
        "softmax", "wrong_axis", "both",
        "the probabilities are normalized over the batch instead of over the classes",
        "Each example has its own distribution over the C classes, so the max and the sum run along the "
        "class axis of the (N, C) scores. Check: each row of your probabilities should sum to 1.",
        core={"axis": 0}),
    _loss_entry(
        "softmax", "sum_instead_of_mean", "both",
        "the loss and its gradient are summed over the examples instead of averaged",
        "The loss is the average cross-entropy over the N examples. Sanity check: with W close to 0 the "
        "loss is about ln(C) whatever the batch size; if yours grows with N, look at the averaging, in "
        "the loss and in the gradient.",
        loss_div=False, grad_div=False),
    *_shared_loss_entries("softmax"),
]


def _value_entry(id: str, part: str, affects: str, title: str, hint: str, func: Callable, *,
                 inputs: str = "standard", **options: Any) -> Misconception:
    return Misconception(id, (part,), affects, title, hint, Variant(func, _items(options)), inputs)


_GRADIENT_CHECK_ENTRIES = [
    _value_entry(
        "numgrad_forward_difference", "eval_numerical_gradient", "value",
        "forward differences instead of centered differences",
        "A one-sided difference has an error that shrinks like h; evaluating on both sides of x and "
        "taking the slope between them makes it shrink like h**2. Compare both on f(x) = x**3 at x = 1 "
        "with h = 1e-3 against the exact 3.",
        _numerical_gradient, forward=True),
    _value_entry(
        "numgrad_divides_by_h", "eval_numerical_gradient", "value",
        "the centered difference is divided by h instead of 2h",
        "The two evaluation points x + h and x - h are 2h apart, and a slope is the rise over that "
        "distance. Test on f(x) = x**2 at x = 3: the answer is 6, and you would get 12.",
        _numerical_gradient, divisor=1.0),
    _value_entry(
        "numgrad_x_not_restored", "eval_numerical_gradient", "behaviour",
        "x is left perturbed after each entry (the input is modified)",
        "Undo every perturbation before moving to the next entry: otherwise later entries are evaluated "
        "at a shifted point and the caller's array comes back changed. Compare x with a copy made before "
        "the call.",
        _numerical_gradient, inputs="probe", restore=False),
    _value_entry(
        "gradcheck_divides_by_h", "grad_check_sparse", "value",
        "the centered difference is divided by h instead of 2h",
        "The two evaluation points x + h and x - h are 2h apart, and a slope is the rise over that "
        "distance. With a correct analytic gradient every relative error should be tiny; a constant 1/3 "
        "means the numeric slope is twice too large.",
        _grad_check_sparse, divisor=1.0),
    _value_entry(
        "numgrad_ignores_h", "eval_numerical_gradient", "behaviour",
        "the step h passed to the function is ignored (a fixed step is used instead)",
        "The caller chooses h: a test of the step size, or a study of round-off against truncation "
        "error, only works if your function evaluates f at x + h and x - h for the h it was given. "
        "Look for a hard-coded step.",
        _numerical_gradient, inputs="probe", fixed_h=1e-5),
    _value_entry(
        "gradcheck_same_entry", "grad_check_sparse", "behaviour",
        "one random entry is drawn once and checked num_checks times",
        "A sparse gradient check samples a new random entry for every check: num_checks draws, "
        "num_checks (usually) different entries. Where in your loop is the entry chosen?",
        _grad_check_sparse, inputs="probe", resample=False),
    _value_entry(
        "gradcheck_x_not_restored", "grad_check_sparse", "behaviour",
        "x is left perturbed after an entry is checked (the input is modified)",
        "Put every perturbed entry back to its original value before moving on, even when f raises: "
        "the caller's x (often the weights W) must come back unchanged.",
        _grad_check_sparse, inputs="probe", restore=False),
    _value_entry(
        "gradcheck_ignores_seed", "grad_check_sparse", "behaviour",
        "the seed argument is ignored when choosing the entries to check",
        "A check must be reproducible: draw the random entries from a generator created from the seed "
        "argument, so that two calls with the same seed check the same entries.",
        _grad_check_sparse, inputs="probe", use_seed=False),
    _value_entry(
        "rel_error_no_abs", "rel_error", "value",
        "the difference is not taken in absolute value",
        "An error of -0.5 is as large as one of +0.5. The largest relative error must compare "
        "magnitudes; otherwise an analytic gradient that is too small everywhere reports a negative or "
        "tiny error.",
        _rel_error, absolute=False),
    _value_entry(
        "rel_error_no_floor", "rel_error", "value",
        "the denominator has no floor, so two zeros give 0/0 = nan",
        "When both values are exactly 0 (a common case for gradients) the sum of their magnitudes is 0. "
        "Guard the denominator with a small floor (the assignment uses 1e-8) so that two zeros count as "
        "agreeing.",
        _rel_error, inputs="zero_pairs", floor=None),
    _value_entry(
        "rel_error_global_denominator", "rel_error", "value",
        "the differences are scaled by the arrays' largest magnitudes instead of entry by entry",
        "Relative error is measured per entry: a small entry that is completely wrong must show up even "
        "when other entries are large. Scale each entry's difference by that entry's own magnitudes, "
        "then take the worst entry.",
        _rel_error, scale="global"),
    _value_entry(
        "rel_error_mean_not_max", "rel_error", "value",
        "the mean of the entrywise errors is returned instead of the maximum",
        "One wrong entry among thousands disappears in a mean. The check reports the worst entry.",
        _rel_error, reduce="mean"),
]

_TRAIN = ("LinearClassifier.train",)
_PREDICT = ("LinearClassifier.predict",)
_TUNE = ("tune_hyperparameters",)
_VECTORIZED = ("svm_loss_vectorized", "softmax_loss_vectorized")
_DELEGATES = ("LinearSVM.loss", "Softmax.loss")


def _behaviour(id: str, parts: tuple[str, ...], title: str, hint: str) -> Misconception:
    return Misconception(id, parts, "behaviour", title, hint, None, "probe")


_BEHAVIOURAL_ENTRIES = [
    _behaviour(
        "loss_modifies_w", _VECTORIZED,
        "the loss function changes its input W (dW = W names the same array, it does not copy it)",
        "Assignment in numpy does not copy: once dW and W name the same array, every in-place update "
        "of the gradient writes into the weights themselves, and the caller's W changes. Start the "
        "gradient from a new array of zeros shaped like W, or from a fresh expression."),
    _behaviour(
        "transposed_layout", LOSS_PARTS,
        "the code is written for the 2015 CS231n layout: W of shape (C, D), X of shape (D, N), scores W times X",
        "This assignment stores one example per row: X is (N, D), W is (D, C), and the scores of all "
        "examples are X times W, an (N, C) array. Your function works when it is given the transposed "
        "arrays; rewrite it for this layout, with a gradient shaped like this W."),
    _behaviour(
        "vectorized_with_loops", _VECTORIZED,
        "the vectorized version still loops over the examples or the classes",
        "Vectorized means the whole batch in a few array operations: the scores of all examples are one "
        "matrix product, the margins or probabilities one broadcast, and dW one more product with X. "
        "Look for a for loop and ask which array operation replaces it."),
    _behaviour(
        "sgd_ascent", _TRAIN,
        "the SGD step goes up the gradient (gradient ascent)",
        "The gradient points in the direction in which the loss increases fastest. Print the first few "
        "losses of the history: if they grow, check the direction of your update."),
    _behaviour(
        "sgd_reused_minibatch", _TRAIN,
        "one minibatch is sampled once and reused at every step",
        "Stochastic gradient descent draws a fresh random minibatch at every iteration; with a single "
        "batch the model only fits those examples. Where in your loop does the sampling happen?"),
    _behaviour(
        "sgd_first_rows_only", _TRAIN,
        "the minibatch is always the first batch_size rows of X",
        "A minibatch is a random sample of the whole training set (sampling with replacement is fine). "
        "Always taking the leading rows ignores the rest of the data and inherits any ordering in it."),
    _behaviour(
        "sgd_reinitializes_w", _TRAIN,
        "W is re-initialized on every call to train",
        "Initialize W only when the model has no weights yet. Then calling train again continues from "
        "where it stopped, and weights set by the caller are used."),
    _behaviour(
        "sgd_ignores_reg", _TRAIN,
        "train does not pass its reg argument on to self.loss",
        "The regularization strength the caller chooses must reach the loss at every step, or tuning reg "
        "changes nothing. Check the arguments of your self.loss(...) call."),
    _behaviour(
        "sgd_classes_from_unique", _TRAIN,
        "the number of classes is the number of distinct labels in y instead of max(y) + 1",
        "Labels are class indices, so a label c needs a column c of W: C = max(y) + 1. Counting the "
        "distinct labels gives too few columns whenever a class is missing from y, and the largest "
        "label then has no column."),
    _behaviour(
        "sgd_init_unscaled", _TRAIN,
        "W starts as randn(D, C), without the factor 0.001",
        "The initial weights should be small random numbers, 0.001 * randn(D, C): large initial "
        "scores put the hinge and the softmax far from their useful region at the first step."),
    _behaviour(
        "sgd_ignores_seed", _TRAIN,
        "the seed argument of train is not used",
        "Given a seed, training must be reproducible: create one random generator from the seed and "
        "draw both the initial weights and every minibatch from it."),
    _behaviour(
        "sgd_history_missing", _TRAIN,
        "train does not return the list of losses",
        "The caller plots the loss history to see whether training works: collect each step's loss in "
        "a list, one entry per iteration, and hand that list back to the caller."),
    _behaviour(
        "sgd_one_step_short", _TRAIN,
        "train runs one step fewer than num_iters",
        "range(num_iters) already runs num_iters times; count the calls of self.loss for a small "
        "num_iters, say 3."),
    _behaviour(
        "classifier_wrong_loss", _DELEGATES,
        "the classifier's loss calls the other loss function",
        "LinearSVM trains with the SVM loss and Softmax with the softmax loss: each subclass's loss method "
        "returns its own loss function applied to self.W, X_batch, y_batch and reg."),
    _behaviour(
        "predict_wrong_axis", _PREDICT,
        "predict takes the argmax over the examples instead of over the classes",
        "The scores are (N, C), one row per example. An example's label is the class with the highest "
        "score in its row, so the result has one entry per example, shape (N,)."),
    _behaviour(
        "predict_float_labels", _PREDICT,
        "predict returns floating-point labels",
        "Labels are class indices. If you fill a preallocated array, check its dtype: the default of a "
        "zeros array is float. Compare your output's dtype with y's."),
    _behaviour(
        "tune_selects_by_train", _TUNE,
        "the best model is selected by training accuracy",
        "Hyper-parameters are chosen on data the model was not trained on: training accuracy rewards "
        "memorizing and says nothing about unseen data. Keep the model with the best validation "
        "accuracy."),
    _behaviour(
        "tune_reuses_model", _TUNE,
        "one model object is reused, and keeps training, across the hyper-parameter pairs",
        "Each (learning rate, reg) pair needs a freshly created model. Otherwise every run starts from "
        "the previous run's weights, the comparison is unfair, and the 'best' model keeps changing after "
        "it was selected."),
    _behaviour(
        "tune_returns_last_model", _TUNE,
        "the returned model is the last one trained, not the one with the best validation accuracy",
        "Remember the model together with its accuracy when it becomes the best so far; the loop "
        "variable at the end of the search is simply the last pair of the grid."),
    _behaviour(
        "tune_results_swapped", _TUNE,
        "results holds (validation accuracy, training accuracy): the pair is swapped",
        "Each entry of results is (train_accuracy, val_accuracy), in that order: the notebook's plots and "
        "the grader read it that way."),
    _behaviour(
        "tune_ignores_num_iters", _TUNE,
        "num_iters and batch_size are not passed on to train",
        "The search trains every model with the num_iters and batch_size it was given; without them each "
        "model trains with train's defaults and the search does not run as the caller asked."),
    _behaviour(
        "tune_ignores_hyperparameters", _TUNE,
        "the grid's learning rate and regularization are not passed to train",
        "Every pair of the grid must train with that pair's values. If all your results look alike, "
        "check what train actually receives."),
]

CATALOG: tuple[Misconception, ...] = (
    *_SVM_ENTRIES, *_SOFTMAX_ENTRIES, *_GRADIENT_CHECK_ENTRIES, *_BEHAVIOURAL_ENTRIES)

_BY_ID = {m.id: m for m in CATALOG}

#: The reference behaviour of every part that has value variants (the parametrized
#: implementations with their default options; equal to ``solutions/``, which a test checks).
REFERENCE: dict[str, Callable] = {
    **{p: LossVariant(_svm_scores) for p in SVM_PARTS},
    **{p: LossVariant(_softmax_scores) for p in SOFTMAX_PARTS},
    "eval_numerical_gradient": Variant(_numerical_gradient),
    "grad_check_sparse": Variant(_grad_check_sparse),
    "rel_error": Variant(_rel_error),
}


def for_part(part: str) -> tuple[Misconception, ...]:
    """The misconceptions that can explain a failure of ``part``, in catalog order."""
    return tuple(m for m in CATALOG if part in m.parts)


def by_id(id: str) -> Misconception:
    """The misconception with this id (KeyError with the known ids if there is none)."""
    try:
        return _BY_ID[id]
    except KeyError:
        raise KeyError(f"unknown misconception {id!r}; known: {', '.join(_BY_ID)}") from None


# --------------------------------------------------------------------------------------------
# Diagnosis.
# --------------------------------------------------------------------------------------------


def _prepare(arg: Any) -> Any:
    """A fresh copy of an argument: arrays copied, ``elementwise`` specs turned into callables."""
    if isinstance(arg, np.ndarray):
        return arg.copy()
    if isinstance(arg, dict) and arg.get("__callable__") == "elementwise":
        return Elementwise(arg["a"], arg["b"])
    if isinstance(arg, dict) and "__callable__" in arg:
        raise ValueError(f"cannot evaluate callable spec {arg['__callable__']!r} on the trusted side")
    return arg


def _run(func: Callable, args: tuple) -> Any:
    """``func(*args)`` on fresh copies of the arguments; None if it raises."""
    try:
        with np.errstate(all="ignore"):
            return func(*(_prepare(a) for a in args))
    except Exception:  # a variant may legitimately fail on odd inputs (e.g. a wrong shape)
        return None


def _as_array(value: Any) -> np.ndarray | None:
    """A float64 array of ``value``, or None if it is not numeric."""
    if value is None or isinstance(value, (str, bytes, dict)):
        return None
    try:
        array = np.asarray(value)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            return None
        return array.astype(np.float64)
    except (TypeError, ValueError):
        return None


def _components(part: str, value: Any) -> dict[str, np.ndarray | None]:
    """Split a reply into comparable components: loss and grad, or one value."""
    if part in LOSS_PARTS:
        if isinstance(value, (tuple, list)) and len(value) == 2:
            loss = _as_array(value[0])
            return {"loss": loss if loss is not None and loss.size == 1 else None, "grad": _as_array(value[1])}
        return {"loss": None, "grad": None}
    return {"value": _as_array(value)}


def _close(a: np.ndarray | None, b: np.ndarray | None, rtol: float, atol: float, *, unordered: bool = False) -> bool:
    """Same shape, non-finite at the same entries (inf and nan alike), finite entries allclose."""
    if a is None or b is None or a.shape != b.shape:
        return False
    if unordered:
        a, b = np.sort(a, axis=None), np.sort(b, axis=None)
    bad_a, bad_b = ~np.isfinite(a), ~np.isfinite(b)
    if not np.array_equal(bad_a, bad_b):
        return False
    return bool(np.allclose(a[~bad_a], b[~bad_b], rtol=rtol, atol=atol))


def diagnose(part: str, args: tuple, reply: object, *, rtol: float = 1e-6, atol: float = 1e-9) -> list[Misconception]:
    """The catalog misconceptions of ``part`` whose output matches the student's reply.

    Each variant is evaluated on fresh copies of ``args``.  A component of its output (the
    loss, the gradient, or the single value) counts as evidence only when it differs from the
    reference's on these inputs and matches the reply.  A variant matches when it explains the
    components it ``affects`` ("both": every component in which it differs from the reference).
    Loss and gradient are matched separately, so a loss bug and a different gradient bug are
    both found.  A match whose explained components are a strict subset of another match's is
    dropped (the 0.5 * reg convention explains the loss and the gradient; the missing factor 2,
    which has the same gradient, is then not reported as well).

    Parameters
    ----------
    part : str
        A part name, e.g. ``"svm_loss_vectorized"`` or ``"rel_error"``.  For ``LinearSVM.loss``
        and ``Softmax.loss`` call it with the loss function's part and ``(W, X, y, reg)``.
    args : tuple
        The positional arguments the student's function received, as plain trusted data.
        Functions to differentiate are callables or ``{"__callable__": "elementwise", ...}``
        specs; other specs cannot be evaluated here and give no diagnosis.
    reply : object
        The decoded reply: ``(loss, dW)`` for losses, an ndarray for the gradient checks, a
        float for ``rel_error``.  Malformed replies (wrong shape, NaN, wrong type) are fine.
    rtol, atol : float
        Tolerances of the comparisons (``np.allclose`` semantics).  The defaults separate every
        catalog variant from the reference on float64 inputs, including forward differences
        (a relative change of about 1e-5).  With float32 array arguments they are loosened to at
        least rtol = 1e-4, atol = 1e-6.

    Returns
    -------
    list of Misconception
        In catalog order; empty when nothing matches (or on any unusable input).
    """
    candidates = [m for m in for_part(part) if m.variant is not None and m.affects != "behaviour"]
    if not candidates or part not in REFERENCE:
        return []
    if any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in args):
        rtol, atol = max(rtol, 1e-4), max(atol, 1e-6)  # float32 arithmetic differs in the 7th digit
    try:
        reference = _components(part, _run(REFERENCE[part], args))
        student = _components(part, reply)
    except Exception:
        return []
    unordered = part == "grad_check_sparse"  # another sampler may check the same errors in another order
    explained: list[tuple[Misconception, frozenset[str]]] = []
    for m in candidates:
        out = _run(m.variant, args)
        if out is None:
            continue
        variant = _components(part, out)
        informative = {c for c, v in variant.items()
                       if v is not None and not _close(v, reference[c], rtol, atol)}

        def matches(c: str, variant: dict = variant) -> bool:
            return _close(student[c], variant[c], rtol, atol) or (
                unordered and _close(student[c], variant[c], rtol, atol, unordered=True))

        wanted = informative if m.affects in ("both", "value") else informative & {m.affects}
        if wanted and all(matches(c) for c in wanted):
            explained.append((m, frozenset(wanted)))
    return [m for m, comps in explained if not any(comps < other for _, other in explained)]


# --------------------------------------------------------------------------------------------
# Inputs that reveal each kind of misconception (used by the kit's tests; the grader builds its
# own per-student inputs, which must include the same kinds).
# --------------------------------------------------------------------------------------------


def sample_args(part: str, kind: str = "standard", seed: int = 0) -> tuple:
    """Small float64 inputs of one kind for a part that has value variants.

    Parameters
    ----------
    part : str
        A loss part, ``"eval_numerical_gradient"``, ``"grad_check_sparse"`` or ``"rel_error"``.
    kind : str
        ``"standard"``; for losses also ``"large_scores"`` and ``"row_offsets"``; for
        ``rel_error`` also ``"zero_pairs"``.
    seed : int
        Seed of the generator.

    Returns
    -------
    tuple
        Positional arguments for the part: ``(W, X, y, reg)``, ``(f, x, h)``,
        ``(f, x, analytic_grad, num_checks, h, seed)`` or ``(x, y)``.
    """
    rng = np.random.default_rng(seed)
    if part in LOSS_PARTS:
        N, D, C = 7, 5, 4
        X = rng.normal(size=(N, D))
        W = 0.5 * rng.normal(size=(D, C))
        y = rng.integers(C, size=N)
        y[:C] = np.arange(C)  # every class appears
        if kind in ("large_scores", "row_offsets"):
            # One feature carries a per-row offset, weighted 1 in every class: scores ~ offset + O(1).
            # large_scores: every row near 1000 (exp overflows without a shift, not with a global
            # one); row_offsets: rows alternate between 690 and -110, 800 apart (a global shift
            # underflows the low rows; no shift at all stays finite, just).
            offsets = (rng.uniform(1000, 1100, size=N) if kind == "large_scores"
                       else np.where(np.arange(N) % 2 == 0, 690.0, -110.0))
            X[:, -1] = offsets
            W[-1, :] = 1.0
        elif kind != "standard":
            raise ValueError(f"no {kind!r} inputs for {part}")
        return W, X, y, 0.3
    if part in ("eval_numerical_gradient", "grad_check_sparse"):
        x = rng.normal(size=(3, 4))
        f = Elementwise(rng.uniform(0.5, 2.0, size=x.shape), rng.uniform(-1.0, 1.0, size=x.shape))
        if part == "eval_numerical_gradient":
            return f, x, 1e-5
        return f, x, f.gradient(x), 8, 1e-5, seed
    if part == "rel_error":
        x = rng.normal(size=(4, 5))
        y = x + 1e-4 * rng.normal(size=x.shape)
        y[0, 0] = x[0, 0] + 0.5 * abs(x[0, 0]) + 0.1  # the worst entry has x < y
        if kind == "zero_pairs":
            x[1, 1] = y[1, 1] = 0.0
        elif kind != "standard":
            raise ValueError(f"no {kind!r} inputs for {part}")
        return x, y
    raise ValueError(f"no sample inputs for part {part!r}")


def _check_catalog() -> None:
    ids = [m.id for m in CATALOG]
    assert len(ids) == len(set(ids)), "duplicate misconception ids"
    for m in CATALOG:
        assert m.affects in AFFECTS and m.inputs in INPUT_KINDS, m.id
        assert (m.variant is None) <= (m.affects == "behaviour"), m.id


_check_catalog()
