"""Students' ``results.json`` made up for the class-report tests (nothing is graded).

Each fake student gets one check per ``(part, check)`` of :data:`CHECKS`; the ones named in
``failed`` score 0, the others full points, and ``misconceptions`` are diagnosed on the first
failed check (as the grader reports them, in ``extra_data``).
"""

from __future__ import annotations

import json
from pathlib import Path

#: (part, check name, points): a small slice of the assignment's checks.
CHECKS = [("svm_loss_naive", "matches reference", 4.0), ("svm_loss_naive", "gradient check", 2.0),
          ("svm_loss_vectorized", "matches reference", 4.0), ("softmax_loss_naive", "matches reference", 4.0)]
MAX_SCORE = sum(points for *_, points in CHECKS)
TITLES = {"svm_reg_grad_missing_factor_2": "the regularizer's gradient is missing its factor 2",
          "softmax_no_max_shift": "the scores are exponentiated without subtracting each row's maximum"}


def write_results(out: Path, student: str, failed: tuple[str, ...] = (), misconceptions: tuple[str, ...] = ()) -> Path:
    """``out/student/results.json`` failing the checks named ``"<part>: <check>"`` in ``failed``."""
    tests = []
    for part, check, points in CHECKS:
        name = f"{part}: {check}"
        ok = name not in failed
        test = {"name": name, "score": points if ok else 0.0, "max_score": points,
                "status": "passed" if ok else "failed", "output": "", "visibility": "visible", "tags": [part]}
        if not ok and misconceptions and not any(t.get("extra_data") for t in tests):
            test["extra_data"] = {"misconceptions": list(misconceptions),
                                  "misconception_titles": [TITLES[m] for m in misconceptions]}
        tests.append(test)
    report = out / student
    report.mkdir(parents=True, exist_ok=True)
    results = {"score": sum(t["score"] for t in tests), "max_score": MAX_SCORE, "tests": tests,
               "sandbox": {"level": "full", "missing": []}}
    (report / "results.json").write_text(json.dumps(results))
    return report
