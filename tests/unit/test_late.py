"""Late submissions (autograder/late.py): the [late] table, the penalty arithmetic, and the reports."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from kit import ASSIGNMENT

from autograder.config import load_config
from autograder.late import LatePolicy, late_outcome, parse_time
from linclass.errors import LinclassError

DUE = datetime(2026, 12, 1, 23, 59, tzinfo=timezone.utc)


def _config(tmp_path: Path, late: str) -> Path:
    path = tmp_path / "course.toml"
    path.write_text(f"[late]\n{late}\n")
    return path


def test_a_late_table_is_read_into_a_policy(tmp_path):
    (tmp_path / "times.csv").write_text("student_id,timestamp\nann,2026-12-02 08:00\n")
    config = load_config(ASSIGNMENT, _config(tmp_path, 'due = 2026-12-01T18:59:00\ntimezone = "America/New_York"\n'
                                             'grace_minutes = 15\npenalty_schedule = [10, 25, 100]\n'
                                             'timestamps = "times.csv"'))
    late = config.late
    assert late.due == DUE  # 18:59 in New York in December is 23:59 UTC
    assert late.grace == timedelta(minutes=15) and late.schedule == (10.0, 25.0, 100.0) and late.per_day is None
    assert late.timestamps == (tmp_path / "times.csv").resolve()
    assert load_config(ASSIGNMENT).late is None  # the assignment's own config sets no due date


@pytest.mark.parametrize("table, fragment", [
    ("penalty_per_day = 10", "needs a due date"),
    ("due = 2026-12-01\npenalty_per_day = 10", "has no time of day"),
    ('due = "next friday"\npenalty_per_day = 10', "due must be a date and time"),
    ("due = 2026-12-01T23:59:00Z", "exactly one of penalty_per_day"),
    ("due = 2026-12-01T23:59:00Z\npenalty_per_day = 10\npenalty_schedule = [10]", "exactly one of"),
    ("due = 2026-12-01T23:59:00Z\npenalty_per_day = 150", "penalty_per_day must be a percentage"),
    ("due = 2026-12-01T23:59:00Z\npenalty_schedule = [50, 20]", "must not decrease"),
    ("due = 2026-12-01T23:59:00Z\npenalty_schedule = []", "penalty_schedule must be a list"),
    ("due = 2026-12-01T23:59:00Z\npenalty_per_day = 10\ngrace_minutes = -5", "grace_minutes must be"),
    ('due = 2026-12-01T23:59:00Z\npenalty_per_day = 10\ntimezone = "Mars/Olympus"', "IANA timezone"),
    ('due = 2026-12-01T23:59:00Z\npenalty_per_day = 10\ntimestamps = "nope.csv"', "not found"),
    ("due = 2026-12-01T23:59:00Z\npenalty_per_day = 10\npenalty = 3", "unknown key 'penalty'"),
    ("late = true", "unknown key 'late'"),
])
def test_a_bad_late_table_is_one_clear_error(tmp_path, table, fragment):
    path = _config(tmp_path, table)
    with pytest.raises(LinclassError) as info:
        load_config(ASSIGNMENT, path)
    message = str(info.value)
    assert message.startswith(f"{path}: [late] ") and fragment in message and "\n" not in message


def test_a_bad_late_table_stops_linclass_grade_with_one_line(tmp_path):
    path = _config(tmp_path, "due = 2026-12-01\npenalty_per_day = 10")
    result = subprocess.run([sys.executable, "-m", "linclass.cli", "grade", str(tmp_path), "--config", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"linclass: error: {path}: [late] due 2026-12-01 has no time of day: give "
                                          "one, e.g. 2026-12-01T23:59:00"]


def test_days_late_count_started_days_after_the_grace_period():
    policy = LatePolicy(due=DUE, grace=timedelta(minutes=15), per_day=10.0)
    assert [policy.days_late(DUE + timedelta(minutes=m)) for m in (-60, 0, 15, 16, 24 * 60, 24 * 60 + 1)] == [
        0, 0, 0, 1, 1, 2]
    assert [policy.percent(d) for d in (0, 1, 2, 12)] == [0, 10, 20, 100]
    schedule = LatePolicy(due=DUE, schedule=(10.0, 50.0, 100.0))
    assert [schedule.percent(d) for d in (0, 1, 2, 3, 9)] == [0, 10, 50, 100, 100]


def test_the_penalty_is_a_share_of_the_maximum_and_never_below_zero():
    policy = LatePolicy(due=DUE, per_day=25.0)
    two_days = DUE + timedelta(days=1, hours=1)
    assert late_outcome(policy, two_days, 80.0, 100.0) == {
        "submitted": "2026-12-03 00:59:00 UTC", "days_late": 2, "late_penalty": 50.0, "final_score": 30.0}
    assert late_outcome(policy, two_days, 20.0, 100.0)["final_score"] == 0.0
    assert late_outcome(policy, two_days, 20.0, 100.0)["late_penalty"] == 20.0
    assert late_outcome(policy, None, 80.0, 100.0) == {"submitted": "", "days_late": 0, "late_penalty": 0.0,
                                                        "final_score": 80.0}


def test_times_as_nbgrader_iso_and_spreadsheets_write_them():
    assert parse_time("2026-11-20 17:59:01.123456 UTC") == datetime(2026, 11, 20, 17, 59, 1, 123456, timezone.utc)
    assert parse_time("2026-11-20T17:59:01+01:00") == datetime(2026, 11, 20, 16, 59, 1, tzinfo=timezone.utc)
    assert parse_time("2026-11-20T17:59:01Z") == datetime(2026, 11, 20, 17, 59, 1, tzinfo=timezone.utc)
    new_york = ZoneInfo("America/New_York")
    assert parse_time("2026-11-20 12:59", "America/New_York") == datetime(2026, 11, 20, 12, 59, tzinfo=new_york)
    assert parse_time("2026-11-20 12:59:00.5 EST", "America/New_York") == datetime(2026, 11, 20, 12, 59, 0, 500000,
                                                                                   tzinfo=new_york)
    assert parse_time("") is None and parse_time("yesterday") is None


def test_a_zip_submission_is_dated_by_its_modification_time(tmp_path):
    from autograder.export import submission_meta

    path = tmp_path / "ann.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("linear_svm.py", "")
    moment = datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc).timestamp()
    os.utime(path, (moment, moment))
    assert submission_meta(path, ASSIGNMENT)["timestamp"] == "2026-12-02 10:30:00+00:00"
    assert parse_time(submission_meta(path, ASSIGNMENT)["timestamp"]) == DUE + timedelta(hours=10, minutes=31)


def _class_with_times(out: Path) -> list[Path]:
    """ann on time (nbgrader's timestamp), ben 2 days late (zip time), cy with no time, dee dated by the CSV."""
    from fake_results import write_results

    stamps = {"ann": "2026-12-01 23:00:00.000000 UTC", "ben": "2026-12-03 10:00:00+00:00", "cy": "",
              "dee": "2026-12-01 12:00:00 UTC"}
    dirs = []
    for student, stamp in stamps.items():
        report = write_results(out, student, failed=("svm_loss_naive: gradient check",) if student == "ben" else ())
        (report / "submission.json").write_text(json.dumps({"path": "", "assignment": ASSIGNMENT.name,
                                                            "timestamp": stamp}))
        dirs.append(report)
    return dirs


def test_class_reports_apply_the_late_policy(tmp_path):
    from fake_results import MAX_SCORE

    from autograder.class_reports import write_class_reports

    out = tmp_path / "out"
    (tmp_path / "times.csv").write_text("student_id,timestamp\ndee,2026-12-02 23:58:00 UTC\n")
    config = load_config(ASSIGNMENT, _config(tmp_path, 'due = 2026-12-01T23:59:00Z\ngrace_minutes = 10\n'
                                             'penalty_per_day = 10\ntimestamps = "times.csv"'))
    write_class_reports(out, _class_with_times(out), ASSIGNMENT, late=config.late)
    with open(out / "grades.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames[-4:] == ["submitted", "days_late", "late_penalty", "final_score"]
        rows = {r["student_id"]: r for r in reader}
    late_points = MAX_SCORE / 10
    assert (rows["ann"]["days_late"], rows["ann"]["late_penalty"]) == ("0", "0")
    assert rows["ben"]["days_late"] == "2" and float(rows["ben"]["late_penalty"]) == pytest.approx(2 * late_points)
    assert float(rows["ben"]["final_score"]) == pytest.approx(float(rows["ben"]["score"]) - 2 * late_points)
    assert rows["cy"]["submitted"] == "" and float(rows["cy"]["final_score"]) == MAX_SCORE
    assert rows["dee"]["submitted"] == "2026-12-02 23:58:00 UTC" and rows["dee"]["days_late"] == "1"  # the CSV wins
    with open(out / "grades_nbgrader.csv", newline="") as f:
        nb = {r["student_id"]: r for r in csv.DictReader(f)}
    assert nb["ben"]["duedate"] == "2026-12-01 23:59:00 UTC"
    assert float(nb["ben"]["late_submission_penalty"]) == pytest.approx(2 * late_points)
    assert float(nb["ben"]["score"]) == pytest.approx(float(rows["ben"]["final_score"]))
    assert float(nb["ben"]["raw_score"]) == pytest.approx(float(rows["ben"]["score"]))
    summary = (out / "summary.md").read_text()
    section = summary.split("## Late submissions", 1)[1].split("\n## ", 1)[0]
    assert "Due 2026-12-01 23:59:00 UTC, grace 10 min; penalty 10% of the maximum per started day late." in section
    assert "2 of 4 submissions late." in section
    assert "| ben | 2026-12-03 10:00:00 UTC | 2 |" in section and "| dee | 2026-12-02 23:58:00 UTC | 1 |" in section
    assert "No submission time is known for 1 (no penalty applied): cy." in section


def test_without_a_due_date_the_reports_have_no_late_columns(tmp_path):
    from autograder.class_reports import write_class_reports

    write_class_reports(tmp_path, _class_with_times(tmp_path), ASSIGNMENT)
    header = (tmp_path / "grades.csv").read_text().splitlines()[0]
    assert "final_score" not in header and "Late submissions" not in (tmp_path / "summary.md").read_text()


def test_a_bad_timestamps_csv_is_one_clear_error(tmp_path):
    from autograder.class_reports import write_class_reports

    (tmp_path / "times.csv").write_text("student_id,timestamp\nann,soon\n")
    config = load_config(ASSIGNMENT, _config(tmp_path, 'due = 2026-12-01T23:59:00Z\npenalty_per_day = 10\n'
                                             'timestamps = "times.csv"'))
    out = tmp_path / "out"
    with pytest.raises(LinclassError, match=r"times.csv line 2: cannot read the time 'soon'"):
        write_class_reports(out, _class_with_times(out), ASSIGNMENT, late=config.late)
    (tmp_path / "times.csv").write_text("who,when\nann,2026-12-01 10:00\n")
    with pytest.raises(LinclassError, match="needs the columns student_id and timestamp"):
        write_class_reports(out, _class_with_times(out), ASSIGNMENT, late=config.late)
