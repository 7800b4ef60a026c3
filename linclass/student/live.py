"""The public self-check inside a notebook: the checks of one function on the kernel's live objects.

The visible part of each test cell of the release notebooks is::

    from selfcheck import check_cell

    _report = check_cell("svm_loss_vectorized", globals())
    assert _report.passed, _report.summary

It checks what the student *ran*, saved or not: the functions in the kernel's globals, and for
the loop check the text each cell was run with (IPython keeps every executed cell in Python's
line cache).  It prints one line when every check passes, or each failing check with its
diagnosis and hint; the cell's own ``assert`` then fails with the first diagnosis, so that
nbgrader still grades the cell by whether it raises, and the traceback shows only that line.

Standard library only (the checks themselves use numpy).
"""

from __future__ import annotations

import inspect
import linecache
import sys
from dataclasses import dataclass, field
from typing import Iterable

from linclass.student.selfcheck import (
    CheckResult,
    CodeLoadError,
    StudentCode,
    format_result,
    load_checks,
    part_status,
    run_checks,
)


def _kernel_functions(value: object, module: str | None) -> list:
    """The plain functions behind ``value`` (itself, or a class's methods) defined in ``module``."""
    try:
        if getattr(value, "__module__", None) != module:
            return []
    except Exception:  # noqa: BLE001 - an object of the student's whose attributes misbehave
        return []
    if inspect.isfunction(value):
        return [value]
    if inspect.isclass(value):
        return [f for f in vars(value).values() if inspect.isfunction(f)]
    return []


def live_code(namespace: dict, parts: Iterable[str], symbols: Iterable[str] = ()) -> StudentCode:
    """The student's code as it is in a running kernel: ``namespace`` is the kernel's globals.

    The source text of each function (for the loop check) is the one its cell was run with,
    from Python's line cache (IPython keeps every executed cell there): what runs is checked,
    saved or not.  Cells that define one of ``symbols`` come last, so that their definitions
    win over stale ones elsewhere.
    """
    code = StudentCode(namespace=namespace, parts=tuple(parts))
    symbols = [n for n in symbols if n in namespace]
    module = namespace.get("__name__")
    units: dict[str, str] = {}  # label -> source, the checked symbols' cells first
    for name in symbols + [n for n in list(namespace) if n not in symbols]:
        for fn in _kernel_functions(namespace[name], module):
            label = fn.__code__.co_filename
            code.labels.add(label)
            if label not in code.unit_names:
                taken = set(code.unit_names.values())
                code.unit_names[label] = name if name not in taken else f"{name} ({label})"
                units[label] = "".join(linecache.getlines(label))
    code.sources = {code.unit_names[label]: units[label] for label in reversed(units) if units[label]}
    return code


@dataclass
class CellReport:
    """The outcome of :func:`check_cell`: true when every public check of the cell passes."""

    passed: bool
    summary: str
    results: list[CheckResult] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed


def check_cell(grade_id: str, namespace: dict, out=None, assignment: str | None = None) -> CellReport:
    """The public checks of one solution cell's parts, on the live objects of a kernel.

    This is the visible part of each test cell: it prints one line when everything passes, or
    each failing check with its diagnosis and hint, and returns a :class:`CellReport` for the
    cell to assert on (so that nbgrader still grades the cell by whether it raises)::

        _report = check_cell("svm_loss_vectorized", globals())
        assert _report.passed, _report.summary

    Parameters
    ----------
    grade_id : str
        The solution cell (a function, or a class whose methods are parts).
    namespace : dict
        The kernel's globals: what the student ran, saved or not.
    out : file, optional
        Where to print (default: stdout; never stderr, which nbgrader counts against a cell).
    assignment : str, optional
        The assignment (default: the one a release ships).
    """
    out = out or sys.stdout
    spec, checks = load_checks(assignment)
    parts = [p for p in spec.parts if p.cell == grade_id or p.name == grade_id]
    if not parts:
        raise CodeLoadError(f"{spec.name} has no solution cell {grade_id!r}")
    code = live_code(namespace, [p.name for p in parts], {p.symbol for p in parts})
    results = run_checks(code, checks)
    status = part_status(results)
    what = ", ".join(status) if len(status) > 1 else parts[0].name
    todo = [r for r in results if r.status == "todo"]
    bad = [r for r in results if r.status in ("fail", "missing")]
    counted = [r for r in results if r.status != "skip"]
    if todo and not bad:
        unwritten = list(dict.fromkeys(r.part for r in todo))
        one = len(unwritten) == 1
        summary = f"{', '.join(unwritten)} {'is' if one else 'are'} not written yet " \
                  f"({'it raises' if one else 'they raise'} NotImplementedError)"
        print(summary, file=out)
        return CellReport(False, summary, results)
    if not bad and not todo:
        passing = f"all {len(counted)} public checks pass" if len(counted) > 1 else "its public check passes"
        print(f"{what}: {passing} (the grader also uses hidden inputs)", file=out)
        for r in results:
            if r.status == "skip":
                print(format_result(r), file=out)
        return CellReport(True, f"{what}: the public checks pass", results)
    print(f"{what}: {len(bad)} of {len(counted)} public checks fail", file=out)
    for r in results:
        if r.status != "pass":
            print(format_result(r), file=out)
    first = bad[0]
    message = first.message + (" (run the cell that defines it first)" if first.status == "missing" else "")
    summary = f"{first.part}: {message}" + (f" ({len(bad) - 1} more above)" if len(bad) > 1 else "")
    return CellReport(False, summary, results)
