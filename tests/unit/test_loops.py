"""The static loop finder behind the "no Python loops" check."""

from __future__ import annotations

import inspect

import solutions.linear_classifiers.linear_svm
import solutions.linear_classifiers.softmax
from linclass.student.loops import find_loops


def units(source: str) -> list[tuple[str, str]]:
    return [("linear_svm.py", source)]


def test_reference_vectorized_has_no_loops_and_naive_has():
    for module in (solutions.linear_classifiers.linear_svm, solutions.linear_classifiers.softmax):
        source = [("ref.py", inspect.getsource(module))]
        name = module.__name__.split(".")[-1]
        prefix = "svm_loss" if name == "linear_svm" else "softmax_loss"
        assert find_loops(source, f"{prefix}_vectorized") == []
        assert len(find_loops(source, f"{prefix}_naive")) >= 1


def test_every_kind_of_loop_is_found():
    src = """
def f(W, X, y, reg):
    for i in range(3): pass
    while False: pass
    a = [i for i in range(3)]
    b = {i for i in range(3)}
    c = {i: i for i in range(3)}
    d = sum(i for i in range(3))
    e = list(map(abs, [1]))
    g = np.apply_along_axis(np.sum, 1, X)
    h = np.vectorize(abs)
"""
    kinds = [loop.kind for loop in find_loops(units(src), "f")]
    assert len(kinds) == 9
    assert {"a for loop", "a while loop", "a list comprehension", "a set comprehension", "a dict comprehension",
            "a generator expression"} <= set(kinds)


def test_loops_hidden_in_helpers_are_found_transitively():
    src = """
def _inner(x):
    return [v for v in x]

def _outer(x):
    return _inner(x)

def svm_loss_vectorized(W, X, y, reg):
    return _outer(X), None
"""
    loops = find_loops(units(src), "svm_loss_vectorized")
    assert [(loop.function, loop.kind) for loop in loops] == [("_inner", "a list comprehension")]
    assert "line 3" in str(loops[0])


def test_missing_definition_is_none_and_syntax_errors_are_skipped():
    assert find_loops(units("x = 1"), "svm_loss_vectorized") is None
    assert find_loops([("broken.py", "def (:"), ("ok.py", "def f():\n    return 1\n")], "f") == []


def test_recursion_does_not_hang():
    src = "def f(x):\n    return f(x)\n"
    assert find_loops(units(src), "f") == []


def test_dynamic_lookups_cannot_hide_a_loop():
    src = """
def svm_loss_naive(W, X, y, reg):
    for i in range(3): pass

def svm_loss_vectorized(W, X, y, reg):
    return globals()["svm_loss_" + "naive"](W, X, y, reg)
"""
    loops = find_loops(units(src), "svm_loss_vectorized")
    assert [loop.kind.split(" (")[0] for loop in loops] == ["a call to globals()"]
