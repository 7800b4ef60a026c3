"""One grading session: a submission, its student process, its seeds, and the checks' outcomes.

:class:`Grading` is the facade every check goes through.  It starts the student process on
first use, and it remembers a function that hit a time or memory limit: later checks of that
function fail at once instead of paying the limit again, so a hanging function costs its
limit once per submission, whatever the number of checks that call it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from linclass.assignment import Assignment

from .config import GradingConfig
from .verdicts import CheckFailed


def student_seed(salt: str, student_id: str, check: str) -> int:
    """A 64-bit seed derived from the course salt, the student id and the check name.

    Two students never see the same numbers (so hard-coded answers cannot pass), while the
    same student and salt always get the same inputs (so grading is reproducible).
    """
    digest = hashlib.sha256(f"{salt}:{student_id}:{check}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


@dataclass
class TestOutcome:
    """The verdict of one check, as it goes into the reports."""

    part: str
    check: str
    score: float
    max_score: float
    status: str  # "passed" | "failed"
    output: str
    misconceptions: list[Any] = field(default_factory=list)
    whole_part: bool = False  # failed because of the part as a whole (missing, did not load, ...)
    tag: str = ""  # the report tag: the part, or e.g. "slides" for the lecture's worked numbers

    def __post_init__(self) -> None:
        self.tag = self.tag or self.part


class Grading:
    """One submission under grading.

    Parameters
    ----------
    submission : autograder.submission.Submission
        What is graded.
    config : GradingConfig
        Points, limits, thresholds and conventions.
    assignment : Assignment
        What it is graded as.
    """

    def __init__(self, submission, config: GradingConfig, assignment: Assignment, sandbox: str = "auto") -> None:
        self.submission = submission
        self.config = config
        self.assignment = assignment
        self.sandbox_mode = sandbox
        self.internal_errors: list[str] = []
        self.notes: list[str] = []  # findings of the checks worth saying once, at the top of the reports
        self._student = None
        self._exhausted: dict[str, str] = {}  # part -> why its later calls are not attempted
        self._failed_parts: dict[str, CheckFailed] = {}  # part -> why every check of it fails

    @classmethod
    def open(cls, path: Path, config: GradingConfig, assignment: Assignment, student_id: str | None = None,
             sandbox: str = "auto") -> Grading:
        """Load (never execute) the submission at ``path``."""
        from .sandbox.site import importable_in_sandbox
        from .submission import Submission, SubmissionError, guess_student_id, load_submission

        try:
            submission = load_submission(path, assignment, student_id=student_id, available=importable_in_sandbox)
        except SubmissionError as exc:  # unreadable as a whole: graded as empty, with the reason
            submission = Submission(student_id or guess_student_id(path), path, "empty", problems=[str(exc)])
        return cls(submission, config, assignment, sandbox)

    @property
    def student_id(self) -> str:
        return self.submission.student_id

    @property
    def _process(self):
        """The sandboxed student process (started lazily); checks reach it only through the
        methods below, so a limit hit once is remembered for the part."""
        if self._student is None:
            from .sandbox.process import StudentProcess

            self._student = StudentProcess(self.submission, self.assignment, self.config.limits, self.sandbox_mode)
        return self._student

    def start_student(self) -> None:
        """Start the student process now, so that it confines itself and starts up while the
        checks are collected (nothing to start for an empty submission)."""
        if self.submission.kind != "empty":
            self._process.start()

    @property
    def sandbox(self) -> dict:
        """What confined the student's code (:mod:`autograder.sandbox.levels`), for the reports."""
        if self._student is None or self._student.sandbox is None:
            return {"level": "none", "notes": ["no student code ran"], "mode": self.sandbox_mode}
        return {**self._student.sandbox, "mode": self.sandbox_mode}

    def rng(self, part: str, check: str) -> np.random.Generator:
        """The generator of one check, seeded per student (and per course salt)."""
        return np.random.default_rng(student_seed(self.config.salt, self.student_id, f"{part}::{check}"))

    def fail_part(self, part: str, message: str, misconceptions=(), note: str | None = None) -> None:
        """Fail this check and every later check of ``part`` with one reason (e.g. an unsupported layout);
        ``note``, if given, is said once at the top of the reports."""
        self._failed_parts[part] = CheckFailed(message, misconceptions, whole_part=True)
        if note and note not in self.notes:
            self.notes.append(note)
        raise self._failed_parts[part]

    def require(self, part: str) -> None:
        """Fail the current check if the part's symbol did not load, already hit a limit, or failed as a whole."""
        if part in self._failed_parts:
            failed = self._failed_parts[part]
            raise CheckFailed(failed.message, failed.misconceptions, whole_part=True)
        symbol = self.assignment.spec.part(part).symbol
        status = self._process.load_report.get(part) or self._process.load_report.get(symbol)
        if status != "ok":
            message = getattr(status, "message", None) or f"{symbol} is missing from your submission"
            raise CheckFailed(message, whole_part=True)
        if part in self._exhausted:
            raise CheckFailed(f"Not run: {self._exhausted[part]}", whole_part=True)

    def _note_limits(self, part: str, results: list) -> None:
        """After a time or memory limit, the part's later checks fail at once: a hang costs its
        limit once per submission, not once per check."""
        for result in results:
            error = getattr(result, "error", None)
            if error is not None and error.kind in ("timeout", "memory"):
                self._exhausted[part] = f"an earlier call hit a limit ({error.message})."

    def call(self, part: str, *args, repeat: int = 1, **kwargs):
        """Call the part's function (after checking it loaded); returns a CallResult."""
        self.require(part)
        result = self._process.call(self.assignment.spec.part(part).symbol, *args, repeat=repeat, **kwargs)
        self._note_limits(part, [result])
        return result

    def call_many(self, part: str, arglists: list[tuple]) -> list:
        """Call the part's function on several argument tuples in one round trip."""
        return list(self.call_each(part, arglists))

    def call_each(self, part: str, arglists: list[tuple]) -> Iterator:
        """:meth:`call_many` (one round trip), its results one at a time, for a check that stops at
        the first one it rejects: a result's time or memory limit counts (:meth:`_note_limits`) only
        once the check takes it, so the later checks of the part are judged as if each call had
        been its own."""
        self.require(part)
        for result in self._process.call_many(self.assignment.spec.part(part).symbol, arglists):
            self._note_limits(part, [result])
            yield result

    def method(self, part: str, cls: str, method: str, *args, set: dict | None = None, get: tuple[str, ...] = (),
               **kwargs):
        """``cls().method(*args, **kwargs)`` for ``part``, after setting the attributes ``set``."""
        self.require(part)
        result = self._process.method(cls, method, *args, set=set, get=get, **kwargs)
        self._note_limits(part, [result])
        return result

    def request(self, part: str, op: str, fields: dict, args: list | None = None, reply_bytes: int | None = None,
                answer=None):
        """One of the assignment's own requests (``harness_ops.py``) for ``part``; ``answer``
        answers the questions it asks on its way (see ``StudentProcess.request``)."""
        self.require(part)
        result = self._process.request(op, part, fields, args, reply_bytes, answer)
        self._note_limits(part, [result])
        return result

    def sources(self) -> list[tuple[str, str]]:
        """The student's code units as (name, source) pairs, for static checks."""
        return [(unit.name, unit.source) for unit in self.submission.units]

    def log_internal_error(self, text: str) -> None:
        self.internal_errors.append(text)

    def close(self) -> None:
        """End the student process; its cost goes to the grader's log (:class:`~.sandbox.process.Usage`)."""
        if self._student is not None:
            self._student.close()
            print("\n" + self._student.usage.line())
