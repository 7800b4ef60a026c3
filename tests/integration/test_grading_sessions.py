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


_calls = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if {how!r} == "raise" and _grading_victim(item):
        raise RuntimeError("a planted failure of the grader")
    if {how!r} == "exit" and _grading_victim(item):
        os._exit(3)  # the grading worker process dies
    if {how!r} == "interrupt" and _grading_victim(item):
        _calls.append(item)
        if len(_calls) == 2:
            raise KeyboardInterrupt  # the instructor presses Ctrl-C during the victim's second check
    yield


_open = plugin.open_submission


def _dies_opening(config, path, student_id):
    if {how!r} == "exit-opening" and path.name == {victim!r}:
        os._exit(3)  # the worker dies reading the victim's files (a notebook too big for its memory cap)
    return _open(config, path, student_id)


plugin.open_submission = _dies_opening
'''


def broken_assignment(tmp_path: Path, victim: str, how: str) -> Path:
    """A copy of the tiny assignment whose grader fails on ``victim`` (``how``: raise, exit,
    exit-opening or interrupt)."""
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
    assert "FAILED mse_loss::gradient" in log and "s1: " in log and "s0: " not in log  # its own lines only


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


@pytest.mark.slow
def test_a_worker_that_dies_opening_a_submission_costs_only_it(tmp_path):
    # s1 is opened while s0's last checks run (chunks of 2): the worker dies with both marked
    room, out = classroom(tmp_path), tmp_path / "out"
    grade_batch([room], out, assignment=load_assignment(broken_assignment(tmp_path, "s1", "exit-opening")), jobs=2,
                quiet=True)
    assert list(not_graded(out)) == ["s1"]
    assert all(full_marks(out, sid) for sid in STUDENTS if sid != "s1")
    assert not any(out.rglob(".grading"))


def test_an_interrupted_session_leaves_no_partial_report(tmp_path):
    room, out = classroom(tmp_path), tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        grade_batch([room], out, assignment=load_assignment(broken_assignment(tmp_path, "s1", "interrupt")), jobs=1,
                    quiet=True)
    assert full_marks(out, "s0")
    assert not (out / "s1" / "results.json").exists()  # one check's worth would look like full marks
    grade_batch([room], out, assignment=load_assignment(TINY), jobs=1, quiet=True)  # resumed: s1 graded whole
    assert all(full_marks(out, sid) for sid in STUDENTS)


def test_a_string_utf8_cannot_hold_costs_nobody_a_grade(tmp_path):
    # a lone surrogate (JSON "\\udc80") in a student's exception message used to stop feedback.md and
    # grader.log from being written, and then the whole session
    room, out = classroom(tmp_path), tmp_path / "out"
    code = (room / "s1" / "regression.py").read_text()
    (room / "s1" / "regression.py").write_text(code.replace("    residual = X @ w - y\n",
                                                            '    raise ValueError("bad \\udc80 value")\n', 1))
    grade_batch([room], out, assignment=load_assignment(TINY), jobs=1, quiet=True)
    assert not not_graded(out)
    results = json.loads((out / "s1" / "results.json").read_text())
    assert results["score"] < results["max_score"] and "udc80" in (out / "s1" / "feedback.md").read_text()
    assert all(full_marks(out, sid) for sid in STUDENTS if sid != "s1")


def test_under_one_uid_the_next_submission_is_opened_only_after_the_current_one(tmp_path, monkeypatch):
    # two student processes of one uid would share its process limit (and, on the weaker levels,
    # the running one could read the next one's sandbox folder)
    from autograder import plugin
    from autograder.sandbox import process

    monkeypatch.setattr(process, "separate_uids", lambda sandbox: False)
    opened_during = []
    real_open = plugin.open_submission

    def recording(config, path, student_id):
        opened_during.append(config.stash.get(plugin.GRADING, None))
        return real_open(config, path, student_id)

    monkeypatch.setattr(plugin, "open_submission", recording)
    room = classroom(tmp_path)
    outcomes = []
    grade_many([(room / sid, sid) for sid in STUDENTS[:3]], tmp_path / "out",
               lambda path, outcome: outcomes.append(outcome), assignment=load_assignment(TINY))
    assert len(opened_during) == 3 and opened_during == [None] * 3
    assert all(o.score == o.max_score for o in outcomes)


def test_a_suite_that_does_not_collect_grades_nobody_and_says_why(tmp_path):
    # pytest stops such a session with Session.Interrupted, a KeyboardInterrupt: it is no Ctrl-C
    root = broken_assignment(tmp_path, "nobody", "raise")
    # (a name of its own: pytest's importlib mode reuses a module of the same name imported before)
    (root / "suite" / f"test_broken_{tmp_path.name}.py").write_text("import no_such_module_of_the_suite\n")
    room, out = classroom(tmp_path), tmp_path / "out"
    grade_batch([room], out, assignment=load_assignment(root), jobs=1, quiet=True)
    failed = not_graded(out)
    assert sorted(failed) == STUDENTS and all("did not run" in why for why in failed.values())
    assert "no_such_module_of_the_suite" in (out / "s0" / "grader.log").read_text()
    assert not any(out.rglob(".grading")) and not any(out.rglob("results.json"))
    (root / "suite" / f"test_broken_{tmp_path.name}.py").rename(root / "suite" / f"test_broken2_{tmp_path.name}.py")
    with pytest.raises(LinclassError, match="did not run"):
        grade_submission(room / "s0", tmp_path / "alone", assignment=load_assignment(root))
