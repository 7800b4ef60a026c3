"""Class-scale grading (autograder/batch.py, autograder/export.py).

One batch of a correct, a buggy, a malformed and a hanging submission is graded once per
test session (``--jobs 2``, a config with a 1 s call limit so the hang costs seconds); the tests
then read its grades.csv, grades_nbgrader.csv and summary.md.  Shards, resume/--force and
nbgrader's submitted/ layout are graded on smaller corpora.
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

import pytest
from kit import ASSIGNMENT, DEFAULT_CONFIG
from shared_build import once

from autograder.batch import expand_paths, grade_batch, in_shard, merge_outputs, parse_shard
from autograder.class_reports import columns
from autograder.export import NBGRADER_COLUMNS, nbgrader_rows, submission_meta
from autograder.written import totals_of
from linclass.assignments.linear_classifiers.mutants import write_mutant, write_reference
from linclass.errors import LinclassError

BUG = ("svm_reg_grad_missing_factor_2", "svm_loss_vectorized")
#: Checks whose points depend on wall-clock timing (parent-measured; can flip on a loaded machine).
TIMED = ("faster than naive",)
#: grades.csv columns that hold a timed check.
COLUMNS = columns(ASSIGNMENT)
TIMED_COLUMNS = ("score", "svm_loss_vectorized", "softmax_loss_vectorized")
HANG = "    num_train, num_classes = X.shape[0], W.shape[1]\n"


def _read_csv(path: Path) -> dict[str, dict]:
    with open(path, newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def fast_config(tmp: Path) -> Path:
    """The bundled config with a 1 s call limit and a 20 s CPU budget (a hang costs seconds)."""
    text = DEFAULT_CONFIG.read_text() + "\n[limits]\ncall_seconds = 1.0\ncpu_seconds_total = 20.0\n"
    path = tmp / "fast.toml"
    path.write_text(text)
    return path


def make_class(root: Path) -> Path:
    """submissions/: good (reference), buggy (one known bug), malformed, hanging (svm_loss_naive loops forever)."""
    root.mkdir(parents=True)
    write_reference(root / "good")
    write_mutant(*BUG, root / "buggy")
    (root / "malformed").mkdir()
    (root / "malformed" / "svm.ipynb").write_text("{ this is not a notebook")
    (root / "malformed" / "linear_svm.py").write_text("def svm_loss_naive(W, X, y, reg)\n    return 0\n")
    hang = write_reference(root / "hanging")
    source = (hang / "linear_svm.py").read_text()
    assert source.count(HANG) == 1
    (hang / "linear_svm.py").write_text(source.replace(HANG, "    while True:\n        pass\n" + HANG, 1))
    return root


def _grade_class(tmp: Path) -> dict:
    corpus = make_class(tmp / "submissions")
    config = fast_config(tmp)
    out = tmp / "out"
    start = time.perf_counter()
    grade_batch([corpus], out, jobs=2, config_path=config, quiet=True)
    return {"corpus": str(corpus), "out": str(out), "config": str(config), "seconds": time.perf_counter() - start}


@pytest.fixture(scope="session")
def graded(tmp_path_factory, worker_id):
    """The graded class, built once per session even across xdist workers (read-only for the tests)."""
    built = once(tmp_path_factory, worker_id, "batch-graded", _grade_class)
    return {k: Path(v) if isinstance(v, str) else v for k, v in built.items()}


def untimed_outcomes(report: Path) -> list[tuple[str, float, str]]:
    """(name, score, status) of every check of a report except the timed ones."""
    tests = json.loads((report / "results.json").read_text())["tests"]
    return [(t["name"], t["score"], t["status"]) for t in tests if not any(k in t["name"] for k in TIMED)]


def part_points(report: Path) -> tuple[dict[str, float], dict[str, float]]:
    """(points, max points) per grades.csv column, from a student's results.json."""
    got, most = dict.fromkeys(COLUMNS, 0.0), dict.fromkeys(COLUMNS, 0.0)
    for test in json.loads((report / "results.json").read_text())["tests"]:
        tag = test["tags"][0]
        got[tag] += test["score"]
        most[tag] += test["max_score"]
    return got, most


@pytest.mark.slow
def test_every_student_has_a_row_that_matches_their_report(graded):
    rows = _read_csv(graded["out"] / "grades.csv")
    assert sorted(rows) == ["buggy", "good", "hanging", "malformed"]
    for sid, row in rows.items():
        results = json.loads((graded["out"] / sid / "results.json").read_text())
        assert float(row["score"]) == pytest.approx(results["score"])
        assert float(row["max_score"]) == pytest.approx(totals_of(results).max_score)  # written answers included
        got, _ = part_points(graded["out"] / sid)
        for column in COLUMNS:
            assert float(row[column]) == pytest.approx(got[column]), (sid, column)
        assert sum(float(row[c]) for c in COLUMNS) == pytest.approx(float(row["score"]))


@pytest.mark.slow
def test_rows_grade_each_kind_of_submission_right(graded):
    rows = _read_csv(graded["out"] / "grades.csv")
    _, most = part_points(graded["out"] / "good")
    good, buggy, hanging, malformed = (rows[k] for k in ("good", "buggy", "hanging", "malformed"))
    failed = [o for o in untimed_outcomes(graded["out"] / "good") if o[2] != "passed"]
    assert not failed, f"the reference must score full marks: {failed}"
    # one bug in svm_loss_vectorized costs points there only, and is diagnosed by name
    assert float(buggy["svm_loss_vectorized"]) < most["svm_loss_vectorized"]
    for part in ("svm_loss_naive", "softmax_loss_vectorized", "LinearClassifier.train", "tune_hyperparameters"):
        assert float(buggy[part]) == most[part], part
    assert BUG[0] in buggy["misconceptions"].split(";")
    # a hang costs the hanging function, not the rest of the submission
    assert float(hanging["svm_loss_naive"]) < most["svm_loss_naive"]
    for part in ("svm_loss_vectorized", "softmax_loss_naive", "rel_error", "LinearClassifier.predict"):
        assert float(hanging[part]) == most[part], part
    # nothing usable: graded, reported, zero
    assert float(malformed["score"]) == 0
    feedback = (graded["out"] / "malformed" / "feedback.md").read_text()
    assert "svm.ipynb" in feedback or "linear_svm.py" in feedback


@pytest.mark.slow
def test_a_hang_is_bounded_by_its_own_limits(graded):
    # 1 s per call and a 20 s CPU budget: the whole batch of four stays well under a minute
    assert graded["seconds"] < 60
    out = (graded["out"] / "hanging" / "feedback.md").read_text()
    assert "time limit" in out or "budget" in out


@pytest.mark.slow
def test_nbgrader_export_columns_and_summary(graded):
    with open(graded["out"] / "grades_nbgrader.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == NBGRADER_COLUMNS
        rows = {r["student_id"]: r for r in reader}
    grades = _read_csv(graded["out"] / "grades.csv")
    assert sorted(rows) == sorted(grades)
    for sid, row in rows.items():
        assert row["assignment"] == "linear_classifiers"
        assert float(row["raw_score"]) == float(row["score"]) == float(grades[sid]["score"])
        assert float(row["late_submission_penalty"]) == 0
    summary = (graded["out"] / "summary.md").read_text()
    assert "4 graded submissions" in summary and "score_histogram.png" in summary
    assert "| svm_loss_vectorized |" in summary
    assert "What to re-teach" in summary and BUG[0] in summary
    assert (graded["out"] / "score_histogram.png").read_bytes()[:4] == b"\x89PNG"
    assert not (graded["out"] / "not_graded.csv").exists()


@pytest.mark.slow
def test_resume_skips_finished_students_and_force_regrades(graded, capsys, tmp_path):
    out, corpus = tmp_path / "out", graded["corpus"]
    shutil.copytree(graded["out"], out)  # the shared batch stays untouched
    before = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    grades_before = _read_csv(out / "grades.csv")
    # an interrupted batch: one student has no results yet
    (out / "buggy" / "results.json").unlink()
    start = time.perf_counter()
    grade_batch([corpus], out, jobs=2, config_path=graded["config"])
    assert time.perf_counter() - start < 30  # the hanging student was not regraded
    after = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    assert {k for k in before if after[k] != before[k]} == {"buggy"}
    assert "skipped 3 already graded" in capsys.readouterr().out
    grades_after = _read_csv(out / "grades.csv")
    assert sorted(grades_after) == sorted(grades_before)
    assert all(grades_after[k] == grades_before[k] for k in grades_before if k != "buggy")
    # --force regrades the students it is given
    grade_batch([corpus / "good"], out, force=True, config_path=graded["config"], quiet=True)
    assert (out / "good" / "results.json").stat().st_mtime_ns != after["good"]


@pytest.mark.slow
def test_shards_merged_equal_the_unsharded_run(graded, tmp_path):
    corpus, out = graded["corpus"], tmp_path
    ids = [p.name for p in expand_paths([corpus])]
    assert sorted(ids) == sorted(i for k in (1, 2) for i in ids if in_shard(i, (k, 2)))
    for k in (1, 2):
        grade_batch([corpus], out / f"shard{k}", jobs=2, shard=f"{k}/2", config_path=graded["config"], quiet=True)
    shard_ids = [sorted(_read_csv(out / f"shard{k}" / "grades.csv")) for k in (1, 2)]
    assert not set(shard_ids[0]) & set(shard_ids[1])
    merge_outputs([out / "shard1", out / "shard2"], out / "merged")
    merged, whole = _read_csv(out / "merged" / "grades.csv"), _read_csv(graded["out"] / "grades.csv")
    assert sorted(merged) == sorted(whole)
    # per-student seeds: the same inputs and the same points wherever a shard runs (timed checks aside)
    for sid in whole:
        assert untimed_outcomes(out / "merged" / sid) == untimed_outcomes(graded["out"] / sid), sid
        for column in whole[sid]:
            if column not in TIMED_COLUMNS:
                assert merged[sid][column] == whole[sid][column], (sid, column)
    assert (out / "merged" / "grades_nbgrader.csv").exists() and (out / "merged" / "summary.md").exists()
    with pytest.raises(LinclassError, match="more than one shard"):
        merge_outputs([out / "shard1", out / "merged"], out / "again")


@pytest.mark.slow
def test_nbgrader_submitted_layout_works_as_is(tmp_path):
    submitted = tmp_path / "course" / "submitted"
    for student in ("alice", "bob"):
        folder = write_reference(submitted / student / "linear_classifiers")
        (folder / "timestamp.txt").write_text("2026-11-20 17:59:01.123456 UTC\n")
    paths = expand_paths([submitted])
    assert [p.name for p in paths] == ["alice", "bob"]
    assert submission_meta(paths[0], ASSIGNMENT) == {"path": str(paths[0]), "assignment": "linear_classifiers",
                                         "timestamp": "2026-11-20 17:59:01.123456 UTC"}
    out = tmp_path / "out"
    grade_batch([submitted], out, jobs=2, quiet=True)
    assert sorted(_read_csv(out / "grades.csv")) == ["alice", "bob"]
    nb = list(csv.DictReader(open(out / "grades_nbgrader.csv", newline="")))
    assert [(r["assignment"], r["student_id"], r["timestamp"]) for r in nb] == [
        ("linear_classifiers", "alice", "2026-11-20 17:59:01.123456 UTC"),
        ("linear_classifiers", "bob", "2026-11-20 17:59:01.123456 UTC")]


# ------------------------------------------------------------------ cheap unit tests


def test_shards_are_a_deterministic_partition():
    ids = [f"student{i:03d}" for i in range(300)]
    for n in (1, 2, 3, 7):
        owners = [[k for k in range(1, n + 1) if in_shard(i, (k, n))] for i in ids]
        assert all(len(o) == 1 for o in owners)
        sizes = [sum(o == [k] for o in owners) for k in range(1, n + 1)]
        assert min(sizes) > 0.6 * len(ids) / n  # roughly balanced
    assert parse_shard("2/4") == (2, 4) and parse_shard(None) is None
    for bad in ("0/2", "3/2", "x", "1-2"):
        with pytest.raises(LinclassError):
            parse_shard(bad)


def test_expand_paths_one_class_folder_or_many_paths(tmp_path):
    write_reference(tmp_path / "cls" / "ann")
    (tmp_path / "cls" / "ben.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (tmp_path / "cls" / ".DS_Store").write_text("")
    assert [p.name for p in expand_paths([tmp_path / "cls"])] == ["ann", "ben.zip"]
    # a folder holding code is one submission, not a class
    assert expand_paths([tmp_path / "cls" / "ann"]) == [tmp_path / "cls" / "ann"]
    with pytest.raises(LinclassError, match="no such file"):
        expand_paths([tmp_path / "missing"])


def test_nbgrader_rows_from_reports(tmp_path):
    for sid, score in (("zed", 55.5), ("amy", 100.0)):
        (tmp_path / sid).mkdir()
        (tmp_path / sid / "results.json").write_text(json.dumps({"score": score, "max_score": 100.0, "tests": []}))
    (tmp_path / "nobody").mkdir()  # no results: not exported
    rows = nbgrader_rows(sorted(tmp_path.iterdir()), "linear_classifiers", duedate="2026-12-01 00:00:00")
    assert [r["student_id"] for r in rows] == ["amy", "zed"]
    assert rows[1] | {} == {"assignment": "linear_classifiers", "duedate": "2026-12-01 00:00:00", "timestamp": "",
                            "student_id": "zed", "last_name": "", "first_name": "", "email": "", "raw_score": 55.5,
                            "late_submission_penalty": 0.0, "score": 55.5, "max_score": 100.0}


@pytest.mark.slow
def test_the_demo_class_of_examples(tmp_path, capsys):
    """`make demo`'s grading step on examples/submissions/: the four students get what they show."""
    from linclass.course.demo import EXAMPLES, grade_examples

    before = sorted(p.relative_to(EXAMPLES) for p in EXAMPLES.rglob("*") if "__pycache__" not in p.parts)
    grade_examples(tmp_path, jobs=2)
    table = capsys.readouterr().out
    rows = _read_csv(tmp_path / "grades.csv")
    assert sorted(rows) == ["ada_complete", "bo_two_bugs", "cy_partial", "eve_hostile"]
    assert not [o for o in untimed_outcomes(tmp_path / "ada_complete") if o[2] != "passed"]
    assert {"svm_reg_grad_missing_factor_2", "softmax_no_max_shift"} <= set(rows["bo_two_bugs"]["misconceptions"]
                                                                            .split(";"))
    score = {k: float(r["score"]) for k, r in rows.items()}
    assert score["eve_hostile"] < 10 < score["cy_partial"] < score["bo_two_bugs"] < score["ada_complete"]
    assert float(rows["cy_partial"]["tune_hyperparameters"]) == 0
    for sid in rows:
        assert f"{sid}/feedback.md" in table
    assert "the regularizer's gradient is missing its factor 2" in table
    # the hostile student left nothing behind in the examples
    after = sorted(p.relative_to(EXAMPLES) for p in EXAMPLES.rglob("*") if "__pycache__" not in p.parts)
    assert after == before


def test_a_resume_with_nothing_to_do_says_so_and_names_force(tmp_path, capsys):
    from fake_results import write_results

    corpus, out = tmp_path / "submissions", tmp_path / "out"
    for student in ("ann", "ben"):
        write_reference(corpus / student)
        write_results(out, student)
    grade_batch([corpus], out)  # every student already has a report: nothing is graded
    printed = capsys.readouterr().out
    assert "nothing to do" in printed and "--force" in printed and "2 student" in printed
    assert "graded 0 of 0" not in printed
    assert sorted(_read_csv(out / "grades.csv")) == ["ann", "ben"]  # the class reports are still written


def test_the_config_late_table_reaches_the_batch_and_merge_reports(tmp_path, capsys):
    from fake_results import write_results

    corpus, out = tmp_path / "course" / "submitted", tmp_path / "out"
    config = tmp_path / "late.toml"
    config.write_text("[late]\ndue = 2026-11-20T12:00:00Z\npenalty_per_day = 50\n")
    for student in ("alice", "bob"):
        folder = write_reference(corpus / student / "linear_classifiers")
        (folder / "timestamp.txt").write_text("2026-11-20 17:59:01.123456 UTC\n" if student == "bob" else
                                              "2026-11-20 11:59:01.123456 UTC\n")
        report = write_results(out, student)  # already graded: the batch only rewrites the class reports
        (report / "submission.json").write_text(json.dumps(submission_meta(corpus / student, ASSIGNMENT)))
    grade_batch([corpus], out, config_path=config, quiet=True)
    merge_outputs([out], tmp_path / "merged", config_path=config)
    for target in (out, tmp_path / "merged"):
        rows = _read_csv(target / "grades.csv")
        assert (rows["alice"]["days_late"], rows["bob"]["days_late"]) == ("0", "1"), target
        assert float(rows["bob"]["final_score"]) == pytest.approx(float(rows["bob"]["score"]) / 2)
        assert "1 of 2 submissions late" in (target / "summary.md").read_text()
