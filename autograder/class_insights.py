"""What the whole class got wrong: the parts of ``summary.md`` that need every student at once.

A grader that sees one submission at a time (otter-grader, Gradescope) cannot say which checks
most of the class failed, or which students share a misconception; these sections can, because
the class reports are built from every student's ``results.json``.  Each function takes the
rows of :mod:`autograder.class_reports` (``_checks``: check name -> passed, ``misconceptions``
and ``_titles``) and returns Markdown lines.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Mapping, Sequence

from .late import LatePolicy, late_lines

#: Checks shown in summary.md's pass-rate table (all of them are in :data:`CHECKS_CSV`).
MAX_CHECK_ROWS = 15
#: File name of every check's pass rate, next to summary.md.
CHECKS_CSV = "checks.csv"


def check_pass_rates(rows: Sequence[dict]) -> list[tuple[str, int, int]]:
    """``(check, students who passed it, students graded on it)``, the least passed first.

    Checks with the same rate keep the suite's order.
    """
    passed: dict[str, int] = {}
    graded: dict[str, int] = defaultdict(int)
    for row in rows:
        for check, ok in row["_checks"].items():
            passed[check] = passed.get(check, 0) + bool(ok)
            graded[check] += 1
    order = {check: i for i, check in enumerate(passed)}
    return sorted(((c, passed[c], graded[c]) for c in passed), key=lambda t: (t[1] / t[2], order[t[0]]))


def write_check_rates(path: Path, rows: Sequence[dict]) -> Path:
    """``checks.csv``: every check's ``passed``, ``graded`` and ``pass_rate`` (percent), the least passed first."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["check", "passed", "graded", "pass_rate"])
        writer.writerows((c, ok, n, f"{100 * ok / n:.1f}") for c, ok, n in check_pass_rates(rows))
    return path


def pass_rate_lines(rows: Sequence[dict], limit: int = MAX_CHECK_ROWS) -> list[str]:
    """The section "Which checks the class failed": the ``limit`` least passed checks someone failed."""
    rates = check_pass_rates(rows)
    failed = [r for r in rates if r[1] < r[2]]
    lines = ["## Which checks the class failed", ""]
    if not rates:
        return lines + ["No check was run."]
    if not failed:
        return lines + [f"Every student passed all {len(rates)} checks."]
    lines += [f"{len(failed)} of {len(rates)} checks were failed by at least one student; the least passed first "
              f"(**bold**: failed by most of the class).", "", "| check | passed | pass rate |", "|---|---|---|"]
    for check, ok, n in failed[:limit]:
        name = f"**{check}**" if ok < n / 2 else check
        lines.append(f"| {name} | {ok} of {n} | {100 * ok / n:.0f}% |")
    if len(failed) > limit:
        _, ok, n = failed[limit]
        lines += ["", f"{len(failed) - limit} more failed checks, each passed by {100 * ok / n:.0f}% of the class or "
                      f"more: every check's pass rate is in `{CHECKS_CSV}`."]
    return lines


def misconception_lines(rows: Sequence[dict]) -> list[str]:
    """The section "What to re-teach": each diagnosed misconception, how many students have it, and who."""
    students: dict[str, list[str]] = defaultdict(list)
    titles: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r["student_id"]):
        for mid in filter(None, row["misconceptions"].split(";")):
            students[mid].append(row["student_id"])
        titles.update(row["_titles"])
    lines = ["## What to re-teach: the diagnosed misconceptions", ""]
    if not students:
        return lines + ["No known misconception was diagnosed."]
    lines += ["| misconception | students | who |", "|---|---|---|"]
    for mid, who in sorted(students.items(), key=lambda item: (-len(item[1]), item[0])):
        lines.append(f"| {titles.get(mid, mid)} (`{mid}`) | {len(who)} | {', '.join(who)} |")
    return lines


def insight_lines(rows: Sequence[dict], late: LatePolicy | None = None,
                  outcomes: Mapping[str, dict] | None = None) -> list[str]:
    """Every class-wide section of summary.md, in order (empty for an empty class).

    With a due date (``late``), the late submissions (``outcomes``: :func:`autograder.late.late_outcomes`) first.
    """
    if not rows:
        return []
    late_section = [*late_lines(late, outcomes or {}), ""] if late else []
    return [*late_section, *pass_rate_lines(rows), "", *misconception_lines(rows)]
