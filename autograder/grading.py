"""The state of one grading run: the submission, its student process, seeds, outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from linclass.assignment import PARTS_BY_NAME

from .config import GradingConfig
from .inputs import student_seed
from .verdicts import CheckFailed


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

    @property
    def tag(self) -> str:
        return "slides" if self.check.startswith("slides_") else self.part


class Grading:
    """One submission under grading.

    The student process starts on first use and is shared by every check; the sandbox
    restarts it transparently after a crash or a timeout.
    """

    def __init__(self, submission, config: GradingConfig) -> None:
        self.submission = submission
        self.config = config
        self.internal_errors: list[str] = []
        self._student = None
        self._exhausted: dict[str, str] = {}  # symbol -> why later calls are not attempted
        self._failed_parts: dict[str, CheckFailed] = {}  # part -> why every check of it fails
        self.notes: list[str] = []  # findings of the checks worth saying once, at the top of the reports

    @classmethod
    def open(cls, path: Path, config: GradingConfig, student_id: str | None = None) -> Grading:
        """Load (never execute) the submission at ``path``."""
        from .sandbox import importable_in_sandbox
        from .submission import Submission, SubmissionError, guess_student_id, load_submission

        try:
            submission = load_submission(path, student_id=student_id, available=importable_in_sandbox)
        except SubmissionError as exc:  # unreadable as a whole: graded as empty, with the reason
            submission = Submission(student_id or guess_student_id(path), path, "empty", problems=[str(exc)])
        return cls(submission, config)

    @property
    def student_id(self) -> str:
        return self.submission.student_id

    @property
    def student(self):
        """The sandboxed student process (started lazily)."""
        if self._student is None:
            from .sandbox import StudentProcess

            self._student = StudentProcess(self.submission, self.config.sandbox_limits())
        return self._student

    def rng(self, part: str, check: str) -> np.random.Generator:
        """The generator of one check, seeded per student (and per course salt)."""
        return np.random.default_rng(student_seed(self.config.salt, self.student_id, f"{part}::{check}"))

    def fail_part(self, part: str, message: str, misconceptions=(), note: str | None = None) -> None:
        """Fail this check and every later check of ``part`` with one reason (e.g. the 2015 layout);
        ``note``, if given, is said once at the top of the reports."""
        self._failed_parts[part] = CheckFailed(message, misconceptions, whole_part=True)
        if note and note not in self.notes:
            self.notes.append(note)
        raise self._failed_parts[part]

    def require(self, part: str) -> None:
        """Fail the current check if the part's symbol did not load, already hung, or failed as a whole."""
        if part in self._failed_parts:
            failed = self._failed_parts[part]
            raise CheckFailed(failed.message, failed.misconceptions, whole_part=True)
        symbol = PARTS_BY_NAME[part].symbol
        status = self.student.load_report.get(symbol)
        if status != "ok":
            message = getattr(status, "message", None) or f"{symbol} is missing from your submission"
            raise CheckFailed(message, whole_part=True)
        if symbol in self._exhausted:
            raise CheckFailed(f"Not run: {self._exhausted[symbol]}", whole_part=True)

    def _note_limits(self, symbol: str, results: list) -> None:
        """After a time or memory limit, later checks of the same function fail at once.

        A function that hangs would otherwise cost a full time limit in every check that
        calls it; one limit per function bounds a broken submission's grading time.
        """
        for result in results:
            error = getattr(result, "error", None)
            if error is not None and error.kind in ("timeout", "memory"):
                self._exhausted[symbol] = f"an earlier call hit a limit ({error.message})."

    def call(self, part: str, *args, **kwargs):
        """Call a student function (after checking it loaded); returns a CallResult."""
        self.require(part)
        symbol = PARTS_BY_NAME[part].symbol
        result = self.student.call(symbol, *args, **kwargs)
        self._note_limits(symbol, [result])
        return result

    def call_many(self, part: str, arglists: list[tuple]) -> list:
        """Call a student function on several argument tuples in one round trip."""
        self.require(part)
        symbol = PARTS_BY_NAME[part].symbol
        results = self.student.call_many(symbol, arglists)
        self._note_limits(symbol, results)
        return results

    def reference_loss(self, part: str, W, X, y, reg: float):
        """The reference (loss, dW) of a loss part under the course's regularization convention."""
        from .reference import reference_loss

        return reference_loss(part, W, X, y, reg, self.config.regularization)

    def sources(self) -> list[tuple[str, str]]:
        """The student's code units as (name, source) pairs, for static checks."""
        return [(unit.name, unit.source) for unit in self.submission.units]

    def log_internal_error(self, text: str) -> None:
        self.internal_errors.append(text)

    def close(self) -> None:
        if self._student is not None:
            self._student.close()
