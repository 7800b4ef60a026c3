"""Many submissions in one grading session (``autograder.run.grade_many``), and the batch's
chunks of them: the checks are collected once, yet each submission is graded as if alone, and a
failure of the grader itself (an exception out of pytest, a worker process that dies) costs only
the submission it happened on.

The failures are planted in a copy of the tiny regression assignment, whose suite's conftest
breaks the grader for one student: nothing in the engine knows of them.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from kit import ROOT

from autograder.batch import chunks, grade_batch
from autograder.run import grade_many, grade_submission
from linclass.assignment import load_assignment
from linclass.errors import LinclassError

TINY = ROOT / "tests" / "fixtures" / "assignments" / "tiny_regression"
STUDENTS = [f"s{i}" for i in range(8)]

#: Appended to the copy's suite/conftest.py: the grader breaks while it grades the student ``victim``.
BREAKS = '''
import os

import pytest

from autograder import plugin


def _grading_victim(item):
    return item.config.stash[plugin.GRADING].student_id == {victim!r}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if {how!r} == "raise" and _grading_victim(item):
        raise RuntimeError("a planted failure of the grader")
    if {how!r} == "exit" and _grading_victim(item):
        os._exit(3)  # the grading worker process dies
    yield
'''


def broken_assignment(tmp_path: Path, victim: str, how: str) -> Path:
    """A copy of the tiny assignment whose grader fails on ``victim`` (``how``: raise or exit)."""
    root = tmp_path / "assignments" / "tiny_regression"
    shutil.copytree(TINY, root, ignore=shutil.ignore_patterns("__pycache__"))
    conftest = root / "suite" / "conftest.py"
    conftest.write_text(conftest.read_text() + BREAKS.format(victim=victim, how=how))
    return root


def classroom(tmp_path: Path) -> Path:
    room = tmp_path / "class"
    for sid in STUDENTS:
        (room / sid).mkdir(parents=True)
        shutil.copy(TINY / "solutions" / "regression.py", room / sid / "regression.py")
    return room


def not_graded(out: Path) -> dict[str, str]:
    path = out / "not_graded.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as fh:
        return {row["student_id"]: row["error"] for row in csv.DictReader(fh)}


def full_marks(out: Path, sid: str) -> bool:
    results = json.loads((out / sid / "results.json").read_text())
    return results["score"] == results["max_score"] > 0


def test_chunks_cover_every_submission_once_and_shrink_towards_the_end():
    for n in (0, 1, 5, 8, 31, 200):
        for jobs in (2, 3, 8):
            cut = chunks(list(range(n)), jobs)
            assert [p for chunk in cut for p in chunk] == list(range(n))
            sizes = [len(chunk) for chunk in cut]
            assert all(1 <= s <= 8 for s in sizes) and sizes == sorted(sizes, reverse=True)
    assert len(chunks(list(range(200)), 2)[0]) == 8 and len(chunks(list(range(200)), 2)[-1]) == 1
    assert chunks(list(range(6)), 2, largest=1) == [[i] for i in range(6)]


def test_each_submission_of_a_session_is_graded_as_if_alone(tmp_path):
    room = classroom(tmp_path)
    tiny = load_assignment(TINY)
    (room / "s1" / "regression.py").write_text(
        (room / "s1" / "regression.py").read_text().replace("2.0 * X.T", "X.T"))  # the planted bug
    outcomes = {}
    grade_many([(room / sid, sid) for sid in STUDENTS[:4]], tmp_path / "many",
               lambda path, outcome: outcomes.__setitem__(path.name, outcome), assignment=tiny)
    assert list(outcomes) == STUDENTS[:4]
    for sid in STUDENTS[:4]:
        alone = grade_submission(room / sid, tmp_path / "alone", assignment=tiny, student_id=sid)
        together = outcomes[sid].results
        assert [(t["name"], t["score"], t["output"]) for t in together["tests"]] == \
            [(t["name"], t["score"], t["output"]) for t in alone.results["tests"]], sid
    assert outcomes["s1"].score < outcomes["s1"].max_score and outcomes["s2"].score == outcomes["s2"].max_score
    log = (tmp_path / "many" / "s1" / "grader.log").read_text()
    assert "FAILED mse_loss::gradient" in log and "s0" not in log  # its own checks, nobody else's


def test_a_grader_failure_costs_only_its_submission(tmp_path):
    room, out = classroom(tmp_path), tmp_path / "out"
    grade_batch([room], out, assignment=load_assignment(broken_assignment(tmp_path, "s2", "raise")), jobs=1,
                quiet=True)
    failed = not_graded(out)
    assert list(failed) == ["s2"] and "did not finish" in failed["s2"] and "planted failure" in failed["s2"]
    assert not (out / "s2" / "results.json").exists()  # no half-graded report
    assert "planted failure" in (out / "s2" / "grader.log").read_text()
    assert all(full_marks(out, sid) for sid in STUDENTS if sid != "s2")  # the ones after it: a fresh session


def test_a_single_submission_the_grader_fails_on_raises(tmp_path):
    room = classroom(tmp_path)
    tiny = load_assignment(broken_assignment(tmp_path, "s0", "raise"))
    with pytest.raises(LinclassError, match="did not finish"):
        grade_submission(room / "s0", tmp_path / "out", assignment=tiny)


@pytest.mark.slow
def test_a_worker_that_dies_costs_only_its_submission(tmp_path):
    room, out = classroom(tmp_path), tmp_path / "out"
    grade_batch([room], out, assignment=load_assignment(broken_assignment(tmp_path, "s3", "exit")), jobs=2,
                quiet=True)
    failed = not_graded(out)
    assert list(failed) == ["s3"] and "died (twice)" in failed["s3"]
    # s3 shared a chunk (chunks of 2 for 8 submissions on 2 workers): its chunk-mate and the chunks not yet
    # graded when the pool broke were graded again, without counting an attempt
    assert len(chunks(STUDENTS, 2)[0]) == 2
    assert all(full_marks(out, sid) for sid in STUDENTS if sid != "s3")
