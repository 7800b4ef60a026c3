"""Property-based fuzzing of notebook submissions: whatever the JSON, grading ends with a report.

Mutations of a valid notebook (the trusted svm.ipynb): delete keys, change value types,
truncate the text, swap cell types, inject garbage, duplicate or drop cells.  The loader
(:func:`autograder.submission.load_submission`) must never raise and must describe what it
could not use; a few mutated notebooks also go through the full `linclass grade`, which must
exit 0 with a results.json and no traceback.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kit import ASSIGNMENT, ROOT

from autograder.submission import Submission, load_submission

SOURCE = ROOT / "assignments" / "source" / "linear_classifiers" / "svm.ipynb"
LINCLASS = Path(sys.executable).with_name("linclass")

pytestmark = pytest.mark.skipif(not SOURCE.exists(), reason="the source notebooks are not built")

GARBAGE = [None, 0, -1, 1e308, float("nan"), True, "", "\x00\ud800", [], {}, [[[]]], {"cells": 1},
           "def svm_loss_naive(:", "import os; os._exit(0)", {"nbgrader": {"grade_id": 7}}]
KINDS = ("delete", "retype", "swap", "garbage", "duplicate", "drop", "truncate")


def _containers(node, path=()):
    """Every (path, dict-or-list) inside a JSON document."""
    if isinstance(node, (dict, list)):
        yield path, node
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            yield from _containers(value, path + (key,))


def mutate(nb: dict, ops: list[tuple[str, int, int]]) -> bytes:
    """Apply the operations (kind, target index, garbage index) and serialize (truncating last)."""
    cut = None
    for kind, target, value in ops:
        cells = nb.get("cells") if isinstance(nb, dict) else None
        if kind == "truncate":
            cut = target
            continue
        if kind in ("swap", "duplicate", "drop"):
            if not isinstance(cells, list) or not cells:
                continue
            i = target % len(cells)
            if kind == "swap" and isinstance(cells[i], dict):
                cells[i]["cell_type"] = {"code": "markdown", "markdown": "raw"}.get(cells[i].get("cell_type"), "code")
            elif kind == "duplicate":
                cells.insert(i, json.loads(json.dumps(cells[i])))
            elif kind == "drop":
                del cells[i]
            continue
        containers = [c for _, c in _containers(nb) if c]
        if not containers:
            continue
        container = containers[target % len(containers)]
        key = list(container.keys())[value % len(container)] if isinstance(container, dict) else value % len(
            container)
        if kind == "delete":
            del container[key]
        elif kind == "retype":
            old = container[key]
            container[key] = (str(old) if not isinstance(old, str) else [old]) if old is not None else 0
        elif kind == "garbage":
            # a copy: the same list or dict placed twice could be placed inside itself, and a
            # later example would see this one's changes to the constant
            container[key] = copy.deepcopy(GARBAGE[value % len(GARBAGE)])
    data = json.dumps(nb, allow_nan=True).encode("utf-8", "surrogatepass")
    return data if cut is None else data[: cut % (len(data) + 1)]


OPS = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1,
               max_size=6)


@pytest.fixture(scope="module")
def valid() -> dict:
    return json.loads(SOURCE.read_text())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_loader_never_raises_on_a_mutated_notebook(ops, valid, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "svm.ipynb"
    path.write_bytes(mutate(json.loads(json.dumps(valid)), ops))
    sub = load_submission(path, ASSIGNMENT)
    assert isinstance(sub, Submission)
    assert all(isinstance(p, str) and p and "Traceback" not in p for p in sub.problems + sub.tamper)
    if not sub.units:
        assert sub.problems, "nothing usable was found, and no problem says why"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_grading_a_mutated_notebook_ends_with_a_report(seed, valid, tmp_path):
    rng = random.Random(seed)
    ops = [(rng.choice(KINDS), rng.randrange(10**6), rng.randrange(10**6)) for _ in range(rng.randint(1, 4))]
    student = tmp_path / f"fuzz{seed}"
    student.mkdir()
    (student / "svm.ipynb").write_bytes(mutate(json.loads(json.dumps(valid)), ops))
    out = tmp_path / "out"
    proc = subprocess.run([str(LINCLASS), "grade", str(student), "--out", str(out)], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, (ops, proc.stdout[-1500:], proc.stderr[-1500:])
    assert "Traceback" not in proc.stdout + proc.stderr, ops
    results = json.loads((out / f"fuzz{seed}" / "results.json").read_text())
    assert results["tests"] and 0 <= results["score"] <= results["max_score"]


def test_mutations_do_change_the_notebook(valid):
    """The fuzzer is not a no-op: each kind of operation changes the serialized notebook."""
    original = json.dumps(valid).encode()
    for kind in KINDS:
        assert mutate(json.loads(original), [(kind, 3, 5)]) != original, kind
