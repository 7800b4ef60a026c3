"""Tampering with locked and test cells: detected, reported, and graded from the trusted original.

The student copy is the trusted source notebooks (a complete, correct submission).  The
tampered copy edits the locked setup cell of svm.ipynb (DELTA = 100.0 instead of 1.0: every
SVM loss would change if the grader ran it) and replaces a test cell's checks with ``pass``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kit import ASSIGNMENT, ROOT, with_source

from autograder.submission import load_submission
from linclass.student.notebooks import compute_checksum, list_cells, parse_notebook

SOURCE = ROOT / "assignments" / "source" / "linear_classifiers"
LINCLASS = Path(sys.executable).with_name("linclass")
SETUP, TEST = "setup_svm", "test_svm_loss_naive"

pytestmark = pytest.mark.skipif(not (SOURCE / "svm.ipynb").exists(), reason="the source notebooks are not built")


def student_copy(dest: Path, tamper: bool, checksums: bool = False) -> Path:
    """The source notebooks as a student submission, optionally with the two edits."""
    dest.mkdir(parents=True)
    for nb_path in SOURCE.glob("*.ipynb"):
        shutil.copyfile(nb_path, dest / nb_path.name)
    nb = json.loads((dest / "svm.ipynb").read_text())
    by_id = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]}
    if checksums:  # what nbgrader stores in a release: the checksum of each locked or grade cell
        cells = {c.grade_id: c for c in list_cells(parse_notebook(json.dumps(nb).encode(), "svm.ipynb"))}
        for gid in (SETUP, TEST):
            by_id[gid]["metadata"]["nbgrader"]["checksum"] = compute_checksum(cells[gid])
    if tamper:
        setup = "".join(by_id[SETUP]["source"])
        assert "DELTA = 1.0" in setup
        by_id[SETUP]["source"] = setup.replace("DELTA = 1.0", "DELTA = 100.0")
        by_id[TEST]["source"] = "pass  # every check passes\n"
    (dest / "svm.ipynb").write_text(json.dumps(nb))
    return dest


def test_edited_locked_and_test_cells_are_reported_and_the_originals_used(tmp_path):
    clean = load_submission(student_copy(tmp_path / "clean", tamper=False), ASSIGNMENT)
    edited = load_submission(student_copy(tmp_path / "edited", tamper=True), ASSIGNMENT)
    assert clean.tamper == []
    found = " ".join(edited.tamper)
    assert SETUP in found and TEST in found and "graded from the original" in found, edited.tamper
    setup_units = [u for u in edited.units if u.name == SETUP]
    assert setup_units and all(u.origin == "source" and "DELTA = 1.0" in u.source for u in setup_units)
    assert not any("DELTA = 100.0" in u.source for u in edited.units)
    assert [u.source for u in clean.units] == [u.source for u in edited.units]


def test_the_stored_checksum_detects_an_edit_without_the_source(tmp_path):
    empty = tmp_path / "no-source"
    empty.mkdir()
    untouched = load_submission(student_copy(tmp_path / "a", tamper=False, checksums=True), with_source(empty))
    edited = load_submission(student_copy(tmp_path / "b", tamper=True, checksums=True), with_source(empty))
    assert untouched.tamper == []
    assert any(SETUP in t for t in edited.tamper) and any(TEST in t for t in edited.tamper), edited.tamper


@pytest.mark.slow
def test_a_tampered_notebook_is_graded_like_the_original(tmp_path):
    klass = tmp_path / "class"
    student_copy(klass / "clean", tamper=False)
    student_copy(klass / "edited", tamper=True)
    out = tmp_path / "out"
    proc = subprocess.run([str(LINCLASS), "grade", str(klass), "--out", str(out), "--jobs", "2"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    clean, edited = (json.loads((out / s / "results.json").read_text()) for s in ("clean", "edited"))

    def scores(results):  # the speed check is too noisy to compare between two runs
        return {t["name"]: t["score"] for t in results["tests"] if "faster than naive" not in t["name"]}

    assert scores(edited) == scores(clean)
    assert f"cell {SETUP} of svm.ipynb was edited; graded from the original" in edited["output"]
    assert f"cell {TEST} of svm.ipynb was edited" in edited["output"]
    assert "edited" not in clean["output"]
