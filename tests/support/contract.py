"""The assignment's contract table (CONTRACT.md in its package), parsed for the kit's tests."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kit import ASSIGNMENT

CONTRACT = ASSIGNMENT.root / "CONTRACT.md"
_ROW = re.compile(r"^\|\s*([A-Z]\d+)\s*\|(.*)\|(.*)\|(.*)\|\s*$")


@dataclass(frozen=True)
class Clause:
    """One row of the contract table."""

    id: str
    text: str
    checks: tuple[str, ...]  # "part::check"
    mutants: tuple[tuple[str, str], ...]  # (misconception id, part)


def parse_contract(text: str) -> list[Clause]:
    """The rows of the table in CONTRACT.md."""
    clauses = []
    for line in text.splitlines():
        m = _ROW.match(line)
        if not m:
            continue
        checks = tuple(c.strip() for c in m[3].split(",") if c.strip())
        mutants = tuple(tuple(x.strip().split("@", 1)) for x in m[4].split(",") if x.strip())
        clauses.append(Clause(m[1], m[2].strip(), checks, mutants))
    return clauses


CLAUSES = parse_contract(CONTRACT.read_text())
