"""Static check that a function is vectorized: no Python loops in its AST.

The function is found in the student's source by name.  Loops hidden in helper functions
it calls (defined anywhere in the submission) count too, and so do the numpy calls that
are loops in disguise (``np.vectorize``, ``np.apply_along_axis``, ``np.frompyfunc``), the
builtins ``map`` and ``filter``, and dynamic lookups (``globals()``, ``getattr``, ``eval``)
that would hide which code runs.  Nothing is executed: this only parses source.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from typing import Iterable

from .sources import parsed

LOOP_NODES = {ast.For: "a for loop", ast.AsyncFor: "an async for loop", ast.While: "a while loop",
              ast.ListComp: "a list comprehension", ast.SetComp: "a set comprehension",
              ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator expression"}
LOOP_CALLS = {"vectorize", "apply_along_axis", "apply_over_axes", "frompyfunc", "map", "filter"}
#: Calls that pick the code to run at run time, out of sight of a static check (e.g.
#: ``globals()["svm_loss_" + "naive"](...)``): the function cannot be verified loop-free.
DYNAMIC_CALLS = {"globals", "locals", "vars", "eval", "exec", "compile", "__import__", "getattr", "import_module"}


@dataclass(frozen=True)
class Loop:
    """One loop found: what it is, where, and in which function."""

    kind: str
    line: int
    function: str
    unit: str

    def __str__(self) -> str:
        where = f"{self.kind} at line {self.line} of {self.unit}"
        return where if self.unit == self.function else f"{where} (in {self.function})"


def _definitions(units: Iterable[tuple[str, str]]) -> dict[str, tuple[ast.AST, str]]:
    """Every function definition in the submission by name (the last one wins, as in Python)."""
    return _parsed_definitions(tuple(units))


@functools.lru_cache(maxsize=4)
def _parsed_definitions(units: tuple[tuple[str, str], ...]) -> dict[str, tuple[ast.AST, str]]:
    """:func:`_definitions` of one submission's units, parsed once (several checks ask)."""
    defs: dict[str, tuple[ast.AST, str]] = {}
    for unit_name, source in units:
        try:
            tree = parsed(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defs[node.name] = (node, unit_name)
    return defs


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def find_loops(units: Iterable[tuple[str, str]], function: str) -> list[Loop] | None:
    """Loops in ``function`` and in the submission's functions it calls.

    Parameters
    ----------
    units : iterable of (unit name, source)
        The student's code units (module files or notebook cells).
    function : str
        Name of the function to check.

    Returns
    -------
    list of Loop, or None
        None when the function's definition cannot be found in the source.
    """
    defs = _definitions(units)
    if function not in defs:
        return None
    loops: list[Loop] = []
    seen: set[str] = set()
    pending = [function]
    while pending:
        name = pending.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        node, unit = defs[name]
        for child in ast.walk(node):
            if type(child) in LOOP_NODES:
                loops.append(Loop(LOOP_NODES[type(child)], child.lineno, name, unit))
            elif isinstance(child, ast.Call):
                called = _called_name(child)
                if called in LOOP_CALLS:
                    loops.append(Loop(f"a call to {called}() (a loop in disguise)", child.lineno, name, unit))
                elif called in DYNAMIC_CALLS:
                    loops.append(Loop(f"a call to {called}() (code chosen at run time cannot be checked for loops)",
                                      child.lineno, name, unit))
                elif called in defs and called != name:
                    pending.append(called)
    return sorted(loops, key=lambda loop: (loop.unit, loop.line))
