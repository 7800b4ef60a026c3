"""The checks of the reference tests, as functions that return the problems they find.

Every ``*_problems`` function runs one check on a function with the reference's signature
and returns a list of plain-words problems: empty means the check passes.  The reference
tests assert that the list is empty for ``solutions/``; ``test_reference_catches_bugs.py``
asserts that it is *not* empty for the known buggy variants.  So "this test catches that
bug" is a claim about exactly the same check.

Tolerances (seeds-catalog D13: never ``==`` on floats):

* against the catalog's recomputed values: relative 1e-6, or half a unit in the 6th
  decimal (the precision the catalog prints them with), whichever is larger;
* against the number printed on a slide (given as a string, e.g. ``"5.27"``): half a unit
  in the last printed digit (5e-3 for two decimals), i.e. the slide's number is the
  correct value rounded.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from linclass.assignments.linear_classifiers.shipped import slides
from solutions.linear_classifiers.gradient_check import eval_numerical_gradient as reference_numerical_gradient

LossFn = Callable[[np.ndarray, np.ndarray, np.ndarray, float], tuple]


# ---------------------------------------------------------------------------- tolerances
def printed_tolerance(printed: str) -> float:
    """Half a unit in the last digit of a number as printed: "5.27" -> 0.005, "24.5" -> 0.05."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return 0.5 * 10.0 ** -decimals + 1e-12


def mismatch(value: float, recomputed: float | None = None, printed: str | None = None) -> str | None:
    """Why ``value`` does not match the recomputed and/or printed number (None if it does)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return f"not a number: {value!r}"
    if not math.isfinite(value):
        return f"{value} is not finite"
    if recomputed is not None and not math.isclose(value, recomputed, rel_tol=1e-6, abs_tol=5e-7):
        return f"{value:.6f} != recomputed {recomputed:.6f}"
    if printed is not None and abs(value - float(printed)) > printed_tolerance(printed):
        return f"{value:.6f} does not round to the printed {printed}"
    return None


def array_mismatch(got, expected: np.ndarray, printed: tuple[str | None, ...] | None = None) -> str | None:
    """Entrywise :func:`mismatch` of an array (None if every entry matches)."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != np.shape(expected):
        return f"shape {got.shape} != {np.shape(expected)}"
    printed = printed or (None,) * got.size
    for k, (g, e, p) in enumerate(zip(got.ravel(), np.ravel(expected), printed)):
        problem = mismatch(g, float(e), p)
        if problem:
            return f"entry {tuple(int(i) for i in np.unravel_index(k, got.shape))}: {problem}"
    return None


# --------------------------------------------------------------------- slide worked numbers
E1, CAT, SVS = slides.CAT_CAR_FROG, slides.CAT_SOFTMAX, slides.SVM_VS_SOFTMAX
CIFAR_TABLE, LION_TIGER_LEOPARD = slides.CIFAR_CAT_CAR_FROG, slides.LION_TIGER_LEOPARD


@dataclass(frozen=True)
class SlideCase:
    """One worked number: a loss function of ``kind`` on a slide fixture gives ``recomputed``.

    ``quantity`` is what is compared: ``loss`` (nats), ``loss_log10`` (the slides'
    convention), ``dW`` (the analytic gradient) or ``probs`` (the softmax probabilities of
    a one-example fixture with X = [[1]], read off the gradient: dW = p - onehot(y)).
    """

    id: str
    where: str  # slide file:line (seeds-catalog notation) or catalog section for derived values
    kind: str  # "svm" or "softmax"
    W: np.ndarray
    X: np.ndarray
    y: np.ndarray
    recomputed: float | np.ndarray
    printed: str | tuple[str | None, ...] | None = None
    quantity: str = "loss"
    reg: float = 0.0
    abs_tol: float | None = None  # for cases whose inputs are only approximately the slide's (tiny W)


def _row(example: slides.SlideExample, i: int) -> dict:
    return {"W": example.W, "X": example.X[i:i + 1], "y": example.y[i:i + 1]}


def _whole(example: slides.SlideExample, scale: float = 1.0) -> dict:
    return {"W": scale * example.W, "X": example.X, "y": example.y}


def _tiny_w_inputs(num_classes: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"W": 1e-6 * rng.standard_normal((8, num_classes)), "X": rng.standard_normal((50, 8)),
            "y": rng.integers(0, num_classes, 50)}


def _zero_w_inputs(num_classes: int) -> dict:
    rng = np.random.default_rng(1)
    return {"W": np.zeros((4, num_classes)), "X": rng.standard_normal((7, 4)), "y": rng.integers(0, num_classes, 7)}


def _slide_cases() -> list[SlideCase]:
    c = []
    # ---- multiclass SVM
    for i, (loss, where) in enumerate(zip((2.9, 0.0, 12.9), ("000:375-387", "000:402-414", "002:285-292"))):
        c.append(SlideCase(f"E1-svm-example{i}", where, "svm", **_row(E1, i), recomputed=loss,
                           printed=("2.9", "0", "12.9")[i]))
    c.append(SlideCase("E1-svm-mean", "000:531-545, 002:318-322, 004:507-579", "svm", **_whole(E1),
                       recomputed=5.266667, printed="5.27"))
    c.append(SlideCase("E1-svm-dW", "seeds-catalog E1 (derived)", "svm", **_whole(E1),
                       recomputed=slides.CAT_CAR_FROG_SVM_DW, quantity="dW"))
    c.append(SlideCase("E1-svm-reg0.1", "seeds-catalog 5 (reg = 0.1)", "svm", **_whole(E1),
                       reg=slides.CAT_CAR_FROG_REG, recomputed=slides.CAT_CAR_FROG_SVM_LOSS_REG))
    c.append(SlideCase("E1-svm-dW-reg0.1", "seeds-catalog 5 (dW gains 2 reg W)", "svm", **_whole(E1),
                       reg=0.1, recomputed=slides.CAT_CAR_FROG_SVM_DW + 0.2 * E1.W, quantity="dW"))
    c.append(SlideCase("E1b-svm-doubled-car", "002:487-505, 004:798-804", "svm",
                       W=2 * E1.W[1:2], X=np.array([[1.0]]), y=np.array([1]), recomputed=0.0, printed="0"))
    c.append(SlideCase("E1b-svm-doubled-table", "seeds-catalog E1b (derived)", "svm", **_whole(E1, 2.0),
                       recomputed=9.533333))
    c.append(SlideCase("E2-svm-cat", "000:375-377, 002:221-228", "svm", **_whole(CAT), recomputed=2.9, printed="2.9"))
    c.append(SlideCase("E3-svm-hinge", "002:764-797", "svm", **_whole(SVS), recomputed=1.58, printed="1.58"))
    for C in (3, 10):
        c.append(SlideCase(f"E5-svm-init-zeroW-C{C}", "000:462-465", "svm", **_zero_w_inputs(C),
                           recomputed=slides.init_loss_svm(C)))
    c.append(SlideCase("E5-svm-init-tinyW-C10", "000:462-465", "svm", **_tiny_w_inputs(10),
                       recomputed=slides.init_loss_svm(10), abs_tol=1e-3))
    c.append(SlideCase("E9-svm-cifar-table", "002:55-68 (derived, columns cat/car/frog)", "svm",
                       **_whole(CIFAR_TABLE), recomputed=27.586667))
    for i, loss in enumerate((10.58, 0.27, 71.91)):
        c.append(SlideCase(f"E9-svm-example{i}", "002:55-68 (derived)", "svm", **_row(CIFAR_TABLE, i),
                           recomputed=loss))
    c.append(SlideCase("E10-svm-lion-tiger-leopard", "003:415-558 (with delta = 1: 9.466667; D3)", "svm",
                       **_whole(LION_TIGER_LEOPARD), recomputed=9.466667))

    # ---- softmax (natural log; the slides print log10)
    c.append(SlideCase("E2-softmax-cat-nats", "002:606-635, 004:648-720", "softmax", **_whole(CAT),
                       recomputed=2.040355, printed="2.04"))
    c.append(SlideCase("E2-softmax-cat-log10", "002:635, 004:720 (printed 0.89)", "softmax", **_whole(CAT),
                       recomputed=0.886115, printed="0.89", quantity="loss_log10"))
    c.append(SlideCase("E2-softmax-cat-probs", "000:610-638, 002:606-635", "softmax", **_whole(CAT),
                       recomputed=np.array(CAT.softmax_probs), printed=("0.13", "0.87", "0.00"), quantity="probs"))
    c.append(SlideCase("E3-softmax-nats", "002:764-797", "softmax", **_whole(SVS), recomputed=1.040191,
                       printed="1.04"))
    c.append(SlideCase("E3-softmax-log10", "002:797 (printed 0.452)", "softmax", **_whole(SVS),
                       recomputed=0.451749, printed="0.452", quantity="loss_log10"))
    # 0.016 is reproducible only from the slide's rounded exps (D2): compare 0.631 and 0.353 only.
    c.append(SlideCase("E3-softmax-probs", "002:790-793 (D2)", "softmax", **_whole(SVS),
                       recomputed=np.array(SVS.softmax_probs), printed=(None, "0.631", "0.353"), quantity="probs"))
    for i, loss in enumerate((2.040355, 0.079132, 6.156477)):
        c.append(SlideCase(f"E1-softmax-example{i}", "seeds-catalog 5 (E1 table, derived)", "softmax",
                           **_row(E1, i), recomputed=loss))
    c.append(SlideCase("E1-softmax-mean", "seeds-catalog 5 (E1 table, derived)", "softmax", **_whole(E1),
                       recomputed=2.758655))
    c.append(SlideCase("E1-softmax-mean-log10", "seeds-catalog 5 (E1 table, derived)", "softmax", **_whole(E1),
                       recomputed=1.198069, quantity="loss_log10"))
    c.append(SlideCase("E1-softmax-dW", "seeds-catalog 5 (E1 analytic dW)", "softmax", **_whole(E1),
                       recomputed=slides.CAT_CAR_FROG_SOFTMAX_DW, quantity="dW"))
    c.append(SlideCase("E1-softmax-reg0.1", "seeds-catalog 5 (sum(W**2) = 89.54)", "softmax", **_whole(E1),
                       reg=0.1, recomputed=2.758655 + 8.954))
    for C, printed in ((3, None), (10, "2.3")):
        c.append(SlideCase(f"E5-softmax-init-zeroW-C{C}", "000:699-704, 002:761-762", "softmax",
                           **_zero_w_inputs(C), recomputed=slides.init_loss_softmax(C), printed=printed))
    c.append(SlideCase("E5-softmax-init-tinyW-C10", "002:761-762 (log(10) ~ 2.3)", "softmax", **_tiny_w_inputs(10),
                       recomputed=slides.init_loss_softmax(10), printed="2.30", abs_tol=1e-3))
    c.append(SlideCase("E9-softmax-cifar-table", "002:55-68 (derived, columns cat/car/frog)", "softmax",
                       **_whole(CIFAR_TABLE), recomputed=5.680603))
    c.append(SlideCase("E10-softmax-lion-tiger-leopard", "003:869-933 (derived)", "softmax",
                       **_whole(LION_TIGER_LEOPARD), recomputed=5.068393))
    return c


SLIDE_CASES: list[SlideCase] = _slide_cases()


def evaluate(loss_fn: LossFn, case: SlideCase):
    """The compared quantity of ``loss_fn`` on ``case`` (inputs passed as copies)."""
    loss, dW = checked_call(loss_fn, case.W.copy(), case.X.copy(), case.y.copy(), case.reg)
    if case.quantity == "loss":
        return loss
    if case.quantity == "loss_log10":
        return slides.nats_to_log10(float(loss))
    if case.quantity == "dW":
        return dW
    if case.quantity == "probs":  # one example, X = [[1]]: dW = p - onehot(y)
        return dW[0] + np.eye(case.W.shape[1])[case.y[0]]
    raise ValueError(case.quantity)


def slide_case_problem(loss_fn: LossFn, case: SlideCase) -> str | None:
    """Why ``loss_fn`` does not reproduce the case's worked number (None if it does)."""
    try:
        value = evaluate(loss_fn, case)
    except Exception as exc:  # a buggy variant may crash: that is a problem, not an error of the check
        return f"{case.id}: raised {type(exc).__name__}: {exc}"
    if case.abs_tol is not None:
        value = float(value)
        problem = None if abs(value - case.recomputed) <= case.abs_tol else f"{value} != ~{case.recomputed}"
        problem = problem or mismatch(value, None, case.printed)
    elif np.ndim(case.recomputed):
        problem = array_mismatch(value, case.recomputed, case.printed)
    else:
        problem = mismatch(value, case.recomputed, case.printed)
    return f"{case.id} ({case.where}): {problem}" if problem else None


def slide_problems(loss_fn: LossFn, kind: str) -> list[str]:
    """Every slide worked number of ``kind`` that ``loss_fn`` fails to reproduce."""
    return [p for case in SLIDE_CASES if case.kind == kind if (p := slide_case_problem(loss_fn, case))]


# ----------------------------------------------------------------------- gradient check
GRAD_H = 1e-5
SOFTMAX_GRAD_TOL = 1e-7
SVM_GRAD_TOL = 1e-7  # away from the kinks the hinge is piecewise linear: centered differences are exact


def svm_margins(W: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The hinge arguments s_j - s_y + 1 for j != y (flattened)."""
    scores = X @ W
    margins = scores - scores[np.arange(len(y)), y][:, None] + 1.0
    return np.delete(margins, np.ravel_multi_index((np.arange(len(y)), y), margins.shape))


def kink_distance(W: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """How far the nearest hinge is from its kink, in units of the largest score change a
    numeric step of ``GRAD_H`` on one entry of W can cause (``GRAD_H * max|X|``)."""
    return float(np.min(np.abs(svm_margins(W, X, y)))) / (GRAD_H * float(np.max(np.abs(X))))


def gradient_inputs(kind: str, seed: int, shape: tuple[int, int, int] = (6, 5, 4)):
    """Random (W, X, y) for a gradient check; for the SVM, every margin is at least
    10 numeric steps away from its kink (we draw until that holds)."""
    N, D, C = shape
    for attempt in range(100):
        rng = np.random.default_rng([seed, attempt])
        W, X, y = rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.integers(0, C, N)
        if kind != "svm" or kink_distance(W, X, y) >= 10:
            return W, X, y
    raise RuntimeError("no kink-free inputs found")


def gradient_problems(loss_fn: LossFn, kind: str, seed: int = 0, reg: float = 0.1,
                      shape: tuple[int, int, int] = (6, 5, 4)) -> list[str]:
    """The analytic gradient of ``loss_fn`` against centered differences (the reference's)."""
    W, X, y = gradient_inputs(kind, seed, shape)
    tol = SVM_GRAD_TOL if kind == "svm" else SOFTMAX_GRAD_TOL
    try:
        _, dW = checked_call(loss_fn, W.copy(), X.copy(), y.copy(), reg)
        numeric = reference_numerical_gradient(lambda w: float(loss_fn(w, X.copy(), y.copy(), reg)[0]), W.copy(),
                                               GRAD_H)
        err = float(np.max(np.abs(numeric - dW) / np.maximum(1e-8, np.abs(numeric) + np.abs(dW))))
    except Exception as exc:
        return [f"raised {type(exc).__name__}: {exc}"]
    return [] if err < tol else [f"gradient check (seed {seed}, reg {reg}): relative error {err:.2e} >= {tol:g}"]


# ------------------------------------------------------------ inputs, dtypes, stability
def random_inputs(seed: int, N: int = 7, D: int = 5, C: int = 4, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.integers(0, C, N)


def checked_call(loss_fn: LossFn, W, X, y, reg) -> tuple[float, np.ndarray]:
    """``loss_fn(W, X, y, reg)`` as (float, float64 array shaped like W); ValueError otherwise."""
    out = loss_fn(W, X, y, reg)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError(f"returned {type(out).__name__}, not a (loss, dW) pair")
    loss, dW = float(out[0]), np.asarray(out[1], dtype=np.float64)
    if dW.shape != np.shape(W):
        raise ValueError(f"dW has shape {dW.shape}, expected {np.shape(W)}")
    return loss, dW


def mutation_problems(loss_fn: LossFn, seed: int = 0) -> list[str]:
    """Whether ``loss_fn`` modifies W, X or y (compared with copies after the call)."""
    W, X, y = random_inputs(seed)
    before = (W.copy(), X.copy(), y.copy())
    try:
        loss_fn(W, X, y, 0.1)
    except Exception as exc:
        return [f"raised {type(exc).__name__}: {exc}"]
    return [f"modified its input {name}" for name, a, b in zip("WXy", (W, X, y), before) if not np.array_equal(a, b)]


def float32_problems(loss_fn: LossFn, seed: int = 0) -> list[str]:
    """float32 inputs give finite results close to the float64 ones."""
    W, X, y = random_inputs(seed)
    try:
        loss64, dW64 = checked_call(loss_fn, W.copy(), X.copy(), y.copy(), 0.1)
        loss32, dW32 = checked_call(loss_fn, W.astype(np.float32), X.astype(np.float32), y.copy(), 0.1)
    except Exception as exc:
        return [f"float32 inputs: raised {type(exc).__name__}: {exc}"]
    if not (math.isfinite(loss32) and np.all(np.isfinite(dW32))):
        return ["float32 inputs: non-finite result"]
    if not (math.isclose(loss32, float(loss64), rel_tol=1e-4) and np.allclose(dW32, dW64, rtol=1e-3, atol=1e-4)):
        return [f"float32 inputs: loss {loss32} / dW differ from the float64 result {float(loss64)}"]
    return []


def stability_inputs(seed: int = 0, N: int = 5, D: int = 4, C: int = 6):
    """Scores up to ~1e4, plus the same data with row i's scores all shifted by i * 1e3.

    Returns (W, X, W_shifted, X_shifted, y).  The shift comes from an extra feature
    (value i in row i) whose weight is 1e3 in every class.  Adding the same number to
    every score of a row changes neither a hinge margin s_j - s_y nor a softmax
    probability, so with reg = 0 both losses, and the gradient rows of the original
    features, must be unchanged.
    """
    rng = np.random.default_rng(seed)
    W, X, y = rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.integers(0, C, N)
    scores = X @ W
    W = W * (1e4 / np.max(np.abs(scores)))
    X_shifted = np.hstack([X, np.arange(N, dtype=np.float64)[:, None]])
    W_shifted = np.vstack([W, np.full((1, C), 1e3)])
    return W, X, W_shifted, X_shifted, y


def stability_problems(loss_fn: LossFn, seed: int = 0) -> list[str]:
    """Scores up to 1e4 and rows offset by 1e3 give finite, shift-invariant results."""
    W, X, Ws, Xs, y = stability_inputs(seed)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss, dW = checked_call(loss_fn, W.copy(), X.copy(), y.copy(), 0.0)
            loss_s, dW_s = checked_call(loss_fn, Ws.copy(), Xs.copy(), y.copy(), 0.0)
    except Exception as exc:
        return [f"large scores: raised {type(exc).__name__}: {exc}"]
    if not all(math.isfinite(v) for v in (loss, loss_s)) or not (np.all(np.isfinite(dW)) and np.all(np.isfinite(dW_s))):
        return [f"large scores: non-finite loss ({loss}, {loss_s}) or gradient"]
    if not (math.isclose(loss, loss_s, rel_tol=1e-9) and np.allclose(dW, dW_s[:-1], rtol=1e-9, atol=1e-9)):
        return [f"large scores: shifting every score of a row changed the result ({loss} vs {loss_s})"]
    return []


def agreement_problems(fn: LossFn, ref: LossFn, W, X, y, reg, tol: float = 1e-10) -> list[str]:
    """``fn`` and ``ref`` give the same loss and gradient (relative and absolute ``tol``)."""
    loss_a, dW_a = fn(W.copy(), X.copy(), y.copy(), reg)
    loss_b, dW_b = ref(W.copy(), X.copy(), y.copy(), reg)
    problems = []
    if not math.isclose(float(loss_a), float(loss_b), rel_tol=tol, abs_tol=tol):
        problems.append(f"loss {loss_a!r} != {loss_b!r}")
    if np.shape(dW_a) != np.shape(dW_b):
        problems.append(f"dW has shape {np.shape(dW_a)}, not {np.shape(dW_b)}")
    elif not np.allclose(dW_a, dW_b, rtol=tol, atol=tol):
        problems.append(f"dW differs by up to {np.max(np.abs(np.subtract(dW_a, dW_b))):.3e}")
    return problems


def loss_problems(loss_fn: LossFn, kind: str) -> dict[str, list[str]]:
    """Every check of a loss function, by name (the battery the reference passes)."""
    return {
        "slides": slide_problems(loss_fn, kind),
        "gradient": gradient_problems(loss_fn, kind, seed=0) + gradient_problems(loss_fn, kind, seed=1, reg=0.0),
        "no mutation": mutation_problems(loss_fn),
        "float32": float32_problems(loss_fn),
        "stability": stability_problems(loss_fn),
    }


# ------------------------------------------------------------- gradient-check functions
def cubic(x: np.ndarray) -> float:
    """f(x) = sum(x**3): the centered difference errs by exactly h**2 per entry, the forward
    difference by about 3 x h."""
    return float(np.sum(x ** 3))


CUBIC_X = np.array([[0.5, -1.3, 2.0], [1.1, 0.3, -0.7]])


def numerical_gradient_problems(eval_fn) -> list[str]:
    """eval_numerical_gradient: centered (error O(h^2)), restores x, even when f raises."""
    problems = []
    try:
        errors = {}
        for h in (1e-2, 1e-3):
            x = CUBIC_X.copy()
            grad = np.asarray(eval_fn(cubic, x, h=h), dtype=np.float64)
            if grad.shape != x.shape:
                return [f"returned shape {grad.shape}, expected {x.shape}"]
            if not np.array_equal(x, CUBIC_X):
                problems.append("x is not restored after the call")
            errors[h] = float(np.max(np.abs(grad - 3 * CUBIC_X ** 2)))
        # centered: error h**2 (1e-4, then 1e-6); forward: about 3*x*h (6e-2, then 6e-3)
        if not errors[1e-3] < 2e-6 or not 50 < errors[1e-2] / max(errors[1e-3], 1e-300) < 200:
            problems.append(f"not centered: errors {errors[1e-2]:.2e} (h=1e-2), {errors[1e-3]:.2e} (h=1e-3) "
                            "do not shrink like h**2")
        w = np.array([2.0])  # 003:1029-1408: L = w**2 + 3 at w = 2 has gradient 4
        slope = float(np.ravel(eval_fn(lambda v: float(v[0] ** 2 + 3), w))[0])
        if not math.isclose(slope, 4.0, abs_tol=1e-6):
            problems.append(f"gradient of w**2 + 3 at 2 is {slope}, expected 4")
    except Exception as exc:
        return problems + [f"raised {type(exc).__name__}: {exc}"]

    calls = []

    def fails_on_third_call(v):
        calls.append(1)
        if len(calls) == 3:
            raise ZeroDivisionError("f failed")
        return cubic(v)

    x = CUBIC_X.copy()
    try:
        eval_fn(fails_on_third_call, x)
    except ZeroDivisionError:
        pass
    except Exception as exc:
        problems.append(f"with a failing f: raised {type(exc).__name__}: {exc}")
    if not np.array_equal(x, CUBIC_X):
        problems.append("x is not restored when f raises")
    return problems


def quadratic_sine(a: np.ndarray, b: np.ndarray):
    """f(x) = sum(a x**2 + b sin x) and its exact gradient."""
    return (lambda x: float(np.sum(a * x ** 2 + b * np.sin(x)))), (lambda x: 2 * a * x + b * np.cos(x))


def grad_check_sparse_problems(check_fn) -> list[str]:
    """grad_check_sparse: shape, centered accuracy, catches a wrong gradient, seed, restores x (even when f raises)."""
    rng = np.random.default_rng(0)
    a, b, x0 = rng.uniform(0.5, 2, (4, 5)), rng.uniform(0.5, 2, (4, 5)), rng.uniform(-2, 2, (4, 5))
    f, grad = quadratic_sine(a, b)
    problems = []
    try:
        x = x0.copy()
        errors = np.asarray(check_fn(f, x, grad(x0), num_checks=8, seed=3), dtype=np.float64)
        if errors.shape != (8,):
            return [f"returned shape {errors.shape}, expected (num_checks,) = (8,)"]
        if not np.array_equal(x, x0):
            problems.append("x is not restored")
        if not np.all(errors < 1e-7):
            problems.append(f"a correct gradient gives relative errors up to {np.max(errors):.2e} (not centered?)")
        # a gradient that is wrong by a different factor in every entry: the errors say which were checked
        skewed = grad(x0) * (1 + 0.01 * np.arange(x0.size).reshape(x0.shape))
        runs = [np.asarray(check_fn(f, x0.copy(), skewed, num_checks=8, seed=s), dtype=np.float64)
                for s in (7, 7, 8)]
        if not np.allclose(runs[0], runs[1]):
            problems.append("the same seed checks different entries")
        if np.allclose(runs[0], runs[2]):
            problems.append("different seeds check the same entries")
        if np.unique(runs[0]).size == 1:
            problems.append("every check of one call looked at the same entry")
        wrong = np.asarray(check_fn(f, x0.copy(), grad(x0) + 1.0, num_checks=8, seed=0), dtype=np.float64)
        if not np.all(wrong > 1e-3):
            problems.append("a wrong gradient is not flagged")
    except Exception as exc:
        problems.append(f"raised {type(exc).__name__}: {exc}")

    def broken(v):
        raise ZeroDivisionError("f failed")

    x = x0.copy()
    try:
        check_fn(broken, x, grad(x0), num_checks=3, seed=0)
    except ZeroDivisionError:
        pass
    except Exception as exc:
        problems.append(f"with a failing f: raised {type(exc).__name__}: {exc}")
    if not np.array_equal(x, x0):
        problems.append("x is not restored when f raises")
    return problems


def rel_error_problems(rel_fn) -> list[str]:
    """rel_error: a float, the largest entrywise |x - y| / (|x| + |y|), never dividing by zero."""
    problems = []
    cases = [((0.0, 0.0), 0.0), ((np.zeros(3), np.zeros(3)), 0.0), ((1.0, 1.1), 0.1 / 2.1),
             ((np.array([1.0, 2.0, 0.0]), np.array([1.0, 2.2, 0.0])), 0.2 / 4.2),
             ((np.array([[3.0, -1.0]]), np.array([[3.0, 1.0]])), 1.0)]
    for (x, y), expected in cases:
        try:
            with warnings.catch_warnings(), np.errstate(all="raise"):
                warnings.simplefilter("error")
                got = rel_fn(x, y)
        except Exception as exc:
            problems.append(f"rel_error({x!r}, {y!r}) raised {type(exc).__name__}: {exc}")
            continue
        if not isinstance(got, float):
            problems.append(f"rel_error({x!r}, {y!r}) returned a {type(got).__name__}, not a float")
        elif not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            problems.append(f"rel_error({x!r}, {y!r}) = {got}, expected {expected}")
    return problems


# ------------------------------------------------------------------- training and tuning
def blobs(seed: int = 0, N: int = 60, D: int = 4, C: int = 3):
    """Well-separated Gaussian blobs with a bias column: easy for a linear classifier."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, N)
    y[:C] = np.arange(C)
    X = 4 * rng.standard_normal((C, D - 1))[y] + rng.standard_normal((N, D - 1))
    return np.hstack([X, np.ones((N, 1))]), y


def _attempt(problems: list[str], what: str, fn: Callable[[], object]):
    try:
        return fn()
    except Exception as exc:
        problems.append(f"{what}: raised {type(exc).__name__}: {exc}")
        return None


def train_problems(cls: type) -> dict[str, list[str]]:
    """Every check of ``cls().train`` (a LinearClassifier subclass), by name."""
    X, y = blobs()
    found: dict[str, list[str]] = {k: [] for k in ("initializes W", "keeps W", "no mutation", "history", "seed",
                                                   "with replacement", "minibatches")}

    model = cls()
    _attempt(found["initializes W"], "train", lambda: model.train(X, y, learning_rate=0.0, num_iters=1, seed=0))
    W = None if model.W is None else np.asarray(model.W, dtype=np.float64)
    if W is None or W.shape != (X.shape[1], 3) or not 0 < np.std(W) < 0.01:
        found["initializes W"].append("W after the first train is not a (D, C) array of 0.001 * randn")

    W0 = np.random.default_rng(1).standard_normal((X.shape[1], 3))
    before = W0.copy()
    model = cls()
    model.W = W0
    _attempt(found["keeps W"], "train", lambda: model.train(X, y, learning_rate=0.0, num_iters=3, seed=0))
    if not np.array_equal(np.asarray(model.W), before):
        found["keeps W"].append("a W set before train was replaced (with learning_rate = 0 it must stay)")
    _attempt(found["no mutation"], "train", lambda: model.train(X, y, learning_rate=1e-2, num_iters=3, seed=0))
    if not np.array_equal(W0, before):
        found["no mutation"].append("the caller's W array was modified in place")

    history = _attempt(found["history"], "train", lambda: cls().train(X, y, learning_rate=1e-2, reg=1e-3,
                                                                       num_iters=200, batch_size=20, seed=0))
    if not (isinstance(history, list) and len(history) == 200 and all(isinstance(v, float) for v in history)):
        found["history"].append(f"train returned {type(history).__name__}, not a list of 200 floats")
    elif not np.mean(history[-20:]) < 0.5 * np.mean(history[:20]):
        found["history"].append(f"the loss does not decrease: {np.mean(history[:20]):.3g} -> "
                                f"{np.mean(history[-20:]):.3g}")

    weights = []
    for seed in (5, 5, 6):
        model = cls()
        _attempt(found["seed"], "train", lambda m=model, s=seed: m.train(X, y, learning_rate=1e-2, num_iters=20,
                                                                          batch_size=10, seed=s))
        weights.append(np.asarray(model.W))
    if not np.array_equal(weights[0], weights[1]) or np.array_equal(weights[0], weights[2]):
        found["seed"].append("the same seed does not give the same W (or different seeds the same W)")

    _attempt(found["with replacement"], "batch_size > N",
             lambda: cls().train(X[:5], y[:5], learning_rate=1e-2, num_iters=3, batch_size=50, seed=0))

    batches: list[np.ndarray] = []

    class Recording(cls):
        def loss(self, X_batch, y_batch, reg):
            batches.append(X_batch[:, 0].copy())
            return super().loss(X_batch, y_batch, reg)

    X_ids = X.copy()
    X_ids[:, 0] = np.arange(len(X))  # the first feature names the row
    _attempt(found["minibatches"], "train", lambda: Recording().train(X_ids, y, learning_rate=1e-4, num_iters=10,
                                                                      batch_size=8, seed=0))
    if len(batches) != 10 or len({b.tobytes() for b in batches}) < 10 or len(set(np.concatenate(batches))) < 30:
        found["minibatches"].append("the minibatches are not fresh random samples of the whole training set")
    return found


def predict_problems(cls: type) -> list[str]:
    """predict: int labels of shape (N,), the argmax of each row of scores."""
    rng = np.random.default_rng(0)
    model = cls()
    model.W = rng.standard_normal((4, 5))
    X = rng.standard_normal((7, 4))
    problems: list[str] = []
    pred = _attempt(problems, "predict", lambda: np.asarray(model.predict(X)))
    if pred is not None:
        if pred.shape != (7,) or not np.issubdtype(pred.dtype, np.integer):
            problems.append(f"predict returned {pred.dtype} of shape {pred.shape}, expected ints of shape (7,)")
        elif not np.array_equal(pred, np.argmax(X @ model.W, axis=1)):
            problems.append("predict is not the highest-scoring class of each row")
    return problems


VAL_Y = np.array([1, 2, 3])


class LookupModel:
    """A stand-in model class for tuning: its accuracies are chosen per learning rate.

    With learning rate 1 it is perfect on the training set (4 rows) and wrong on validation
    (it memorized); with learning rate 2 it is mediocre on training and perfect on
    validation.  Every instance records the hyper-parameters it was trained with.
    """

    instances: list = []

    def __init__(self):
        self.W = None
        self.trained: list[tuple[float, float]] = []
        LookupModel.instances.append(self)

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False, seed=None):
        self.trained.append((learning_rate, reg))
        self.y_train = y
        return [0.0]

    def predict(self, X):
        lr = self.trained[-1][0]
        if X.shape[0] == 4:  # the training set
            return self.y_train.copy() if lr == 1.0 else np.array([0, 0, 9, 9])
        return np.full(len(X), 9) if lr == 1.0 else VAL_Y.copy()


def tune_problems(tune_fn: Callable) -> dict[str, list[str]]:
    """tune_hyperparameters: selects by validation, a fresh model per pair, passes the pair on."""
    found: dict[str, list[str]] = {"selects by validation": [], "fresh model": [], "passes hyperparameters": []}
    LookupModel.instances = []
    out = _attempt(found["selects by validation"], "tune", lambda: tune_fn(
        LookupModel, np.zeros((4, 1)), np.array([0, 1, 2, 3]), np.zeros((3, 1)), VAL_Y,
        learning_rates=[1.0, 2.0], regularization_strengths=[0.5, 0.7], num_iters=1, batch_size=1))
    if out is None:
        return found
    best, best_val, results = out
    if not (isinstance(best, LookupModel) and best.trained[-1][0] == 2.0 and best_val == 1.0):
        found["selects by validation"].append("the best model is not the one with the best validation accuracy")
    if results != {(1.0, 0.5): (1.0, 0.0), (1.0, 0.7): (1.0, 0.0), (2.0, 0.5): (0.25, 1.0), (2.0, 0.7): (0.25, 1.0)}:
        found["selects by validation"].append(f"results are {results}")
    if len(LookupModel.instances) != 4 or any(len(m.trained) != 1 for m in LookupModel.instances):
        found["fresh model"].append("the four pairs were not trained on four fresh models")
    pairs = sorted(p for m in LookupModel.instances for p in m.trained)
    if pairs != [(1.0, 0.5), (1.0, 0.7), (2.0, 0.5), (2.0, 0.7)]:
        found["passes hyperparameters"].append(f"train received the pairs {pairs}")
    return found
