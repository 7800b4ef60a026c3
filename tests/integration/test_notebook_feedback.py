"""Feedback where the student works: the release notebooks, executed in a real kernel (nbclient).

* a planted bug: the function's test cell prints the public self-check's diagnosis and hint
  (on the kernel's live objects) and fails, with the diagnosis in the error itself;
* the timing cell compares naive and vectorized results before it praises any speed;
* a later notebook opened before an earlier one is finished: the provided gradient checker
  stands in for an unwritten ``grad_check_sparse``, with one line saying so;
* ``%run selfcheck.py --part NAME`` in a notebook: the report of that part, no SystemExit.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from kit import ROOT
from nbclient import NotebookClient
from shared_build import once, release_cli

from linclass.course.release import fill_release

ASSIGNMENT = "linear_classifiers"
SOURCE = ROOT / "assignments" / "source" / ASSIGNMENT
#: The correct class's margin is not zeroed: every loss is exactly 1 too high.
SVM_VECTORIZED_BUG = ("    margins[rows, y] = 0\n", "")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def release(tmp_path_factory, worker_id) -> Path:
    built = once(tmp_path_factory, worker_id, "release_cli", release_cli)
    return Path(built["course"]) / "release" / ASSIGNMENT


def _planted(grade_id: str, old_new: tuple[str, str]):
    def mutate(gid: str, code: str) -> str:
        if gid != grade_id:
            return code
        assert old_new[0] in code
        return code.replace(*old_new)
    return mutate


def run_all(path: Path, extra_cells: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    """Every cell, errors or not (as a student running each cell in turn sees them)."""
    nb = nbformat.read(path, as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(src) for src in extra_cells]
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute(
        env={**os.environ, "LINCLASS_DATA": "digits"})
    return nb


def cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def stdout(c) -> str:
    return "".join(o["text"] for o in c.outputs if o.output_type == "stream" and o.name == "stdout")


def error(c):
    return next((o for o in c.outputs if o.output_type == "error"), None)


@pytest.fixture(scope="module")
def planted_svm(release, tmp_path_factory) -> nbformat.NotebookNode:
    """svm.ipynb of a release filled with the reference, but for a bug in svm_loss_vectorized."""
    work = fill_release(release, SOURCE, tmp_path_factory.mktemp("planted") / "student",
                        mutate=_planted("svm_loss_vectorized", SVM_VECTORIZED_BUG))
    return run_all(work / "svm.ipynb", ("%run selfcheck.py --part svm_loss_vectorized",))


def test_planted_bug_shows_the_diagnosis_in_its_test_cell(planted_svm):
    test = cell(planted_svm, "test_svm_loss_vectorized")
    printed = stdout(test)
    assert printed.startswith("svm_loss_vectorized: ") and " public checks fail\n" in printed
    assert "FAIL  slides: cat/car/frog losses 2.9, 0, 12.9 -> 5.27: " in printed
    hint = "It is exactly 1 too high: the sum must skip the correct class j = y_i."
    assert hint in printed
    err = error(test)
    assert err["ename"] == "AssertionError" and hint in err["evalue"]  # the red line names it too
    assert not any("selfcheck.py" in line for line in err["traceback"]), "only the cell's own line, no library frames"
    assert not [o for c in planted_svm.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
                for o in c.outputs if o.output_type == "stream" and o.name == "stderr"], "nbgrader scores stderr 0"


def test_the_correct_functions_test_cells_pass_in_one_line(planted_svm):
    for grade_id, part in (("test_svm_loss_naive", "svm_loss_naive"), ("test_LinearSVM", "LinearSVM.loss")):
        test = cell(planted_svm, grade_id)
        assert error(test) is None
        assert stdout(test).startswith(f"{part}: ") and stdout(test).count("\n") == 1
        assert "pass (the grader also uses hidden inputs)" in stdout(test)


def test_timing_cell_does_not_praise_wrong_code(planted_svm):
    timing = cell(planted_svm, "svm_timing")
    assert "faster" not in stdout(timing)
    assert error(timing)["ename"] == "AssertionError"
    assert error(timing)["evalue"].startswith("naive and vectorized disagree (loss ")


def test_run_selfcheck_in_a_notebook_cell(planted_svm):
    ran = planted_svm.cells[-1]
    assert error(ran) is None, "no SystemExit under the report"
    printed = stdout(ran)
    assert "\nsvm_loss_vectorized\n" in printed and "FAIL  slides: cat/car/frog" in printed
    assert "rel_error" not in printed and "Summary: 0 of 1 parts pass; failing: svm_loss_vectorized." in printed


def test_unwritten_gradient_check_uses_the_provided_checker(release, tmp_path):
    work = fill_release(release, SOURCE, tmp_path / "student")
    shutil.copy(release / "gradient_check.ipynb", work)  # svm.ipynb first: gradient_check.ipynb untouched
    nb = run_all(work / "svm.ipynb")
    note = "your grad_check_sparse is not written yet: using the provided one\n"
    assert stdout(cell(nb, "load_gradient_check")) == note
    sanity = cell(nb, "svm_sanity")
    assert error(sanity) is None and "reg = 50: largest relative error" in stdout(sanity)
    assert [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.cell_type == "code" and error(c)] == []
