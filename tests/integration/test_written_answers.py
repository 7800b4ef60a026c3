"""`linclass answers` and `linclass merge-manual`: the written answers go out to a TA question
by question and come back into every report (results.json, feedback.md, grades.csv,
grades_nbgrader.csv, summary.md)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess

import pytest
from grading_helpers import LINCLASS, run_grade
from kit import ASSIGNMENT, ROOT

from autograder.config import load_config

CONFIG = load_config(ASSIGNMENT)
WHOLE = CONFIG.autograded_total + CONFIG.written_total


def linclass(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*LINCLASS, *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """ada answered every question, cy's modules hold none; both graded."""
    root = tmp_path_factory.mktemp("written")
    for name in ("ada_complete", "cy_partial"):
        shutil.copytree(ROOT / "examples" / "submissions" / name, root / "class" / name)
    assert run_grade(root / "class", out=root / "out").returncode == 0
    return root


def read_csv(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_answers_collects_every_students_answers_question_by_question(graded):
    proc = linclass("answers", graded / "class", "--out", graded / "answers.md")
    assert proc.returncode == 0, proc.stderr
    text = (graded / "answers.md").read_text()
    sections = text.split("\n## ")[1:]
    assert sorted(s.split(" ", 1)[0] for s in sections) == sorted(CONFIG.written)
    kink = next(s for s in sections if s.startswith("q_kink "))
    assert kink.startswith(f"q_kink ({CONFIG.written['q_kink']:g} points, svm.ipynb)")
    assert "> **Question (the kink).**" in kink  # the prompt, from the source notebook
    assert "### ada_complete\n\nAn answer." in kink and "### cy_partial\n\n*(no answer)*" in kink


def test_answers_and_merge_manual_round_trip(graded):
    out = graded / "out"
    proc = linclass("answers", graded / "class", "--out", out / "answers.csv")
    assert proc.returncode == 0, proc.stderr
    rows = read_csv(out / "answers.csv")
    assert {(r["student_id"], r["grade_id"]) for r in rows} == {(s, q) for s in ("ada_complete", "cy_partial")
                                                              for q in CONFIG.written}
    for row in rows:  # the TA's pass: full marks for an answer, 0 for none, one comment
        row["points"] = row["max_points"] if row["answer"] else "0"
        if (row["student_id"], row["grade_id"]) == ("ada_complete", "q_kink"):
            row["points"], row["comment"] = "1.5", "Say where max(0, .) switches."
    with open(out / "answers.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    for _ in range(2):  # merging again replaces the earlier scores
        proc = linclass("merge-manual", out / "answers.csv")
        assert proc.returncode == 0, proc.stderr
    ada_written = CONFIG.written_total - CONFIG.written["q_kink"] + 1.5
    grades = {r["student_id"]: r for r in read_csv(out / "grades.csv")}
    nbgrader = {r["student_id"]: r for r in read_csv(out / "grades_nbgrader.csv")}
    for sid, written in (("ada_complete", ada_written), ("cy_partial", 0.0)):
        results = json.loads((out / sid / "results.json").read_text())
        tests = [t for t in results["tests"] if t["tags"] == ["written"]]
        assert [t["name"] for t in tests] == [f"written: {q}" for q in CONFIG.written]
        assert all(t["status"] == ("passed" if t["score"] == t["max_score"] else "failed") for t in tests)
        auto = sum(t["score"] for t in results["tests"] if t["tags"] != ["written"])
        assert results["score"] == pytest.approx(auto + written) == sum(t["score"] for t in results["tests"])
        assert results["max_score"] == WHOLE and results["extra_data"]["written"]["graded"] is True
        assert float(grades[sid]["score"]) == float(nbgrader[sid]["score"]) == pytest.approx(auto + written)
        assert float(grades[sid]["written"]) == written
        assert float(grades[sid]["max_score"]) == float(nbgrader[sid]["max_score"]) == WHOLE
        feedback = (out / sid / "feedback.md").read_text()
        assert f"**Score: {auto + written:g} / {WHOLE:g} (autograded {auto:g} / {CONFIG.autograded_total:g}; " \
               f"written answers {written:g} / {CONFIG.written_total:g})**" in feedback
        assert feedback.count("## Written answers") == 1 and "to be graded" not in feedback
    assert "| q_kink | 1.5 / 3 | Say where max(0, .) switches. |" in (out / "ada_complete" / "feedback.md").read_text()
    summary = (out / "summary.md").read_text()
    assert f"| written answers | {CONFIG.written_total:g} | " in summary and "to be graded" not in summary


@pytest.mark.parametrize("row, error", [
    ("nobody,q_kink,1", "no graded student 'nobody'"),
    ("ada_complete,q_nope,1", "'q_nope' is not a written question"),
    ("ada_complete,q_kink,four", "is not a number"),
    ("ada_complete,q_kink,4", "outside 0..3"),
    ("ada_complete,q_kink,1", "no points for ada_complete on"),
])
def test_a_bad_scores_file_is_one_clear_error_and_changes_nothing(graded, tmp_path, row, error):
    out = graded / "out"
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    scores = tmp_path / "scores.csv"
    scores.write_text(f"student_id,grade_id,points\n{row}\n")
    proc = linclass("merge-manual", scores, "--out", out)
    assert proc.returncode == 2 and error in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before
