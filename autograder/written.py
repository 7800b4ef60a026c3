"""The written answers' share of a grade: how every report says the total.

The notebooks' manually graded answers (``[written]`` of the grading config: grade_id ->
points) are not autograded.  Until a TA's scores are merged (``linclass merge-manual``), a
``results.json`` holds the autograded checks only, and says so in its ``extra_data``::

    "extra_data": {"written": {"max_score": 23, "questions": 11, "graded": false}}

Its ``score`` and ``max_score`` are its tests' sums, as Gradescope counts them.  After the
merge, each answer is a test named ``written: <grade_id>`` (tag ``written``), so both include
them, and ``graded`` is true.  The class files (grades.csv, grades_nbgrader.csv, summary.md)
give the whole assignment's maximum, written answers included (:attr:`Totals.max_score`).  Every report
(the CLI line, feedback.md, results.json's output, grades.csv, grades_nbgrader.csv,
summary.md) words the total with :func:`total_text`, from these fields alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

#: The tag (and test-name prefix) of a merged written answer.
TAG = "written"


@dataclass(frozen=True)
class Totals:
    """The points of one graded submission, split into autograded and written answers.

    Attributes
    ----------
    autograded, autograded_max : float
        The autograded checks' points.
    written_max : float
        The written answers' points (0 when the assignment has none).
    questions : int
        How many written answers there are.
    written : float or None
        The TA's points for them, None while they are to be graded.
    """

    autograded: float
    autograded_max: float
    written_max: float = 0.0
    questions: int = 0
    written: float | None = None

    @property
    def score(self) -> float:
        """What the submission has so far (the written answers once merged)."""
        return self.autograded + (self.written or 0.0)

    @property
    def max_score(self) -> float:
        """The whole assignment's points, written answers included."""
        return self.autograded_max + self.written_max

    @property
    def pending(self) -> bool:
        return self.written_max > 0 and self.written is None


def written_record(written_points: Mapping[str, float]) -> dict:
    """The ``extra_data["written"]`` of a results.json before the TA's scores (empty without answers)."""
    if not written_points:
        return {}
    return {"max_score": float(sum(written_points.values())), "questions": len(written_points), "graded": False}


def totals_of(results: Mapping) -> Totals:
    """The :class:`Totals` of a results.json document (older documents: autograded only)."""
    record = (results.get("extra_data") or {}).get(TAG) or {}
    written = [t for t in results.get("tests", []) if TAG in (t.get("tags") or [])]
    got, most = sum(float(t["score"]) for t in written), sum(float(t["max_score"]) for t in written)
    return Totals(float(results["score"]) - got, float(results["max_score"]) - most,
                  float(record.get("max_score", 0.0)), int(record.get("questions", 0)),
                  got if record.get("graded") else None)


def total_text(totals: Totals) -> str:
    """The total in words, e.g. ``autograded 62 / 100; written answers 23 points, to be graded``."""
    auto = f"{totals.autograded:g} / {totals.autograded_max:g}"
    if not totals.written_max:
        return auto
    if totals.pending:
        return (f"autograded {auto}; written answers {totals.written_max:g} points "
                f"({totals.questions} questions), to be graded")
    return (f"{totals.score:g} / {totals.max_score:g} (autograded {auto}; written answers "
            f"{totals.written:g} / {totals.written_max:g})")
