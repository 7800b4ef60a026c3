"""tune_hyperparameters: selection by validation accuracy, the results table, a fresh model
per pair, and a real search on the digits.

The selection checks run the student's function with a probe model whose accuracies are
designed by the grader: the pair with the best *training* accuracy is never the pair with
the best *validation* accuracy, so selecting by the wrong one shows.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.inputs import DIGITS_TUNE_GRID, digits
from autograder.reference import entries
from autograder.verdicts import CheckFailed, as_array, describe_value, require_ok

PART = "tune_hyperparameters"


#: What the probe passes on to train, checked at every train call.
TRAIN_SETTINGS = {"num_iters": 7, "batch_size": 3, "seed": 11}


def designed_grid(rng: np.random.Generator) -> dict:
    """A 3 x 2 grid of distinct designed accuracies.

    The best-train and best-val pairs differ, and the best-val pair is neither the first nor
    the last pair trained, whether the grid is walked by learning rate or by reg first: a
    search that returns the first or the last model it trained shows.
    """
    lrs, regs = [1e-3, 1e-2, 1e-1], [0.01, 1.0]
    pairs = [(lr, reg) for lr in lrs for reg in regs]
    val = rng.permutation(len(pairs)) / 10 + 0.2  # 0.2 ... 0.7, all distinct
    ends = [pairs.index((lrs[0], regs[0])), pairs.index((lrs[-1], regs[-1]))]
    best = int(np.argmax(val))
    if best in ends:  # move the best into the middle of the walk
        middle = [i for i in range(len(pairs)) if i not in ends]
        swap = middle[int(rng.integers(len(middle)))]
        val[best], val[swap] = val[swap], val[best]
    order = np.argsort(val)
    train = np.empty_like(val)
    train[order] = np.roll(val[order], 1) + 0.25  # the worst validation pair gets the best training accuracy
    return {"learning_rates": lrs, "regularization_strengths": regs,
            "acc_train": {p: float(a) for p, a in zip(pairs, train)},
            "acc_val": {p: float(a) for p, a in zip(pairs, val)}, **TRAIN_SETTINGS}


def run_probe(grading, rng):
    spec = designed_grid(rng)
    grading.require(PART)
    value = require_ok(grading.student.probe_tune(spec), PART)
    if not isinstance(value, dict):
        raise CheckFailed(f"{PART} could not be observed (got {describe_value(value)}).")
    return spec, value


@pytest.mark.parametrize("part", (PART,))
def test_selects_by_validation(grading, rng, part):
    """The returned model and accuracy are the best on the validation set."""
    spec, value = run_probe(grading, rng)
    best_val_pair = max(spec["acc_val"], key=spec["acc_val"].get)
    best_train_pair = max(spec["acc_train"], key=spec["acc_train"].get)
    chosen = tuple(value["best"]) if value.get("best") is not None else None
    if chosen == best_train_pair:
        raise CheckFailed("The returned model is the one with the best TRAINING accuracy. Choose by validation "
                          "accuracy: it estimates how the model does on data it has not seen.",
                          entries("tune_selects_by_train"))
    trained = value.get("trained") or []
    last = tuple(trained[-1][1:3]) if trained and isinstance(trained[-1], (tuple, list)) else None
    if chosen != best_val_pair and chosen == last:
        raise CheckFailed(f"The returned model is the last one trained, (lr, reg) = {chosen}; the best validation "
                          f"accuracy belongs to {best_val_pair}.", entries("tune_returns_last_model"))
    if chosen != best_val_pair:
        raise CheckFailed(f"The returned model was trained with (lr, reg) = {chosen}; the best validation accuracy "
                          f"belongs to {best_val_pair}.")
    if not isinstance(value.get("best_val"), float) or abs(value["best_val"] - spec["acc_val"][best_val_pair]) > 1e-9:
        raise CheckFailed(f"The returned best validation accuracy is {describe_value(value.get('best_val'))}; "
                          f"expected {spec['acc_val'][best_val_pair]:.3f}, the validation accuracy of that model.")


@pytest.mark.parametrize("part", (PART,))
def test_results_table(grading, rng, part):
    """results[(lr, reg)] = (train accuracy, validation accuracy) for every pair of the grid."""
    spec, value = run_probe(grading, rng)
    results = value.get("results")
    if not isinstance(results, dict):
        raise CheckFailed(f"results should be a dict keyed by (lr, reg); it is {describe_value(results)}.")
    missing = [p for p in spec["acc_val"] if p not in results]
    if missing:
        raise CheckFailed(f"results lacks {len(missing)} of the {len(spec['acc_val'])} (lr, reg) pairs, e.g. "
                          f"{missing[0]}.")
    for pair, entry in results.items():
        if pair not in spec["acc_val"]:
            raise CheckFailed(f"results has a key {pair!r} that is not an (lr, reg) pair of the grid.")
        expected = (spec["acc_train"][pair], spec["acc_val"][pair])
        if isinstance(entry, (tuple, list)) and len(entry) == 2 and np.allclose(entry, expected[::-1]):
            raise CheckFailed(f"results[{pair}] is {describe_value(entry)} = (validation, training accuracy); "
                              "expected (train accuracy, validation accuracy).", entries("tune_results_swapped"))
        if not isinstance(entry, (tuple, list)) or len(entry) != 2 or not np.allclose(entry, expected):
            raise CheckFailed(f"results[{pair}] is {describe_value(entry)}; expected (train accuracy, validation "
                              f"accuracy) = {expected}.")


@pytest.mark.parametrize("part", (PART,))
def test_fresh_model_per_pair(grading, rng, part):
    """Every pair trains its own new model, with that pair's learning rate and reg and the search's
    num_iters and batch_size."""
    spec, value = run_probe(grading, rng)
    trained = value.get("trained", [])
    instances = {record[0] for record in trained}
    if len(instances) < len(spec["acc_val"]):
        raise CheckFailed(f"{len(spec['acc_val'])} pairs were tried with only {len(instances)} model object(s): "
                          "create a new model for each pair, or each result also carries the training of the "
                          "pairs before it.", entries("tune_reuses_model"))
    passed = {(record[1], record[2]) for record in trained}
    if passed != set(spec["acc_val"]):
        raise CheckFailed("The models were not trained with the grid's (learning_rate, reg) pairs: pass each pair "
                          "to train.", entries("tune_ignores_hyperparameters"))
    # (The seed may reach train as an argument, or through numpy's global generator for a train
    # without a seed parameter: both are reproducible, so it is not checked here.)
    wanted = (TRAIN_SETTINGS["num_iters"], TRAIN_SETTINGS["batch_size"])
    got = {tuple(record[3:5]) for record in trained}
    if got != {wanted}:
        raise CheckFailed(f"tune_hyperparameters was called with (num_iters, batch_size) = {wanted}, but train "
                          f"received {sorted(got, key=str)[0]}: pass them on to train.",
                          entries("tune_ignores_num_iters"))


@pytest.mark.parametrize("part", (PART,))
def test_reaches_threshold(grading, part):
    """A real search on the digits (closed-form ridge models) reaches the accuracy threshold."""
    data = digits()
    required = grading.config.thresholds["tune_val_accuracy"]
    grading.require(PART)
    lrs, regs = DIGITS_TUNE_GRID
    value = require_ok(grading.student.tune("ridge", data.X_train, data.y_train, data.X_val, data.y_val,
                                            list(lrs), list(regs)), f"{PART} on the digits")
    W = as_array(value.get("best_W") if isinstance(value, dict) else None, "the best model's W",
                 (data.X_train.shape[1], data.num_classes))
    accuracy = float(np.mean(np.argmax(data.X_val @ W, axis=1) == data.y_val))
    if accuracy < required:
        raise CheckFailed(f"The selected model reaches {accuracy:.3f} validation accuracy; at least {required} "
                          "expected.")
