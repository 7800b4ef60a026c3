"""``linclass export canvas|moodle`` (autograder/lms.py): gradebook CSVs from a class's grades.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from cli_run import assert_one_line_error, run

from autograder.lms import write_lms_csv
from linclass.errors import LinclassError


def _grades(directory: Path, late: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    header = "student_id,score,max_score,svm_loss_naive,misconceptions" + (",submitted,days_late,late_penalty,"
                                                                            "final_score" if late else "")
    rows = ["zoe,92,100,9,", "amy,80,100,9,x"]
    if late:
        rows = ["zoe,92,100,9,,2026-12-01 10:00:00 UTC,0,0,92", "amy,80,100,9,x,2026-12-03 10:00:00 UTC,2,20,60"]
    (directory / "grades.csv").write_text("\n".join([header, *rows]) + "\n")
    return directory


def _read(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def test_canvas_csv_has_canvas_identification_columns_and_the_final_score(tmp_path):
    path, n, grade = write_lms_csv("canvas", _grades(tmp_path / "class"), column="Linear classifiers (123)")
    assert (path, n, grade) == (tmp_path / "class" / "canvas_grades.csv", 2, "final_score")
    header, rows = _read(path)
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Linear classifiers (123)"]
    assert rows == [{"Student": "amy", "ID": "", "SIS User ID": "", "SIS Login ID": "amy", "Section": "",
                     "Linear classifiers (123)": "60"},
                    {"Student": "zoe", "ID": "", "SIS User ID": "", "SIS Login ID": "zoe", "Section": "",
                     "Linear classifiers (123)": "92"}]
    path, *_ = write_lms_csv("canvas", tmp_path / "class", tmp_path / "sis.csv", "hw", id_column="sis_user_id")
    assert [(r["SIS User ID"], r["SIS Login ID"]) for r in _read(path)[1]] == [("amy", ""), ("zoe", "")]


def test_moodle_csv_has_one_identifying_column_and_the_grade(tmp_path):
    directory = _grades(tmp_path / "class", late=False)
    path, n, grade = write_lms_csv("moodle", directory, column="linear_classifiers")
    assert grade == "score"  # no due date configured: the checks' points
    assert _read(path) == (["Username", "linear_classifiers"], [{"Username": "amy", "linear_classifiers": "80"},
                                                                 {"Username": "zoe", "linear_classifiers": "92"}])
    path, *_ = write_lms_csv("moodle", directory, tmp_path / "m.csv", "hw", id_column="email")
    assert _read(path)[0] == ["Email address", "hw"]


def test_an_id_column_of_the_other_lms_is_refused(tmp_path):
    with pytest.raises(LinclassError, match="'username' is not a canvas column"):
        write_lms_csv("canvas", _grades(tmp_path), column="hw", id_column="username")


def test_linclass_export_writes_the_csv_and_says_what_it_did(tmp_path):
    directory = _grades(tmp_path / "class")
    result = run("export", "moodle", str(directory), "--id-column", "idnumber", timeout=60)
    assert result.returncode == 0, result.stderr
    assert str(directory / "moodle_grades.csv") in result.stdout and "'ID number'" in result.stdout
    assert _read(directory / "moodle_grades.csv")[0] == ["ID number", "linear_classifiers"]


def test_linclass_export_of_an_ungraded_folder_is_one_line(tmp_path):
    assert_one_line_error(run("export", "canvas", str(tmp_path), timeout=60), "grades.csv: not found",
                          "linclass grade")
