"""The grader's verdicts: the reference scores full marks, every one-bug mutant loses points in
exactly its part (and gets the right diagnosis where the catalog knows the bug), alternative
correct implementations score full marks, grading is deterministic, and malformed
submissions still get a report."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from contract import CLAUSES
from grading_helpers import ROOT, diagnosed, lost_parts, points_by_part, results, run_grade
from kit import REFERENCE_DIR
from shared_build import once, release_cli

from linclass.assignment import DEFAULT_ASSIGNMENT as ASSIGNMENT
from linclass.assignments.linear_classifiers.misconceptions import by_id
from linclass.assignments.linear_classifiers.mutants import MUTANTS, write_mutant, write_reference
from linclass.course.release import fill_release

pytestmark = pytest.mark.slow

ALTERNATIVES = sorted(p for p in (ROOT / "tests" / "fixtures" / "alternatives").iterdir() if p.is_dir())

#: A bug in a function also costs points in the parts whose reference calls it.
CALLERS = {"rel_error": {"grad_check_sparse"}}


@pytest.fixture(scope="module")
def mutant_reports(tmp_path_factory):
    """All mutants plus the reference, graded in one batch (--jobs 2)."""
    base = tmp_path_factory.mktemp("mutants")
    class_dir = base / "class"
    class_dir.mkdir()
    write_reference(class_dir / "reference")
    names = {}
    for k, (mid, part) in enumerate(MUTANTS):
        name = f"m{k:02d}-{mid}"
        write_mutant(mid, part, class_dir / name)
        names[name] = (mid, part)
    out = base / "out"
    proc = run_grade(class_dir, out=out, jobs=2)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out, names


def test_reference_module_layout_scores_full_marks(mutant_reports):
    out, _ = mutant_reports
    result = results(out, "reference")
    failed = [f"{t['name']}: {t['output']}" for t in result["tests"] if t["status"] != "passed"]
    assert failed == []
    assert result["score"] == result["max_score"] == 100


def test_there_are_at_least_30_mutants():
    assert len(MUTANTS) >= 30


@pytest.mark.parametrize("index", range(len(MUTANTS)), ids=[f"{m}-{p}" for m, p in MUTANTS])
def test_mutant_loses_points_only_in_its_part(mutant_reports, index):
    out, names = mutant_reports
    name = next(n for n, v in names.items() if n.startswith(f"m{index:02d}-"))
    mid, part = names[name]
    result = results(out, name)
    lost = lost_parts(result)
    assert part in lost, f"{mid} in {part} was not caught: {points_by_part(result)}"
    extra = lost - {part} - CALLERS.get(part, set())
    why = [f"{t['name']}: {t['output']}" for t in result["tests"]
           if t["status"] != "passed" and t["name"].split(":")[0] in extra]
    assert not extra, f"{mid} in {part} also cost points in {extra}: {why}"


@pytest.mark.parametrize("index", range(len(MUTANTS)), ids=[f"{m}-{p}" for m, p in MUTANTS])
def test_mutant_gets_the_right_diagnosis(mutant_reports, index):
    out, names = mutant_reports
    name = next(n for n, v in names.items() if n.startswith(f"m{index:02d}-"))
    mid, part = names[name]
    found = diagnosed(results(out, name), part)
    assert mid in found, f"{mid} in {part}: diagnosed {found or 'nothing'}"
    entry = by_id(mid)
    feedback = (out / name / "feedback.md").read_text()
    assert entry.title in feedback and entry.hint in feedback


@pytest.mark.parametrize("clause", CLAUSES, ids=lambda c: c.id)
def test_each_contract_clause_is_enforced_by_its_check(mutant_reports, clause):
    """autograder/CONTRACT.md: each row's mutants fail one of that row's checks."""
    out, names = mutant_reports
    by_pair = {pair: name for name, pair in names.items()}
    wanted = {f"{check.split('::')[0]}: {check.split('::')[1].replace('_', ' ')}" for check in clause.checks}
    for pair in clause.mutants:
        failed = {t["name"] for t in results(out, by_pair[pair])["tests"] if t["status"] != "passed"}
        assert failed & wanted, f"{clause.id}: {pair} failed {sorted(failed)}, none of {sorted(wanted)}"


def test_at_least_six_alternatives():
    assert len(ALTERNATIVES) >= 6


def test_alternative_correct_implementations_score_full_marks(tmp_path):
    out = tmp_path / "out"
    proc = run_grade(*ALTERNATIVES, out=out, jobs=2)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for alt in ALTERNATIVES:
        result = results(out, alt.name)
        failed = [f"{t['name']}: {t['output']}" for t in result["tests"] if t["status"] != "passed"]
        assert failed == [], alt.name


def test_grading_is_deterministic(tmp_path):
    """Same submission, same salt: identical results.json apart from timing fields."""
    docs = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        assert run_grade(REFERENCE_DIR, out=out, extra=("--seed-salt", "fall-2026")).returncode == 0
        doc = results(out, REFERENCE_DIR.name)
        doc.pop("execution_time")
        docs.append(json.dumps(doc, sort_keys=True))
    assert docs[0] == docs[1]


def test_salt_changes_the_inputs_not_the_verdict(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_grade(REFERENCE_DIR, out=a, extra=("--seed-salt", "one")).returncode == 0
    assert run_grade(REFERENCE_DIR, out=b, extra=("--seed-salt", "two")).returncode == 0
    assert results(a, REFERENCE_DIR.name)["score"] == results(b, REFERENCE_DIR.name)["score"] == 100


def _module_submission(tmp_path, name, edit):
    dest = tmp_path / name
    write_reference(dest)
    edit(dest)
    return dest


MALFORMED = {
    "empty": lambda d: [p.unlink() for p in d.iterdir()],
    "syntax-error": lambda d: (d / "linear_svm.py").write_text("def svm_loss_naive(W, X, y, reg:\n    pass\n"),
    "missing-function": lambda d: (d / "softmax.py").write_text("import numpy as np\n"),
    "wrong-signature": lambda d: (d / "gradient_check.py").write_text(
        re.sub(r"def rel_error\([^)]*\)", "def rel_error(x)", (d / "gradient_check.py").read_text())),
    "import-error": lambda d: (d / "tuning.py").write_text("import numpy_does_not_exist\n"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_submission_gets_a_clear_report(tmp_path, case):
    sub = _module_submission(tmp_path, case, MALFORMED[case])
    out = tmp_path / "out"
    proc = run_grade(sub, out=out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    result = results(out, case)
    assert result["score"] < result["max_score"]
    messages = " ".join(t["output"] for t in result["tests"]) + result["output"]
    expected = {"empty": "no", "syntax-error": "SyntaxError", "missing-function": "missing",
                "wrong-signature": "rel_error", "import-error": "numpy_does_not_exist"}[case]
    assert expected in messages
    # Parts that are intact still earn their points.
    if case != "empty":
        assert results(out, case)["score"] > 0


def test_notebook_submission_of_the_reference_scores_full_marks(tmp_path, tmp_path_factory, worker_id):
    """The release notebooks filled with the reference code (keyed by grade_id) score 100."""
    built = once(tmp_path_factory, worker_id, "release_cli", release_cli)
    course = Path(built["course"])
    student = fill_release(course / "release" / ASSIGNMENT, course / "source" / ASSIGNMENT, tmp_path / "alice")
    out = tmp_path / "out"
    proc = run_grade(student, out=out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = results(out, "alice")
    failed = [f"{t['name']}: {t['output']}" for t in result["tests"] if t["status"] != "passed"]
    assert failed == []
    assert result["score"] == 100


def test_zip_of_a_module_submission(tmp_path):
    sub = tmp_path / "zipped"
    write_reference(sub)
    archive = shutil.make_archive(str(tmp_path / "student42"), "zip", sub)
    out = tmp_path / "out"
    assert run_grade(archive, out=out).returncode == 0
    assert results(out, "student42")["score"] == 100
