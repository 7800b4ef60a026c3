"""The points add up the same way in every report: feedback.md, results.json, grades.csv,
grades_nbgrader.csv and summary.md (lecture-example checks inside their parts, the written
answers said to be graded, never a "/ 100" that looks like the whole grade)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import defaultdict

import pytest
from grading_helpers import run_grade
from kit import ASSIGNMENT, ROOT

from autograder.config import load_config

CONFIG = load_config(ASSIGNMENT)
STUDENTS = ("ada_complete", "cy_partial")
PENDING = (f"written answers {CONFIG.written_total:g} points ({len(CONFIG.written)} questions), to be graded")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("totals")
    for name in STUDENTS:
        shutil.copytree(ROOT / "examples" / "submissions" / name, root / "class" / name)
    proc = run_grade(root / "class", out=root / "out")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return root / "out"


def feedback_table(text: str) -> dict[str, tuple[float, float]]:
    return {m[1]: (float(m[2]), float(m[3])) for m in re.finditer(r"^\| (\S+) \| ([\d.]+) / ([\d.]+) ", text, re.M)}


def test_every_report_adds_the_points_up_the_same_way(graded):
    with open(graded / "grades.csv", newline="") as f:
        grades = {r["student_id"]: r for r in csv.DictReader(f)}
    with open(graded / "grades_nbgrader.csv", newline="") as f:
        nbgrader = {r["student_id"]: r for r in csv.DictReader(f)}
    summary = (graded / "summary.md").read_text()
    whole = CONFIG.autograded_total + CONFIG.written_total
    for sid in STUDENTS:
        results = json.loads((graded / sid / "results.json").read_text())
        feedback = (graded / sid / "feedback.md").read_text()
        by_part = defaultdict(lambda: [0.0, 0.0])
        for test in results["tests"]:
            by_part[test["tags"][0]][0] += test["score"]
            by_part[test["tags"][0]][1] += test["max_score"]
        table = feedback_table(feedback)
        row = grades[sid]
        assert set(table) == set(by_part) == set(ASSIGNMENT.spec.part_names)
        for part, (got, most) in by_part.items():
            assert table[part] == (got, most) and float(row[part]) == got, part
            assert re.search(rf"^\| {re.escape(part)} \| {most:g} \| ", summary, re.M), part  # the max column
        assert "slides" not in row
        score = results["score"]
        assert score == sum(got for got, _ in by_part.values()) == float(row["score"])
        assert results["max_score"] == CONFIG.autograded_total
        assert float(row["max_score"]) == float(nbgrader[sid]["max_score"]) == whole
        assert float(nbgrader[sid]["score"]) == score and row["written"] == ""
        said = f"autograded {score:g} / {CONFIG.autograded_total:g}; {PENDING}"
        assert f"**Score: {said}**" in feedback and f"Student {sid}: {said}." in results["output"]
        assert results["extra_data"]["written"] == {"max_score": CONFIG.written_total,
                                                    "questions": len(CONFIG.written), "graded": False}
    assert f"of {whole:g} (autograded {CONFIG.autograded_total:g} + written answers {CONFIG.written_total:g})" \
        in summary
    assert f"| written answers | {CONFIG.written_total:g} | to be graded |" in summary


def test_a_half_done_submission_has_one_line_per_unattempted_part(graded):
    feedback = (graded / "cy_partial" / "feedback.md").read_text()
    fix = feedback.split("## What to fix", 1)[1]
    assert "Traceback" not in feedback
    for part in ("softmax_loss_vectorized", "LinearClassifier.train"):
        assert fix.count(part) == 1
        assert re.search(rf"^- \*\*{re.escape(part)}\*\* \(0 / \d+\): not attempted \(raises NotImplementedError\)$",
                         fix, re.M), part
    assert fix.count("tuning.py") == 1
