"""A hang costs its time limit once per submission, not once per check: every call into the
student process goes through the session facade, which remembers the part that hit a limit."""

from __future__ import annotations

import pytest
from grading_helpers import points_by_part, results, run_grade

from linclass.assignments.linear_classifiers.mutants import write_reference

LIMIT = 2.0
#: A CPU loop at the top of each function's body (the reference is unchanged otherwise).
HANGS = {
    "linear_classifier.py": ("        loss_history = []\n", "        while True:\n            pass\n"),
    "tuning.py": ("    results = {}\n", "    while True:\n        pass\n"),
}
HANGING_PARTS = ("LinearClassifier.train", "tune_hyperparameters")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hangs")
    student = write_reference(tmp / "hanging")
    for name, (old, new) in HANGS.items():
        text = (student / name).read_text()
        assert text.count(old) == 1
        (student / name).write_text(text.replace(old, new + old))
    config = tmp / "limits.toml"
    config.write_text(f"[limits]\ncall_seconds = {LIMIT}\ncpu_seconds_total = 60\n")
    run = run_grade(student, out=tmp / "out", extra=("--config", str(config)))
    assert run.returncode == 0, run.stderr
    return results(tmp / "out", "hanging")


@pytest.mark.slow
@pytest.mark.parametrize("part", HANGING_PARTS)
def test_a_hanging_function_pays_its_limit_once(graded, part):
    checks = [t for t in graded["tests"] if t["name"].split(":")[0] == part and "slides" not in t["name"]]
    assert len(checks) >= 3, [t["name"] for t in checks]
    not_run = [t["name"] for t in checks if t["output"].startswith("Not run: an earlier call hit a limit")]
    timed_out = [t["name"] for t in checks if f"time limit of {LIMIT:g} s" in t["output"] and t["name"] not in not_run]
    assert len(timed_out) == 1, timed_out
    assert len(not_run) == len(checks) - 1, [t["output"][:80] for t in checks]
    assert all(t["score"] == 0 for t in checks)


@pytest.mark.slow
def test_the_other_parts_are_graded_in_full(graded):
    """A hang in train costs neither predict (same class) nor anything else."""
    for part, (got, most) in points_by_part(graded).items():
        if part not in HANGING_PARTS:
            assert got == most, (part, got, most)
