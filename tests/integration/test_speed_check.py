"""The speed check compares the vectorized loss with the reference's naive loops (timed by the
grader's yardstick process): loops dressed up as the vectorized function lose it."""

from __future__ import annotations

import pytest
from grading_helpers import results, run_grade

from linclass.assignments.linear_classifiers.mutants import write_reference

pytestmark = pytest.mark.slow

LOOPS_AS_VECTORIZED = '''


def svm_loss_vectorized(W, X, y, reg):
    """The naive loops under the vectorized name."""
    return svm_loss_naive(W, X, y, reg)
'''


def test_loops_under_the_vectorized_name_lose_the_speed_check(tmp_path):
    sub = write_reference(tmp_path / "class" / "loops")
    module = sub / "linear_svm.py"
    module.write_text(module.read_text() + LOOPS_AS_VECTORIZED)
    proc = run_grade(sub, out=tmp_path / "out")
    assert proc.returncode == 0, proc.stderr[-2000:]
    tests = {t["name"]: t for t in results(tmp_path / "out", "loops")["tests"]}
    slow = tests["svm_loss_vectorized: faster than naive"]
    assert slow["status"] == "failed" and "faster (at least 2x expected)" in slow["output"], slow
    assert "vectorized_with_loops" in slow.get("extra_data", {}).get("misconceptions", []), slow
    assert tests["softmax_loss_vectorized: faster than naive"]["status"] == "passed"
