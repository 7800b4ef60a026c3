"""``linclass export canvas|moodle``: the class's grades as a gradebook CSV that the LMS imports.

Both read the class's ``grades.csv`` (``linclass grade --out DIR``) and write one row per graded
student with one grade column: the ``final_score`` when the config has a due date (the late
penalty applied, :mod:`autograder.late`), else the ``score``.  Students the grader could not
run for (``not_graded.csv``) are left out, so the import leaves their grade as it is.
linclass knows each student only by the id it graded them under (the submission's folder or
file name, or nbgrader's student id), so that id goes into the column the LMS matches
students by; choose which with ``--id-column``.

Canvas
    The Canvas gradebook import ("Grades > Import") reads the CSV layout of Canvas's own
    gradebook export: the identification columns ``Student, ID, SIS User ID, SIS Login ID,
    Section``, then one column per assignment.  Sources: Ohio State's guide to importing a CSV
    file into Carmen (its Canvas instance), teaching.resources.osu.edu/toolsets/carmencanvas/
    guides/calculating-final-grades/import-csv-file-carmen-grades: the file needs the student
    name *or* Canvas's user ``ID`` *or* ``SIS User ID`` (one suffices), the ``SIS Login ID``
    and ``Section`` columns, and the assignment column; a column that is not an existing
    assignment creates a new assignment; an uploaded grade overwrites the gradebook's.  An
    existing assignment is matched by its Canvas assignment id: a City University of Hong Kong
    TA guide (github.com/myl7/mylmoe, docs/posts/cityu-ta-upload-canvas-grade.md) says to
    name the column by that id, and points to Canvas's guide "How do I import grades in the
    Gradebook?" (community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-
    Gradebook/ta-p/807, not read here); Canvas's own export writes such headers as ``Name
    (id)``.  Give that header with ``--column``.  The student id goes into ``SIS Login ID`` by
    default (``--id-column``: ``sis_login_id``, ``sis_user_id`` or ``id``) and into ``Student``
    as its label.  No "Points Possible" row is written: a new assignment's
    points are set in Canvas.
Moodle
    MoodleDocs, "Grade import" (docs.moodle.org/311/en/Grade_import): the CSV import takes a
    file with a header row and, on its preview page, asks which column identifies the user
    ("Map from", e.g. "Email address" or "ID number") and which user field it matches ("Map
    to": ``useremail``, ``useridnumber``, ...; the default pair, First name -> userid, must be
    changed), then which grade item each other column fills.  Email addresses are matched
    case-sensitively.  The file written here has the identifying column (``Username``, ``ID
    number`` or ``Email address``, from ``--id-column`` ``username``, ``idnumber`` or
    ``email``; default ``username``) and the grade column (default: the assignment's name;
    map it to the grade item, or to a new one).  Grades are points, capped by Moodle at the
    grade item's maximum.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from linclass.errors import LinclassError

#: LMS -> {--id-column choice: header of the column that holds the student id}; the first is the default.
ID_COLUMNS = {
    "canvas": {"sis_login_id": "SIS Login ID", "sis_user_id": "SIS User ID", "id": "ID"},
    "moodle": {"username": "Username", "idnumber": "ID number", "email": "Email address"},
}
#: Canvas's identification columns, as its gradebook export writes them (in order).
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
#: grades.csv columns that hold the grade to export, the first present wins.
GRADE_COLUMNS = ("final_score", "score")


def read_grades(directory: Path) -> tuple[list[dict], str]:
    """The rows of ``directory/grades.csv`` and the name of the column that holds the grade."""
    path = directory / "grades.csv"
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            fields = reader.fieldnames or []
    except FileNotFoundError:
        raise LinclassError(f"{path}: not found (grade the class first: linclass grade SUBMISSIONS --out "
                            f"{directory})") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LinclassError(f"{path}: cannot be read ({exc})") from None
    grade = next((c for c in GRADE_COLUMNS if c in fields), None)
    if "student_id" not in fields or grade is None:
        raise LinclassError(f"{path}: not a linclass grades.csv (no student_id or score column)")
    return rows, grade


def lms_rows(lms: str, rows: list[dict], grade: str, column: str, id_column: str) -> tuple[list[str], list[dict]]:
    """The header and rows of the ``lms`` gradebook CSV (see the module docstring)."""
    header = ID_COLUMNS[lms][id_column]
    if lms == "canvas":
        fields = [*CANVAS_COLUMNS, column]
        out = [{**dict.fromkeys(CANVAS_COLUMNS, ""), "Student": r["student_id"], header: r["student_id"],
                column: r[grade]} for r in rows]
    else:
        fields = [header, column]
        out = [{header: r["student_id"], column: r[grade]} for r in rows]
    return fields, sorted(out, key=lambda r: r[header])


def write_lms_csv(lms: str, directory: str | Path, out: str | Path | None = None, column: str = "",
                  id_column: str | None = None) -> tuple[Path, int, str]:
    """Write the ``lms`` ("canvas" or "moodle") gradebook CSV of the class graded into ``directory``.

    Returns
    -------
    (Path, int, str)
        The file written, the number of students in it, and the grades.csv column exported.
    """
    if lms not in ID_COLUMNS:
        raise LinclassError(f"unknown LMS {lms!r} (known: {', '.join(ID_COLUMNS)})")
    choices = ID_COLUMNS[lms]
    id_column = id_column or next(iter(choices))
    if id_column not in choices:
        raise LinclassError(f"--id-column {id_column!r} is not a {lms} column (choose from: {', '.join(choices)})")
    directory = Path(directory)
    rows, grade = read_grades(directory)
    fields, records = lms_rows(lms, rows, grade, column, id_column)
    path = Path(out) if out else directory / f"{lms}_grades.csv"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
    except OSError as exc:
        raise LinclassError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    return path, len(records), grade


def main(args: argparse.Namespace) -> int:
    """``linclass export canvas|moodle [DIR] [--out FILE] [--column NAME] [--id-column C]``."""
    from linclass.assignment import load_assignment

    column = args.column or load_assignment(args.assignment).name
    id_column = args.id_column or next(iter(ID_COLUMNS[args.lms]))
    path, n, grade = write_lms_csv(args.lms, args.dir, args.out, column, id_column)
    skipped = Path(args.dir, "not_graded.csv")
    print(f"{args.lms.capitalize()} gradebook CSV: {path} ({n} students, grade column {column!r} from grades.csv's "
          f"{grade}, students identified by {ID_COLUMNS[args.lms][id_column]!r})")
    if skipped.exists():
        print(f"  the students of {skipped} have no grade in it (the import leaves theirs as it is)")
    return 0
