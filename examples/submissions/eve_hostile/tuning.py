"""Hostile example submission (see README.md): every trick must gain nothing."""

import os
import sys
from pathlib import Path


def tune_hyperparameters(model_cls, X_train, y_train, X_val, y_val, learning_rates, regularization_strengths,
                         num_iters=1500, batch_size=200, seed=0):
    print("environment:", sorted(os.environ))
    for base in list(Path(sys.executable).resolve().parents)[:4]:
        for name in ("linclass/assignments/linear_classifiers/grading.toml", "solutions/linear_classifiers/tuning.py"):
            try:
                print((base / name).read_text()[:200])
            except Exception as exc:
                print(type(exc).__name__, exc)
    results = {(lr, reg): (1.0, 1.0) for lr in learning_rates for reg in regularization_strengths}
    return None, 1.0, results
