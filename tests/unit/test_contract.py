"""The assignment's CONTRACT.md: every clause of the assignment's contract has a check and a mutant.

The table is parsed here; the slow verdict tests (``test_grader_verdicts.py``) grade every
mutant and require each row's mutants to fail one of that row's checks.
"""

from __future__ import annotations

import pytest
from contract import CLAUSES, parse_contract
from kit import ASSIGNMENT

from autograder.config import load_config
from linclass.assignments.linear_classifiers.mutants import MUTANTS


def test_the_table_has_every_clause_once():
    assert len(CLAUSES) >= 40
    assert len({c.id for c in CLAUSES}) == len(CLAUSES)


@pytest.mark.parametrize("clause", CLAUSES, ids=lambda c: c.id)
def test_every_clause_has_a_check_and_a_mutant(clause):
    points = load_config(ASSIGNMENT).points
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
