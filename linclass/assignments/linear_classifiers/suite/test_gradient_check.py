"""eval_numerical_gradient, grad_check_sparse and rel_error, on functions with known
gradients (including the slides' calculus example), with x restored after every call."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.verdicts import CheckFailed, as_array, as_scalar, require_ok
from linclass.assignments.linear_classifiers.functions import Elementwise
from linclass.assignments.linear_classifiers.reference import diagnose, entries, rel_error


def random_function(rng: np.random.Generator, shape: tuple[int, ...]):
    f = Elementwise(rng.uniform(0.5, 2.0, shape), rng.uniform(-1.0, 1.0, shape))
    return f.spec(), rng.uniform(-2.0, 2.0, shape)


def numerical_gradient(grading, part, spec, x, what, **kwargs):
    result = grading.call(part, spec, x, **kwargs)
    raw = require_ok(result, what)
    try:
        return as_array(raw, f"{part}'s result", x.shape), result
    except CheckFailed as exc:
        raise CheckFailed(exc.message, diagnose(part, (spec, x), raw)) from None


@pytest.mark.parametrize("part", ("eval_numerical_gradient",))
def test_known_gradient(grading, rng, part):
    """The numeric gradient of sum(a*x**2 + b*sin(x)) matches 2*a*x + b*cos(x)."""
    spec, x = random_function(rng, (3, 4))
    grad, _ = numerical_gradient(grading, part, spec, x, f"{part} on a 3x4 input")
    err = rel_error(grad, Elementwise.from_spec(spec).gradient(x))
    if err > 1e-7:
        raise CheckFailed(f"The numeric gradient of f(x) = sum(a*x**2 + b*sin(x)) differs from its exact "
                          f"gradient 2*a*x + b*cos(x) (largest relative error {err:.2g}, expected < 1e-7).",
                          diagnose(part, (spec, x), grad))


@pytest.mark.parametrize("part", ("eval_numerical_gradient",))
def test_centered_differences(grading, rng, part):
    """With a coarse step h = 1e-2 the result is exactly the centered difference of that h."""
    f = Elementwise(rng.uniform(0.5, 2.0, 5), rng.choice([-1, 1], 5) * rng.uniform(0.5, 1.0, 5))
    x = rng.uniform(-1.0, 1.0, 5)  # cos(x) > 0.5: the sine's h**2 term shows
    h = 1e-2
    grad, _ = numerical_gradient(grading, part, f.spec(), x, f"{part} with h = {h:g}", h=h)
    # The centered difference of f is known exactly for any step (Elementwise.centered), so the
    # result itself says which step was used: nothing the student process reports is needed.
    if np.allclose(grad, f.centered(x, 1e-5), rtol=0, atol=1e-8) and not np.allclose(grad, f.centered(x, h), atol=1e-8):
        raise CheckFailed(f"Called with h = {h:g}, your function gives the centered difference of another step "
                          "(the default 1e-5?): use the h you are given.", entries("numgrad_ignores_h"))
    err = float(np.max(np.abs(grad - f.centered(x, h))))
    if err > 1e-8:  # rounding: about 1e-12; forward differences: about h * |f''| = 1e-2
        raise CheckFailed(f"With h = {h:g} your numeric gradient differs from the centered difference "
                          f"(f(x+h) - f(x-h)) / 2h by up to {err:.2g}; an error near h suggests a one-sided "
                          "(forward) difference, or that the h you were given is not used.",
                          diagnose(part, (f.spec(), x, h), grad))


@pytest.mark.parametrize("part", ("eval_numerical_gradient",))
def test_slides_calculus(grading, part):
    """L(w) = w**2 + 3 at w = 2 has gradient 4 (003:1408)."""
    spec = Elementwise(np.ones(1), np.zeros(1)).spec()
    grad, _ = numerical_gradient(grading, part, spec, np.array([2.0]), f"{part} on L(w) = w**2 + 3 at w = 2")
    if abs(float(grad[0]) - 4.0) > 1e-6:
        raise CheckFailed(f"The slides' example L(w) = w**2 + 3 at w = 2 has gradient 2w = 4; yours gives "
                          f"{float(grad[0]):.6f}.", diagnose(part, (spec, np.array([2.0])), grad))


def _require_restored(part, x, result, second):
    """x holds its values after the call: reported by the student process, and shown by the result
    of a second call on the very same array (a moved x moves that result)."""
    after = (result.inputs_after or [None, None])[1]
    moved = not isinstance(after, np.ndarray) or after.shape != x.shape or not np.array_equal(after, x)
    if moved or not second:
        changed = int(np.sum(after != x)) if isinstance(after, np.ndarray) and after.shape == x.shape else "some"
        detail = f" ({changed} entries differ after the call)" if moved else ""
        raise CheckFailed(f"{part} left x changed{detail}: a second call on the same x gave another result. Perturb "
                          "one entry, evaluate, and put the original value back before moving on.",
                          entries("numgrad_x_not_restored" if part == "eval_numerical_gradient"
                                  else "gradcheck_x_not_restored"))


def sparse_errors(grading, part, spec, x, analytic, what, **kwargs):
    result = grading.call(part, spec, x, analytic, **kwargs)
    raw = require_ok(result, what)
    errors = as_array(raw, f"{part}'s result", (kwargs.get("num_checks", 10),))
    return errors, result


@pytest.mark.parametrize("part", ("grad_check_sparse",))
def test_relative_errors(grading, rng, part):
    """Tiny relative errors for the exact gradient, about 1/3 for twice the gradient."""
    spec, x = random_function(rng, (4, 5))
    exact = Elementwise.from_spec(spec).gradient(x)
    errors, _ = sparse_errors(grading, part, spec, x, exact, f"{part} with the exact gradient", num_checks=7, seed=1)
    if np.max(errors) > 1e-7:
        raise CheckFailed(f"Given the exact gradient, {part} reported relative errors up to {np.max(errors):.2g} "
                          "(expected < 1e-7).", diagnose(part, (spec, x, exact, 7, 1e-5, 1), errors))
    errors, _ = sparse_errors(grading, part, spec, x, 2 * exact, f"{part} with a wrong gradient", num_checks=7, seed=1)
    if not np.allclose(errors, 1 / 3, atol=1e-4):
        raise CheckFailed(f"Given twice the exact gradient, each relative error |n - a| / (|n| + |a|) should be "
                          f"1/3; {part} reported {np.round(errors, 4).tolist()}.",
                          diagnose(part, (spec, x, 2 * exact, 7, 1e-5, 1), errors))


@pytest.mark.parametrize("part", ("grad_check_sparse",))
def test_reproducible_with_seed(grading, rng, part):
    """The same seed checks the same entries; another seed checks others; each check draws a new entry."""
    spec, x = random_function(rng, (10, 10))
    noisy = Elementwise.from_spec(spec).gradient(x) * rng.uniform(0.5, 1.5, x.shape)  # a distinct error at every entry
    first, _ = sparse_errors(grading, part, spec, x, noisy, f"{part} with seed=7", num_checks=5, seed=7)
    # (not np.unique, whose first call imports numpy.ma: 50 ms; NaNs count as equal, as there)
    if np.all((first == first[0]) | (np.isnan(first) & np.isnan(first[0]))):  # 5 draws of one entry in 100: 1e-8
        raise CheckFailed(f"The {len(first)} relative errors of one call are all equal ({first[0]:.3g}): the same "
                          "entry was checked every time. Draw a new random entry for each check.",
                          entries("gradcheck_same_entry"))
    again, _ = sparse_errors(grading, part, spec, x, noisy, f"{part} with seed=7", num_checks=5, seed=7)
    other, _ = sparse_errors(grading, part, spec, x, noisy, f"{part} with seed=8", num_checks=5, seed=8)
    if not np.array_equal(first, again):
        raise CheckFailed(f"Two calls of {part} with seed=7 checked different entries: draw the entries from a "
                          "generator seeded with `seed`.", entries("gradcheck_ignores_seed"))
    if np.array_equal(first, other):
        raise CheckFailed(f"{part} checked the same entries with seed=7 and seed=8: the seed is not used.",
                          entries("gradcheck_ignores_seed"))


@pytest.mark.parametrize("part", ("eval_numerical_gradient", "grad_check_sparse"))
def test_restores_x(grading, rng, part):
    """x holds its original values after the call."""
    f = Elementwise(rng.uniform(0.5, 2.0, (2, 3)), rng.uniform(-1.0, 1.0, (2, 3)))
    x, h = rng.uniform(-2.0, 2.0, (2, 3)), 1e-3
    if part == "eval_numerical_gradient":
        result = grading.call(part, f.spec(), x, h=h, repeat=2)
    else:
        result = grading.call(part, f.spec(), x, f.gradient(x), num_checks=4, h=h, seed=0, repeat=2)
    first, second = require_ok(result, f"{part} called twice on one 2x3 x")
    same = isinstance(first, np.ndarray) and isinstance(second, np.ndarray) and first.shape == second.shape
    if same and part == "eval_numerical_gradient":  # the same call on the same x gives the same gradient
        same = bool(np.allclose(first, second, rtol=1e-12, atol=1e-15))
    elif same:  # with the exact gradient the errors stay tiny, whichever entries are drawn, unless x moved
        same = bool(np.all(np.abs(second) <= max(1e-7, 2 * float(np.max(np.abs(first))))))
    _require_restored(part, x, result, same)


@pytest.mark.parametrize("part", ("rel_error",))
def test_values(grading, rng, part):
    """rel_error matches max |x - y| / max(1e-8, |x| + |y|) on random arrays."""
    for shape in ((5,), (3, 4)):
        x = rng.standard_normal(shape)
        y = x + 1e-3 * rng.standard_normal(shape)
        value = as_scalar(require_ok(grading.call(part, x, y), f"{part} on {shape} arrays"), f"{part}")
        expected = rel_error(x, y)
        if abs(value - expected) > 1e-9 * max(1.0, expected):
            raise CheckFailed(f"rel_error of two {shape} arrays returned {value:.6g}; expected {expected:.6g}.",
                              diagnose(part, (x, y), value))


@pytest.mark.parametrize("part", ("rel_error",))
def test_zero_safe(grading, part):
    """rel_error of two zero arrays is 0.0, never a division by zero."""
    zeros = np.zeros(4)
    raw = require_ok(grading.call(part, zeros, zeros.copy()), f"{part}(zeros, zeros)")
    try:
        value = as_scalar(raw, f"{part}(zeros, zeros)")
    except CheckFailed as exc:
        raise CheckFailed(exc.message + " Two equal arrays have no error; guard the denominator (|x| + |y| can be 0).",
                          diagnose(part, (zeros, zeros), raw)) from None
    if value != 0.0:
        raise CheckFailed(f"rel_error(zeros, zeros) returned {value}; expected 0.0.")
