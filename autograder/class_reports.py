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
from .late import COLUMNS as LATE_COLUMNS
from .late import LatePolicy, format_time, late_outcomes


def columns(assignment: Assignment) -> list[str]:
    """The per-part columns of grades.csv: the parts, then the tags reported apart (``slides``)."""
    return [*assignment.spec.part_names, *dict.fromkeys(assignment.spec.tags.values())]


def histogram_figure(scores: Sequence[float], max_score: float):
    """The histogram of total scores (a matplotlib figure; its count axis has integer ticks only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(scores, bins=20, range=(0, max_score), color="#4C72B0", edgecolor="white")
    ax.set(xlabel="score", ylabel="students", title=f"Scores ({len(scores)} submissions)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # a count of students: never 0.2 of one
    fig.tight_layout()
    return fig


def plot_histogram(scores: Sequence[float], path: str | Path, max_score: float) -> Path:
    """Save a histogram of total scores as a PNG."""
    import matplotlib.pyplot as plt

    fig = histogram_figure(scores, max_score)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def _row(report_dir: Path, cols: list[str]) -> dict:
    results = json.loads((report_dir / "results.json").read_text())
    row = {"student_id": report_dir.name, "score": results["score"], "max_score": results["max_score"]}
    row.update({c: 0.0 for c in cols})
    misconceptions, titles = [], {}
    for test in results["tests"]:
        for tag in test.get("tags", []):
            if tag in row:
                row[tag] += test["score"]
        extra = test.get("extra_data", {})
        misconceptions += extra.get("misconceptions", [])
        titles.update(zip(extra.get("misconceptions", []), extra.get("misconception_titles", [])))
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
                        not_graded: Sequence[dict] = (), late: LatePolicy | None = None) -> Path:
    """grades.csv, grades_nbgrader.csv, checks.csv and summary.md (+ histogram) from report directories.

    ``grades.csv`` has one row per graded student: ``student_id, score, max_score``, the
    points per part (one column per :func:`columns` entry; e.g. slide checks in ``slides``) and
    the diagnosed ``misconceptions`` (catalog ids, ``;``-separated).  With a due date (``late``,
    the config's ``[late]``), also ``submitted, days_late, late_penalty, final_score``
    (:data:`autograder.late.COLUMNS`); ``score`` stays the points the checks gave.
    """
    cols = columns(assignment)
    report_dirs = [d for d in report_dirs if (d / "results.json").exists()]
    rows = [_row(d, cols) for d in report_dirs]
    outcomes = _late_outcomes(late, rows, report_dirs, assignment.name) if late else {}
    for row in rows:
        row.update(outcomes.get(row["student_id"], {}))
    grades = out / "grades.csv"
    with open(grades, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student_id", "score", "max_score", *cols, "misconceptions",
                                               *(LATE_COLUMNS if late else [])],
                                lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in sorted(rows, key=lambda r: r["student_id"]):
            writer.writerow({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in row.items()})
    write_nbgrader_csv(out / "grades_nbgrader.csv", report_dirs, assignment.name,
                       duedate=format_time(late.due) if late else "", late=outcomes)
    write_check_rates(out / CHECKS_CSV, rows)
    write_summary(out, rows, cols, not_graded, late=late, outcomes=outcomes)
    return grades


def _late_outcomes(late: LatePolicy, rows: list[dict], report_dirs: list[Path], assignment: str) -> dict[str, dict]:
    """Each student's late outcome, from the timestamp stored next to their report (or the config's CSV)."""
    stamps = {d.name: read_meta(d, assignment).get("timestamp", "") for d in report_dirs}
    return late_outcomes(late, [(r["student_id"], stamps.get(r["student_id"], ""), float(r["score"]),
                                 float(r["max_score"])) for r in rows])


def write_summary(out: Path, rows: list[dict], cols: list[str], not_graded: Sequence[dict] = (),
                  late: LatePolicy | None = None, outcomes: dict[str, dict] | None = None) -> Path:
    """summary.md: the score histogram, mean and median per part, then the class-wide sections of
    :func:`autograder.class_insights.insight_lines` (per-check pass rates, misconceptions and who has them)."""
    lines = ["# Class summary", "", f"{len(rows)} graded submissions.", ""]
    if rows:
        scores = [r["score"] for r in rows]
        plot_histogram(scores, out / "score_histogram.png", max_score=rows[0]["max_score"])
        lines += [*sandbox_lines(rows), "", f"Total: mean {statistics.mean(scores):.1f}, median "
                  f"{statistics.median(scores):.1f} of {rows[0]['max_score']:g}.", "",
                  "![score histogram](score_histogram.png)", "",
                  "| part | mean | median |", "|---|---|---|"]
        lines += [f"| {c} | {statistics.mean(r[c] for r in rows):.2f} | {statistics.median(r[c] for r in rows):.2f} |"
                  for c in cols]
        lines += ["", *insight_lines(rows, late, outcomes)]
    if not_graded:
        lines += ["", f"## Not graded ({len(not_graded)}): the grader could not run", "",
                  "Listed in `not_graded.csv`; fix the cause and run the same command again (finished students "
                  "are skipped).", ""]
        lines += [f"- {e['student_id']}: {e['error']}" for e in not_graded]
    path = out / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path


