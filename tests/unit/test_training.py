"""LinearClassifier.train / predict and tune_hyperparameters (the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from reference_checks import blobs, predict_problems, train_problems, tune_problems

from linclass.assignments.linear_classifiers.shipped.data import TUNING_GRIDS
from solutions.linear_classifiers.linear_classifier import LinearClassifier, LinearSVM, Softmax
from solutions.linear_classifiers.tuning import tune_hyperparameters

MODELS = [LinearSVM, Softmax]


@pytest.mark.parametrize("cls", MODELS)
def test_train_checks(cls):
    """All of ``reference_checks.train_problems``: W initialized only when None, the caller's
    W untouched, a decreasing history of num_iters floats, seedable, sampling with
    replacement, fresh random minibatches.  The result names the failing check."""
    found = train_problems(cls)
    assert not any(found.values()), found


@pytest.mark.parametrize("cls", [LinearClassifier, *MODELS])
def test_predict_checks(cls):
    """Int labels of shape (N,), the argmax of each row of scores."""
    assert predict_problems(cls) == []


@pytest.mark.parametrize("cls", MODELS)
def test_train_then_predict_learns_separable_blobs(cls):
    X, y = blobs(seed=3)
    model = cls()
    model.train(X, y, learning_rate=1e-2, num_iters=100, batch_size=20, seed=0)
    assert np.mean(model.predict(X) == y) > 0.9


def test_base_class_loss_is_abstract():
    with pytest.raises(NotImplementedError):
        LinearClassifier().train(*blobs(), num_iters=1)


@pytest.mark.parametrize("cls", MODELS)
def test_digits_default_grid_reaches_90_percent_validation(cls, digits):
    """Both models, tuned with TUNING_GRIDS["digits"] (400 iterations per pair, ~1 s per grid),
    reach at least 0.90 validation accuracy on the embedded digits."""
    grid = TUNING_GRIDS["digits"]
    best, best_val, results = tune_hyperparameters(cls, digits.X_train, digits.y_train, digits.X_val, digits.y_val,
                                                   num_iters=400, **grid)
    assert best_val >= 0.90
    assert isinstance(best, cls)
    assert set(results) == {(lr, reg) for lr in grid["learning_rates"] for reg in grid["regularization_strengths"]}
    assert best_val == max(v for _, v in results.values())
    assert np.mean(best.predict(digits.X_val) == digits.y_val) == pytest.approx(best_val)


def test_tune_selects_by_validation_gives_fresh_models_and_passes_the_pair():
    """With a stand-in model whose training and validation accuracies disagree (see
    ``reference_checks.LookupModel``), the reference keeps the best *validation* model,
    trains one fresh model per pair, and passes each pair to train."""
    assert not any(tune_problems(tune_hyperparameters).values())


def test_tune_trains_a_fresh_model_per_pair(digits):
    models = []

    class Recording(Softmax):
        def __init__(self):
            super().__init__()
            models.append(self)

    tune_hyperparameters(Recording, digits.X_dev, digits.y_dev, digits.X_val, digits.y_val,
                         learning_rates=[1e-3, 1e-2], regularization_strengths=[1e-3, 1e-1], num_iters=2)
    assert len(models) == 4 and len({id(m) for m in models}) == 4
