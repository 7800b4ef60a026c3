"""Build the source notebooks of the assignment from ``solutions/`` (the one source of truth).

Every solution cell is generated from the reference implementation: the function's (or
class's) source is copied verbatim and its body is wrapped in nbgrader solution markers.
The committed ``.ipynb`` files are therefore a pure function of ``solutions/`` and of the
cell texts below; ``tests/test_single_source.py`` fails when they drift apart (edit this
file or ``solutions/``, then run ``python -m linclass.notebook_build``).

Hidden tests compare against numbers computed here, at generation time, with the
reference on seeded (``np.random.RandomState``, whose stream numpy keeps frozen) inputs.

Notebooks, in teaching order::

    gradient_check.ipynb   numeric gradients, rel_error, grad_check_sparse
    svm.ipynb              the multiclass SVM, SGD (LinearClassifier), tuning
    softmax.ipynb          the softmax classifier

A later notebook reuses the student's own functions from an earlier one through
``selfcheck.import_cells`` (it execs the solution cells of the sibling notebook by
``grade_id``), so no student work is duplicated.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import os
import sys
import textwrap
from pathlib import Path
from typing import Callable

import nbformat
import numpy as np

from solutions import gradient_check as ref_gc
from solutions import linear_classifier as ref_lc
from solutions import linear_svm as ref_svm
from solutions import softmax as ref_softmax
from solutions import tuning as ref_tuning

from . import slides
from .assignment import DEFAULT_ASSIGNMENT

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = ROOT / "assignments" / "source" / DEFAULT_ASSIGNMENT

#: Files of ``linclass/`` that the source directory links to and every release copies: the
#: notebooks' helpers at the top, and under ``linclass/`` the student-side part of the kit that
#: the self-check uses (the assignment's table and the shared student runtime).
SUPPORT_FILES = ("data.py", "slides.py", "plots.py", "selfcheck.py",
                 "linclass/__init__.py", "linclass/assignment.py", "linclass/student")


def kit_path(name: str) -> Path:
    """The kit file or folder that the support entry ``name`` links to."""
    return ROOT / "linclass" / name.removeprefix("linclass/")

BEGIN, END = "### BEGIN " + "SOLUTION", "### END " + "SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN " + "HIDDEN TESTS", "### END " + "HIDDEN TESTS"

#: Points of each autograded test cell (nbgrader's own scoring; the kit's grader has its own config).
POINTS = {
    "eval_numerical_gradient": 4, "rel_error": 2, "grad_check_sparse": 4,
    "svm_loss_naive": 10, "svm_loss_vectorized": 10, "LinearClassifier": 10, "LinearSVM": 2,
    "tune_hyperparameters": 6, "softmax_loss_naive": 10, "softmax_loss_vectorized": 10, "Softmax": 2,
}

#: Which reference object each solution cell is generated from.
REFERENCE: dict[str, object] = {
    "eval_numerical_gradient": ref_gc.eval_numerical_gradient,
    "grad_check_sparse": ref_gc.grad_check_sparse,
    "rel_error": ref_gc.rel_error,
    "svm_loss_naive": ref_svm.svm_loss_naive,
    "svm_loss_vectorized": ref_svm.svm_loss_vectorized,
    "softmax_loss_naive": ref_softmax.softmax_loss_naive,
    "softmax_loss_vectorized": ref_softmax.softmax_loss_vectorized,
    "LinearClassifier": ref_lc.LinearClassifier,
    "LinearSVM": ref_lc.LinearSVM,
    "Softmax": ref_lc.Softmax,
    "tune_hyperparameters": ref_tuning.tune_hyperparameters,
}

#: Methods whose bodies students write, per class cell (functions: the whole body).
SOLUTION_METHODS = {"LinearClassifier": ("train", "predict"), "LinearSVM": ("loss",), "Softmax": ("loss",)}


# ----------------------------------------------------------------------------------- cells

def timing_cell(prefix: str) -> str:
    """The naive-against-vectorized timing cell of the ``{prefix}_loss_*`` pair (svm or softmax)."""
    return TIMING_CELL.replace("{prefix}", prefix)


TIMING_CELL = """
    import time

    W = 0.0001 * np.random.RandomState(2).randn(X_dev.shape[1], num_classes)
    tic = time.perf_counter()
    loss_naive, grad_naive = {prefix}_loss_naive(W, X_dev, y_dev, 5e-6)
    t_naive = time.perf_counter() - tic
    tic = time.perf_counter()
    loss_vec, grad_vec = {prefix}_loss_vectorized(W, X_dev, y_dev, 5e-6)
    t_vec = time.perf_counter() - tic
    print(f"naive {loss_naive:.6f} in {t_naive * 1e3:.2f} ms; vectorized {loss_vec:.6f} in {t_vec * 1e3:.2f} ms "
          f"({t_naive / max(t_vec, 1e-9):.0f}x faster)")
    print(f"difference: loss {abs(loss_naive - loss_vec):.2e}, gradient (Frobenius) "
          f"{np.linalg.norm(grad_naive - grad_vec):.2e}")
    assert abs(loss_naive - loss_vec) < 1e-9 and np.linalg.norm(grad_naive - grad_vec) < 1e-9
"""

def _nbgrader(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
              points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


class Builder:
    """Accumulates the cells of one notebook with stable ids."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cells: list = []
        self._ids: set[str] = set()

    def _id(self, hint: str) -> str:
        base = f"{self.name}-{hint}"[:60]
        cid, n = base, 1
        while cid in self._ids:
            n += 1
            cid = f"{base}-{n}"
        self._ids.add(cid)
        return cid

    def md(self, text: str) -> None:
        """Prose (students may annotate it)."""
        cell = nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())
        cell.id = self._id(f"md{len(self.cells)}")
        self.cells.append(cell)

    def given(self, grade_id: str, code: str, tags: tuple[str, ...] = ()) -> None:
        """Read-only given code."""
        cell = nbformat.v4.new_code_cell(textwrap.dedent(code).strip(), metadata=_nbgrader(grade_id, locked=True))
        if tags:
            cell.metadata["tags"] = list(tags)
        cell.id = self._id(grade_id)
        self.cells.append(cell)

    def solution(self, grade_id: str) -> None:
        """The student's cell, generated from the reference."""
        cell = nbformat.v4.new_code_cell(solution_source(grade_id), metadata=_nbgrader(grade_id, solution=True))
        cell.id = self._id(grade_id)
        self.cells.append(cell)

    def tests(self, target: str, visible: str, hidden: str) -> None:
        """Autograded, locked test cell with a hidden part."""
        src = textwrap.dedent(visible).strip() + "\n\n" + BEGIN_HIDDEN + "\n" + textwrap.dedent(hidden).strip() + \
            "\n" + END_HIDDEN
        cell = nbformat.v4.new_code_cell(src, metadata=_nbgrader(f"test_{target}", grade=True, locked=True,
                                                                  points=POINTS[target]))
        cell.id = self._id(f"test_{target}")
        self.cells.append(cell)

    def question(self, grade_id: str, points: int, question: str, model_answer: str) -> None:
        """A locked question and a manually graded markdown answer cell."""
        q = nbformat.v4.new_markdown_cell(textwrap.dedent(question).strip(),
                                          metadata=_nbgrader(f"{grade_id}_prompt", locked=True))
        q.id = self._id(f"{grade_id}_prompt")
        a = nbformat.v4.new_markdown_cell(textwrap.dedent(model_answer).strip(),
                                          metadata=_nbgrader(grade_id, grade=True, solution=True, points=points))
        a.id = self._id(grade_id)
        self.cells += [q, a]

    def notebook(self) -> nbformat.NotebookNode:
        nb = nbformat.v4.new_notebook(cells=self.cells)
        nb.metadata = {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
        nbformat.validate(nb)
        return nb


# ------------------------------------------------------------------ solution cells from solutions/
def _wrap_body(lines: list[str], func: ast.FunctionDef, offset: int) -> list[str]:
    """Insert the solution markers around ``func``'s body (its docstring stays visible)."""
    body = func.body
    first = body[1] if ast.get_docstring(func) is not None else body[0]
    start = (body[0].end_lineno if ast.get_docstring(func) is not None else first.lineno - 1) - offset
    end = func.end_lineno - offset
    indent = " " * first.col_offset
    return lines[:start] + [indent + BEGIN] + lines[start:end] + [indent + END] + lines[end:]


def solution_source(grade_id: str) -> str:
    """The source of one solution cell: the reference object with its body(ies) marked."""
    obj = REFERENCE[grade_id]
    src = textwrap.dedent(inspect.getsource(obj)).rstrip("\n")
    lines = src.split("\n")
    node = ast.parse(src).body[0]
    if isinstance(node, ast.FunctionDef):
        return "\n".join(_wrap_body(lines, node, 0))
    methods = [m for m in node.body if isinstance(m, ast.FunctionDef) and m.name in SOLUTION_METHODS[grade_id]]
    for m in sorted(methods, key=lambda m: m.lineno, reverse=True):  # bottom-up keeps line numbers valid
        lines = _wrap_body(lines, m, 0)
    return "\n".join(lines)


def strip_markers(source: str) -> str:
    """A solution cell as a student who solved it would have it: the markers removed."""
    return "\n".join(line for line in source.split("\n") if BEGIN not in line and END not in line)


# --------------------------------------------------------------------- generation-time values
def case_code(seed: int, n: int, d: int, c: int, scale: float = 1.0) -> str:
    """Code that builds a seeded random (W, X, y) case inside a test cell."""
    return (f"_rs = np.random.RandomState({seed})\n_W = {scale!r} * _rs.randn({d}, {c})\n"
            f"_X = _rs.randn({n}, {d})\n_y = _rs.randint({c}, size={n})\n_P = _rs.randn({d}, {c})")


def printed(value: float, digits: int = 9) -> str:
    """``value`` rounded to ``digits`` significant digits, as Python source.

    The expectations are computed on the machine that builds the notebooks; their last
    digits depend on its CPU and BLAS kernels.  Rounded far above those digits (and far
    below the tests' tolerances), the committed notebooks are the same on every machine.
    """
    return repr(float(f"{float(value):.{digits}g}"))


def loss_expectations(fn: Callable, seed: int, n: int, d: int, c: int, reg: float, scale: float = 1.0) -> str:
    """Hidden-test lines checking ``fn`` on a seeded case against the reference's numbers."""
    ns: dict = {"np": np}
    exec(case_code(seed, n, d, c, scale), ns)
    W0, X0 = ns["_W"].copy(), ns["_X"].copy()
    loss, dW = fn(ns["_W"], ns["_X"], ns["_y"], reg)
    proj = float(np.sum(dW * ns["_P"]))
    assert np.array_equal(W0, ns["_W"]) and np.array_equal(X0, ns["_X"])
    name = fn.__name__
    return (case_code(seed, n, d, c, scale) + "\n"
            f"_loss, _dW = {name}(_W, _X, _y, {reg!r})\n"
            f"assert np.isclose(_loss, {printed(loss)}, rtol=1e-7, atol=1e-10)\n"
            f"assert _dW.shape == ({d}, {c})\n"
            f"assert np.isclose(np.sum(_dW * _P), {printed(proj)}, rtol=1e-6, atol=1e-9)\n"
            f"assert np.isclose(np.sum(_dW ** 2), {printed(np.sum(dW ** 2))}, rtol=1e-6, atol=1e-12)")


# ----------------------------------------------------------------------------- shared cells
#: Large scores with a small spread in each row: shifting every score by 1e4 must change nothing.
STABILITY = """
_rs = np.random.RandomState(404)
_W = _rs.randn(4, 3)
_X = np.hstack([_rs.randn(6, 3), np.ones((6, 1))])
_y = _rs.randint(3, size=6)
_l0, _g0 = softmax_loss_vectorized(_W, _X, _y, 0.0)
_Wbig = _W.copy()
_Wbig[-1] += 1e4
_l1, _g1 = softmax_loss_vectorized(_Wbig, _X, _y, 0.0)
assert np.isfinite(_l1) and abs(_l1 - _l0) < 1e-6 and np.allclose(_g1, _g0, atol=1e-8), "subtract each row's max"
"""

INTRO_CONVENTIONS = """
**Conventions** (the same in every notebook, the self-check and the grader): `W` has shape
(D, C), `X` has shape (N, D) and `y` has shape (N,) with integer labels in [0, C). Scores are
`X @ W`. The last feature of every row is a constant 1 (the *bias trick*), so the bias is the
last row of `W`. A loss is the **mean** data loss over the N examples plus `reg * sum(W**2)`
(whose gradient is `2 * reg * W`). Softmax uses the natural log. No function modifies its
inputs.

**How to work.** Write your code only in the cells that say `# YOUR CODE HERE` (replace the
`raise NotImplementedError()` line). Do not edit the read-only cells: the tests in them are
restored from the original before grading. Some tests are hidden; the visible ones use the
numbers from the lecture slides. Before you submit, run the public self-check in this folder:

    python selfcheck.py            # or, in a notebook cell:  !python selfcheck.py

It checks your functions against the slides' numbers, compares your analytic gradients with
numeric ones, and your naive with your vectorized code. It needs no solutions.
"""

def setup_code(typing_names: str = "", extra: str = "") -> str:
    """The setup cell: the imports (and constants) that the solution cells use."""
    head = f"from typing import {typing_names}\n\n" if typing_names else ""
    return head + "import numpy as np\n" + (f"\n{extra}\n" if extra else "")

DATA = """
import os

import matplotlib.pyplot as plt
from data import TUNING_GRIDS, get_data

# The embedded 8x8 digits by default; CIFAR-10 when `linclass data fetch cifar10` put it in ./datasets.
data = get_data(os.environ.get("LINCLASS_DATA", "auto"), datasets_dir="datasets")
X_train, y_train, X_val, y_val = data.X_train, data.y_train, data.X_val, data.y_val
X_test, y_test, X_dev, y_dev = data.X_test, data.y_test, data.X_dev, data.y_dev
num_classes = data.num_classes
grid = TUNING_GRIDS[data.source]
print(f"data: {data.source}, {num_classes} classes, image shape {data.image_shape}")
for split in ("train", "val", "test", "dev"):
    print(f"  X_{split}: {getattr(data, 'X_' + split).shape}")
"""

SHOW_EXAMPLES = """
def as_image(row):
    \"\"\"A preprocessed row back to a displayable image (bias dropped, mean added back, scaled to [0, 1]).\"\"\"
    img = row[:-1].reshape(data.image_shape) + data.mean_image
    return (img - img.min()) / max(img.max() - img.min(), 1e-12)


def montage(images, cols, pad=1):
    \"\"\"Images (same shape) tiled row by row into one picture, with white gaps.\"\"\"
    h, w = images[0].shape[:2]
    rows = -(-len(images) // cols)
    canvas = np.ones((rows * (h + pad), cols * (w + pad)) + images[0].shape[2:])
    for k, img in enumerate(images):
        r, c = divmod(k, cols)
        canvas[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = img
    return canvas.squeeze()


per_class = 4
picks = [np.flatnonzero(y_train == c)[:per_class] for c in range(num_classes)]
tiles = [as_image(X_train[picks[c][r]]) for r in range(per_class) for c in range(num_classes)]
plt.figure(figsize=(0.8 * num_classes, 0.8 * per_class + 0.4))
plt.imshow(montage(tiles, num_classes), cmap="gray")
step = data.image_shape[1] + 1
plt.xticks(np.arange(num_classes) * step + step / 2 - 1, data.class_names, fontsize=8)
plt.yticks([])
plt.title(f"{per_class} training examples per class")
plt.show()
"""


def _heatmap_code(results: str, title: str) -> str:
    return f"""
    lrs = sorted({{lr for lr, _ in {results}}})
    regs = sorted({{reg for _, reg in {results}}})
    acc = np.array([[{results}[(lr, reg)][1] for reg in regs] for lr in lrs])
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    im = ax.imshow(acc, cmap="viridis")
    ax.set_xticks(range(len(regs)), [f"{{r:g}}" for r in regs])
    ax.set_yticks(range(len(lrs)), [f"{{lr:g}}" for lr in lrs])
    ax.set(xlabel="regularization strength", ylabel="learning rate", title="{title}")
    for i in range(len(lrs)):
        for j in range(len(regs)):
            ax.text(j, i, f"{{acc[i, j]:.3f}}", ha="center", va="center", color="w", fontsize=8)
    fig.colorbar(im, ax=ax)
    plt.show()
    """


TEMPLATES = """
from plots import weight_templates

step = data.image_shape[1] + 1
plt.figure(figsize=(0.9 * num_classes, 1.6))
plt.imshow(montage(list(weight_templates({model}.W, data.image_shape)), num_classes), cmap="gray")
plt.xticks(np.arange(num_classes) * step + step / 2 - 1, data.class_names, fontsize=8)
plt.yticks([])
plt.title("learned weights as class templates")
plt.show()
"""


# ------------------------------------------------------------------------- gradient_check
def build_gradient_check() -> nbformat.NotebookNode:
    b = Builder("gradient_check")
    b.md("""
    # Part 1: numeric gradients and the gradient check

    Every loss in this assignment comes with an analytic gradient that you derive by hand. A
    *gradient check* compares it with a numeric gradient computed from the loss values alone.
    In this notebook you write the three tools for that; the SVM and softmax notebooks use them
    (they load your functions from this notebook).
    """)
    b.md(INTRO_CONVENTIONS)
    b.given("setup_gradient_check", setup_code("Callable"), tags=("setup",))
    b.md(f"""
    ## The slides' walkthrough: forward differences

    The slides perturb one entry of `W` at a time by `h = {slides.WALKTHROUGH_H}` and divide the change of the
    loss by `h`. The loss is {slides.WALKTHROUGH_LOSS}; after each perturbation it is
    {", ".join(map(str, slides.WALKTHROUGH_PERTURBED))}:
    """)
    b.given("walkthrough", """
    from slides import WALKTHROUGH_H, WALKTHROUGH_LOSS, WALKTHROUGH_PERTURBED

    forward = [(perturbed - WALKTHROUGH_LOSS) / WALKTHROUGH_H for perturbed in WALKTHROUGH_PERTURBED]
    print("forward differences:", np.round(forward, 6))   # the slides print -2.5, 0.6, 0
    """)
    b.md("""
    A forward difference `(f(x + h) - f(x)) / h` has an error proportional to `h`. The
    **centered** difference `(f(x + h) - f(x - h)) / (2h)` cancels the first-order term of the
    Taylor expansion, so its error shrinks like `h**2`: with `h = 1e-5` it is about a million
    times more accurate. Use centered differences from now on.

    ### `eval_numerical_gradient`

    Evaluate the centered difference at **every** entry of `x` (any shape: use `np.ndindex`
    or `np.nditer`). Perturb `x` in place, one entry at a time, and restore every entry.
    Return a float array shaped like `x`.
    """)
    b.solution("eval_numerical_gradient")
    b.tests("eval_numerical_gradient", """
    # The slides' calculus example: L(w) = w**2 + 3 has gradient 2w = 4 at w = 2.
    _x = np.array([2.0])
    _g = eval_numerical_gradient(lambda w: float(np.sum(w ** 2 + 3)), _x)
    assert _g.shape == (1,), f"the gradient must be shaped like x, got {_g.shape}"
    assert abs(_g[0] - 4.0) < 1e-6, f"d(w**2 + 3)/dw at 2 is 4, got {_g[0]}"
    assert _x[0] == 2.0, "x must be restored after the perturbations"
    # A 2-D input and centered (not forward) accuracy.
    _x = np.array([[0.3, -1.2, 2.0], [1.0, 0.0, -0.5]])
    _g = eval_numerical_gradient(lambda v: float(np.sum(np.sin(v))), _x)
    assert _g.shape == _x.shape
    assert np.max(np.abs(_g - np.cos(_x))) < 1e-8, "use centered differences (f(x+h) - f(x-h)) / (2h)"
    """, """
    _rs = np.random.RandomState(7)
    _a, _b, _x = _rs.randn(3, 4), _rs.randn(3, 4), _rs.randn(3, 4)
    _x0 = _x.copy()
    _g = eval_numerical_gradient(lambda v: float(np.sum(_a * v ** 2 + _b * np.sin(v))), _x)
    assert np.array_equal(_x, _x0)
    assert np.allclose(_g, 2 * _a * _x0 + _b * np.cos(_x0), atol=1e-7)
    _g = eval_numerical_gradient(lambda v: float(np.sum(v ** 3)), np.array([1.0, -2.0]), h=1e-3)
    assert np.allclose(_g, [3.0 + 1e-6, 12.0 + 1e-6], atol=1e-9), "use the step h you are given"
    """)
    b.md("""
    ### `rel_error`

    How far apart are two gradients? An absolute difference depends on their scale, so we use
    the largest entrywise **relative** error `|x - y| / max(1e-8, |x| + |y|)` (the floor keeps two
    zeros from dividing by zero). Rule of thumb: below 1e-7 the gradients agree; up to about
    1e-4 is acceptable for a loss with kinks such as the SVM's; above 1e-2 the gradient is wrong.
    Return a Python `float`.
    """)
    b.solution("rel_error")
    b.tests("rel_error", """
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    _e = rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.2]))
    assert isinstance(_e, float), f"return a Python float, got {type(_e).__name__}"
    assert abs(_e - 0.2 / 4.2) < 1e-12, f"the largest |x - y| / (|x| + |y|) here is 0.2 / 4.2, got {_e}"
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0, "two zeros are equal (no division by zero)"
    """, """
    _rs = np.random.RandomState(11)
    _a, _b = _rs.randn(5, 3), _rs.randn(5, 3)
    assert abs(rel_error(_a, _b) - float(np.max(np.abs(_a - _b) / np.maximum(1e-8, np.abs(_a) + np.abs(_b))))) < 1e-12
    assert rel_error(_a, _b) == rel_error(_b, _a)
    assert abs(rel_error(np.array([1e-12]), np.array([-1e-12])) - 2e-4) < 1e-12
    """)
    b.md("""
    ### `grad_check_sparse`

    Evaluating every entry is too slow for a (3073, 10) `W`. Instead check `num_checks` random
    entries: for each, compare the centered difference with the analytic gradient's entry and
    record the relative error. Draw the entries with `np.random.default_rng(seed)`, so the same
    seed checks the same entries. Return the `num_checks` relative errors as an array (do not
    just print them). Restore `x` as before.
    """)
    b.solution("grad_check_sparse")
    b.tests("grad_check_sparse", """
    _x = np.random.RandomState(0).randn(4, 5)
    _x0 = _x.copy()
    _errs = grad_check_sparse(lambda v: float(np.sum(v ** 3)), _x, 3 * _x ** 2, num_checks=6, seed=0)
    assert isinstance(_errs, np.ndarray) and _errs.shape == (6,), "return one relative error per check"
    assert np.max(_errs) < 1e-7, f"an exact analytic gradient must pass, got errors {_errs}"
    assert np.array_equal(_x, _x0), "x must be restored"
    _errs = grad_check_sparse(lambda v: float(np.sum(v ** 3)), _x, 3.3 * _x ** 2, num_checks=6, seed=0)
    assert np.min(_errs) > 1e-3, "a wrong analytic gradient must show large errors"
    """, """
    _rs = np.random.RandomState(5)
    _x = _rs.randn(3, 7)
    _wrong = 2 * _x + _rs.rand(3, 7)
    _e1 = grad_check_sparse(lambda v: float(np.sum(v ** 2)), _x, _wrong, num_checks=8, seed=3)
    _e2 = grad_check_sparse(lambda v: float(np.sum(v ** 2)), _x, _wrong, num_checks=8, seed=3)
    assert np.array_equal(_e1, _e2), "the same seed must check the same entries"
    _all = np.abs(2 * _x - _wrong) / (np.abs(2 * _x) + np.abs(_wrong))
    _ok = np.abs(_e1[None, :] - _all.reshape(-1, 1))
    assert np.all(np.min(_ok, axis=0) < 1e-6), "each error must be the rel_error at one entry"
    _e3 = grad_check_sparse(lambda v: float(np.sum(v ** 2)), _x, 2 * _x, num_checks=3, h=1e-3)
    assert _e3.shape == (3,) and np.max(_e3) < 1e-9
    """)
    b.md("""
    ## Forward versus centered differences

    The error of both numeric derivatives of `sin` at 1.0 as the step `h` shrinks (log scale).
    The forward difference's error falls like `h`, the centered one's like `h**2`, until
    floating-point round-off (about `1e-16 / h`) takes over.
    """)
    b.given("plot_errors", """
    import matplotlib.pyplot as plt

    hs = np.logspace(-10, -1, 30)
    x0 = np.array([1.0])
    forward_err = [abs((np.sin(1.0 + h) - np.sin(1.0)) / h - np.cos(1.0)) for h in hs]
    centered_err = [abs(eval_numerical_gradient(lambda v: float(np.sum(np.sin(v))), x0, h=h)[0] - np.cos(1.0))
                    for h in hs]
    plt.figure(figsize=(5, 3.2))
    plt.loglog(hs, forward_err, label="forward (f(x+h) - f(x)) / h")
    plt.loglog(hs, centered_err, label="centered (yours)")
    plt.xlabel("h")
    plt.ylabel("absolute error")
    plt.legend()
    plt.show()
    """)
    b.question("q_centered_step", 2, """
    **Question.** The plot shows the error of the centered difference growing again for very
    small `h`. Why, and why is `h = 1e-5` a good default?
    """, """
    Two errors compete. The truncation error of the centered difference shrinks like h**2, but
    f(x + h) - f(x - h) subtracts two nearly equal floats, whose round-off (about 1e-16 times f)
    is then divided by 2h, so the round-off error grows like 1e-16 / h. The total is smallest
    where the two are about equal, h**2 ~ 1e-16 / h, i.e. h ~ 1e-5; there both are ~1e-10.
    """)
    return b.notebook()


# ------------------------------------------------------------------------------------ svm
LOAD_GRADCHECK = """
from selfcheck import import_cells

# Your own gradient-check functions, loaded from the solution cells of gradient_check.ipynb.
eval_numerical_gradient, rel_error, grad_check_sparse = import_cells(
    "gradient_check.ipynb", ["eval_numerical_gradient", "rel_error", "grad_check_sparse"], globals())
"""


def build_svm() -> nbformat.NotebookNode:
    b = Builder("svm")
    b.md("""
    # Part 2: the multiclass SVM

    You will write the multiclass SVM (hinge) loss twice, with loops and vectorized, check its
    gradient, train it with minibatch stochastic gradient descent (SGD), and tune the learning
    rate and the regularization strength on a validation set.

    This notebook uses your `eval_numerical_gradient`, `rel_error` and `grad_check_sparse` from
    `gradient_check.ipynb`: the cell below execs those solution cells of that notebook here.
    """)
    b.md(INTRO_CONVENTIONS)
    b.given("setup_svm", setup_code("Sequence", "DELTA = 1.0  # the hinge margin"), tags=("setup",))
    b.given("load_gradient_check", LOAD_GRADCHECK)
    b.md("## The data\n\nEach row of `X_*` is one image, flattened, with the training mean image subtracted and "
         "a constant 1 appended. A few training examples per class:")
    b.given("load_data", DATA)
    b.given("show_examples", SHOW_EXAMPLES)
    b.md(f"""
    ## The slides' example

    Three training images (a cat, a car and a frog) and three classes. The slides print the
    scores with one column per image; in our layout each image is a row of `X @ W`. With
    `X` = the 3 x 3 identity, `W` is the slides' table transposed:

    | | cat image | car image | frog image |
    |---|---|---|---|
    | cat score | **3.2** | 1.3 | 2.2 |
    | car score | 5.1 | **4.9** | 2.5 |
    | frog score | -1.7 | 2.0 | **-3.1** |

    The loss of example i is $L_i = \\sum_{{j \\ne y_i}} \\max(0, s_j - s_{{y_i}} + 1)$:

    * cat: max(0, 5.1 - 3.2 + 1) + max(0, -1.7 - 3.2 + 1) = 2.9 + 0 = **2.9**
    * car: max(0, 1.3 - 4.9 + 1) + max(0, 2.0 - 4.9 + 1) = 0 + 0 = **0**
    * frog: max(0, 2.2 + 3.1 + 1) + max(0, 2.5 + 3.1 + 1) = 6.3 + 6.6 = **12.9**

    and the loss is their mean, (2.9 + 0 + 12.9) / 3 = **5.27** (5.266667 exactly).

    ### `svm_loss_naive`

    Loop over the examples and the classes. Accumulate the gradient in the same loops: a
    positive margin of class j adds `X[i]` to column j of `dW` and subtracts it from column
    `y[i]`. Divide loss and gradient by N, then add the regularization (on the slides' table
    with `reg = {slides.CAT_CAR_FROG_REG}`, `sum(W**2)` = 89.54 and the loss is {slides.CAT_CAR_FROG_SVM_LOSS_REG}).
    """)
    b.solution("svm_loss_naive")
    b.tests("svm_loss_naive", """
    from slides import CAT_CAR_FROG, CAT_CAR_FROG_REG, CAT_CAR_FROG_SVM_DW, CAT_CAR_FROG_SVM_LOSS_REG

    _ex = CAT_CAR_FROG
    _per = [svm_loss_naive(_ex.W, _ex.X[i:i + 1], _ex.y[i:i + 1], 0.0)[0] for i in range(3)]
    assert np.allclose(_per, [2.9, 0.0, 12.9]), f"per-example losses must be 2.9, 0, 12.9 (slides), got {_per}"
    _loss, _dW = svm_loss_naive(_ex.W, _ex.X, _ex.y, 0.0)
    assert abs(_loss - 5.266667) < 1e-5, f"the mean is 5.27 (slides), got {_loss}"
    assert _dW.shape == _ex.W.shape, "dW must be shaped like W"
    assert np.allclose(_dW, CAT_CAR_FROG_SVM_DW), "gradient of the slides' table is wrong"
    _loss, _ = svm_loss_naive(_ex.W, _ex.X, _ex.y, CAT_CAR_FROG_REG)
    assert abs(_loss - CAT_CAR_FROG_SVM_LOSS_REG) < 1e-5, "add reg * sum(W**2) to the mean loss"
    """, loss_expectations(ref_svm.svm_loss_naive, 101, 9, 6, 4, 0.0) + "\n" +
        loss_expectations(ref_svm.svm_loss_naive, 102, 12, 5, 3, 0.7, scale=0.5) + "\n" +
        "assert np.array_equal(_W, np.random.RandomState(102).randn(5, 3) * 0.5), 'inputs must not change'")
    b.md("""
    ### Sanity checks: the loss at initialization, and a gradient check

    With a tiny `W` every score is about 0, so every wrong class contributes
    max(0, 0 - 0 + 1) = 1: the loss should be about **C - 1** (9 for 10 classes).
    Then compare your analytic gradient with your numeric one, without and with
    regularization (a forgotten or wrong regularization gradient shows up only in the second).
    """)
    b.given("svm_sanity", """
    W = 0.0001 * np.random.RandomState(0).randn(X_dev.shape[1], num_classes)
    loss, grad = svm_loss_naive(W, X_dev, y_dev, 0.0)
    print(f"loss at init: {loss:.4f}   (C - 1 = {num_classes - 1})")
    assert abs(loss - (num_classes - 1)) < 0.1

    for reg in (0.0, 5e1):
        loss, grad = svm_loss_naive(W, X_dev, y_dev, reg)
        errors = grad_check_sparse(lambda w, reg=reg: svm_loss_naive(w, X_dev, y_dev, reg)[0], W, grad,
                               num_checks=10, seed=1)
        print(f"reg = {reg:g}: largest relative error {np.max(errors):.2e}")
        assert np.max(errors) < 1e-5
    """)
    b.question("q_kink", 3, """
    **Question (the kink).** A dimension of the SVM gradient check can occasionally disagree
    even when your gradient is right. Why? Can it happen for the softmax loss? Would a larger
    margin (delta) make it more or less frequent?
    """, """
    The hinge max(0, m) is not differentiable at m = 0. If a margin lies within h of 0, the
    centered difference straddles the kink: it averages the slopes 0 and 1 (giving about 0.5)
    while the analytic gradient picks one side, so that entry shows a large relative error.
    Softmax is smooth everywhere, so it cannot happen there. The margin only shifts where the
    kinks are (at s_j - s_y = -delta); with tiny W all margins sit near delta, far from the
    kink, so a larger delta makes it rarer early on, but any margin can cross 0 during training.
    """)
    b.md("""
    ### `svm_loss_vectorized`

    The same loss and gradient without any Python loop: compute all margins at once, zero the
    correct-class entries, and build the gradient from a (N, C) matrix of coefficients
    (1 for every positive margin, minus the number of positive margins in the correct class).
    """)
    b.solution("svm_loss_vectorized")
    b.tests("svm_loss_vectorized", """
    from slides import CAT_CAR_FROG, CAT_CAR_FROG_SVM_DW

    _loss, _dW = svm_loss_vectorized(CAT_CAR_FROG.W, CAT_CAR_FROG.X, CAT_CAR_FROG.y, 0.0)
    assert abs(_loss - 5.266667) < 1e-5, f"the slides' table gives 5.27, got {_loss}"
    assert np.allclose(_dW, CAT_CAR_FROG_SVM_DW)
    _W = 0.001 * np.random.RandomState(1).randn(X_dev.shape[1], num_classes)
    _ln, _gn = svm_loss_naive(_W, X_dev, y_dev, 0.05)
    _lv, _gv = svm_loss_vectorized(_W, X_dev, y_dev, 0.05)
    assert abs(_ln - _lv) < 1e-9, f"naive and vectorized losses differ: {_ln} vs {_lv}"
    assert np.linalg.norm(_gn - _gv) < 1e-9, "naive and vectorized gradients differ"
    """, loss_expectations(ref_svm.svm_loss_vectorized, 201, 15, 7, 5, 0.0) + "\n" +
        loss_expectations(ref_svm.svm_loss_vectorized, 202, 1, 4, 2, 0.3) + "\n" +
        loss_expectations(ref_svm.svm_loss_vectorized, 203, 40, 9, 10, 1e-3, scale=0.01))
    b.md("Naive against vectorized: the two must agree, and the vectorized one should be much faster.")
    b.given("svm_timing", timing_cell("svm"))
    b.md("""
    ## Questions about the loss

    Use the slides' table (cat/car/frog, loss 5.27) where it helps. Numbers are welcome.
    """)
    b.question("q_init_loss", 2, """
    **Question.** At initialization `W` is small, so all scores are about 0. What is the SVM
    loss then, and why? What would a very different value tell you?
    """, """
    Every score is about 0, so each of the C - 1 wrong classes contributes max(0, 0 - 0 + 1) = 1
    and the loss is about C - 1 (9 for 10 classes; (C - 1) * delta in general). A different value
    means a bug: e.g. C if the correct class is included, 1 if we average over classes.
    """)
    b.question("q_include_correct", 2, """
    **Question.** What happens to the loss if the sum also includes j = y_i?
    """, """
    Each L_i gains max(0, s_y - s_y + 1) = 1, so the loss grows by exactly 1 (on the slides'
    table 5.27 becomes 6.27, and the loss at init becomes C). The gradient and the minimizer do
    not change: it is a constant.
    """)
    b.question("q_mean", 2, """
    **Question.** What if we used the mean over the classes instead of the sum?
    """, """
    The loss is divided by C - 1 (the slides' table gives 2.63 instead of 5.27). It is a
    constant rescaling: the same W minimizes it; with regularization it amounts to rescaling reg.
    """)
    b.question("q_squared", 2, """
    **Question.** What if we used $L_i = \\sum_{j \\ne y_i} \\max(0, s_j - s_{y_i} + 1)^2$?
    """, """
    That is a different loss (the squared hinge), not a rescaling: large violations are
    penalized quadratically and small ones less, so the minimizer can change. On the slides'
    table it gives 8.41, 0, 83.25, mean 30.55.
    """)
    b.question("q_unique", 2, """
    **Question.** Suppose we found a `W` with loss 0. Is it unique? How do we choose?
    """, """
    No: 2W (any cW with c >= 1) also has zero loss, because scaling the scores keeps every
    margin >= 1 (with the bias trick the bias scales too). Regularization breaks the tie:
    reg * sum(W**2) prefers the smaller weights (R(2W) = 4 R(W)).
    """)
    b.md("""
    ## Training with SGD

    `LinearClassifier.train` runs minibatch SGD: each step samples `batch_size` rows with
    replacement (`rng.choice`), computes `self.loss` on them and steps against the gradient.
    Initialize `W` to `0.001 * randn(D, C)` **only when `self.W is None`** (C = max label + 1).
    Use `rng = np.random.default_rng(seed)` for both. Return the list of the minibatch losses.
    `predict` returns the highest-scoring class of each row as integers. The subclasses choose
    the loss: `LinearSVM` uses your `svm_loss_vectorized` (softmax comes in the next notebook).
    """)
    b.solution("LinearClassifier")
    b.solution("LinearSVM")
    b.tests("LinearClassifier", """
    class _Probe(LinearClassifier):
        \"\"\"Records each minibatch and returns a known gradient.\"\"\"
        def __init__(self):
            super().__init__()
            self.calls = []

        def loss(self, X_batch, y_batch, reg):
            self.calls.append((X_batch.shape, y_batch.shape, reg))
            return float(len(self.calls)), np.ones_like(self.W)

    _p = _Probe()
    _p.W = np.zeros((X_dev.shape[1], num_classes))
    _hist = _p.train(X_dev, y_dev, learning_rate=0.1, reg=0.25, num_iters=5, batch_size=7, seed=0)
    assert list(_hist) == [1.0, 2.0, 3.0, 4.0, 5.0], "return the loss of every step"
    assert all(c == ((7, X_dev.shape[1]), (7,), 0.25) for c in _p.calls), "each step: one minibatch of batch_size"
    assert np.allclose(_p.W, -0.5), "each step moves W by -learning_rate * gradient (and keeps a W you set)"
    _p = _Probe()
    _p.train(X_dev, y_dev, num_iters=1, batch_size=3, seed=0)
    assert _p.W.shape == (X_dev.shape[1], num_classes), "W is (D, C) with C = max label + 1"
    _pred = _p.predict(X_dev)
    assert _pred.shape == (len(X_dev),) and np.issubdtype(_pred.dtype, np.integer), "predict returns int labels"
    assert np.array_equal(_pred, np.argmax(X_dev @ _p.W, axis=1))
    """, """
    class _Probe2(LinearClassifier):
        def __init__(self):
            super().__init__()
            self.seen = []

        def loss(self, X_batch, y_batch, reg):
            self.seen.append(np.array(X_batch[:, 0]))
            return 0.0, np.zeros_like(self.W)

    _Xp = np.hstack([np.arange(50.0)[:, None], np.ones((50, 2))])
    _yp = np.arange(50) % 4
    _p = _Probe2()
    _p.train(_Xp, _yp, num_iters=30, batch_size=10, seed=3)
    _rows = np.concatenate(_p.seen).astype(int)
    assert _p.W.shape == (3, 4) and 1e-4 < np.std(_p.W) < 1e-2, "initialize W to 0.001 * randn(D, C)"
    assert len(set(_rows.tolist())) > 25, "sample the minibatches at random from all rows"
    _p2 = _Probe2()
    _p2.train(_Xp, _yp, num_iters=30, batch_size=10, seed=3)
    assert np.array_equal(_p.W, _p2.W), "the same seed gives the same run"
    _p.W = np.eye(3, 4) * 5.0
    assert np.array_equal(_p.predict(np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 0.0]])), [1, 0])
    """)
    b.tests("LinearSVM", """
    _W = 0.001 * np.random.RandomState(3).randn(X_dev.shape[1], num_classes)
    _svm = LinearSVM()
    _svm.W = _W
    _l, _g = _svm.loss(X_dev, y_dev, 0.1)
    _lr, _gr = svm_loss_vectorized(_W, X_dev, y_dev, 0.1)
    assert abs(_l - _lr) < 1e-12 and np.allclose(_g, _gr), "LinearSVM.loss is svm_loss_vectorized on self.W"
    """, """
    _svm = LinearSVM()
    _svm.W = np.zeros((X_dev.shape[1], num_classes))
    assert abs(_svm.loss(X_dev, y_dev, 0.0)[0] - (num_classes - 1)) < 1e-12
    """)
    b.md("Train an SVM with the first learning rate and regularization of the grid, and plot its loss:")
    b.given("svm_train", """
    import time

    NUM_ITERS = 1500 if data.source == "cifar10" else 500  # the digits need far fewer steps
    svm = LinearSVM()
    tic = time.perf_counter()
    loss_hist = svm.train(X_train, y_train, learning_rate=grid["learning_rates"][0],
                          reg=grid["regularization_strengths"][0], num_iters=NUM_ITERS, seed=0)
    print(f"trained in {time.perf_counter() - tic:.2f} s")
    plt.figure(figsize=(5, 3))
    plt.plot(loss_hist, linewidth=1)
    plt.xlabel("iteration")
    plt.ylabel("minibatch loss")
    plt.show()
    print(f"training accuracy {np.mean(svm.predict(X_train) == y_train):.3f}, "
          f"validation accuracy {np.mean(svm.predict(X_val) == y_val):.3f}")
    """)
    b.md("""
    ## Tuning the learning rate and the regularization strength

    `tune_hyperparameters` trains one fresh model per (learning rate, reg) pair and keeps the
    best on the **validation** set (the training accuracy rewards memorizing; the test set is
    kept for the very end). `results[(lr, reg)] = (train_accuracy, val_accuracy)`. Pass
    `seed` to every `train` call.
    """)
    b.solution("tune_hyperparameters")
    b.tests("tune_hyperparameters", """
    _best, _best_val, _res = tune_hyperparameters(LinearSVM, X_dev, y_dev, X_val, y_val, [1e-3, 1e-2], [1e-2],
                                                  num_iters=20, batch_size=50, seed=0)
    assert set(_res) == {(1e-3, 1e-2), (1e-2, 1e-2)}, "one result per (lr, reg) pair"
    assert all(len(v) == 2 and 0 <= v[0] <= 1 and 0 <= v[1] <= 1 for v in _res.values())
    assert abs(_best_val - max(v[1] for v in _res.values())) < 1e-12, "best_val is the best validation accuracy"
    assert abs(np.mean(_best.predict(X_val) == y_val) - _best_val) < 1e-12, "return the best model"
    """, """
    _log, _objects = [], []
    _table = {(0.5, 3): (0.96, 0.5), (0.5, 4): (0.48, 0.625), (0.5, 5): (0.72, 0.25),
              (0.25, 3): (0.2, 0.125), (0.25, 4): (1.0, 0.5), (0.25, 5): (0.6, 0.875)}
    _labels_a, _labels_b = np.arange(25) % 4, np.arange(8) % 4

    class _Fake:
        def __init__(self):
            _objects.append(self)

        def train(self, X_tr, y_tr, learning_rate=0.0, reg=0.0, num_iters=0, batch_size=0, **unused):
            self.hp = (learning_rate, reg)
            _log.append((self, num_iters, batch_size, len(X_tr)))
            return [0.0]

        def predict(self, rows):
            k = 0 if len(rows) == 25 else 1
            labels = _labels_a if k == 0 else _labels_b
            hits = int(round(_table[self.hp][k] * len(rows)))
            return np.concatenate([labels[:hits], (labels[hits:] + 1) % 4])

    _m, _v, _r = tune_hyperparameters(_Fake, np.ones((25, 3)), _labels_a, np.ones((8, 3)), _labels_b,
                                      [0.5, 0.25], [3, 4, 5], num_iters=11, batch_size=5, seed=4)
    assert _m.hp == (0.25, 5) and abs(_v - 0.875) < 1e-9, "choose by validation accuracy"
    assert set(_r) == set(_table) and all(np.allclose(_r[k], _table[k]) for k in _table)
    assert len({id(o) for o, *_ in _log}) == 6 and len(_objects) >= 6, "a fresh model per pair"
    assert all(n == 11 and b == 5 and rows == 25 for _, n, b, rows in _log), "train on the training set"
    """)
    b.given("svm_tune", """
    tic = time.perf_counter()
    best_svm, best_val, results = tune_hyperparameters(LinearSVM, X_train, y_train, X_val, y_val,
                                                       grid["learning_rates"], grid["regularization_strengths"],
                                                       num_iters=NUM_ITERS, seed=0)
    print(f"{len(results)} models in {time.perf_counter() - tic:.1f} s; best validation accuracy {best_val:.3f}")
    for (lr, reg), (train_acc, val_acc) in sorted(results.items()):
        print(f"  lr {lr:g}  reg {reg:g}: train {train_acc:.3f}  val {val_acc:.3f}")
    """)
    b.given("svm_heatmap", _heatmap_code("results", "SVM validation accuracy"))
    b.md("Only now, once, the test accuracy of the chosen model:")
    b.given("svm_test", """
    test_accuracy = np.mean(best_svm.predict(X_test) == y_test)
    print(f"SVM test accuracy: {test_accuracy:.3f}")
    assert data.source != "digits" or test_accuracy > 0.85
    """)
    b.md("Each column of `W` (bias dropped) is a *template* for its class: the score is the dot product "
         "of the image with it.")
    b.given("svm_templates", TEMPLATES.format(model="best_svm"))
    b.question("q_templates", 2, """
    **Question.** Describe the learned templates. Why do they look like blurry averages of
    their class?
    """, """
    Each template roughly looks like a blurred (mean-like) image of its class, with negative
    weight where other classes have ink: the score is a dot product, so one linear template per
    class must match every variant of the class at once (and push down the others), which
    averages them.
    """)
    return b.notebook()


# -------------------------------------------------------------------------------- softmax
def build_softmax() -> nbformat.NotebookNode:
    b = Builder("softmax")
    b.md("""
    # Part 3: the softmax classifier

    The softmax classifier turns the scores into probabilities, $p_j = e^{s_j} / \\sum_k e^{s_k}$,
    and its loss is the cross-entropy $L_i = -\\ln p_{y_i}$.

    This notebook reuses your gradient-check functions (`gradient_check.ipynb`) and your
    `LinearClassifier` and `tune_hyperparameters` (`svm.ipynb`): the cell below execs those
    solution cells of the two notebooks here.
    """)
    b.md(INTRO_CONVENTIONS)
    b.given("setup_softmax", setup_code(), tags=("setup",))
    b.given("load_earlier_parts", LOAD_GRADCHECK + """
# Your LinearClassifier and tune_hyperparameters from svm.ipynb (LinearSVM needs svm_loss_vectorized).
svm_loss_vectorized, LinearClassifier, LinearSVM, tune_hyperparameters = import_cells(
    "svm.ipynb", ["svm_loss_vectorized", "LinearClassifier", "LinearSVM", "tune_hyperparameters"], globals())
""")
    b.md("## The data")
    b.given("load_data", DATA)
    b.given("show_examples", SHOW_EXAMPLES)
    b.md("""
    ## The slides' example: the cat image

    The cat image's scores are 3.2 (cat), 5.1 (car), -1.7 (frog). Exponentiated:
    24.5, 164.0, 0.18; normalized: **0.13**, 0.87, 0.00. The loss is
    $-\\ln 0.13$ = **2.04**.

    The slides print 0.89 for the same loss: they use the base-10 logarithm
    ($-\\log_{10} 0.13 = 0.89 = 2.04 / \\ln 10$). Everything here uses the natural log, like
    numpy's `np.log` and like the sanity check "the loss at init is ln(C)". The slides' other
    example, scores [-2.85, 0.86, 0.28] with the third class correct, gives 1.04 nats (printed
    0.452 in log10); its SVM loss is 1.58.
    """)
    b.given("slides_softmax", """
    from slides import CAT_SOFTMAX, nats_to_log10

    scores = CAT_SOFTMAX.scores[0]
    exps = np.exp(scores)
    probs = exps / exps.sum()
    print("exp:", np.round(exps, 2), " probabilities:", np.round(probs, 2))
    print(f"loss = -ln p_cat = {-np.log(probs[0]):.2f} nats = {nats_to_log10(-np.log(probs[0])):.2f} in log10")
    """)
    b.md("""
    ### `softmax_loss_naive`

    Loop over the examples. Subtract each row's maximum score before `exp` (the probabilities
    do not change, and `exp` cannot overflow), and compute `log p` as
    `shifted - log(sum(exp(shifted)))` so that a tiny probability never becomes `log(0)`. The
    gradient of $L_i$ with respect to the scores is $p_j - 1[j = y_i]$.
    """)
    b.solution("softmax_loss_naive")
    b.tests("softmax_loss_naive", """
    from slides import CAT_CAR_FROG, CAT_CAR_FROG_SOFTMAX_DW, CAT_SOFTMAX, SVM_VS_SOFTMAX

    _loss, _dW = softmax_loss_naive(CAT_SOFTMAX.W, CAT_SOFTMAX.X, CAT_SOFTMAX.y, 0.0)
    assert abs(_loss - 0.886115) > 1e-3, "that is the slides' log10 value: use the natural log (np.log)"
    assert abs(_loss - 2.040355) < 1e-5, f"-ln(0.13) = 2.04 for the cat image, got {_loss}"
    _loss, _ = softmax_loss_naive(SVM_VS_SOFTMAX.W, SVM_VS_SOFTMAX.X, SVM_VS_SOFTMAX.y, 0.0)
    assert abs(_loss - 1.040191) < 1e-5, f"scores [-2.85, 0.86, 0.28], class 3: 1.04, got {_loss}"
    _loss, _dW = softmax_loss_naive(CAT_CAR_FROG.W, CAT_CAR_FROG.X, CAT_CAR_FROG.y, 0.0)
    assert abs(_loss - 2.758655) < 1e-5, f"the cat/car/frog table gives 2.758655, got {_loss}"
    assert _dW.shape == (3, 3) and np.allclose(_dW, CAT_CAR_FROG_SOFTMAX_DW, atol=1e-6)
    """, loss_expectations(ref_softmax.softmax_loss_naive, 301, 9, 6, 4, 0.0) + "\n" +
        loss_expectations(ref_softmax.softmax_loss_naive, 302, 11, 5, 3, 0.4, scale=2.0) + "\n" +
        "_l, _ = softmax_loss_naive(np.array([[1000.0, 1001.0, 999.0]]), np.ones((1, 1)), np.array([0]), 0.0)\n"
        "_l0, _ = softmax_loss_naive(np.array([[0.0, 1.0, -1.0]]), np.ones((1, 1)), np.array([0]), 0.0)\n"
        "assert np.isfinite(_l) and abs(_l - _l0) < 1e-9, 'subtract the max score'")
    b.md("""
    ### Sanity checks

    With a tiny `W` all scores are about equal, every class gets probability 1/C, and the loss
    is about **ln(C)** (ln 10 = 2.30). Then a gradient check without and with regularization.
    """)
    b.given("softmax_sanity", """
    import math

    W = 0.0001 * np.random.RandomState(0).randn(X_dev.shape[1], num_classes)
    loss, grad = softmax_loss_naive(W, X_dev, y_dev, 0.0)
    print(f"loss at init: {loss:.4f}   (ln C = {math.log(num_classes):.4f})")
    assert abs(loss - math.log(num_classes)) < 0.1

    for reg in (0.0, 5e1):
        loss, grad = softmax_loss_naive(W, X_dev, y_dev, reg)
        errors = grad_check_sparse(lambda w, reg=reg: softmax_loss_naive(w, X_dev, y_dev, reg)[0], W, grad,
                                   num_checks=10, seed=1)
        print(f"reg = {reg:g}: largest relative error {np.max(errors):.2e}")
        assert np.max(errors) < 1e-5
    """)
    b.question("q_softmax_init", 2, """
    **Question.** Why is the softmax loss about ln(C) at initialization? What would a value of
    about 1.0 for C = 10 suggest?
    """, """
    With W tiny all scores are about equal, so every class has probability 1/C and
    L_i = -ln(1/C) = ln C (2.30 for C = 10). A value of 1.0 = log10(10) means the code uses the
    base-10 logarithm (the slides' 0.89 convention) instead of the natural log.
    """)
    b.question("q_softmax_minmax", 2, """
    **Question.** What are the smallest and the largest possible values of the softmax loss
    $L_i$? Are they attained?
    """, """
    0 is the infimum: it is approached as p_y -> 1 (the correct score infinitely above the
    others) but never reached with finite scores. There is no maximum: as p_y -> 0 the loss
    grows without bound (+infinity). Unlike the SVM, softmax is never fully satisfied.
    """)
    b.md("""
    ### `softmax_loss_vectorized`

    The same loss and gradient without Python loops (shift every row by its own maximum).
    """)
    b.solution("softmax_loss_vectorized")
    b.tests("softmax_loss_vectorized", """
    from slides import CAT_CAR_FROG, CAT_SOFTMAX

    _loss, _ = softmax_loss_vectorized(CAT_SOFTMAX.W, CAT_SOFTMAX.X, CAT_SOFTMAX.y, 0.0)
    assert abs(_loss - 2.040355) < 1e-5, f"-ln(0.13) = 2.04 for the cat image, got {_loss}"
    _loss, _ = softmax_loss_vectorized(CAT_CAR_FROG.W, CAT_CAR_FROG.X, CAT_CAR_FROG.y, 0.0)
    assert abs(_loss - 2.758655) < 1e-5
    _W = 0.001 * np.random.RandomState(1).randn(X_dev.shape[1], num_classes)
    _ln, _gn = softmax_loss_naive(_W, X_dev, y_dev, 0.05)
    _lv, _gv = softmax_loss_vectorized(_W, X_dev, y_dev, 0.05)
    assert abs(_ln - _lv) < 1e-9, f"naive and vectorized losses differ: {_ln} vs {_lv}"
    assert np.linalg.norm(_gn - _gv) < 1e-9, "naive and vectorized gradients differ"
    """, loss_expectations(ref_softmax.softmax_loss_vectorized, 401, 15, 7, 5, 0.0) + "\n" +
        loss_expectations(ref_softmax.softmax_loss_vectorized, 402, 1, 4, 2, 0.3) + "\n" +
        STABILITY)
    b.given("softmax_timing", timing_cell("softmax"))
    b.md("## Training and tuning\n\n`Softmax` is a `LinearClassifier` whose loss is your `softmax_loss_vectorized`.")
    b.solution("Softmax")
    b.tests("Softmax", """
    _W = 0.001 * np.random.RandomState(3).randn(X_dev.shape[1], num_classes)
    _sm = Softmax()
    _sm.W = _W
    _l, _g = _sm.loss(X_dev, y_dev, 0.1)
    _lr, _gr = softmax_loss_vectorized(_W, X_dev, y_dev, 0.1)
    assert abs(_l - _lr) < 1e-12 and np.allclose(_g, _gr), "Softmax.loss is softmax_loss_vectorized on self.W"
    """, """
    _sm = Softmax()
    _sm.W = np.zeros((X_dev.shape[1], num_classes))
    assert abs(_sm.loss(X_dev, y_dev, 0.0)[0] - np.log(num_classes)) < 1e-12
    """)
    b.given("softmax_tune", """
    NUM_ITERS = 1500 if data.source == "cifar10" else 500  # the digits need far fewer steps
    tic = time.perf_counter()
    best_softmax, best_val, results = tune_hyperparameters(Softmax, X_train, y_train, X_val, y_val,
                                                           grid["learning_rates"], grid["regularization_strengths"],
                                                           num_iters=NUM_ITERS, seed=0)
    print(f"{len(results)} models in {time.perf_counter() - tic:.1f} s; best validation accuracy {best_val:.3f}")
    best_lr, best_reg = max(results, key=lambda k: results[k][1])
    loss_hist = Softmax().train(X_train, y_train, learning_rate=best_lr, reg=best_reg, num_iters=NUM_ITERS, seed=0)
    plt.figure(figsize=(5, 3))
    plt.plot(loss_hist, linewidth=1)
    plt.xlabel("iteration")
    plt.ylabel("minibatch loss")
    plt.title(f"softmax, lr {best_lr:g}, reg {best_reg:g}")
    plt.show()
    """)
    b.given("softmax_heatmap", _heatmap_code("results", "softmax validation accuracy"))
    b.given("softmax_test", """
    test_accuracy = np.mean(best_softmax.predict(X_test) == y_test)
    print(f"softmax test accuracy: {test_accuracy:.3f}")
    assert data.source != "digits" or test_accuracy > 0.85
    """)
    b.given("softmax_templates", TEMPLATES.format(model="best_softmax"))
    b.question("q_svm_vs_softmax", 2, """
    **Question.** Is it possible to add a training example that leaves the SVM loss unchanged
    but changes the softmax loss? Explain with the slides' example scores [-2.85, 0.86, 0.28].
    """, """
    Yes. An example whose correct score beats every other score by at least the margin has SVM
    loss exactly 0, so adding it leaves the (summed) SVM loss unchanged; its softmax loss is
    always > 0 (p_y < 1), so the softmax loss changes. For [-2.85, 0.86, 0.28] with class 3
    correct, the SVM loss is 1.58 and the softmax loss 1.04 nats; raising the third score to
    2.0 makes the SVM loss 0 while the softmax loss stays positive (0.28 nats).
    """)
    return b.notebook()


BUILDERS = {"gradient_check": build_gradient_check, "svm": build_svm, "softmax": build_softmax}


def render(nb: nbformat.NotebookNode) -> str:
    """The exact text written to disk (nbformat's stable layout plus a final newline)."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def build_all(out_dir: Path = SOURCE_DIR) -> dict[str, str]:
    """Render every notebook; return file name -> text (without writing)."""
    return {f"{name}.ipynb": render(build()) for name, build in BUILDERS.items()}


def ensure_links(out_dir: Path = SOURCE_DIR) -> list[str]:
    """Make the source directory's relative symlinks to the shared ``linclass`` modules."""
    made = []
    for name in SUPPORT_FILES:
        link = out_dir / name
        link.parent.mkdir(parents=True, exist_ok=True)
        target = Path(os.path.relpath(kit_path(name), link.parent))
        if link.is_symlink() and link.readlink() == target:
            continue
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to(target)
        made.append(name)
    return made


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the source notebooks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed notebook is out of date")
    args = parser.parse_args(argv)
    SOURCE_DIR.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, text in build_all().items():
        path = SOURCE_DIR / name
        if path.exists() and path.read_text() == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text)
    if args.check:
        if stale:
            print("out of date (run python -m linclass.notebook_build): " + ", ".join(stale))
        return 1 if stale else 0
    links = ensure_links()
    print(f"wrote {', '.join(stale) or 'nothing (up to date)'}; links {', '.join(links) or 'ok'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
