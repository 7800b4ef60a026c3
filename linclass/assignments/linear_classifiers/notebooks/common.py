"""Cells and code the three notebooks share: conventions, data, timing, seeded expectations."""

from __future__ import annotations

from typing import Callable

import numpy as np

from linclass.course.notebook_builder import printed


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
    # First the results: a fast wrong answer is not an achievement.
    loss_diff, grad_diff = abs(loss_naive - loss_vec), np.linalg.norm(grad_naive - grad_vec)
    print(f"difference: loss {loss_diff:.2e}, gradient (Frobenius) {grad_diff:.2e}")
    assert loss_diff < 1e-9 and grad_diff < 1e-9, (
        f"naive and vectorized disagree (loss {loss_naive:.6f} vs {loss_vec:.6f}): fix that before timing them")
    print(f"naive {t_naive * 1e3:.2f} ms, vectorized {t_vec * 1e3:.2f} ms: "
          f"{t_naive / max(t_vec, 1e-9):.0f}x faster, with the same results")
"""


def selfcheck_cell(grade_id: str) -> str:
    """The visible part of a test cell: the public self-check of ``grade_id`` on the live kernel."""
    return (f"from selfcheck import check_cell\n\n"
            f"_report = check_cell(\"{grade_id}\", globals())  # the public checks, on your code as it runs here\n"
            f"assert _report.passed, _report.summary")


def case_code(seed: int, n: int, d: int, c: int, scale: float = 1.0) -> str:
    """Code that builds a seeded random (W, X, y) case inside a test cell."""
    return (f"_rs = np.random.RandomState({seed})\n_W = {scale!r} * _rs.randn({d}, {c})\n"
            f"_X = _rs.randn({n}, {d})\n_y = _rs.randint({c}, size={n})\n_P = _rs.randn({d}, {c})")


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
restored from the original before grading. Each test cell runs the public self-check of its
function on your code as it is in this kernel (run your cell first; saving is not needed) and
prints what is wrong and a hint; the grader adds hidden tests. Before you submit, run the whole
public self-check in this folder:

    python selfcheck.py            # or, in a notebook cell:  %run selfcheck.py
    python selfcheck.py --part svm_loss_vectorized    # one part only

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


LOAD_GRADCHECK = """
from selfcheck import import_cells

# Your own gradient-check functions, loaded from the solution cells of gradient_check.ipynb
# (if your grad_check_sparse is not written yet, a provided checker stands in for it, with a note).
eval_numerical_gradient, rel_error, grad_check_sparse = import_cells(
    "gradient_check.ipynb", ["eval_numerical_gradient", "rel_error", "grad_check_sparse"], globals())
"""
