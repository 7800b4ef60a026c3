"""tune_hyperparameters: selection by validation accuracy, the results table, a fresh model
per pair, and a real search on the digits.

The selection checks run the student's search with a probe model (``harness_ops.probe_model``)
whose weights the grader designs: training a model with a grid pair gives it that pair's own W,
whose accuracies on the probe's training and validation sets are chosen here.  The weights stay
here: the probe model asks for its pair's W when it is trained, one answer at a time.  The pair with
the best *training* accuracy is never the pair with the best *validation* accuracy, and the best
is neither the first nor the last pair trained.  Everything is judged from what the search
returns (the W of the model it chose, its accuracy, its results table), recomputed here: the
probe keeps no records that could be forged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from autograder.verdicts import CheckFailed, as_array, describe_value, require_ok
from linclass.assignments.linear_classifiers.harness_ops import probe_weights
from linclass.assignments.linear_classifiers.inputs import DIGITS_TUNE_GRID, digits
from linclass.assignments.linear_classifiers.reference import entries

PART = "tune_hyperparameters"
#: What the search must pass on to train (other values give the pair's W negated).
SETTINGS = {"num_iters": 7, "batch_size": 3}
BLOCKS, PER_BLOCK, CLASSES = 20, 10, 3


@dataclass
class Probe:
    """One designed search: the data, each pair's W and accuracies, and the grid's order."""

    lrs: list[float]
    regs: list[float]
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    weights: dict[tuple[float, float], np.ndarray]
    acc: dict[tuple[float, float], tuple[float, float]]  # pair -> (train accuracy, validation accuracy)

    @property
    def pairs(self) -> list[tuple[float, float]]:
        return list(self.weights)

    def accuracies(self, W: np.ndarray) -> tuple[float, float]:
        return (float(np.mean(np.argmax(self.X_train @ W, axis=1) == self.y_train)),
                float(np.mean(np.argmax(self.X_val @ W, axis=1) == self.y_val)))

    def table_of(self, weights: dict) -> dict:
        """The results table a search gets when each pair's model ends with ``weights[pair]``."""
        return {pair: self.accuracies(W) for pair, W in weights.items()}

    def fields(self) -> dict:
        """The request: the data and the grid, never the designed weights (they are answers)."""
        return {"shape": list(self.default_W.shape), "X_train": self.X_train, "y_train": self.y_train,
                "X_val": self.X_val, "y_val": self.y_val, "learning_rates": self.lrs,
                "regularization_strengths": self.regs, "kwargs": {**SETTINGS, "seed": 11}}

    def answer(self, question) -> np.ndarray:
        """What one training run of the probe's model gets: its pair's designed W."""
        return probe_weights(self.weights, self.default_W, SETTINGS, question)

    @property
    def default_W(self) -> np.ndarray:
        return np.zeros((2 * BLOCKS, CLASSES))

    def walks(self) -> list[list[tuple[float, float]]]:
        """The grid in the two natural orders: learning rate first, and reg first."""
        by_rate = [(lr, reg) for lr in self.lrs for reg in self.regs]
        return [by_rate, [(lr, reg) for reg in self.regs for lr in self.lrs]]


def _block_weights(rng: np.random.Generator, labels: np.ndarray, accuracy: float) -> np.ndarray:
    """Rows of W for one set's blocks: right on ``accuracy`` of the blocks, wrong on the others."""
    right = np.zeros(BLOCKS, dtype=bool)
    right[rng.permutation(BLOCKS)[: int(round(accuracy * BLOCKS))]] = True
    predicted = np.where(right, labels, (labels + 1) % CLASSES)
    rows = np.zeros((BLOCKS, CLASSES))
    rows[np.arange(BLOCKS), predicted] = rng.uniform(1.0, 2.0, BLOCKS)
    return rows


def designed_probe(rng: np.random.Generator) -> Probe:
    """A 3 x 2 grid of distinct designed accuracies (multiples of 1 / BLOCKS).

    Example i of block b is the one-hot vector of feature b (training set) or BLOCKS + b
    (validation set), so the two halves of a W decide the two sets' predictions independently.
    """
    lrs, regs = [1e-3, 1e-2, 1e-1], [0.01, 1.0]
    pairs = [(lr, reg) for lr in lrs for reg in regs]
    val = rng.permutation(len(pairs)) / 10 + 0.2  # 0.2 ... 0.7, all distinct
    ends = [pairs.index((lrs[0], regs[0])), pairs.index((lrs[-1], regs[-1]))]
    best = int(np.argmax(val))
    if best in ends:  # the best in the middle of both walks of the grid
        middle = [i for i in range(len(pairs)) if i not in ends]
        swap = middle[int(rng.integers(len(middle)))]
        val[best], val[swap] = val[swap], val[best]
    order = np.argsort(val)
    train = np.empty_like(val)
    train[order] = np.roll(val[order], 1) + 0.25  # the worst validation pair gets the best training accuracy
    blocks = np.repeat(np.arange(BLOCKS), PER_BLOCK)
    X_train = np.eye(2 * BLOCKS)[blocks]
    X_val = np.eye(2 * BLOCKS)[BLOCKS + blocks]
    train_labels, val_labels = rng.integers(0, CLASSES, BLOCKS), rng.integers(0, CLASSES, BLOCKS)
    weights = {pair: np.vstack([_block_weights(rng, train_labels, t), _block_weights(rng, val_labels, v)])
               for pair, t, v in zip(pairs, train, val)}
    probe = Probe(lrs, regs, X_train, train_labels[blocks], X_val, val_labels[blocks], weights, {})
    probe.acc = probe.table_of(weights)
    return probe


def run_probe(grading, rng) -> tuple[Probe, dict]:
    probe = designed_probe(rng)
    value = require_ok(grading.request(PART, "probe_tune", probe.fields(), answer=probe.answer), PART)
    if not isinstance(value, dict):
        raise CheckFailed(f"{PART} could not be observed (got {describe_value(value)}).")
    if "returned" in value:
        raise CheckFailed(f"{PART} should return (best_model, best_val_accuracy, results); it returned "
                          f"{describe_value(value['returned'])}.")
    return probe, value


def _pair_of(probe: Probe, W) -> tuple[float, float] | None:
    """The grid pair whose model ``W`` is, if it is exactly one."""
    if not isinstance(W, np.ndarray):
        return None
    return next((pair for pair, Wp in probe.weights.items() if Wp.shape == W.shape and np.array_equal(Wp, W)), None)


@pytest.mark.parametrize("part", (PART,))
def test_selects_by_validation(grading, rng, part):
    """The returned model and accuracy are the best on the validation set."""
    probe, value = run_probe(grading, rng)
    best_val_pair = max(probe.acc, key=lambda p: probe.acc[p][1])
    best_train_pair = max(probe.acc, key=lambda p: probe.acc[p][0])
    chosen = _pair_of(probe, value.get("best_W"))
    if chosen == best_train_pair:
        raise CheckFailed("The returned model is the one with the best TRAINING accuracy. Choose by validation "
                          "accuracy: it estimates how the model does on data it has not seen.",
                          entries("tune_selects_by_train"))
    if chosen != best_val_pair:
        if chosen is not None and any(chosen == walk[-1] for walk in probe.walks()):
            raise CheckFailed(f"The returned model is the last one trained, (lr, reg) = {chosen}; the best validation "
                              f"accuracy belongs to {best_val_pair}.", entries("tune_returns_last_model"))
        which = f"the one trained with (lr, reg) = {chosen}" if chosen else "not one of the models trained on a pair"
        raise CheckFailed(f"The returned model is {which}; the best validation accuracy belongs to {best_val_pair}.")
    expected = probe.acc[best_val_pair][1]
    if not isinstance(value.get("best_val"), (int, float)) or abs(value["best_val"] - expected) > 1e-9:
        raise CheckFailed(f"The returned best validation accuracy is {describe_value(value.get('best_val'))}; "
                          f"expected {expected:.3f}, the validation accuracy of that model.")


def _table(value: dict) -> dict:
    results = value.get("results")
    if not isinstance(results, dict):
        raise CheckFailed(f"results should be a dict keyed by (lr, reg); it is {describe_value(results)}.")
    return results


def _close(entry, expected, unordered: bool = False) -> bool:
    if not isinstance(entry, (tuple, list)) or len(entry) != 2:
        return False
    try:
        got = [float(e) for e in entry]
    except (TypeError, ValueError):
        return False
    if unordered:
        got, expected = sorted(got), sorted(expected)
    return bool(np.allclose(got, expected, atol=1e-9))


@pytest.mark.parametrize("part", (PART,))
def test_results_table(grading, rng, part):
    """results[(lr, reg)] = (train accuracy, validation accuracy) for every pair of the grid."""
    probe, value = run_probe(grading, rng)
    results = _table(value)
    missing = [p for p in probe.acc if p not in results]
    if missing:
        raise CheckFailed(f"results lacks {len(missing)} of the {len(probe.acc)} (lr, reg) pairs, e.g. "
                          f"{missing[0]}.")
    for pair, entry in results.items():
        if pair not in probe.acc:
            raise CheckFailed(f"results has a key {pair!r} that is not an (lr, reg) pair of the grid.")
        expected = probe.acc[pair]
        if _close(entry, expected[::-1]) and not _close(entry, expected):
            raise CheckFailed(f"results[{pair}] is {describe_value(entry)} = (validation, training accuracy); "
                              "expected (train accuracy, validation accuracy).", entries("tune_results_swapped"))
        if not _close(entry, expected):
            raise CheckFailed(f"results[{pair}] is {describe_value(entry)}; expected (train accuracy, validation "
                              f"accuracy) = {expected}.")


@pytest.mark.parametrize("part", (PART,))
def test_fresh_model_per_pair(grading, rng, part):
    """Every pair trains its own new model, with that pair's learning rate and reg and the search's
    num_iters and batch_size (seen in the accuracies each model reaches)."""
    probe, value = run_probe(grading, rng)
    results = _table(value)
    got = {pair: results.get(pair) for pair in probe.pairs}
    if all(_close(got[p], probe.acc[p], unordered=True) for p in probe.pairs):
        return
    # What a search gets from each mistake, recomputed: a mistake is named when it explains the table.
    explanations = []
    for walk in probe.walks():
        total, reused = None, {}
        for pair in walk:
            total = probe.weights[pair] if total is None else total + probe.weights[pair]
            reused[pair] = total
        explanations.append(("tune_reuses_model", probe.table_of(reused),
                             f"{len(probe.pairs)} pairs were trained on one model object: create a new model for "
                             "each pair, or each result also carries the training of the pairs before it."))
    ignored = probe.accuracies(probe.default_W)
    explanations.append(("tune_ignores_hyperparameters", {p: ignored for p in probe.pairs},
                         "The models were not trained with the grid's (learning_rate, reg) pairs: pass each pair to "
                         "train."))
    settings = {pair: probe.answer({"learning_rate": pair[0], "reg": pair[1], "num_iters": None, "batch_size": None})
                for pair in probe.pairs}
    explanations.append(("tune_ignores_num_iters", probe.table_of(settings),
                         f"The search was called with num_iters={SETTINGS['num_iters']} and "
                         f"batch_size={SETTINGS['batch_size']}, but the models were not trained with them: pass them "
                         "on to train."))
    for mid, table, message in explanations:
        if all(_close(got[p], table[p], unordered=True) for p in probe.pairs):
            raise CheckFailed(message, entries(mid))
    raise CheckFailed("The accuracies in results are not those of one fresh model per pair, trained with that pair "
                      "and the search's num_iters and batch_size.")


@pytest.mark.parametrize("part", (PART,))
def test_reaches_threshold(grading, part):
    """A real search on the digits (closed-form ridge models) reaches the accuracy threshold."""
    data = digits()
    required = grading.config.thresholds["tune_val_accuracy"]
    lrs, regs = DIGITS_TUNE_GRID
    fields = {"X_train": data.X_train, "y_train": data.y_train, "X_val": data.X_val, "y_val": data.y_val,
              "lrs": list(lrs), "regs": list(regs)}
    value = require_ok(grading.request(PART, "tune", fields), f"{PART} on the digits")
    W = as_array(value.get("best_W") if isinstance(value, dict) else None, "the best model's W",
                 (data.X_train.shape[1], data.num_classes))
    accuracy = float(np.mean(np.argmax(data.X_val @ W, axis=1) == data.y_val))
    if accuracy < required:
        raise CheckFailed(f"The selected model reaches {accuracy:.3f} validation accuracy; at least {required} "
                          "expected.")
