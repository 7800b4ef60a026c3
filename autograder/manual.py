"""`linclass merge-manual`: fold a TA's scores of the written answers into the reports.

The scores file is a CSV with at least the columns ``student_id``, ``grade_id`` and
``points`` (``comment`` is optional and shown to the student): the ``answers.csv`` that
``linclass answers`` writes, filled in, is one.  Rows with empty points are not graded yet:
a student none of whose rows has points stays "to be graded".  Each student it names gets, in their
``results.json``, one test per written question (``written: <grade_id>``, tag ``written``,
``status`` passed at full marks and failed otherwise), the totals and ``extra_data.written``
updated; their feedback.md says the points; then grades.csv, grades_nbgrader.csv and
summary.md are written again from the results.  Merging again replaces the earlier scores.

Every row is checked before anything is written: an unknown student or question, points
that are not a number between 0 and the question's points, a question given twice or left
out for a student: one clear error naming the row, and no report is changed.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
from pathlib import Path
from typing import Mapping

from linclass.assignment import Assignment, load_assignment
from linclass.errors import LinclassError

from .reports import WRITTEN_ROW, atomic_write, score_line
from .written import TAG, Totals, total_text, totals_of, written_record

REQUIRED = ("student_id", "grade_id", "points")


def read_scores(path: Path, written: Mapping[str, float], students: set[str]) -> dict[str, dict[str, tuple]]:
    """Student -> grade_id -> (points, comment), validated against ``written`` and the graded ``students``."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise LinclassError(f"{path}: no column {', '.join(missing)} (expected {', '.join(REQUIRED)}, "
                                    "comment optional)")
            rows = list(reader)
    except FileNotFoundError:
        raise LinclassError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LinclassError(f"{path}: cannot be read ({exc})") from None
    scores: dict[str, dict[str, tuple]] = {}
    for line, row in enumerate(rows, start=2):
        sid, gid, raw = (str(row.get(c) or "").strip() for c in REQUIRED)
        where = f"{path}, line {line}"
        if not raw:  # not graded yet: a student with no points at all stays to be graded
            continue
        if sid not in students:
            raise LinclassError(f"{where}: no graded student {sid!r} in the reports")
        if gid not in written:
            raise LinclassError(f"{where}: {gid!r} is not a written question (they are {', '.join(written)})")
        try:
            points = float(raw)
        except ValueError:
            raise LinclassError(f"{where}: points {raw!r} for {sid} {gid} is not a number") from None
        if not math.isfinite(points) or not 0 <= points <= written[gid]:
            raise LinclassError(f"{where}: points {raw} for {sid} {gid} are outside 0..{written[gid]:g}")
        if gid in scores.setdefault(sid, {}):
            raise LinclassError(f"{where}: {sid} {gid} is given twice")
        scores[sid][gid] = (points, str(row.get("comment") or "").strip())
    for sid, given in scores.items():
        left = [g for g in written if g not in given]
        if left:
            raise LinclassError(f"{path}: no points for {sid} on {', '.join(left)} (every question of a student, "
                                "0 for an unanswered one)")
    return scores


def merged_results(results: dict, scores: Mapping[str, tuple], written: Mapping[str, float]) -> dict:
    """``results`` with the written answers as tests (earlier ones replaced) and the totals updated."""
    tests = [t for t in results["tests"] if TAG not in (t.get("tags") or [])]
    old_written = [t for t in results["tests"] if TAG in (t.get("tags") or [])]
    auto_score = float(results["score"]) - sum(t["score"] for t in old_written)
    for gid, most in written.items():
        points, comment = scores[gid]
        tests.append({"name": f"{TAG}: {gid}", "score": points, "max_score": float(most),
                      "status": "passed" if points == most else "failed", "output": comment,
                      "visibility": "visible", "tags": [TAG]})
    merged = {**results, "tests": tests,
              "score": round(auto_score + sum(p for p, _ in scores.values()), 4),
              "max_score": round(sum(t["max_score"] for t in tests), 4)}
    merged["extra_data"] = {**results.get("extra_data", {}), TAG: {**written_record(written), "graded": True}}
    header, _, rest = results.get("output", "").partition("\n")
    sid = re.match(r"Student (.*?): ", header)
    merged["output"] = (f"Student {sid[1]}: {total_text(totals_of(merged))}." if sid else header) + \
        (f"\n{rest}" if rest else "")
    return merged


def merged_feedback(text: str, total: Totals, scores: Mapping[str, tuple], written: Mapping[str, float]) -> str:
    """feedback.md with the TA's points: the score line, the written answers' row and section."""
    lines = text.split("\n## Written answers\n", 1)[0].rstrip("\n").split("\n")
    lines = [score_line(total) if line.startswith("**Score: ") else line for line in lines]
    lines = [f"| {WRITTEN_ROW} | {total.written:g} / {total.written_max:g} |" if line.startswith(f"| {WRITTEN_ROW} |")
             else line for line in lines]
    lines += ["", "## Written answers", "", "| question | points | comment |", "|---|---|---|"]
    for gid, most in written.items():
        points, comment = scores[gid]
        lines.append(f"| {gid} | {points:g} / {most:g} | {comment.replace('|', '/').replace(chr(10), ' ')} |")
    return "\n".join(lines) + "\n"


def merge_manual(scores_path: str | Path, out: str | Path, assignment: Assignment,
                 written: Mapping[str, float], late=None) -> list[str]:
    """Merge the scores into the reports under ``out``; return the students merged.  ``late``:
    the config's ``[late]`` policy, applied again to the new totals (:mod:`autograder.late`)."""
    from .batch import read_not_graded
    from .class_reports import write_class_reports

    out, scores_path = Path(out), Path(scores_path)
    report_dirs = sorted(p for p in out.iterdir() if (p / "results.json").is_file()) if out.is_dir() else []
    if not report_dirs:
        raise LinclassError(f"{out}: no graded students (run `linclass grade ... --out {out}` first)")
    scores = read_scores(scores_path, written, {d.name for d in report_dirs})
    for d in report_dirs:
        if d.name not in scores:
            continue
        merged = merged_results(json.loads((d / "results.json").read_text()), scores[d.name], written)
        feedback = d / "feedback.md"
        if feedback.is_file():
            atomic_write(feedback, merged_feedback(feedback.read_text(), totals_of(merged), scores[d.name],
                                                    written).encode())
        atomic_write(d / "results.json", json.dumps(merged, indent=2).encode())
    write_class_reports(out, report_dirs, assignment, read_not_graded(out), late=late)
    return sorted(scores)


def main(args: argparse.Namespace) -> int:
    """``linclass merge-manual SCORES.csv [--out REPORTS]``."""
    from .config import load_config

    assignment = load_assignment(args.assignment)
    config = load_config(assignment, args.config)
    written = config.written
    if not written:
        raise LinclassError(f"{assignment.name} has no written answers ([written] of its grading config is empty)")
    out = Path(args.out) if args.out else Path(args.scores).parent
    merged = merge_manual(args.scores, out, assignment, written, config.late)
    pending = sum(1 for p in out.iterdir() if (p / "results.json").is_file()) - len(merged)
    print(f"merged the written answers of {len(merged)} students into {out / 'grades.csv'}"
          + (f"; {pending} still to be graded" if pending else ""))
    return 0
