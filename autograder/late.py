"""Late submissions: the ``[late]`` table of the grading config, and the penalty of each student.

A course that sets a due date gets, in grades.csv, each student's submission time, days late,
penalty and final score; summary.md lists the late students; grades_nbgrader.csv fills
nbgrader's ``duedate`` and ``late_submission_penalty``; the LMS exports use the final score::

    [late]
    due = 2026-12-01T23:59:00          # TOML date-time (or a string "2026-12-01 23:59");
                                       # without an offset it is read in `timezone`
    timezone = "America/New_York"      # IANA name (default "UTC"), for times without an offset
    grace_minutes = 15                 # late by at most this much counts as on time (default 0)
    penalty_per_day = 10               # percent of the maximum score per started day late, or
    # penalty_schedule = [10, 25, 50, 100]  # percent after 1, 2, 3 days late; the last holds after
    timestamps = "submitted.csv"       # optional: student_id,timestamp (relative to this file)

Days late are counted from the due date, in started 24-hour periods (one minute past the grace
period is one day late).  The penalty is ``max_score * percent / 100``, at most the student's
score (the final score never goes below zero, as in nbgrader).

A student's submission time comes from, in order: the ``timestamps`` CSV, nbgrader's
``timestamp.txt`` (``submitted/<student>/<assignment>/timestamp.txt``, written by ``nbgrader
submit`` as ``%Y-%m-%d %H:%M:%S.%f %Z`` in the course's timezone), or a zip submission's
modification time (as the grader found the file: keep it when copying downloads).  A student
with no known time gets no penalty and is named in summary.md.
"""

from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from linclass.errors import LinclassError

#: The keys of ``[late]``.
KEYS = ("due", "timezone", "grace_minutes", "penalty_per_day", "penalty_schedule", "timestamps")
#: The grades.csv columns added when a due date is configured.
COLUMNS = ["submitted", "days_late", "late_penalty", "final_score"]
_UTC_NAMES = {"UTC", "GMT", "Z"}


@dataclass(frozen=True)
class LatePolicy:
    """A validated ``[late]`` table.

    Attributes
    ----------
    due : datetime
        The due date (timezone-aware).
    tz : str
        IANA timezone of times given without an offset.
    grace : timedelta
        Lateness forgiven.
    per_day : float or None
        Percent of the maximum score lost per started day late.
    schedule : tuple of float
        Percent lost after 1, 2, ... days late (the last value holds after), when no ``per_day``.
    timestamps : Path or None
        CSV of ``student_id,timestamp`` overriding the submissions' own times.
    """

    due: datetime
    tz: str = "UTC"
    grace: timedelta = timedelta(0)
    per_day: float | None = None
    schedule: tuple[float, ...] = field(default_factory=tuple)
    timestamps: Path | None = None

    def days_late(self, submitted: datetime) -> int:
        """Started days past the due date; 0 when on time or within the grace period."""
        late = submitted - self.due
        if late <= self.grace or late <= timedelta(0):
            return 0
        return math.ceil(late / timedelta(days=1))

    def percent(self, days_late: int) -> float:
        """Percent of the maximum score lost at ``days_late`` days late."""
        if days_late <= 0:
            return 0.0
        if self.per_day is not None:
            return min(100.0, self.per_day * days_late)
        return self.schedule[min(days_late, len(self.schedule)) - 1]

    def describe(self) -> str:
        """One line for summary.md: the due date, the grace period and the penalty."""
        grace = f", grace {self.grace.total_seconds() / 60:g} min" if self.grace else ""
        last = len(self.schedule) - 1
        rule = (f"{self.per_day:g}% of the maximum per started day late" if self.per_day is not None else
                "by days late " + ", ".join(f"{i + 1}{'+' if i == last else ''}: {p:g}%"
                                            for i, p in enumerate(self.schedule)) + " of the maximum")
        return f"due {format_time(self.due)}{grace}; penalty {rule}"


def zone(name: str) -> tzinfo:
    """The timezone named ``name`` (UTC needs no timezone database)."""
    return timezone.utc if name.upper() in {"UTC", "ETC/UTC"} else ZoneInfo(name)


def format_time(moment: datetime) -> str:
    """``2026-12-01 23:59:00 UTC`` style (ISO offset when not UTC)."""
    if moment.utcoffset() == timedelta(0):
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.isoformat(sep=" ", timespec="seconds")


def parse_time(text: str, tz: str = "UTC") -> datetime | None:
    """A submission time as nbgrader, ISO 8601 or a spreadsheet writes it; None when unreadable.

    ``2026-11-20 17:59:01.123456 UTC`` (nbgrader), ``2026-11-20T17:59:01+01:00``,
    ``2026-11-20 17:59`` (read in ``tz``).  A trailing zone abbreviation other than UTC/GMT
    (nbgrader's ``%Z`` in the course's timezone, e.g. ``EST``) is dropped and the time read in
    ``tz``.
    """
    text = text.strip()
    if not text:
        return None
    head, _, last = text.rpartition(" ")
    suffix = None
    if head and last.isalpha():
        text, suffix = head, last.upper()
    elif text.endswith("Z"):
        text, suffix = text[:-1], "Z"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc if suffix in _UTC_NAMES else zone(tz))
    return moment


def _bad(path: Path, message: str) -> LinclassError:
    return LinclassError(f"{path}: [late] {message}")


def _percent(path: Path, where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise _bad(path, f"{where} must be a percentage between 0 and 100, not {value!r}")
    return float(value)


def parse_late(path: Path, table: Mapping[str, object]) -> LatePolicy | None:
    """Validate a ``[late]`` table read from ``path`` (None when the table is absent or empty).

    Raises
    ------
    LinclassError
        One message naming the key and what it must be.
    """
    if not table:
        return None
    for key in table:
        if key not in KEYS:
            raise _bad(path, f"unknown key {key!r} (known: {', '.join(KEYS)})")
    tz = table.get("timezone", "UTC")
    try:
        if not isinstance(tz, str):
            raise ValueError
        zone(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad(path, f"timezone must be an IANA timezone name such as \"Europe/Paris\", not {tz!r} (a machine "
                         "without a timezone database needs `pip install tzdata`)") from None
    if "due" not in table:
        raise _bad(path, "needs a due date, e.g. due = 2026-12-01T23:59:00")
    due = table["due"]
    if isinstance(due, str):
        due = parse_time(due, tz)
    elif isinstance(due, datetime):
        due = due if due.tzinfo else due.replace(tzinfo=zone(tz))
    elif isinstance(due, date):
        raise _bad(path, f"due {due.isoformat()} has no time of day: give one, e.g. {due.isoformat()}T23:59:00")
    else:
        due = None
    if due is None:
        raise _bad(path, f"due must be a date and time such as 2026-12-01T23:59:00, not {table['due']!r}")
    grace = table.get("grace_minutes", 0)
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
        raise _bad(path, f"grace_minutes must be a number of minutes >= 0, not {grace!r}")
    if ("penalty_per_day" in table) == ("penalty_schedule" in table):
        raise _bad(path, "needs exactly one of penalty_per_day (percent per started day late) and penalty_schedule "
                         "(percent after 1, 2, ... days late)")
    per_day = schedule = None
    if "penalty_per_day" in table:
        per_day = _percent(path, "penalty_per_day", table["penalty_per_day"])
    else:
        raw = table["penalty_schedule"]
        if not isinstance(raw, list) or not raw:
            raise _bad(path, f"penalty_schedule must be a list of percentages, e.g. [10, 25, 50, 100], not {raw!r}")
        schedule = tuple(_percent(path, f"penalty_schedule[{i}]", v) for i, v in enumerate(raw))
        if any(b < a for a, b in zip(schedule, schedule[1:])):
            raise _bad(path, f"penalty_schedule must not decrease with lateness: {list(raw)!r}")
    stamps = table.get("timestamps")
    if stamps is not None:
        if not isinstance(stamps, str) or not stamps:
            raise _bad(path, f"timestamps must be the path of a CSV file, not {stamps!r}")
        stamps = (path.parent / stamps).resolve()
        if not stamps.is_file():
            raise _bad(path, f"timestamps file {stamps} not found")
    return LatePolicy(due=due, tz=tz, grace=timedelta(minutes=grace), per_day=per_day, schedule=schedule or (),
                      timestamps=stamps)


def read_timestamps(policy: LatePolicy) -> dict[str, datetime]:
    """The ``timestamps`` CSV as student id -> time (empty without one).

    The file needs a ``student_id`` column and a ``timestamp`` column (a header row); a time
    that cannot be read is an error naming its line.
    """
    if policy.timestamps is None:
        return {}
    path = policy.timestamps
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if not {"student_id", "timestamp"} <= set(reader.fieldnames or ()):
                raise LinclassError(f"{path}: needs the columns student_id and timestamp (found: "
                                    f"{', '.join(reader.fieldnames or ()) or 'none'})")
            times = {}
            for row in reader:
                moment = parse_time(row["timestamp"] or "", policy.tz)
                if moment is None:
                    raise LinclassError(f"{path} line {reader.line_num}: cannot read the time {row['timestamp']!r} "
                                        "(expected e.g. 2026-12-01 23:59:00 or 2026-12-01T23:59:00+01:00)")
                times[(row["student_id"] or "").strip()] = moment
            return times
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LinclassError(f"{path}: cannot be read ({exc})") from None


def late_outcome(policy: LatePolicy, submitted: datetime | None, score: float, max_score: float) -> dict:
    """One student's ``submitted``, ``days_late``, ``late_penalty`` and ``final_score``.

    ``submitted`` None (no known time): no penalty, and ``submitted`` is empty.
    """
    days = policy.days_late(submitted) if submitted is not None else 0
    penalty = min(max(score, 0.0), max_score * policy.percent(days) / 100)
    return {"submitted": format_time(submitted) if submitted is not None else "", "days_late": days,
            "late_penalty": penalty, "final_score": max(0.0, score - penalty)}


def late_outcomes(policy: LatePolicy, students: Iterable[tuple[str, str, float, float]]) -> dict[str, dict]:
    """:func:`late_outcome` of each ``(student_id, stored timestamp, score, max_score)``.

    The ``timestamps`` CSV, when configured, takes precedence over the stored timestamp.
    """
    overrides = read_timestamps(policy)
    return {sid: late_outcome(policy, overrides.get(sid) or parse_time(stamp or "", policy.tz), score, max_score)
            for sid, stamp, score, max_score in students}


def late_lines(policy: LatePolicy, outcomes: Mapping[str, dict]) -> list[str]:
    """The summary.md section "Late submissions": the rule, then each late or undated student."""
    late = {s: o for s, o in outcomes.items() if o["days_late"]}
    undated = sorted(s for s, o in outcomes.items() if not o["submitted"])
    lines = ["## Late submissions", "", f"{policy.describe()[0].upper()}{policy.describe()[1:]}.", "",
             f"{len(late)} of {len(outcomes)} submissions late."]
    if late:
        finals = [o["final_score"] for o in outcomes.values()]
        lines[-1] += (f" Final scores (the `final_score` column of grades.csv, which the LMS exports use): mean "
                      f"{statistics.mean(finals):.1f}, median {statistics.median(finals):.1f}.")
    if late:
        lines += ["", "| student | submitted | days late | penalty | final score |", "|---|---|---|---|---|"]
        lines += [f"| {s} | {o['submitted']} | {o['days_late']} | {o['late_penalty']:g} | {o['final_score']:g} |"
                  for s, o in sorted(late.items())]
    if undated:
        lines += ["", f"No submission time is known for {len(undated)} (no penalty applied): {', '.join(undated)}."]
    return lines
