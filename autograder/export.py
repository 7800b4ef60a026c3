"""Grades in the columns of ``nbgrader export`` (nbgrader interop, DESIGN section 1).

nbgrader's CSV exporter (``nbgrader/plugins/export.py``, ``CsvExportPlugin``) writes one row
per (assignment, student) with the columns :data:`NBGRADER_COLUMNS`.  A course that keeps
nbgrader's gradebook, or any tool that already reads that CSV, can take linclass grades
as they are: ``raw_score`` is the linclass total so far (the written answers once ``linclass
merge-manual`` has added them), ``max_score`` the whole assignment's as in nbgrader (autograded
and manually graded points), ``late_submission_penalty`` the penalty of the config's ``[late]``
table (0 without one, see :mod:`autograder.late`), ``score`` their difference, ``duedate`` the
configured due date, ``timestamp`` the submission time (nbgrader's ``timestamp.txt``, a zip's
modification time, or the ``[late]`` timestamps CSV), and the name/email columns are empty
(linclass knows only student ids).

The per-student facts a batch knows beyond ``results.json`` (assignment name, timestamp,
source path) are kept next to the reports in ``<student>/submission.json``, so that
``linclass merge`` can export shards it never saw being graded.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

from linclass.assignment import Assignment

from .written import totals_of

#: The header of ``nbgrader export`` (nbgrader 0.9, CsvExportPlugin), in order.
NBGRADER_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                    "raw_score", "late_submission_penalty", "score", "max_score"]

#: File name of the per-student metadata written by a batch next to results.json.
META_NAME = "submission.json"


def submission_meta(path: str | Path, assignment: Assignment) -> dict:
    """Assignment name and nbgrader timestamp of one submission path (nothing is executed).

    nbgrader's ``submitted/<student>/<assignment>/`` layout names the assignment; its
    ``timestamp.txt`` holds the submission time.  A zip's time is its modification time (ISO
    8601, UTC).  Other layouts get ``assignment``'s name and no timestamp.
    """
    path, package_dirs = Path(path), assignment.spec.package_dirs
    assignment_name = assignment.name
    folder = path
    if path.is_dir():
        children = [c for c in path.iterdir() if not c.name.startswith(".")]
        nbgrader_layout = path.parent.name == "submitted" or any((c / "timestamp.txt").is_file() for c in children)
        if nbgrader_layout and len(children) == 1 and children[0].is_dir() and children[0].name not in package_dirs:
            assignment_name, folder = children[0].name, children[0]  # submitted/<student>/<assignment>/
        elif (path / "timestamp.txt").is_file() and path.parent.parent.name == "submitted":
            assignment_name = path.name  # submitted/<student>/<assignment>/ given directly
    timestamp = ""
    stamp = folder / "timestamp.txt" if folder.is_dir() else None
    if stamp is not None and stamp.is_file():
        timestamp = stamp.read_text(errors="replace").strip()[:64]
    elif path.is_file() and path.suffix.lower() == ".zip":
        timestamp = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(sep=" ", timespec="seconds")
    return {"path": str(path), "assignment": assignment_name, "timestamp": timestamp}


def write_meta(report_dir: Path, meta: Mapping[str, str]) -> None:
    """Store ``meta`` as ``report_dir/submission.json``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / META_NAME).write_text(json.dumps(dict(meta), indent=2) + "\n")


def read_meta(report_dir: Path, assignment: str) -> dict:
    """The stored metadata of a student (``assignment`` and no timestamp when the batch wrote none)."""
    try:
        return json.loads((report_dir / META_NAME).read_text())
    except (FileNotFoundError, ValueError):
        return {"assignment": assignment, "timestamp": ""}


def nbgrader_rows(report_dirs: Iterable[Path], assignment: str, duedate: str = "",
                  late: Mapping[str, Mapping] | None = None) -> list[dict]:
    """One ``nbgrader export`` row per graded student (report directories with a results.json).

    ``late`` maps student ids to their :func:`autograder.late.late_outcome` (penalty and time used).
    """
    late = late or {}
    rows = []
    for d in report_dirs:
        try:
            results = json.loads((d / "results.json").read_text())
        except FileNotFoundError:
            continue
        meta, outcome = read_meta(d, assignment), late.get(d.name, {})
        total = totals_of(results)
        raw, penalty = float(total.score), float(outcome.get("late_penalty", 0.0))
        rows.append({"assignment": meta.get("assignment") or assignment, "duedate": duedate,
                     "timestamp": outcome.get("submitted") or meta.get("timestamp", ""), "student_id": d.name,
                     "last_name": "", "first_name": "", "email": "", "raw_score": raw,
                     "late_submission_penalty": penalty, "score": max(0.0, raw - penalty),
                     "max_score": float(total.max_score)})
    return sorted(rows, key=lambda r: (r["assignment"], r["student_id"]))


def write_nbgrader_csv(path: Path, report_dirs: Iterable[Path], assignment: str, duedate: str = "",
                       late: Mapping[str, Mapping] | None = None) -> Path:
    """Write the grades of ``report_dirs`` to ``path`` with nbgrader's export header."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=NBGRADER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in nbgrader_rows(report_dirs, assignment, duedate, late):
            writer.writerow({k: str(v) for k, v in row.items()})
    return path
