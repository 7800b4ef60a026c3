"""The linear-classifiers assignment's part of ``linclass demo``: the reference on the slides'
worked numbers and on the embedded digits (trained, tuned, plotted)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .shipped import slides
from .shipped.data import TUNING_GRIDS, get_data
from .shipped.plots import plot_loss_curves, plot_weight_templates


def print_slide_numbers() -> None:
    """Print the slides' worked numbers as the reference implementations compute them."""
    from solutions.linear_classifiers.linear_svm import svm_loss_vectorized
    from solutions.linear_classifiers.softmax import softmax_loss_vectorized

    ex = slides.CAT_CAR_FROG
    per_example = ", ".join(f"{svm_loss_vectorized(ex.W, ex.X[i:i + 1], ex.y[i:i + 1], 0.0)[0]:.1f}" for i in range(3))
    svm, _ = svm_loss_vectorized(ex.W, ex.X, ex.y, 0.0)
    print(f"  SVM, cat/car/frog table: per-example losses {per_example} -> mean {svm:.2f}"
          "   (slides: 2.9, 0, 12.9 -> 5.27)")

    cat = slides.CAT_SOFTMAX
    soft, _ = softmax_loss_vectorized(cat.W, cat.X, cat.y, 0.0)
    exps = np.exp(cat.scores[0])
    probs = exps / exps.sum()
    print(f"  softmax, cat image: exp {exps[0]:.1f} / {exps[1]:.1f} / {exps[2]:.2f}, "
          f"p {probs[0]:.2f} / {probs[1]:.2f} / {probs[2]:.2f}")
    print(f"    loss = -ln(p_cat) = {soft:.2f} nats = {slides.nats_to_log10(soft):.2f} in log10 "
          "(the slides print the log10 value, 0.89)")

    sv = slides.SVM_VS_SOFTMAX
    h, _ = svm_loss_vectorized(sv.W, sv.X, sv.y, 0.0)
    ce, _ = softmax_loss_vectorized(sv.W, sv.X, sv.y, 0.0)
    print(f"  SVM vs softmax, scores [-2.85, 0.86, 0.28]: hinge {h:.2f}, cross-entropy {ce:.2f} nats "
          f"= {slides.nats_to_log10(ce):.3f} log10   (slides: 1.58 and 0.452)")

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((500, 65)), rng.integers(0, 10, 500)
    W = 1e-6 * rng.standard_normal((65, 10))
    print(f"  loss at init (C = 10, tiny W): SVM {svm_loss_vectorized(W, X, y, 0.0)[0]:.2f} (C - 1 = 9), "
          f"softmax {softmax_loss_vectorized(W, X, y, 0.0)[0]:.2f} (ln 10 = 2.30)")


def run_demo(out_dir: str | Path = "build/demo") -> dict[str, float]:
    """Train and tune both classifiers on the embedded digits; save the figures.

    Returns
    -------
    dict
        Validation and test accuracy per model.
    """
    from solutions.linear_classifiers.linear_classifier import LinearSVM, Softmax
    from solutions.linear_classifiers.tuning import tune_hyperparameters

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    print("Slide worked numbers, computed by the reference (solutions/):")
    print_slide_numbers()

    data = get_data("digits")
    grid = TUNING_GRIDS[data.source]
    print(f"\nData: embedded {data.source} ({data.num_classes} classes), train {data.X_train.shape}, "
          f"val {data.X_val.shape}, test {data.X_test.shape} (bias column included)")
    print(f"Tuning grid: learning rates {grid['learning_rates']}, regularization {grid['regularization_strengths']}")
    accuracies, histories, weights = {}, {}, {}
    for cls in (LinearSVM, Softmax):
        start = time.perf_counter()
        best, best_val, results = tune_hyperparameters(cls, data.X_train, data.y_train, data.X_val, data.y_val,
                                                       num_iters=500, **grid)
        lr, reg = max(results, key=lambda k: results[k][1])
        test = float(np.mean(best.predict(data.X_test) == data.y_test))
        accuracies[cls.__name__] = {"val": best_val, "test": test}
        print(f"  {cls.__name__:9s}: best lr {lr:g}, reg {reg:g}: validation {best_val:.3f}, test {test:.3f} "
              f"({len(results)} models in {time.perf_counter() - start:.1f} s)")
        histories[cls.__name__] = cls().train(data.X_train, data.y_train, learning_rate=lr, reg=reg,
                                              num_iters=500, seed=0)
        weights[cls.__name__] = best.W

    curve = plot_loss_curves(histories, out_dir / "loss_curves.png")
    templates = plot_weight_templates(weights, data.image_shape, data.class_names, out_dir / "weight_templates.png")
    print(f"\nSaved the loss curves to {curve}\nSaved the learned weights as class templates to {templates}")
    return accuracies
