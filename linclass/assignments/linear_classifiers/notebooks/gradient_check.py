"""The gradient_check.ipynb notebook: numeric gradients, rel_error, grad_check_sparse."""

from __future__ import annotations

import nbformat

from linclass.assignments.linear_classifiers.shipped import slides
from linclass.course.notebook_builder import Builder, NotebookSource

from .common import INTRO_CONVENTIONS, selfcheck_cell, setup_code


def build_gradient_check(source: NotebookSource) -> nbformat.NotebookNode:
    b = Builder("gradient_check", source)
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
    b.tests("eval_numerical_gradient", selfcheck_cell("eval_numerical_gradient"), """
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
    b.tests("rel_error", selfcheck_cell("rel_error"), """
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
    b.tests("grad_check_sparse", selfcheck_cell("grad_check_sparse"), """
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
    b.question("q_centered_step", """
    **Question.** The plot shows the error of the centered difference growing again for very
    small `h`. Why, and why is `h = 1e-5` a good default?
    """, """
    Two errors compete. The truncation error of the centered difference shrinks like h**2, but
    f(x + h) - f(x - h) subtracts two nearly equal floats, whose round-off (about 1e-16 times f)
    is then divided by 2h, so the round-off error grows like 1e-16 / h. The total is smallest
    where the two are about equal, h**2 ~ 1e-16 / h, i.e. h ~ 1e-5; there both are ~1e-10.
    """)
    return b.notebook()


