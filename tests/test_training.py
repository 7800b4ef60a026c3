"""LinearClassifier.train / predict and tune_hyperparameters (the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from reference_checks import predict_problems, train_problems, tune_problems

from linclass.data import TUNING_GRIDS
from solutions.linear_classifier import LinearClassifier, LinearSVM, Softmax
from solutions.tuning import tune_hyperparameters

MODELS = [LinearSVM, Softmax]


def blobs(rng: np.random.Generator, N: int = 60, D: int = 4, C: int = 3):
    """Well-separated Gaussian blobs with a bias column: easy for a linear classifier."""
    y = rng.integers(0, C, N)
    centres = 4 * rng.standard_normal((C, D - 1))
    X = centres[y] + rng.standard_normal((N, D - 1))
    return np.hstack([X, np.ones((N, 1))]), y


@pytest.mark.parametrize("cls", MODELS)
def test_train_checks(cls):
    """All of ``reference_checks.train_problems``: W initialized only when None, the caller's
    W untouched, a decreasing history of num_iters floats, seedable, sampling with
    replacement, fresh random minibatches.  (The tests below spell some of them out.)"""
    found = train_problems(cls)
    assert not any(found.values()), found


@pytest.mark.parametrize("cls", MODELS)
def test_predict_checks(cls):
    """Int labels of shape (N,), the argmax of each row of scores."""
    assert predict_problems(cls) == []


@pytest.mark.parametrize("cls", MODELS)
def test_train_initializes_w_when_none(cls, rng):
    X, y = blobs(rng)
    model = cls()
    assert model.W is None
    model.train(X, y, learning_rate=0.0, num_iters=1, seed=0)
    assert model.W.shape == (X.shape[1], 3)
    assert 0 < np.std(model.W) < 0.01  # 0.001 * randn


@pytest.mark.parametrize("cls", MODELS)
def test_train_keeps_existing_w_and_does_not_modify_callers_array(cls, rng):
    """W is initialized only when None; the caller's W array is never written to."""
    X, y = blobs(rng)
    W0 = rng.standard_normal((X.shape[1], 3))
    before = W0.copy()
    model = cls()
    model.W = W0
    model.train(X, y, learning_rate=0.0, num_iters=3, seed=0)
    np.testing.assert_array_equal(model.W, before)  # lr = 0: unchanged, so not re-initialized
    model.train(X, y, learning_rate=1e-2, num_iters=3, seed=0)
    assert not np.array_equal(model.W, before)
    np.testing.assert_array_equal(W0, before)


@pytest.mark.parametrize("cls", MODELS)
def test_train_returns_one_float_per_iteration_and_loss_decreases(cls, rng):
    X, y = blobs(rng)
    history = cls().train(X, y, learning_rate=1e-2, reg=1e-3, num_iters=200, batch_size=20, seed=0)
    assert isinstance(history, list) and len(history) == 200
    assert all(type(v) is float and np.isfinite(v) for v in history)
    assert np.mean(history[-20:]) < 0.5 * np.mean(history[:20])


@pytest.mark.parametrize("cls", MODELS)
def test_train_is_seedable(cls, rng):
    X, y = blobs(rng)
    runs = []
    for seed in (5, 5, 6):
        model = cls()
        model.train(X, y, learning_rate=1e-2, num_iters=20, batch_size=10, seed=seed)
        runs.append(model.W)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


@pytest.mark.parametrize("cls", MODELS)
def test_train_samples_with_replacement(cls, rng):
    """batch_size > N only works when the minibatch is sampled with replacement."""
    X, y = blobs(rng, N=5)
    y[:3] = [0, 1, 2]
    history = cls().train(X, y, learning_rate=1e-2, num_iters=5, batch_size=50, seed=0)
    assert len(history) == 5


@pytest.mark.parametrize("cls", MODELS)
def test_predict_returns_int_labels_of_shape_n(cls, rng):
    X, y = blobs(rng)
    model = cls()
    model.train(X, y, learning_rate=1e-2, num_iters=100, batch_size=20, seed=0)
    pred = model.predict(X)
    assert pred.shape == (len(X),) and np.issubdtype(pred.dtype, np.integer)
    assert np.mean(pred == y) > 0.9


def test_predict_is_the_argmax_of_the_scores(rng):
    model = LinearClassifier()
    model.W = rng.standard_normal((4, 5))
    X = rng.standard_normal((7, 4))
    np.testing.assert_array_equal(model.predict(X), np.argmax(X @ model.W, axis=1))


def test_base_class_loss_is_abstract(rng):
    with pytest.raises(NotImplementedError):
        LinearClassifier().train(*blobs(rng), num_iters=1)


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
