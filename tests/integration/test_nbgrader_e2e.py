"""Real nbgrader end to end in a temporary course: generate_assignment, submit, autograde.

* the reference-filled release gets every autograded point;
* one bug (no max-subtraction in softmax_loss_vectorized) loses exactly that function's test cell;
* a student who edits a locked test cell (to `pass`) is caught by nbgrader's checksums: the
  original test is restored and runs, so the bug under it still loses its points.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit import ASSIGNMENT as TASK
from kit import ROOT
from shared_build import once

from autograder.config import load_config
from linclass.course.release import copy_course, course_config, fill_release, nbgrader_env

COURSE = ROOT / "assignments"
ASSIGNMENT = "linear_classifiers"
SOURCE = COURSE / "source" / ASSIGNMENT

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]  # nbgrader's own

SOFTMAX_BUG = ("    shifted = scores - scores.max(axis=1, keepdims=True)", "    shifted = scores")
SVM_BUG = ("            if j == y[i]:\n                continue  # the correct class is not part of the sum\n", "")


def _bug(grade_id: str, old_new: tuple[str, str]):
    def mutate(gid: str, code: str) -> str:
        if gid != grade_id:
            return code
        assert old_new[0] in code
        return code.replace(*old_new)
    return mutate


def _submit(root: Path, student: str, mutate=None, tamper: str | None = None, skip: tuple[str, ...] = ()) -> None:
    dst = root / "submitted" / student / ASSIGNMENT
    fill_release(root / "release" / ASSIGNMENT, SOURCE, dst, mutate=mutate)
    for extra in [*dst.glob("*.py"), dst / "README.md", *(dst / name for name in skip)]:
        extra.unlink()  # a student submits the notebooks (here possibly not all of them)
    if tamper:
        nb_path = next(p for p in dst.glob("*.ipynb") if f'"{tamper}"' in p.read_text())
        nb = json.loads(nb_path.read_text())
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == tamper:
                cell["source"] = "pass  # my own test"
        nb_path.write_text(json.dumps(nb))


@pytest.fixture(scope="module")
def graded(tmp_path_factory, worker_id):
    """Generate, submit three students, autograde them (once per session); return (root, scores, logs)."""
    built = once(tmp_path_factory, worker_id, "nbgrader_e2e", _grade_course)
    return Path(built["root"]), {s: {k: tuple(v) for k, v in d.items()} for s, d in built["scores"].items()}, \
        built["logs"]


def _grade_course(directory: Path) -> dict:
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    root = copy_course(COURSE, directory / "course")
    config = course_config(root, root)
    logs = {}
    with nbgrader_env():
        api = NbGraderAPI(config=config)
        result = api.generate_assignment(ASSIGNMENT, force=True, create=True)
        assert result["success"], result.get("log")
        _submit(root, "ref")
        _submit(root, "bug", mutate=_bug("softmax_loss_vectorized", SOFTMAX_BUG))
        _submit(root, "tamper", mutate=_bug("svm_loss_naive", SVM_BUG), tamper="test_svm_loss_naive",
                skip=("softmax.ipynb",))  # not needed here; nbgrader scores a missing notebook 0
        for student in ("ref", "bug", "tamper"):
            result = api.autograde(ASSIGNMENT, student, force=True, create=True)
            assert result["success"], result.get("log")
            logs[student] = result.get("log", "")
        scores = {}
        with Gradebook(config.CourseDirectory.db_url, "linclass") as gb:
            for student in ("ref", "bug", "tamper"):
                sub = gb.find_submission(ASSIGNMENT, student)
                scores[student] = {g.name: (g.auto_score, g.max_score) for nb in sub.notebooks for g in nb.grades
                                   if g.cell.cell_type == "code"}
    return {"root": str(root), "scores": scores, "logs": logs}


def test_reference_gets_every_autograded_point(graded):
    _, scores, _ = graded
    ref = scores["ref"]
    assert len(ref) == 11
    assert all(got == most and most > 0 for got, most in ref.values()), ref
    assert sum(m for _, m in ref.values()) == load_config(TASK).autograded_total == 100  # one table of points


def test_one_bug_loses_exactly_that_functions_test_cell(graded):
    _, scores, _ = graded
    lost = {name for name, (got, most) in scores["bug"].items() if got < most}
    assert lost == {"test_softmax_loss_vectorized"}


def test_an_edited_locked_test_cell_is_restored_and_runs(graded):
    root, scores, logs = graded
    assert "Attribute 'checksum' for cell test_svm_loss_naive has changed" in logs["tamper"]
    got, most = scores["tamper"]["test_svm_loss_naive"]
    points = sum(v for k, v in load_config(TASK).points.items() if k.startswith("svm_loss_naive::"))
    assert got == 0 and most == points, "the original test ran against the buggy svm_loss_naive"
    autograded = json.loads((root / "autograded" / "tamper" / ASSIGNMENT / "svm.ipynb").read_text())
    original = json.loads((SOURCE / "svm.ipynb").read_text())  # with its hidden tests, restored from the gradebook

    def cell(nb):
        return next("".join(c["source"]) for c in nb["cells"]
                    if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_svm_loss_naive")
    assert cell(autograded) == cell(original) != "pass  # my own test"
    assert "HIDDEN TESTS" in cell(autograded)


def test_nbgrader_checksums_flag_only_the_edited_cell(graded):
    import nbformat
    from nbgrader.utils import compute_checksum

    root, _, _ = graded
    changed = []
    for path in sorted((root / "submitted" / "tamper" / ASSIGNMENT).glob("*.ipynb")):
        for c in nbformat.read(path, as_version=4).cells:
            meta = c.metadata.get("nbgrader", {})
            if meta.get("locked") and compute_checksum(c) != meta.get("checksum"):
                changed.append(meta["grade_id"])
    assert changed == ["test_svm_loss_naive"]
