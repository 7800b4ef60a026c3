"""The accuracy thresholds in the assignment's grading.toml are derived from the reference.

The grader's end-to-end checks run the student's code with the harness's own loss (the
least-squares probe loss) and model (closed-form ridge), so these tests run the reference's
SGD loop and tuning with the very same pieces and settings, and check that each threshold
sits a stated margin below what the reference reaches.
"""

from __future__ import annotations

import numpy as np
import pytest
from kit import ASSIGNMENT

from autograder.config import load_config
from linclass.assignments.linear_classifiers.harness_ops import RidgeModel, lsq_loss
from linclass.assignments.linear_classifiers.inputs import DIGITS_TRAIN_KWARGS, DIGITS_TUNE_GRID
from linclass.assignments.linear_classifiers.shipped.data import get_data
from solutions.linear_classifiers.linear_classifier import LinearClassifier
from solutions.linear_classifiers.tuning import tune_hyperparameters


class LeastSquares(LinearClassifier):
    def loss(self, X_batch, y_batch, reg):
        return lsq_loss(self.W, X_batch, y_batch, reg)


@pytest.fixture(scope="module")
def data():
    return get_data("digits")


def test_training_threshold_margin(data):
    accuracies = []
    for seed in range(5):
        model = LeastSquares()
        model.train(data.X_train, data.y_train, seed=seed, **DIGITS_TRAIN_KWARGS)
        accuracies.append(np.mean(model.predict(data.X_val) == data.y_val))
    reference = min(accuracies)
    required = load_config(ASSIGNMENT).thresholds["train_val_accuracy"]
    assert reference >= 0.92
    assert reference - 0.10 <= required <= reference - 0.05, (reference, required)


def test_tuning_threshold_margin(data):
    lrs, regs = DIGITS_TUNE_GRID
    _, best_val, _ = tune_hyperparameters(RidgeModel, data.X_train, data.y_train, data.X_val, data.y_val,
                                          lrs, regs)
    required = load_config(ASSIGNMENT).thresholds["tune_val_accuracy"]
    assert best_val >= 0.93
    assert best_val - 0.10 <= required <= best_val - 0.03, (best_val, required)
