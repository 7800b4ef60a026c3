"""One source of truth: the notebooks' solution cells are generated from the reference.

Two independent checks: (1) the committed notebooks are exactly what
``python -m linclass.course.notebook_builder`` generates now; (2) the code of every solution cell
(docstrings aside) has the same AST as the reference function or class.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap

import pytest
from kit import ASSIGNMENT, SPEC
from kit import SOURCE as SOURCE_DIR

from autograder.config import load_config
from linclass.course.leakcheck import function_fingerprint
from linclass.course.notebook_builder import (
    NotebookSource,
    build_notebooks,
    strip_markers,
    support_files,
)

SOURCE = NotebookSource.of(ASSIGNMENT)
REFERENCE = SOURCE.reference


def build_all() -> dict[str, str]:
    return build_notebooks(ASSIGNMENT)


def _solution_cells() -> dict[str, str]:
    cells = {}
    for path in sorted(SOURCE_DIR.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("solution") and cell["cell_type"] == "code":
                cells[meta["grade_id"]] = "".join(cell["source"])
    return cells


def _fingerprint(source: str) -> str:
    node = ast.parse(source).body[0]
    return function_fingerprint(node)


_FLOAT = re.compile(r"\d+\.\d+(?:e[-+]?\d+)?")


def _machine_independent(text: str) -> str:
    """Float literals to 7 significant digits: a generator run on another CPU or BLAS may differ
    in the last digits of the expectations it computes, never in the seventh."""
    return _FLOAT.sub(lambda m: f"{float(m[0]):.7g}", text)


def test_committed_notebooks_are_generated_from_solutions():
    for name, text in build_all().items():
        committed = (SOURCE_DIR / name).read_text()
        assert _machine_independent(committed) == _machine_independent(text), (
            f"{name} is out of date: run `python -m linclass.course.notebook_builder`")


def test_generated_expectations_do_not_print_machine_digits():
    """Every float the generator computes is printed rounded (9 significant digits at most)."""
    for name, text in build_all().items():
        long = [m[0] for m in _FLOAT.finditer(text) if len(m[0].split("e")[0].replace(".", "").lstrip("0")) > 9]
        assert not long, f"{name} prints machine-dependent digits: {long[:3]}"


def test_every_part_has_its_solution_cell():
    cells = _solution_cells()
    assert {p.cell for p in SPEC.parts} == set(cells)


@pytest.mark.parametrize("grade_id", sorted(REFERENCE))
def test_solution_cell_ast_equals_reference(grade_id):
    cell = strip_markers(_solution_cells()[grade_id])
    reference = textwrap.dedent(inspect.getsource(REFERENCE[grade_id]))
    assert _fingerprint(cell) == _fingerprint(reference)


def test_a_drifted_cell_is_detected():
    reference = textwrap.dedent(inspect.getsource(REFERENCE["svm_loss_naive"]))
    drifted = strip_markers(SOURCE.solution("svm_loss_naive")).replace("loss /= num_train", "loss /= 2 * num_train")
    assert _fingerprint(drifted) != _fingerprint(reference)
    # ...while a different docstring alone is not drift
    redocumented = strip_markers(SOURCE.solution("svm_loss_naive")).replace("Multiclass SVM loss", "The SVM loss")
    assert _fingerprint(redocumented) == _fingerprint(reference)


def test_solution_regions_cover_exactly_the_student_bodies():
    src = SOURCE.solution("LinearClassifier")
    assert src.count("BEGIN SOLUTION") == 2  # train and predict; __init__ and loss are given
    assert "raise NotImplementedError(\"a subclass chooses the loss\")" in src.split("END SOLUTION")[-1]


def test_support_files_link_to_the_kit_modules():
    for name, target in support_files(ASSIGNMENT).items():
        link = SOURCE_DIR / name
        assert link.is_symlink(), f"{name} should be a symlink into the kit"
        assert link.resolve() == target.resolve()


def test_each_test_cell_is_worth_its_checks_points():
    """One table of points: a test cell is worth the [points] of its part's checks, a written
    answer its [written] points."""
    config = load_config(ASSIGNMENT)
    cells: dict[str, float] = {}
    for key, points in config.points.items():
        cell = SPEC.part(key.partition("::")[0]).cell
        cells[cell] = cells.get(cell, 0) + points
    found, written = {}, {}
    for path in sorted(SOURCE_DIR.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("grade") and cell["cell_type"] == "code":
                found[meta["grade_id"]] = meta["points"]
            elif meta.get("grade"):
                written[meta["grade_id"]] = meta["points"]
    assert {f"test_{k}": v for k, v in cells.items()} == found
    assert written == config.written
