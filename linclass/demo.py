"""`make demo` / `linclass demo`: the whole product in one command, offline.

1. builds the student release with real nbgrader (``linclass release``, without the
   source re-validation that ``linclass release`` adds) and refreshes the notebook example
   ``examples/submissions/ada_complete/`` from it;
2. grades ``examples/submissions/`` as a class (``linclass grade ... --jobs 2``): a complete
   correct notebook submission, one with two typical bugs, a partial one and a hostile one;
   prints the score table with the diagnosed misconceptions and where each report is;
3. shows the slides' worked numbers and trains/tunes the reference on the embedded digits.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from . import slides
from .data import TUNING_GRIDS, get_data
from .errors import LinclassError
from .plots import plot_loss_curves, plot_weight_templates


def print_slide_numbers() -> None:
    """Print the slides' worked numbers as the reference implementations compute them."""
    from solutions.linear_svm import svm_loss_vectorized
    from solutions.softmax import softmax_loss_vectorized

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
    from solutions.linear_classifier import LinearSVM, Softmax
    from solutions.tuning import tune_hyperparameters

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


ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
#: The notebook example, refreshed from the release at every demo.
NOTEBOOK_EXAMPLE = "ada_complete"


def _show(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def build_release_and_example(course: Path = ROOT / "assignments") -> Path:
    """Build the release (no re-validation: ``linclass release`` does that) and refill the notebook example."""
    from .assignment import DEFAULT_ASSIGNMENT
    from .release import build_release, fill_release

    start = time.perf_counter()
    res = build_release(course, DEFAULT_ASSIGNMENT, validate=False, log=lambda line: None)
    print(f"  nbgrader generate_assignment -> {_show(res.release_dir)}/: "
          + ", ".join(f for f in res.files if f.endswith(".ipynb")) + " (+ data, slides, self-check modules)")
    print(f"  leak check passed; student zip {_show(res.zip_path)} ({time.perf_counter() - start:.1f} s)")
    filled = fill_release(res.release_dir, course / "source" / DEFAULT_ASSIGNMENT,
                          ROOT / "build" / "demo-filled" / NOTEBOOK_EXAMPLE)
    dest = EXAMPLES / NOTEBOOK_EXAMPLE
    dest.mkdir(parents=True, exist_ok=True)
    for nb in sorted(filled.glob("*.ipynb")):
        shutil.copyfile(nb, dest / nb.name)
    shutil.rmtree(filled.parent, ignore_errors=True)
    print(f"  {_show(dest)}/: the release notebooks filled in by a student who got everything right")
    return res.release_dir


def _layout(path: Path) -> str:
    if any(path.glob("*.ipynb")):
        return "notebooks"
    return "CS231n modules" + (" (cs231n/...)" if (path / "cs231n").is_dir() else "")


def score_table(out: Path, students: list[Path]) -> list[str]:
    """The demo's table: one line per student, then the diagnosed misconceptions and the report."""
    from autograder.grade import student_id_for
    from autograder.misconceptions import by_id

    lines = [f"  {'student':14s} {'layout':26s} {'score':>9s}   parts with lost points"]
    details = []
    for path in students:
        sid = student_id_for(path)
        report = out / sid
        try:
            results = json.loads((report / "results.json").read_text())
        except FileNotFoundError:
            lines.append(f"  {sid:14s} {_layout(path):26s} {'-':>9s}   not graded (see {_show(out)}/not_graded.csv)")
            continue
        lost: dict[str, float] = {}
        found: list[str] = []
        for test in results["tests"]:
            if test["score"] < test["max_score"]:
                part = test["name"].split(":")[0]
                lost[part] = lost.get(part, 0.0) + test["max_score"] - test["score"]
            found += test.get("extra_data", {}).get("misconceptions", [])
        parts = ", ".join(f"{p} (-{v:g})" for p, v in lost.items()) or "none"
        lines.append(f"  {sid:14s} {_layout(path):26s} {results['score']:>4g} / {results['max_score']:g}   "
                     f"{parts if len(parts) < 90 else parts[:87] + '...'}")
        for mid in dict.fromkeys(found):
            try:
                title = by_id(mid).title
            except KeyError:
                title = mid
            details.append(f"  {sid}: {title}")
    lines += ["", "Diagnosed misconceptions (named in each student's feedback, with a hint):"]
    lines += details or ["  none"]
    lines += ["", "Reports (results.json for Gradescope, junit.xml for CI, feedback.md for the student):"]
    lines += [f"  {_show(out / student_id_for(p))}/feedback.md" for p in students]
    return lines


def grade_examples(out: Path, jobs: int = 2) -> Path:
    """Grade ``examples/submissions/`` as one class into ``out``; print the table."""
    from autograder.batch import expand_paths, grade_batch

    if not EXAMPLES.is_dir():
        raise LinclassError(f"{EXAMPLES} is missing (the demo runs from a linclass checkout)")
    students = expand_paths([EXAMPLES])
    start = time.perf_counter()
    grades = grade_batch([EXAMPLES], out, jobs=jobs, force=True, quiet=True)
    print(f"  {len(students)} submissions graded in {time.perf_counter() - start:.1f} s "
          f"(each in its own sandboxed process)\n")
    print("\n".join(score_table(out, students)))
    print(f"\nClass reports: {_show(grades)}, {_show(out / 'grades_nbgrader.csv')} (nbgrader export columns), "
          f"{_show(out / 'summary.md')} (+ score_histogram.png)")
    return grades


def main(args) -> int:
    """`linclass demo`: release, grade the example class, then the reference on the slides and the digits."""
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LinclassError(f"--out {out}: cannot create it ({exc.strerror})") from None
    start = time.perf_counter()
    print("1. Release: the student notebooks, built with nbgrader and checked for leaks")
    build_release_and_example()
    print(f"\n2. Grading the example class {_show(EXAMPLES)}/ (linclass grade {_show(EXAMPLES)} --jobs 2)")
    grade_examples(out / "grades")
    print("\n3. The reference implementation")
    run_demo(out)
    print(f"\nDemo done in {time.perf_counter() - start:.0f} s.  Next: `linclass grade PATH --out DIR` on real "
          "submissions; `linclass bundle gradescope|github`; examples/README.md.")
    return 0
