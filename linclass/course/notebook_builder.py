"""Generate an assignment's source notebooks from its reference (the one source of truth).

The mechanism only; the notebooks' text lives in the assignment's ``notebooks`` package, whose
``BUILDERS`` map notebook names to functions ``build(source) -> NotebookNode``.  Every solution
cell is generated from the reference: the function's (or class's) source is copied verbatim and
its body is wrapped in nbgrader solution markers, so the committed ``.ipynb`` files are a pure
function of the reference and of the notebooks' text (``tests/unit/test_single_source.py``).
Each autograded test cell is worth what its part's checks are worth in the assignment's
``grading.toml`` ([points]), and each written answer what [written] says: one table of points.

    python -m linclass.course.notebook_builder [--assignment A] [--check]
"""

from __future__ import annotations

import argparse
import ast
import inspect
import os
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import nbformat

from linclass.assignment import Assignment, load_assignment

BEGIN, END = "### BEGIN " + "SOLUTION", "### END " + "SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN " + "HIDDEN TESTS", "### END " + "HIDDEN TESTS"


@dataclass(frozen=True)
class NotebookSource:
    """What one assignment's notebooks are generated from.

    Attributes
    ----------
    reference : mapping
        Solution cell grade_id -> the reference function or class it shows.
    solution_methods : mapping
        Class cell grade_id -> the methods whose bodies the students write.
    cell_points : mapping
        Solution cell grade_id -> the points of its autograded test cell.
    written_points : mapping
        Written question grade_id -> its points.
    """

    reference: Mapping[str, object]
    solution_methods: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cell_points: Mapping[str, float] = field(default_factory=dict)
    written_points: Mapping[str, float] = field(default_factory=dict)

    def solution(self, grade_id: str) -> str:
        """The source of one solution cell."""
        return solution_source(self.reference[grade_id], tuple(self.solution_methods.get(grade_id, ())))

    @classmethod
    def of(cls, assignment: Assignment) -> NotebookSource:
        """The source of an assignment's notebooks: its ``notebooks`` package and its grading config."""
        from autograder.config import load_config

        content = assignment.module("notebooks")
        config = load_config(assignment)
        cell_points: dict[str, float] = {}
        for key, points in config.points.items():
            cell = assignment.spec.part(key.partition("::")[0]).cell
            cell_points[cell] = cell_points.get(cell, 0.0) + points
        return cls(content.REFERENCE, getattr(content, "SOLUTION_METHODS", {}),
                   {k: int(v) if float(v).is_integer() else v for k, v in cell_points.items()},
                   {k: int(v) if float(v).is_integer() else v for k, v in config.written.items()})


def _nbgrader(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
              points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


class Builder:
    """Accumulates the cells of one notebook with stable ids.

    Parameters
    ----------
    name : str
        The notebook's name (the cell ids' prefix).
    source : NotebookSource
        The reference objects and the points of the assignment.
    """

    def __init__(self, name: str, source: NotebookSource) -> None:
        self.name = name
        self.source = source
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
        cell = nbformat.v4.new_code_cell(self.source.solution(grade_id), metadata=_nbgrader(grade_id, solution=True))
        cell.id = self._id(grade_id)
        self.cells.append(cell)

    def tests(self, target: str, visible: str, hidden: str) -> None:
        """Autograded, locked test cell with a hidden part."""
        src = textwrap.dedent(visible).strip() + "\n\n" + BEGIN_HIDDEN + "\n" + textwrap.dedent(hidden).strip() + \
            "\n" + END_HIDDEN
        cell = nbformat.v4.new_code_cell(src, metadata=_nbgrader(f"test_{target}", grade=True, locked=True,
                                                                  points=self.source.cell_points[target]))
        cell.id = self._id(f"test_{target}")
        self.cells.append(cell)

    def question(self, grade_id: str, question: str, model_answer: str) -> None:
        """A locked question and a manually graded markdown answer cell (its points: the config's [written])."""
        points = self.source.written_points[grade_id]
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


def solution_source(obj: object, methods: tuple[str, ...] = ()) -> str:
    """The source of one solution cell: the reference function (or class, with the bodies of
    ``methods`` marked) with its body marked."""
    src = textwrap.dedent(inspect.getsource(obj)).rstrip("\n")
    lines = src.split("\n")
    node = ast.parse(src).body[0]
    if isinstance(node, ast.FunctionDef):
        return "\n".join(_wrap_body(lines, node, 0))
    methods = [m for m in node.body if isinstance(m, ast.FunctionDef) and m.name in methods]
    for m in sorted(methods, key=lambda m: m.lineno, reverse=True):  # bottom-up keeps line numbers valid
        lines = _wrap_body(lines, m, 0)
    return "\n".join(lines)


def strip_markers(source: str) -> str:
    """A solution cell as a student who solved it would have it: the markers removed."""
    return "\n".join(line for line in source.split("\n") if BEGIN not in line and END not in line)




def printed(value: float, digits: int = 9) -> str:
    """``value`` rounded to ``digits`` significant digits, as Python source.

    Expectations computed on the machine that builds the notebooks depend on its CPU and BLAS
    kernels in their last digits.  Rounded far above those digits (and far below the tests'
    tolerances), the committed notebooks are the same on every machine.
    """
    return repr(float(f"{float(value):.{digits}g}"))


def render(nb: nbformat.NotebookNode) -> str:
    """The exact text written to disk (nbformat's stable layout plus a final newline)."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def build_notebooks(assignment: Assignment) -> dict[str, str]:
    """Render every notebook of ``assignment``; file name -> text (nothing is written)."""
    source = NotebookSource.of(assignment)
    return {f"{name}.ipynb": render(build(source)) for name, build in assignment.module("notebooks").BUILDERS.items()}


def support_files(assignment: Assignment) -> dict[str, Path]:
    """What the source folder links to, so its notebooks run in place as they do in a release:
    the assignment's shipped files and the self-check at the top, and the student side of the
    kit (with the assignment's spec and public checks) under ``linclass/``."""
    kit = Path(__file__).resolve().parents[1]
    files = {**assignment.shipped, "selfcheck.py": kit / "student" / "selfcheck_script.py"}
    files["linclass/__init__.py"] = kit / "__init__.py"
    files["linclass/errors.py"] = kit / "errors.py"
    files["linclass/student"] = kit / "student"
    files["linclass/assignments/__init__.py"] = kit / "assignments" / "__init__.py"
    for name in ("__init__.py", "spec.py", "checks.py"):
        files[f"linclass/assignments/{assignment.root.name}/{name}"] = assignment.root / name
    return files


def ensure_links(assignment: Assignment) -> list[str]:
    """Make the source folder's relative symlinks to :func:`support_files`; the names made."""
    made = []
    for name, target in support_files(assignment).items():
        link = assignment.source_dir / name
        link.parent.mkdir(parents=True, exist_ok=True)
        relative = Path(os.path.relpath(target, link.parent))
        if link.is_symlink() and link.readlink() == relative:
            continue
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to(relative)
        made.append(name)
    return made


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the source notebooks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default=None, help="an assignment's name or package folder")
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed notebook is out of date")
    args = parser.parse_args(argv)
    assignment = load_assignment(args.assignment)
    assignment.source_dir.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, text in build_notebooks(assignment).items():
        path = assignment.source_dir / name
        if path.exists() and path.read_text() == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text)
    if args.check:
        if stale:
            print("out of date (run python -m linclass.course.notebook_builder): " + ", ".join(stale))
        return 1 if stale else 0
    links = ensure_links(assignment)
    print(f"wrote {', '.join(stale) or 'nothing (up to date)'}; links {', '.join(links) or 'ok'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
