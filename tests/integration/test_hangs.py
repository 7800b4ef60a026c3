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


def test_a_hang_after_a_rejected_case_costs_only_that_check(tmp_path):
    """A check that sends its cases in one batch and rejects the first does not count the limit a
    later case of the batch hits: the part's other checks are graded as if each call had been its
    own (``Grading.call_each``)."""
    student = write_reference(tmp_path / "late_hang")
    text = (student / "linear_svm.py").read_text()
    head = "def svm_loss_naive(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:\n"
    assert text.count(head) == 1
    # the edge cases: "a single example" (N=1, D=5, C=4) comes back wrong, "two classes" (C=2) hangs
    bug = ("    if X.shape == (1, 5) and W.shape == (5, 4):\n        return 123.0, np.zeros_like(W)\n"
           "    if W.shape == (6, 2) and X.shape == (12, 6):\n        while True:\n            pass\n")
    body = text.index('    """', text.index(head))
    end = text.index('"""', body + 7) + 4
    (student / "linear_svm.py").write_text(text[:end] + bug + text[end:])
    config = tmp_path / "limits.toml"
    config.write_text(f"[limits]\ncall_seconds = {LIMIT}\ncpu_seconds_total = 60\n")
    assert run_grade(student, out=tmp_path / "out", extra=("--config", str(config))).returncode == 0
    checks = {t["name"]: t for t in results(tmp_path / "out", "late_hang")["tests"]
              if t["name"].startswith("svm_loss_naive:")}
    edge = checks.pop("svm_loss_naive: edge cases")
    assert edge["score"] == 0 and edge["output"].startswith("On a single example"), edge["output"]
    assert not [n for n, t in checks.items() if t["output"].startswith("Not run")], checks
    assert all(t["status"] == "passed" for t in checks.values()), {n: t["output"][:80] for n, t in checks.items()}
