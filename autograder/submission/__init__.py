"""Turn a submitted PATH into a :class:`Submission`, without executing anything.

PATH may be a notebook, a folder of notebooks, a folder of module files (at the top or nested,
e.g. ``cs231n/classifiers/losses.py``), a single ``.py`` module, or a ``.zip`` of any of
these.  Everything is read into memory (:func:`linclass.student.collect.collect_files`, with
the same caps as the self-check): the submission's files are never imported here.

Whatever is wrong with the input becomes a one-line entry of ``problems`` (invalid JSON,
an old notebook format, missing nbgrader metadata, duplicated or renamed grade_ids, a
deleted solution cell, a solution cell turned into markdown, an unsafe zip, ...); edited
locked/test cells become entries of ``tamper`` and are graded from the trusted source
notebooks when they are available.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from linclass.assignment import Assignment
from linclass.student.collect import SubmissionError, collect_files
from linclass.student.sources import find_modules

from .modules import load_modules
from .notebooks import adopt_notebooks, load_notebooks, read_trusted
from .types import Availability, CodeUnit, Submission

__all__ = ["Availability", "CodeUnit", "Submission", "SubmissionError", "guess_student_id", "load_submission"]


def load_submission(path: str | Path, assignment: Assignment, student_id: str | None = None,
                    available: Availability | None = None) -> Submission:
    """Load ``path`` (notebook, directory, module or zip) into a :class:`Submission`.

    Never raises for a bad submission: problems are reported in ``Submission.problems``.

    Parameters
    ----------
    path : path
        What was handed in.
    assignment : Assignment
        What it is graded as (its parts, modules and trusted source notebooks).
    student_id : str, optional
        Default: from the path.
    available : callable, optional
        ``available("package.module")`` says whether a module can be imported where the code
        will run; import statements of unavailable modules are then skipped, with a note.
        None keeps every import as it is.
    """
    spec = assignment.spec
    path = Path(path)
    sub = Submission(student_id or guess_student_id(path, assignment.name), path, "empty")
    try:
        files = collect_files(path)
    except SubmissionError as exc:
        sub.problems.append(str(exc))
        return sub
    trusted = read_trusted(assignment.source_dir) if assignment.source_dir.is_dir() else {}
    notebooks = {rel: data for rel, data in files.items() if rel.endswith(".ipynb")}
    pys = {rel: data for rel, data in files.items() if rel.endswith(".py")}
    nb_sub = load_notebooks(notebooks, trusted, spec, available) if notebooks else None
    modules = find_modules(pys, spec.modules)
    if nb_sub is not None and nb_sub["by_metadata"]:
        if modules:
            sub.notes.append("both notebooks and .py modules were found; the notebooks were graded")
        adopt_notebooks(sub, nb_sub)
    elif modules:
        load_modules(sub, pys, modules, spec, available)
        if nb_sub is not None and nb_sub["units"]:
            sub.notes.append("both notebooks and .py modules were found; the modules were graded")
    elif nb_sub is not None and nb_sub["units"]:
        adopt_notebooks(sub, nb_sub)
    else:
        if nb_sub is not None:
            sub.problems.extend(nb_sub["problems"])
        if not files:
            sub.problems.append(f"no notebook (.ipynb) or Python module (.py) was found in {path.name}")
        else:
            sub.problems.append("none of the assignment's functions was found (expected solution cells with "
                                f"nbgrader grade_ids, or modules named {', '.join(m + '.py' for m in spec.modules)})")
    if sub.kind == "notebook":
        missing = missing_notebooks(sub, trusted, spec.notebooks)
        if missing:  # the same banner as a folder that lacks some modules
            sub.notes.append(f"not in the submission: {', '.join(missing)}")
    return sub


def missing_notebooks(sub: Submission, trusted: dict, notebooks: Sequence[str]) -> list[str]:
    """The assignment's notebooks none of whose solution cells the student handed in.

    A notebook is known by the cells it holds in the trusted source (``_notebook`` of
    :func:`read_trusted`), so a renamed file (``part1 (1).ipynb``) still counts as handed in.
    """
    handed_in = {u.name for u in sub.units if u.kind == "cell" and u.origin == "student"}
    homes: dict[str, set[str]] = {}
    for gid, cell in trusted.items():
        if cell.solution and cell.cell_type == "code":
            homes.setdefault(cell.nbgrader.get("_notebook", ""), set()).add(gid)
    return [nb for nb in notebooks if homes.get(nb) and not homes[nb] & handed_in]


def guess_student_id(path: Path, assignment: str = "") -> str:
    """The student id from the path: nbgrader's ``submitted/<student>/<assignment>/`` or the stem."""
    path = Path(os.path.abspath(path))
    parts = path.parts
    if "submitted" in parts[:-1]:
        i = len(parts) - 1 - parts[::-1].index("submitted")
        if i + 1 < len(parts):
            return parts[i + 1]
    if path.is_dir() and path.name == assignment and path.parent.name:
        return path.parent.name
    name = path.name
    for suffix in (".zip", ".ipynb", ".py"):
        if name.endswith(suffix):
            return name[: -len(suffix)] or name
    return name or "student"
