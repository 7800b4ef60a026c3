"""The layout keeps its promises: the engine knows no assignment, the harness imports nothing
of the kit, and the student side ships on the standard library alone."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from kit import ROOT

ENGINE = ROOT / "autograder"
HARNESS = ENGINE / "harness"
STUDENT = ROOT / "linclass" / "student"
#: Names that belong to the linear-classifiers assignment, never to the engine.
ASSIGNMENT_NAMES = re.compile(r"svm|softmax|LinearClassifier|linear_classifier|tune_", re.IGNORECASE)


def _own_files(folder: Path, suffixes=(".py",)) -> list[Path]:
    """The files that live in ``folder`` (a symlink to shared code lives where it points)."""
    return sorted(p for p in folder.rglob("*") if p.suffix in suffixes and not p.is_symlink()
                  and "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports (relative imports as ``.name``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or "").split(".")[0])
    return found


def test_the_engine_names_no_assignment():
    hits = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
            for p in _own_files(ENGINE, (".py", ".toml", ".ini"))
            for i, line in enumerate(p.read_text().splitlines(), 1) if ASSIGNMENT_NAMES.search(line)]
    assert hits == []


def test_the_grep_would_find_a_name():
    assert ASSIGNMENT_NAMES.search("def check(grading): grading.call('svm_loss_naive')")


@pytest.mark.parametrize("path", _own_files(HARNESS) + [HARNESS / "runtime.py"], ids=lambda p: p.name)
def test_the_harness_imports_only_itself_numpy_and_the_standard_library(path):
    """The untrusted side imports nothing of the kit: what runs next to student code is only
    the harness folder (its siblings are loaded by path), numpy and the standard library."""
    siblings = {p.stem for p in HARNESS.glob("*.py")}
    allowed = set(sys.stdlib_module_names) | {"numpy", "__future__"} | siblings
    assert _imports(path) - allowed == set()


def test_the_harness_import_check_sees_a_kit_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import json\nfrom linclass.assignment import load_assignment\nfrom . import wire\n")
    assert _imports(bad) - set(sys.stdlib_module_names) == {"linclass", "."}


def test_the_runtime_is_the_student_sides_own_file():
    """One source of truth: the harness's runtime is the self-check's (a link, not a copy)."""
    assert (HARNESS / "runtime.py").is_symlink()
    assert (HARNESS / "runtime.py").resolve() == (STUDENT / "runtime.py").resolve()


@pytest.mark.parametrize("path", _own_files(STUDENT), ids=lambda p: p.name)
def test_the_student_side_needs_only_numpy_and_the_standard_library(path):
    """linclass/student/ ships in every release: numpy, the standard library and itself only."""
    allowed = set(sys.stdlib_module_names) | {"__future__", "numpy", "linclass"}
    assert {m for m in _imports(path) if not m.startswith(".")} - allowed == set()
    kit = {node.module for node in ast.walk(ast.parse(path.read_text()))
           if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("linclass")}
    assert all(m == "linclass.errors" or m.startswith("linclass.student") for m in kit), kit


def test_every_assignment_file_reaches_the_engine_through_the_assignment_object():
    """The engine reads no module-level part list: it imports no assignment package."""
    hits = [f"{p.relative_to(ROOT)}" for p in _own_files(ENGINE)
            if any(m.startswith("linclass.assignments") for m in _full_imports(p))]
    assert hits == []


def _full_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found
