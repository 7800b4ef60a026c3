"""Loading submissions without running them: layouts, zips, malformed notebooks, tampering."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest
from kit import ASSIGNMENT, with_source
from kit import REFERENCE_DIR as SOLUTIONS

from autograder.submission import load_submission
from linclass.student import collect, selfcheck
from linclass.student.notebooks import (
    Cell,
    NotebookError,
    compute_checksum,
    list_cells,
    parse_notebook,
    solution_cells,
    strip_magics,
)


def load(path, source_dir=None):
    """Load a submission as the default assignment, graded against ``source_dir``'s notebooks."""
    return load_submission(path, with_source(source_dir) if source_dir else ASSIGNMENT)


def nbg(grade_id, solution=False, grade=False, locked=False, points=None):
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def build_notebook(cells):
    nb = nbformat.v4.new_notebook()
    for kind, source, meta in cells:
        maker = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(maker(source, metadata=meta or {}))
    return nb


REL_ERROR = "def rel_error(x, y):\n    return 0.0\n"
SVM = "def svm_loss_naive(W, X, y, reg):\n    return 1.0, W\n"
TEST_CELL = "assert rel_error(1, 1) == 0.0\n"


def standard_cells():
    return [
        ("code", "import numpy as np\nDELTA = 1.0\n", nbg("setup", locked=True)),
        ("code", REL_ERROR, nbg("rel_error", solution=True)),
        ("code", TEST_CELL, nbg("test_rel_error", grade=True, locked=True, points=2)),
        ("code", SVM, nbg("svm_loss_naive", solution=True)),
    ]


def write_nb(path: Path, cells) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(cells), str(path))
    return path


@pytest.fixture
def source_dir(tmp_path):
    return write_nb(tmp_path / "source" / "assignment.ipynb", standard_cells()).parent


def names(sub):
    return [u.name for u in sub.units]


# ------------------------------------------------------------------ notebooks


def test_notebook_units_by_grade_id(tmp_path, source_dir):
    path = write_nb(tmp_path / "alice.ipynb", standard_cells())
    sub = load(path, source_dir)
    assert sub.student_id == "alice" and sub.kind == "notebook"
    assert names(sub) == ["setup", "rel_error", "svm_loss_naive"]  # trusted setup first, then module order
    assert sub.units[0].origin == "source" and sub.problems == [] and sub.tamper == []


def test_edited_test_cell_is_reported_and_ignored(tmp_path, source_dir):
    cells = standard_cells()
    cells[2] = ("code", "pass  # all tests pass\n", cells[2][2])
    sub = load(write_nb(tmp_path / "bob.ipynb", cells), source_dir)
    assert sub.tamper == ["cell test_rel_error of bob.ipynb was edited; graded from the original"]
    assert "test_rel_error" not in names(sub)


def test_tamper_by_nbgrader_checksum_without_source(tmp_path):
    cells = standard_cells()
    cell = Cell(0, "code", TEST_CELL, dict(cells[2][2]["nbgrader"]))
    cells[2][2]["nbgrader"]["checksum"] = compute_checksum(cell)
    path = write_nb(tmp_path / "a.ipynb", cells)
    assert load(path, tmp_path / "none").tamper == []
    cells[2] = ("code", "pass\n", cells[2][2])
    path = write_nb(tmp_path / "b.ipynb", cells)
    assert len(load(path, tmp_path / "none").tamper) == 1


@pytest.mark.slow
def test_checksum_matches_nbgrader(tmp_path):
    from nbgrader.utils import compute_checksum as nbgrader_checksum

    nb = build_notebook(standard_cells())
    for raw, cell in zip(nb.cells, list_cells(json.loads(nbformat.writes(nb)))):
        assert compute_checksum(cell) == nbgrader_checksum(raw)


def test_hidden_tests_in_the_source_are_not_tampering(tmp_path):
    hidden = TEST_CELL + "### BEGIN HIDDEN TESTS\nassert rel_error(2, 2) == 0\n### END HIDDEN TESTS\n"
    src = standard_cells()
    src[2] = ("code", hidden, src[2][2])
    source = write_nb(tmp_path / "src" / "a.ipynb", src).parent
    assert load(write_nb(tmp_path / "s.ipynb", standard_cells()), source).tamper == []


@pytest.mark.parametrize("data, fragment", [
    (b"", "is empty"),
    (b"\x00\xff\xfe binary", "not UTF-8"),
    (b'{"cells": [', "not valid JSON"),
    (b"[1, 2]", "not a notebook"),
    (b'{"nbformat": 4}', "no list of cells"),
])
def test_malformed_notebooks_give_one_clear_problem(tmp_path, data, fragment):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(data)
    sub = load(path)
    assert sub.kind == "empty" and sub.units == []
    assert any(fragment in p for p in sub.problems), sub.problems


def test_nbformat_3_is_read_by_definitions(tmp_path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": REL_ERROR, "metadata": {}, "outputs": []}]}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    sub = load(path)
    assert [u.name for u in sub.units if u.origin == "student"] == ["rel_error"]
    assert any("format 3" in p for p in sub.problems)


def test_missing_metadata_renamed_duplicated_deleted_and_markdown(tmp_path, source_dir):
    plain = write_nb(tmp_path / "plain.ipynb", [("code", REL_ERROR + SVM, None)])
    sub = load(plain, source_dir)
    assert set(names(sub)) >= {"rel_error", "svm_loss_naive"}
    assert any("no nbgrader metadata" in p for p in sub.problems)

    cells = standard_cells()
    cells[1] = ("code", REL_ERROR, nbg("my_renamed_cell", solution=True))
    sub = load(write_nb(tmp_path / "renamed.ipynb", cells), source_dir)
    assert "rel_error" in names(sub) and any("renamed" in p for p in sub.problems)

    cells = standard_cells() + [("code", REL_ERROR.replace("0.0", "1.0"), nbg("rel_error", solution=True))]
    sub = load(write_nb(tmp_path / "dup.ipynb", cells), source_dir)
    assert names(sub).count("rel_error") == 2 and any("appears in 2 cells" in p for p in sub.problems)

    cells = [c for c in standard_cells() if c[2]["nbgrader"]["grade_id"] != "svm_loss_naive"]
    sub = load(write_nb(tmp_path / "deleted" / "assignment.ipynb", cells), source_dir)
    assert "svm_loss_naive" not in names(sub)
    assert any("no cell of assignment.ipynb defines svm_loss_naive" in p for p in sub.problems)

    cells = standard_cells()
    cells[3] = ("markdown", SVM, cells[3][2])
    sub = load(write_nb(tmp_path / "md.ipynb", cells), source_dir)
    assert "svm_loss_naive" not in names(sub)
    assert any("turned into a markdown cell" in p for p in sub.problems)


def test_huge_outputs_are_ignored(tmp_path):
    nb = build_notebook(standard_cells())
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (8 << 20))]
    path = tmp_path / "big.ipynb"
    nbformat.write(nb, str(path))
    sub = load(path)
    assert "rel_error" in names(sub) and sub.units[0].source.count("x") < 10


def test_magics_are_stripped_with_a_note(tmp_path):
    cells = standard_cells()
    cells[1] = ("code", "%timeit 1 + 1\n!ls\n" + REL_ERROR + "    %debug\n", cells[1][2])
    sub = load(write_nb(tmp_path / "magic.ipynb", cells))
    unit = next(u for u in sub.units if u.name == "rel_error")
    assert "%" not in unit.source and "!ls" not in unit.source
    compile(unit.source, "cell", "exec")
    assert len([n for n in sub.notes if "IPython line" in n]) == 3
    assert strip_magics("%%bash\nls\n") == ("", ["%%bash"])


def test_notebook_helpers():
    nb = parse_notebook(nbformat.writes(build_notebook(standard_cells())).encode())
    assert set(solution_cells(nb)) == {"rel_error", "svm_loss_naive"}
    cells = list_cells(nb)
    assert cells[2].locked and cells[2].grade and not cells[1].locked
    with pytest.raises(NotebookError):
        parse_notebook(b"   ", "x.ipynb")


# ------------------------------------------------------------------ modules and zips


def copy_solutions(root: Path, nested: bool = False) -> Path:
    for f in SOLUTIONS.glob("*.py"):
        if f.stem == "__init__":
            continue
        rel = (f"cs231n/classifiers/{f.name}" if f.stem != "gradient_check" else f"cs231n/{f.name}") if nested \
            else f.name
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.read_text())
    return root


def test_module_directory_flat_and_nested(tmp_path):
    sub = load(copy_solutions(tmp_path / "carol"))
    assert sub.kind == "modules" and sub.student_id == "carol"
    assert sub.modules["linear_svm"] == "linear_svm.py" and len(sub.units) == 5
    nested = copy_solutions(tmp_path / "dave" / "assignment1", nested=True)
    sub = load(nested.parent)
    assert sub.modules == {"gradient_check": "cs231n/gradient_check.py",
                           "linear_svm": "cs231n/classifiers/linear_svm.py",
                           "softmax": "cs231n/classifiers/softmax.py",
                           "linear_classifier": "cs231n/classifiers/linear_classifier.py",
                           "tuning": "cs231n/classifiers/tuning.py"}


def test_nbgrader_submitted_layout_gives_the_student_id(tmp_path):
    path = copy_solutions(tmp_path / "submitted" / "erin" / "linear_classifiers")
    assert load(path).student_id == "erin"


def make_zip(path: Path, entries: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_zip_of_modules(tmp_path):
    src = copy_solutions(tmp_path / "src")
    entries = {f"frank/{f.name}": f.read_bytes() for f in src.glob("*.py")}
    sub = load(make_zip(tmp_path / "frank.zip", entries))
    assert sub.kind == "modules" and sub.student_id == "frank" and sub.modules["tuning"] == "tuning.py"


@pytest.mark.parametrize("entries, symlink, fragment", [
    ({"../evil.py": b"x = 1"}, None, "path traversal"),
    ({"/abs/evil.py": b"x = 1"}, None, "path traversal"),
    ({"ok.py": b"x = 1"}, "link.py", "symbolic link"),
])
def test_unsafe_zips_are_refused(tmp_path, entries, symlink, fragment):
    sub = load(make_zip(tmp_path / "bad.zip", entries, symlink))
    assert sub.kind == "empty" and any(fragment in p for p in sub.problems), sub.problems
    assert not (tmp_path / "evil.py").exists()


@pytest.mark.parametrize("reader", ["grader", "self-check"])
def test_zip_bomb_is_refused_by_the_grader_and_the_self_check(tmp_path, monkeypatch, reader):
    """One loader: the caps on a zip apply to the grader and to the public self-check alike."""
    monkeypatch.setattr(collect, "MAX_TOTAL_BYTES", 1 << 20)
    monkeypatch.setattr(collect, "MAX_FILES", 5)
    bomb = make_zip(tmp_path / "bomb.zip", {"a.py": b"0" * (4 << 20)})
    many = make_zip(tmp_path / "many.zip", {f"f{i}.py": b"" for i in range(10)})
    if reader == "grader":
        assert any("zip bomb" in p for p in load(bomb).problems)
        assert any("entries" in p for p in load(many).problems)
    else:
        for path, message in ((bomb, "zip bomb"), (many, "entries")):
            with pytest.raises(selfcheck.CodeLoadError, match=message):
                selfcheck.load_student_code(path, ASSIGNMENT.spec)


def test_not_a_submission(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "no notebook" in load(tmp_path / "empty").problems[0]
    (tmp_path / "notes.txt").write_text("hi")
    assert load(tmp_path / "notes.txt").problems
    assert "does not exist" in load(tmp_path / "missing").problems[0]
    garbage = tmp_path / "junk.zip"
    garbage.write_bytes(b"PK\x03\x04 garbage")
    assert load(garbage).problems


@pytest.mark.slow
def test_fuzzed_notebooks_never_raise(tmp_path_factory):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    base = nbformat.writes(build_notebook(standard_cells())).encode()
    folder = tmp_path_factory.mktemp("fuzz")

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.integers(0, len(base) - 1), st.integers(0, 40), st.binary(max_size=8)),
                    min_size=1, max_size=4))
    def check(edits):
        data = bytearray(base)
        for at, cut, insert in edits:
            data[at:at + cut] = insert
        path = folder / "fuzz.ipynb"
        path.write_bytes(bytes(data))
        sub = load(path, folder / "none")
        assert sub.kind in ("notebook", "empty")
        assert all(isinstance(p, str) and "\n" not in p for p in sub.problems)

    check()


@pytest.mark.slow
def test_structurally_fuzzed_notebooks_never_raise(tmp_path_factory):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    base = json.loads(nbformat.writes(build_notebook(standard_cells())))
    folder = tmp_path_factory.mktemp("fuzz2")
    values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner,
                                                                                      max_size=3), max_leaves=8)
    keys = st.sampled_from(["cell_type", "source", "metadata", "nbgrader", "grade_id", "solution", "locked",
                            "checksum", "cells", "nbformat"])

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.integers(0, 3), keys, values), min_size=1, max_size=4))
    def check(edits):
        nb = json.loads(json.dumps(base))
        for index, key, value in edits:
            cell = nb["cells"][index] if isinstance(nb.get("cells"), list) and index < len(nb["cells"]) else nb
            if not isinstance(cell, dict):
                continue
            if key in ("nbgrader", "grade_id", "solution", "locked", "checksum"):
                meta = cell.get("metadata")
                target = meta.get("nbgrader") if isinstance(meta, dict) else None
                if isinstance(target, dict):
                    target[key] = value
                elif isinstance(meta, dict):
                    meta[key] = value
            else:
                cell[key] = value
        path = folder / "fuzz.ipynb"
        path.write_text(json.dumps(nb))
        sub = load(path, folder / "none")
        assert sub.kind in ("notebook", "empty")

    check()
