"""`linclass check PATH`: the student's public self-check (see :mod:`linclass.selfcheck`)."""

from __future__ import annotations

from .errors import LinclassError
from .selfcheck import CodeLoadError, load_student_code, report, run_checks


def main(args) -> int:
    """Check the code at ``args.path``; 0 when every public check passes, 1 otherwise."""
    try:
        code = load_student_code(args.path)
    except CodeLoadError as exc:
        raise LinclassError(str(exc)) from None
    print(f"Self-check of {args.path} (public checks only, no solutions involved)")
    return report(run_checks(code), code.problems)
