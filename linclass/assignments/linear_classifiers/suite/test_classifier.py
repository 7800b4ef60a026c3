"""LinearClassifier.train / predict and the LinearSVM / Softmax losses.

``train`` is observed through a probe: the student's own ``train`` runs on a subclass
whose ``loss`` is the harness's least-squares loss and records every minibatch and every
W it sees.  That checks the SGD loop itself (the step, the sampling, the initialization),
independently of the student's SVM and softmax code, so a bug in one part costs points in
that part only.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.verdicts import (
    CheckFailed,
    as_array,
    as_loss_and_grad,
    as_scalar,
    close,
    describe_value,
    require_ok,
    same_array,
)
from linclass.assignments.linear_classifiers.harness_ops import delegation_reply, lsq_gradient, lsq_loss, one_hot
from linclass.assignments.linear_classifiers.inputs import DIGITS_TRAIN_KWARGS, digits
from linclass.assignments.linear_classifiers.reference import entries, graded_loss

TRAIN = "LinearClassifier.train"


def small_problem(rng: np.random.Generator, N: int = 30, D: int = 5, C: int = 4, labels: tuple[int, ...] | None = None):
    X = rng.standard_normal((N, D))
    labels = tuple(range(C)) if labels is None else labels
    y = np.asarray(labels)[rng.integers(0, len(labels), N)]
    y[: len(labels)] = labels  # every given label present: C = max(y) + 1
    return X, y


def train_trace(grading, X, y, W0=None, record: bool = True, what: str = "LinearClassifier.train",
                **train_kwargs) -> dict:
    """The student's train observed through the recording probe loss (see ``harness_ops.py``)."""
    fields = {"X": X, "y": y, "W0": W0, "record": record, "kwargs": train_kwargs}
    trace = require_ok(grading.request(TRAIN, "probe_train", fields, args=[X, y]), what)
    if not isinstance(trace, dict):
        raise CheckFailed(f"LinearClassifier.train could not be observed (got {describe_value(trace)}).")
    # The probe always records lists; anything else was put there from inside the student process.
    for key in ("regs", *(("W_seen", "batches") if record else ())):
        if type(trace.get(key)) is not list:
            raise CheckFailed(f"LinearClassifier.train could not be observed: the probe's record of its loss() calls "
                              f"was replaced ({key} is {describe_value(trace.get(key))}).")
    trace["_batch_size"] = int(train_kwargs.get("batch_size", 200))  # (what the rows recorded are checked against)
    return trace


def probe(grading, rng, N: int = 30, labels: tuple[int, ...] | None = None, **kwargs):
    X, y = small_problem(rng, N=N, labels=labels)
    return X, y, train_trace(grading, X, y, **kwargs)


def consistent(trace: dict, X: np.ndarray, y: np.ndarray) -> dict:
    """``trace`` once every step is shown to be real: W moved along the gradient of the very
    minibatch the step reports (recomputed here with the harness's loss).

    The student process records the minibatches, so a forged record would otherwise be
    believed: a train that always takes the first rows could rewrite the record.  A record
    that passes must come from updates along its own minibatches' gradients, which is what
    honest sampling does (the step size and sign are the sgd-steps check's business).

    A loss() call repeated on the same W with the same rows (a copy-pasted line) is one call
    here: the sgd-steps check charges it, and the checks that use this trace are about other
    things (initialization, sampling).  Only exact repeats merge, so no record escapes the
    step check.  Returns the trace with them merged.
    """
    trace = _merge_repeated_calls(trace)
    seen = trace.get("W_seen") or []
    after_all = [*seen[1:], trace.get("W_final")]
    regs = trace.get("regs") or []
    for t in range(len(seen)):
        before, after = seen[t], after_all[t]
        if not (_numbers(before) and _numbers(after) and before.shape == after.shape):
            raise CheckFailed(f"train's W at step {t + 1} could not be followed (it changed shape or type).")
        rows = batch_rows(trace, t, X)
        reg = float(regs[t]) if t < len(regs) and isinstance(regs[t], (int, float)) else 0.0
        grad = lsq_loss(before, X[rows], y[rows], reg)[1]
        step = np.asarray(after, dtype=np.float64) - before
        scale = float(np.linalg.norm(step) * np.linalg.norm(grad))
        if scale == 0.0 or abs(float(np.sum(step * grad))) < (1 - 1e-6) * scale:
            raise CheckFailed(f"Step {t + 1} of train did not move W along the gradient of its minibatch loss, so "
                              "its minibatches cannot be checked (see the sgd steps check).")
    return trace


def _merge_repeated_calls(trace: dict) -> dict:
    """``trace`` without the loss() records that repeat the one before them exactly (the same W
    and rows, plain arrays, and the same plain reg): a copy whose W_seen, batches and regs stay
    aligned.  Anything else in a record (a list, a dict: the student process reports these
    records) is never merged, and is left to the step check to refuse."""
    seen, batches, regs = (list(trace.get(key) or []) for key in ("W_seen", "batches", "regs"))
    if not (len(seen) == len(batches) and len(regs) in (0, len(seen))):
        return trace  # (misaligned records: the step check reports them as they are)
    keep = [t for t in range(len(seen)) if t == 0 or not (
        _same_array(seen[t], seen[t - 1]) and _same_array(batches[t], batches[t - 1])
        and (not regs or _same_number(regs[t], regs[t - 1])))]
    if len(keep) == len(seen):
        return trace
    merged = dict(trace, W_seen=[seen[t] for t in keep], batches=[batches[t] for t in keep])
    if regs:
        merged["regs"] = [regs[t] for t in keep]
    return merged


def _numbers(a: object) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind in "fiu"


def _same_array(a: object, b: object) -> bool:
    return (type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape
            and bool(np.array_equal(a, b)))


def _same_number(a: object, b: object) -> bool:
    return type(a) in (int, float) and type(a) is type(b) and a == b


def batch_rows(trace: dict, t: int, X: np.ndarray) -> np.ndarray:
    """The rows of X used at step t (validated: integers, all rows of X with their labels, and
    no more of them than the batch size train was given, before anything is computed with them)."""
    rows = as_array(trace["batches"][t] if t < len(trace["batches"]) else None, f"the rows of minibatch {t + 1}",
                    kinds="iu")
    size = trace.get("_batch_size", len(X))
    if rows.ndim == 1 and len(rows) > size:
        raise CheckFailed(f"Minibatch {t + 1} has {len(rows)} rows; train was given batch_size = {size}.")
    if rows.ndim != 1 or np.any(rows < 0) or np.any(rows >= len(X)):
        raise CheckFailed("Some minibatch rows are not rows of X, or their labels do not match y: take X and y "
                          "with the same indices.")
    return rows


@pytest.mark.parametrize("part", (TRAIN,))
def test_sgd_steps(grading, rng, part):
    """num_iters steps W <- W - learning_rate * dW of loss(X_batch, y_batch, reg), with train's own reg;
    train returns the losses."""
    W0 = 0.01 * rng.standard_normal((5, 4))
    lr, reg, steps = 0.05, 0.1, 6
    X, y, trace = probe(grading, rng, W0=W0, learning_rate=lr, reg=reg, num_iters=steps, batch_size=8, seed=3)
    seen = trace["W_seen"]
    if len(seen) != steps:
        extra = entries("sgd_one_step_short") if len(seen) == steps - 1 else []
        raise CheckFailed(f"train called loss() {len(seen)} times for num_iters={steps}; expected once per "
                          "iteration.", extra)
    regs = trace["regs"]
    if any(not isinstance(r, (int, float)) or not close(r, reg) for r in regs):
        raise CheckFailed(f"train was given reg = {reg} but called self.loss with reg = {describe_value(regs[0])}: "
                          "pass train's reg on to the loss.", entries("sgd_ignores_reg"))
    # Each step is recomputed here, from the rows the step used and the reg train was given: what the
    # student process reports about its loss calls is checked, not believed.
    history = trace["history"]
    if not isinstance(history, list) or len(history) != steps:
        raise CheckFailed(f"train should return the list of the {steps} losses; it returned "
                          f"{describe_value(history)}.", entries("sgd_history_missing"))
    after_all = [*seen[1:], trace["W_final"]]
    for t in range(steps):
        before = as_array(seen[t], f"self.W at step {t + 1}", W0.shape)
        after = as_array(after_all[t], "self.W after a step", W0.shape)
        rows = batch_rows(trace, t, X)
        loss, grad = lsq_loss(before, X[rows], y[rows], reg)
        if np.allclose(after, before + lr * grad, rtol=1e-9, atol=1e-12):
            raise CheckFailed(f"Step {t + 1} moved W up the gradient (W + learning_rate * dW): that increases "
                              "the loss.", entries("sgd_ascent"))
        if not np.allclose(after, before - lr * grad, rtol=1e-9, atol=1e-12):
            if np.allclose(after, before):
                raise CheckFailed(f"Step {t + 1} did not change W: update self.W with the gradient.")
            raise CheckFailed(f"Step {t + 1}: W changed, but not by -learning_rate * dW of this step's minibatch "
                              f"loss (learning_rate = {lr}, reg = {reg}).")
        if not isinstance(history[t], (int, float)) or not close(history[t], loss, rtol=1e-9):
            raise CheckFailed("The returned loss history is not the sequence of losses computed at each step.")


@pytest.mark.parametrize("part", (TRAIN,))
def test_minibatch_sampling(grading, rng, part):
    """Each step uses a fresh random minibatch of batch_size examples from all N (with or without
    replacement), drawn reproducibly from the seed."""
    X, y, trace = probe(grading, rng, N=120, learning_rate=1e-3, reg=0.0, num_iters=8, batch_size=10, seed=5)
    trace = consistent(trace, X, y)
    if all(np.array_equal(b, np.arange(10)) for b in trace["batches"]):
        raise CheckFailed(f"With N = {len(X)} and batch_size = 10, every minibatch was the first 10 rows of X: "
                          "sample indices from all N examples.", entries("sgd_first_rows_only"))
    # N >= batch_size: sampling with and without replacement are both correct SGD, and both work.
    X, y = small_problem(rng, N=80)
    settings = dict(learning_rate=1e-3, reg=0.0, num_iters=8, batch_size=50)
    trace = consistent(train_trace(grading, X, y, seed=5, **settings), X, y)
    batches = [batch_rows(trace, t, X) for t in range(len(trace["batches"]))]
    if any(len(b) != 50 for b in batches):
        raise CheckFailed(f"Minibatches have sizes {[len(b) for b in batches]}; expected batch_size = 50 each.")
    if all(np.array_equal(batches[0], b) for b in batches[1:]):
        raise CheckFailed("Every step used the same minibatch: draw new indices at every iteration.",
                          entries("sgd_reused_minibatch"))
    again = consistent(train_trace(grading, X, y, seed=5, **settings), X, y)
    other = consistent(train_trace(grading, X, y, seed=6, **settings), X, y)
    if not all(np.array_equal(a, b) for a, b in zip(trace["batches"], again["batches"])):
        raise CheckFailed("Two runs of train with seed=5 drew different minibatches: draw the initialization and "
                          "the minibatches from a generator created from seed.", entries("sgd_ignores_seed"))
    if all(np.array_equal(a, b) for a, b in zip(trace["batches"], other["batches"])):
        raise CheckFailed("train drew the same minibatches with seed=5 and seed=6: the seed is not used.",
                          entries("sgd_ignores_seed"))


@pytest.mark.parametrize("part", (TRAIN,))
def test_initialization(grading, rng, part):
    """W starts as 0.001 * randn(D, C), C = max(y) + 1, when it is None, and is kept when already set."""
    X, y, trace = probe(grading, rng, labels=(0, 2, 3), learning_rate=1e-3, reg=0.0, num_iters=2, batch_size=10,
                        seed=1)
    first = trace["W_seen"][0] if trace["W_seen"] else None
    if isinstance(first, np.ndarray) and first.shape == (X.shape[1], 3):
        raise CheckFailed("With labels 0, 2 and 3 (class 1 missing from y) W got 3 columns; labels are class "
                          "indices, so C = max(y) + 1 = 4.", entries("sgd_classes_from_unique"))
    W_init = as_array(first, "the initial W", (X.shape[1], 4))
    std = float(np.std(W_init))
    if not 2e-4 < std < 5e-3 or np.allclose(W_init, 0):
        extra = entries("sgd_init_unscaled") if 0.3 < std < 3 else []
        raise CheckFailed(f"The initial W has standard deviation {std:.2g}; expected small random values "
                          "0.001 * randn(D, C) (std about 0.001).", extra)
    consistent(trace, X, y)
    W0 = rng.standard_normal((X.shape[1], 4))
    X, y, trace = probe(grading, rng, W0=W0, learning_rate=1e-3, reg=0.0, num_iters=2, batch_size=10, seed=1)
    if not trace["W_seen"] or not np.array_equal(consistent(trace, X, y)["W_seen"][0], W0):
        raise CheckFailed("train replaced a W that was already set: initialize W only when self.W is None, so "
                          "that calling train again continues training.", entries("sgd_reinitializes_w"))


@pytest.mark.parametrize("part", (TRAIN,))
def test_learns_digits(grading, part):
    """SGD on the digits lowers the loss and reaches the validation-accuracy threshold."""
    data = digits()
    required = grading.config.thresholds["train_val_accuracy"]
    steps = DIGITS_TRAIN_KWARGS["num_iters"]
    X, y = data.X_train, data.y_train
    trace = train_trace(grading, X, y, seed=0, what="LinearClassifier.train on the digits", **DIGITS_TRAIN_KWARGS)
    history = trace.get("history")
    if not isinstance(history, list) or len(history) != steps:
        raise CheckFailed(f"train should return {steps} losses; it returned {describe_value(history)}.")
    history = [as_scalar(loss, f"train's loss at step {t + 1}") for t, loss in enumerate(history)]
    # The trained W must be what the recorded steps give: every step is recomputed here.
    W = as_array(trace["W_seen"][0] if trace["W_seen"] else None, "the initial W", (X.shape[1], data.num_classes))
    Y = one_hot(y, len(X), data.num_classes)
    lr, reg = DIGITS_TRAIN_KWARGS["learning_rate"], DIGITS_TRAIN_KWARGS["reg"]
    for t in range(steps):
        rows = batch_rows(trace, t, X)
        W = W - lr * lsq_gradient(W, X[rows], Y[rows], reg)
        seen = trace["W_seen"][t + 1] if t + 1 < len(trace["W_seen"]) else trace["W_final"]
        if not same_array(seen, W, rtol=1e-8, atol=1e-10):
            raise CheckFailed(f"Step {t + 1} of training on the digits did not move W by -learning_rate * dW of its "
                              "minibatch loss.")
    if not np.mean(history[-30:]) < 0.8 * np.mean(history[:30]):
        raise CheckFailed(f"The training loss did not go down (first steps ~{np.mean(history[:30]):.3g}, "
                          f"last steps ~{np.mean(history[-30:]):.3g}).")
    accuracy = float(np.mean(np.argmax(data.X_val @ W, axis=1) == data.y_val))
    if accuracy < required:
        raise CheckFailed(f"After {steps} steps the validation accuracy is {accuracy:.3f}; at least {required} "
                          "expected.")


@pytest.mark.parametrize("part", ("LinearClassifier.predict",))
def test_argmax_labels(grading, rng, part):
    """predict returns the highest-scoring class of every row."""
    X, W = rng.standard_normal((25, 6)), rng.standard_normal((6, 5))
    value = require_ok(grading.method(part, "LinearSVM", "predict", X, set={"W": W}), "predict")
    labels = as_array(value["result"] if isinstance(value, dict) else value, "predict's result")
    expected = np.argmax(X @ W, axis=1)
    if labels.shape != expected.shape:
        extra = entries("predict_wrong_axis") if labels.shape == (W.shape[1],) else []
        raise CheckFailed(f"predict returned shape {labels.shape} for N = 25 examples; expected (25,): one label "
                          "per row of X (the argmax over classes, axis=1).", extra)
    wrong = int(np.sum(labels != expected))
    if wrong:
        raise CheckFailed(f"predict disagrees with the highest score on {wrong} of 25 examples.")


@pytest.mark.parametrize("part", ("LinearClassifier.predict",))
def test_integer_labels(grading, rng, part):
    """predict returns integer labels."""
    X, W = rng.standard_normal((5, 3)), rng.standard_normal((3, 4))
    value = require_ok(grading.method(part, "LinearSVM", "predict", X, set={"W": W}), "predict")
    labels = value["result"] if isinstance(value, dict) else value
    if not isinstance(labels, np.ndarray) or labels.dtype.kind not in "iu":
        raise CheckFailed(f"predict should return integer labels; it returned {describe_value(labels)}.",
                          entries("predict_float_labels"))


LOSS_FUNCTIONS = {"LinearSVM": ("svm_loss_vectorized", "svm_loss_naive"),
                  "Softmax": ("softmax_loss_vectorized", "softmax_loss_naive")}


@pytest.mark.parametrize("part", ("LinearSVM.loss", "Softmax.loss"))
def test_delegates(grading, rng, part):
    """The classifier's loss is its loss function applied to (self.W, X_batch, y_batch, reg).

    Observed with stand-ins for the loss functions, so it does not depend on whether the
    student's loss functions themselves are right (or load at all).
    """
    cls = part.split(".")[0]
    own = LOSS_FUNCTIONS[cls]
    other = next(names for name, names in LOSS_FUNCTIONS.items() if name != cls)
    X, y = small_problem(rng)
    W, reg = 0.1 * rng.standard_normal((X.shape[1], 4)), 0.3
    key = {"A": rng.standard_normal(W.shape), "r": float(rng.uniform(1, 2)), "s": float(rng.uniform(1, 2)),
           "t": float(rng.uniform(1, 2))}
    fields = {"cls": cls, "names": [*own, *other], "key": key, "W": W, "X": X, "y": y, "reg": reg}
    value = require_ok(grading.request(part, "probe_delegation", fields, args=[X, y, reg]), f"{cls}().loss")
    result = value.get("result") if isinstance(value, dict) else value
    called = value.get("called") if isinstance(value, dict) else None
    if isinstance(called, list) and called:
        if called[0] in other:
            raise CheckFailed(f"{cls}().loss called {called[0]}: a {cls} trains with its own loss, {own[0]}.",
                              entries("classifier_wrong_loss"))
        if not same_reply(result, delegation_reply(W, X, y, reg, key)):
            raise CheckFailed(f"{cls}().loss(X, y, reg) should return {own[0]}(self.W, X, y, reg) unchanged; it "
                              f"called {called[0]}, but with other arguments or changed its result.")
        return
    # The loss is computed in the method itself: it must equal the student's own function, or
    # the reference where that function fails.
    value = require_ok(grading.method(part, cls, "loss", X, y, reg, set={"W": W}), f"{cls}().loss")
    result = value["result"] if isinstance(value, dict) else value
    try:
        direct = grading.call(own[0], W, X, y, reg)
    except CheckFailed:  # that function is missing or did not load: the reference stands in for it
        direct = None
    if direct is not None and direct.ok:
        if not same_reply(result, direct.value):
            raise CheckFailed(f"{cls}().loss(X, y, reg) should return {own[0]}(self.W, X, y, reg); it returned "
                              f"{describe_value(result)} where {own[0]} returned {describe_value(direct.value)}.")
        return
    loss, dW = as_loss_and_grad(result, W.shape, f"{cls}.loss")
    expected = graded_loss(grading, own[0], W, X, y, reg)
    if not close(loss, expected[0]) or not np.allclose(dW, expected[1], rtol=1e-6, atol=1e-9):
        raise CheckFailed(f"{cls}().loss(X, y, reg) should return {own[0]}(self.W, X, y, reg); it returned "
                          f"a different loss ({loss:.6g} vs {expected[0]:.6g}).")


def same_reply(a, b) -> bool:
    """Two (loss, dW) replies are the same (whatever their shapes)."""
    if not (isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b) == 2):
        return False
    try:
        la, lb = np.asarray(a[0], dtype=float), np.asarray(b[0], dtype=float)
        ga, gb = np.asarray(a[1], dtype=float), np.asarray(b[1], dtype=float)
    except (TypeError, ValueError):
        return False
    return (la.shape == lb.shape and ga.shape == gb.shape and np.allclose(la, lb, equal_nan=True)
            and np.allclose(ga, gb, rtol=1e-9, atol=1e-12, equal_nan=True))
