"""The class's reports: ``grades.csv``, ``grades_nbgrader.csv`` and ``summary.md`` with a histogram.

Built from the students' ``results.json`` alone (so shards graded on other machines merge
into the same reports): each test's tags give its part's column, and its ``extra_data`` the
misconceptions diagnosed with their titles.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

from linclass.assignment import Assignment

from .class_insights import CHECKS_CSV, insight_lines, write_check_rates
from .export import read_meta, write_nbgrader_csv
from .histogram import HistogramPainter, plot_histogram
from .late import COLUMNS as LATE_COLUMNS
from .late import LatePolicy, format_time, late_outcomes
from .written import TAG as WRITTEN
from .written import Totals, totals_of


def columns(assignment: Assignment) -> list[str]:
    """The per-part columns of grades.csv: each part's points, its lecture-example checks included."""
    return list(assignment.spec.part_names)


def part_of(test: dict) -> str:
    """The part (or ``written``) a results.json test counts towards: the prefix of its name."""
    return test["name"].partition(":")[0]


def _row(report_dir: Path, cols: list[str]) -> dict:
    results = json.loads((report_dir / "results.json").read_text())
    total = totals_of(results)
    row = {"student_id": report_dir.name, "score": total.score, "max_score": total.max_score}
    row.update({c: 0.0 for c in cols})
    row["_max"] = {c: 0.0 for c in cols}
    row["_tags"] = Counter()
    misconceptions, titles = [], {}
    for test in results["tests"]:
        part = part_of(test)
        if part in row["_max"]:
            row[part] += test["score"]
            row["_max"][part] += test["max_score"]
        for tag in test.get("tags", [])[1:]:  # reported apart as well (slides), never added twice
            row["_tags"][tag, "score"] += test["score"]
            row["_tags"][tag, "max_score"] += test["max_score"]
        extra = test.get("extra_data", {})
        misconceptions += extra.get("misconceptions", [])
        titles.update(zip(extra.get("misconceptions", []), extra.get("misconception_titles", [])))
    row[WRITTEN] = "" if total.written is None else total.written
    row["_totals"] = total
    row["misconceptions"] = ";".join(dict.fromkeys(misconceptions))
    row["_checks"] = {test["name"]: test.get("status") == "passed" for test in results["tests"]}
    row["_titles"] = titles
    row["_sandbox"] = results.get("sandbox") or {}
    return row


def sandbox_lines(rows: list[dict]) -> list[str]:
    """The summary's account of how the class's code was confined (levels, and what was missing)."""
    levels = Counter(r["_sandbox"].get("level", "unknown") for r in rows)
    ran = sum(n for level, n in levels.items() if level != "none")
    text = ", ".join(f"{n} of {ran} submissions graded with level {level}" for level, n in levels.most_common()
                     if level != "none")
    lines = [f"**Sandbox**: {text or 'no student code ran'} (see `linclass doctor`)."]
    missing = Counter(m for r in rows for m in r["_sandbox"].get("missing", []) if r["_sandbox"].get("level") != "none")
    lines += [f"- missing for {n}: {m}" for m, n in missing.most_common()]
    return lines


def write_class_reports(out: Path, report_dirs: Iterable[Path], assignment: Assignment,
                        not_graded: Sequence[dict] = (), late: LatePolicy | None = None,
                        painter: HistogramPainter | None = None) -> Path:
    """grades.csv, grades_nbgrader.csv, checks.csv and summary.md (+ histogram) from report directories.

    ``grades.csv`` has one row per graded student: ``student_id, score, max_score`` (the
    points so far, of the whole assignment's), the points per part (one column per
    :func:`columns` entry, lecture-example checks counted in their part as in feedback.md),
    the ``written`` answers' points (empty while they are to be graded; only for assignments
    with written answers) and the diagnosed ``misconceptions`` (catalog ids, ``;``-separated).
    With a due date (``late``, the config's ``[late]``), also ``submitted, days_late,
    late_penalty, final_score`` (:data:`autograder.late.COLUMNS`); ``score`` stays the points
    the checks (and the TA) gave.  ``painter``, if given, draws the histogram
    (:class:`autograder.histogram.HistogramPainter`).
    """
    cols = columns(assignment)
    report_dirs = [d for d in report_dirs if (d / "results.json").exists()]
    rows = [_row(d, cols) for d in report_dirs]
    outcomes = _late_outcomes(late, rows, report_dirs, assignment.name) if late else {}
    for row in rows:
        row.update(outcomes.get(row["student_id"], {}))
    written = [WRITTEN] if any(r["_totals"].written_max for r in rows) else []
    grades = out / "grades.csv"
    with open(grades, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student_id", "score", "max_score", *cols, *written, "misconceptions",
                                               *(LATE_COLUMNS if late else [])],
                                lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in sorted(rows, key=lambda r: r["student_id"]):
            writer.writerow({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in row.items()})
    write_nbgrader_csv(out / "grades_nbgrader.csv", report_dirs, assignment.name,
                       duedate=format_time(late.due) if late else "", late=outcomes)
    write_check_rates(out / CHECKS_CSV, rows)
    write_summary(out, rows, cols, not_graded, late=late, outcomes=outcomes, painter=painter)
    return grades


def _late_outcomes(late: LatePolicy, rows: list[dict], report_dirs: list[Path], assignment: str) -> dict[str, dict]:
    """Each student's late outcome, from the timestamp stored next to their report (or the config's CSV)."""
    stamps = {d.name: read_meta(d, assignment).get("timestamp", "") for d in report_dirs}
    return late_outcomes(late, [(r["student_id"], stamps.get(r["student_id"], ""), float(r["score"]),
                                 float(r["max_score"])) for r in rows])


def total_line(rows: list[dict]) -> str:
    """The summary's class total: mean and median of the points so far, and what they are out of."""
    scores = [r["score"] for r in rows]
    line = f"Total: mean {statistics.mean(scores):.1f}, median {statistics.median(scores):.1f} of " \
           f"{rows[0]['max_score']:g}"
    pending = sum(r["_totals"].pending for r in rows)
    if not rows[0]["_totals"].written_max:
        return line + "."
    example = rows[0]["_totals"]
    parts = f"autograded {example.autograded_max:g} + written answers {example.written_max:g}"
    if pending:
        return (f"{line} ({parts}); the written answers of {pending} of {len(rows)} students are to be graded "
                "(`linclass answers`, then `linclass merge-manual`).")
    return f"{line} ({parts})."


def part_table(rows: list[dict], cols: list[str]) -> list[str]:
    """Mean and median per part, with each part's maximum (lecture-example checks counted in their parts)."""
    def stats(values: list[float]) -> str:
        return f"{statistics.mean(values):.2f} | {statistics.median(values):.2f}"

    lines = ["| part | max | mean | median |", "|---|---|---|---|"]
    lines += [f"| {c} | {rows[0]['_max'][c]:g} | {stats([r[c] for r in rows])} |" for c in cols]
    example: Totals = rows[0]["_totals"]
    if example.written_max:
        graded = [r[WRITTEN] for r in rows if r[WRITTEN] != ""]
        lines.append(f"| written answers | {example.written_max:g} | "
                     + (stats(graded) + (f" (of {len(graded)} graded) |" if len(graded) < len(rows) else " |")
                        if graded else "to be graded | |"))
    tags = sorted({tag for r in rows for tag, _ in r["_tags"]})
    for tag in tags:
        got = [r["_tags"][tag, "score"] for r in rows]
        lines += ["", f"Checks tagged `{tag}` (counted in their parts above): mean {statistics.mean(got):.2f}, "
                  f"median {statistics.median(got):.2f} of {rows[0]['_tags'][tag, 'max_score']:g}."]
    return lines


def write_summary(out: Path, rows: list[dict], cols: list[str], not_graded: Sequence[dict] = (),
                  late: LatePolicy | None = None, outcomes: dict[str, dict] | None = None,
                  painter: HistogramPainter | None = None) -> Path:
    """summary.md: the score histogram, the total, maximum, mean and median per part, then the
    class-wide sections of :func:`autograder.class_insights.insight_lines` (per-check pass rates,
    misconceptions and who has them, late submissions)."""
    lines = ["# Class summary", "", f"{len(rows)} graded submissions.", ""]
    if rows:
        scores = [r["score"] for r in rows]
        (painter.plot if painter else plot_histogram)(scores, out / "score_histogram.png", rows[0]["max_score"])
        lines += [*sandbox_lines(rows), "", total_line(rows), "", "![score histogram](score_histogram.png)", "",
                  *part_table(rows, cols)]
        lines += ["", *insight_lines(rows, late, outcomes)]
    if not_graded:
        lines += ["", f"## Not graded ({len(not_graded)}): the grader could not run", "",
                  "Listed in `not_graded.csv`; fix the cause and run the same command again (finished students "
                  "are skipped).", ""]
        lines += [f"- {e['student_id']}: {e['error']}" for e in not_graded]
    path = out / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path


