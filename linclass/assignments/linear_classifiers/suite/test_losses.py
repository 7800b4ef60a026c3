"""SVM and softmax losses: values and gradients against the reference, on inputs randomized
per student, plus edge cases, the student's own gradient check, input immutability,
numerical stability, and vectorization."""

from __future__ import annotations

import json
import statistics

import numpy as np
import pytest

from autograder import helper_process
from autograder.verdicts import CheckFailed, as_loss_and_grad, close, require_ok
from linclass.assignments.linear_classifiers import yardstick
from linclass.assignments.linear_classifiers.inputs import (
    LossCase,
    edge_cases,
    kink_free_case,
    random_case,
    stability_cases,
    standard_cases,
)
from linclass.assignments.linear_classifiers.reference import (
    LOSS_PARTS,
    NAIVE_OF,
    REGULARIZATION,
    VECTORIZED_PARTS,
    diagnose,
    entries,
    graded_loss,
    reference_loss,
    rel_error,
)
from linclass.student.loops import find_loops


def check_against_reference(grading, part: str, cases: list[LossCase]) -> None:
    """Call ``part`` on every case (one round trip) and compare each loss and dW with the reference,
    in order: the first case that disagrees fails the check."""
    for case, result in zip(cases, grading.call_each(part, [case.args for case in cases]), strict=True):
        check_result(grading, part, case, result)


def check_result(grading, part: str, case: LossCase, result) -> None:
    """Compare ``part``'s result on ``case`` (loss and dW) with the reference."""
    if not result.ok and result.error.kind == "exception":
        check_transposed_layout(grading, part, case)
    raw = require_ok(result, f"{part} on {case.describe()}")
    float32 = case.W.dtype == np.float32
    rtol, gtol = (1e-4, 1e-3) if float32 else (1e-6, 1e-6)
    try:
        loss, dW = as_loss_and_grad(raw, case.W.shape, part)
    except CheckFailed as exc:
        raise CheckFailed(f"On {case.describe()}: {exc.message}", diagnose(part, case.args, raw)) from None
    ref_loss, ref_dW = graded_loss(grading, part, *case.args)
    problems = []
    if not close(loss, ref_loss, rtol=rtol):
        problems.append(f"the loss is {loss:.6g}, expected {ref_loss:.6g}")
    err = rel_error(dW, ref_dW) if not float32 else float(np.max(np.abs(dW - ref_dW)) / max(1e-8, np.abs(ref_dW).max()))
    if err > gtol:
        problems.append(f"dW differs from the expected gradient (largest relative error {err:.2g})")
    if problems:
        raise CheckFailed(f"On {case.describe()}: " + "; ".join(problems) + ".", diagnose(part, case.args, (loss, dW)))


def check_transposed_layout(grading, part: str, case: LossCase) -> None:
    """After an error: is the code right for the 2015 layout, W (C, D) and X (D, N)?  Then say so,
    for this check and every later check of the part (under either regularization convention)."""
    W, X = case.W.T.copy(), case.X.T.copy()
    result = grading.call(part, W, X, case.y, case.reg)
    if not result.ok:
        return
    try:
        loss, dW = as_loss_and_grad(result.value, W.shape, part)
    except CheckFailed:
        return
    for convention in REGULARIZATION:
        ref_loss, ref_dW = reference_loss(part, *case.args, regularization=convention)
        if close(loss, ref_loss, rtol=1e-5) and np.allclose(dW.T, ref_dW, rtol=1e-4, atol=1e-7):
            grading.fail_part(part, "Your function is written for the 2015 CS231n layout: it fails on this "
                              "assignment's shapes, and is right when given W and X transposed.",
                              entries("transposed_layout"),
                              note="This code follows the 2015 CS231n layout, W of shape (C, D) and X of shape (D, N); "
                                   "this assignment uses W (D, C) and X (N, D), so every function that takes them "
                                   "fails here.")


@pytest.mark.parametrize("part", LOSS_PARTS)
def test_matches_reference(grading, rng, part):
    """Loss and gradient match the reference on random inputs."""
    check_against_reference(grading, part, standard_cases(rng))


@pytest.mark.parametrize("part", LOSS_PARTS)
def test_edge_cases(grading, rng, part):
    """A single example, two classes, float32 inputs (reg = 0: the regularizer is checked above)."""
    check_against_reference(grading, part, edge_cases(rng))


@pytest.mark.parametrize("part", ("softmax_loss_vectorized",))
def test_numerically_stable(grading, rng, part):
    """Large scores (about 1e4; rows 800 apart) give the finite, correct loss."""
    check_against_reference(grading, part, stability_cases(rng))


@pytest.mark.parametrize("part", LOSS_PARTS)
def test_gradient_check(grading, rng, part):
    """The analytic dW agrees with a numeric gradient of the student's own loss."""
    h = 1e-5
    cases = [kink_free_case(rng, reg, h) for reg in (0.0, 1.0)]
    # One round trip for both: each case's call, then its loss at every W moved by +-h per entry.
    calls = []
    for case in cases:
        calls.append(case.args)
        for ix in np.ndindex(case.W.shape):
            for sign in (1, -1):
                W = case.W.copy()
                W[ix] += sign * h
                calls.append((W, case.X, case.y, case.reg))
    results = grading.call_each(part, calls)
    for case in cases:
        reg = case.reg
        raw = require_ok(next(results), f"{part} on {case.describe()}")
        _, dW = as_loss_and_grad(raw, case.W.shape, part)
        losses = [as_loss_and_grad(require_ok(next(results), f"{part} at a perturbed W"), case.W.shape, part)[0]
                  for _ in range(2 * case.W.size)]
        numeric = ((np.array(losses[0::2]) - np.array(losses[1::2])) / (2 * h)).reshape(case.W.shape)
        err = rel_error(numeric, dW)
        if err > 1e-5:
            where = ("only with regularization (reg = 1): look at the regularizer's gradient"
                     if reg else "even without regularization: look at the data-loss gradient")
            raise CheckFailed(f"Your dW is not the gradient of your own loss: a numeric gradient check of your "
                              f"loss disagrees with your dW (relative error {err:.2g}) {where}.",
                              diagnose(part, case.args, raw))


@pytest.mark.parametrize("part", LOSS_PARTS)
def test_inputs_unchanged(grading, rng, part):
    """W, X and y are the same after the call (and a second call on them gives the same loss)."""
    case = random_case(rng, "a random input", N=10, D=6, C=4, reg=0.5)
    result = grading.call(part, *case.args, repeat=2)
    first, second = require_ok(result, f"{part} called twice on {case.describe()}")
    for name, before, after in zip(("W", "X", "y"), case.args, result.inputs_after or ()):
        if not isinstance(after, np.ndarray) or after.shape != before.shape or not np.array_equal(after, before):
            raise CheckFailed(f"{part} modified its input {name}. A loss function must leave its inputs as they "
                              "were: the caller (e.g. the training loop) still needs them.",
                              entries("loss_modifies_w") if name == "W" and part in VECTORIZED_PARTS else [])
    # Evidence that needs no report from the student process: the same call on the same arrays
    # gives the same loss unless the first call changed them.
    losses = [as_loss_and_grad(v, case.W.shape, part)[0] for v in (first, second)]
    if not close(losses[0], losses[1], rtol=1e-12, atol=1e-12):
        raise CheckFailed(f"{part} gave two different losses ({losses[0]:.6g}, then {losses[1]:.6g}) for the same "
                          "arrays: the first call changed its inputs. A loss function must leave them as they were.",
                          entries("loss_modifies_w") if part in VECTORIZED_PARTS else [])


@pytest.mark.parametrize("part", VECTORIZED_PARTS)
def test_no_python_loops(grading, rng, part):
    """The vectorized version runs and has no Python loops (for, while, comprehensions)."""
    case = random_case(rng, "a random input", N=10, D=6, C=4, reg=0.5)  # a stub earns nothing here
    as_loss_and_grad(require_ok(grading.call(part, *case.args), f"{part} on {case.describe()}"), case.W.shape, part)
    loops = find_loops(grading.sources(), part)
    if loops is None:
        raise CheckFailed(f"Could not find `def {part}` in your code to check it for loops.")
    if loops:
        listed = "; ".join(str(loop) for loop in loops[:5])
        raise CheckFailed(f"{part} should use no Python loops, but it has {listed}. Express the whole batch with "
                          "array operations (matrix products, broadcasting, fancy indexing).",
                          entries("vectorized_with_loops"))


@pytest.mark.parametrize("part", VECTORIZED_PARTS)
def test_faster_than_naive(grading, rng, part):
    """The vectorized version is clearly faster than naive loops (CPU time, measured by the grader)."""
    minimum = grading.config.thresholds.get("vectorized_min_speedup", 2.0)
    # Many examples, few features: the loops' cost grows with N * C while the bytes sent to the
    # student process (whose transfer time the student's timing includes) grow with N * D.
    # The yardstick is the reference's loops timed by the grader (yardstick.py), never the student's naive version.
    # Both sides are measured in CPU time as the kernel counts it, not wall time: a busy machine
    # (a batch on every core, CI neighbours) stretches wall time but not the CPU a call uses.
    N, D, C = yardstick.TIMING_SHAPE
    times = []
    for _ in range(3):  # a fresh input each time: remembering the last answer does not help
        case = random_case(rng, "a timing input", N=N, D=D, C=C, reg=0.1)
        result = grading.call(part, *case.args)
        require_ok(result, f"{part} on {case.describe()}")
        # The kernel's count of another process's CPU can lag by a call's worth (it is settled
        # when the process is next descheduled) and even read 0: then the wall time stands in.
        times.append(result.cpu_seconds or result.seconds)
    # The median of the three: one under-counted call neither flatters the code nor divides by 0.
    fast, slow = max(statistics.median(times), 1e-9), reference_naive_seconds(NAIVE_OF[part])
    if slow / fast < minimum:
        raise CheckFailed(f"{part} took {fast * 1e3:.1f} ms on N={N}, D={D}, C={C}; loops over the examples and "
                          f"classes take {slow * 1e3:.1f} ms: only {slow / fast:.1f}x faster (at least {minimum:g}x "
                          "expected).", entries("vectorized_with_loops"))


def reference_naive_seconds(naive: str) -> float:
    """CPU seconds of the reference's naive loops on the timing shape (:mod:`..yardstick`),
    measured once per grader process, in a process of its own started when this module is
    collected (:class:`_Yardstick`)."""
    return _YARDSTICK.seconds(naive)


class _Yardstick:
    """The naive references' timings, from a ``yardstick`` helper process started now (measured
    in this process instead if that one fails)."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}
        self._process = helper_process.start(yardstick.__name__, *dict.fromkeys(NAIVE_OF.values()))

    def seconds(self, naive: str) -> float:
        process, self._process = self._process, None
        out = helper_process.answer(process, timeout=120)
        if out:
            try:
                self._seconds.update({k: float(v) for k, v in json.loads(out).items()
                                      if isinstance(k, str) and isinstance(v, float) and v > 0})
            except (ValueError, AttributeError):  # not the timings it prints
                pass
        if naive not in self._seconds:  # the process failed, or a naive function it did not know
            self._seconds[naive] = yardstick.measure(naive)
        return self._seconds[naive]


_YARDSTICK = _Yardstick()
