"""A loss function that recognizes the lecture's tables and is right only there loses the slide
checks with the message that says so (the nudged-scores half of ``suite/test_slides.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from grading_helpers import results, run_grade

from linclass.assignments.linear_classifiers.mutants import write_reference
from linclass.assignments.linear_classifiers.shipped import slides

pytestmark = pytest.mark.slow

RECOGNIZER = '''

_honest_svm = svm_loss_vectorized
_SLIDE_ENTRIES = {tables!r}


def svm_loss_vectorized(W, X, y, reg):
    """Right on the slides' W (any order of its classes, or twice as large), wrong everywhere else."""
    loss, dW = _honest_svm(W, X, y, reg)
    entries = sorted(round(float(v), 6) for v in np.ravel(W))
    if any(entries == sorted(round(k * v, 6) for v in table) for table in _SLIDE_ENTRIES for k in (1, 2)):
        return loss, dW
    return loss + 1.0, dW
'''


def test_a_function_right_only_on_the_slides_tables_is_named(tmp_path):
    sub = write_reference(tmp_path / "class" / "recognizer")
    tables = [np.ravel(slides.CAT_CAR_FROG.W).tolist(), np.ravel(slides.SVM_VS_SOFTMAX.W).tolist()]
    module = sub / "linear_svm.py"
    module.write_text(module.read_text() + RECOGNIZER.format(tables=tables))
    proc = run_grade(sub, out=tmp_path / "out")
    assert proc.returncode == 0, proc.stderr[-2000:]
    tests = {t["name"]: t for t in results(tmp_path / "out", "recognizer")["tests"]}
    slide_checks = {name: t for name, t in tests.items()
                    if name.startswith("svm_loss_vectorized") and "slides" in t.get("tags", [])}
    cat_car_frog = [t for name, t in slide_checks.items() if name.endswith("cat car frog")]
    assert cat_car_frog and all(t["status"] != "passed" for t in cat_car_frog), slide_checks
    assert all("nudged by a little noise" in t["output"] for t in cat_car_frog), [t["output"] for t in cat_car_frog]
    # the naive version is untouched: its slide checks pass
    assert all(t["status"] == "passed" for name, t in tests.items()
               if name.startswith("svm_loss_naive") and "slides" in t.get("tags", []))
