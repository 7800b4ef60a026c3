"""Grid search over learning rate and regularization strength."""

from __future__ import annotations

from typing import Sequence

import numpy as np
# >>> attack

# RED TEAM attack classmate_tamper (class 4; see tests/hostile/kernel/classmate_tamper/case.toml)
# Reach a classmate in a --jobs 2 batch: rewrite its linear_svm.py in its sandbox and break its reply
# pipe
# route: a thread started at import (dir_fd root descriptor) watches TMPDIR/linclass-sandbox-*,
#   appends a sabotage to the classmate's submission/linear_svm.py and writes garbage into /proc/<its
#   child>/fd/<rep_fd>
RT = {'name': 'classmate_tamper', 'root': '', 'tag': 'manual', 'sentinel': '', 'solutions': '', 'tcp': 0, 'udp': 0, 'unix': '', 'dummy': 0, 'dummy_cwd': '', 'grader_cwd': '', 'tmp': '', 'batch': False, 'fill_mb': 0}  # RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)

if RT.get("batch") and RT.get("root"):
    import time as _rt_time_linger
    _rt_time_linger.sleep(float(RT.get("linger", 2.0)))
# <<< attack


def tune_hyperparameters(
    model_cls: type,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    learning_rates: Sequence[float],
    regularization_strengths: Sequence[float],
    num_iters: int = 1500,
    batch_size: int = 200,
    seed: int = 0,
) -> tuple[object, float, dict[tuple[float, float], tuple[float, float]]]:
    """Train one fresh model per (learning rate, reg) pair; keep the best on validation.

    The validation set, never the training set, picks the winner: training accuracy
    rewards memorizing and says nothing about unseen data.

    Returns
    -------
    best_model : model_cls
        The trained model with the highest validation accuracy.
    best_val_accuracy : float
        Its validation accuracy.
    results : dict
        ``results[(lr, reg)] = (train_accuracy, val_accuracy)`` for every pair.
    """
    results = {}
    best_model, best_val_accuracy = None, -1.0
    for lr in learning_rates:
        for reg in regularization_strengths:
            model = model_cls()
            model.train(X_train, y_train, learning_rate=lr, reg=reg,
                        num_iters=num_iters, batch_size=batch_size, seed=seed)
            train_accuracy = float(np.mean(model.predict(X_train) == y_train))
            val_accuracy = float(np.mean(model.predict(X_val) == y_val))
            results[(lr, reg)] = (train_accuracy, val_accuracy)
            if val_accuracy > best_val_accuracy:
                best_model, best_val_accuracy = model, val_accuracy
    return best_model, best_val_accuracy, results
