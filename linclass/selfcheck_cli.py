"""`linclass check PATH`: the student's public self-check (see :mod:`linclass.selfcheck`)."""

from __future__ import annotations

from .selfcheck import check


def main(args) -> int:
    """Check the code at ``args.path``; 0 when every public check passes, 1 otherwise, 2 if unreadable."""
    return check(args.path, prog="linclass: error")
