"""autograder/CONTRACT.md: every clause of the assignment's contract has a check and a mutant.

The table is parsed here; the slow verdict tests (``test_grader_verdicts.py``) grade every
mutant and require each row's mutants to fail one of that row's checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.config import load_config
from autograder.mutants import MUTANTS

CONTRACT = Path(__file__).resolve().parents[1] / "autograder" / "CONTRACT.md"
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


def test_the_table_has_every_clause_once():
    assert len(CLAUSES) >= 40
    assert len({c.id for c in CLAUSES}) == len(CLAUSES)


@pytest.mark.parametrize("clause", CLAUSES, ids=lambda c: c.id)
def test_every_clause_has_a_check_and_a_mutant(clause):
    points = load_config().points
    marked = [cell for cell in (*clause.checks, *(m[0] for m in clause.mutants)) if cell.lower() == "missing"]
    assert not marked, f"{clause.id} is marked missing"
    assert clause.checks, f"{clause.id} has no check"
    assert clause.mutants, f"{clause.id} has no mutant that proves its check"
    assert all(check in points for check in clause.checks), [c for c in clause.checks if c not in points]
    assert all(len(m) == 2 and m in MUTANTS for m in clause.mutants), [m for m in clause.mutants if m not in MUTANTS]
    parts = {check.split("::")[0] for check in clause.checks}
    assert all(part in parts for _, part in clause.mutants), f"{clause.id}: a mutant of a part the row does not check"


def test_every_mutant_breaks_a_clause():
    listed = {m for clause in CLAUSES for m in clause.mutants}
    assert set(MUTANTS) - listed == set(), "mutants that no clause names"


def test_a_row_without_a_mutant_is_found():
    row = "| X1 | A clause nobody enforces | rel_error::values |  |"
    (clause,) = parse_contract(row)
    assert clause.checks == ("rel_error::values",) and clause.mutants == ()
