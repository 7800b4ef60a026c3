"""What a student process cost, as the grader's log reports it (``Usage``: the speed
benchmark's floor is built from these figures)."""

from __future__ import annotations

import numpy as np
from kit import ASSIGNMENT

from autograder.sandbox.limits import Limits
from autograder.sandbox.process import StudentProcess
from autograder.submission import load_submission
from linclass.assignments.linear_classifiers.mutants import write_reference

FAST = Limits(call_seconds=10.0, cpu_seconds_total=60.0, memory_mb=1024)


def test_a_batch_of_calls_counts_in_the_usage(tmp_path):
    """call_many's request, wall time and student CPU count in the log's usage line (the speed
    benchmark's floor is built from it: without them it left out the gradient checks' calls)."""
    sp = StudentProcess(load_submission(write_reference(tmp_path / "s"), ASSIGNMENT), ASSIGNMENT, FAST)
    X = np.random.default_rng(0).standard_normal((2000, 50))
    try:
        assert sp.call("rel_error", 1.0, 2.0).ok
        single = (sp.usage.requests, sp.usage.request_seconds, sp.usage.student_cpu_seconds, sp.usage.bytes_sent)
        results = sp.call_many("rel_error", [(X, X + k) for k in range(1, 9)])
    finally:
        sp.close()
    assert all(r.ok for r in results)
    assert sp.usage.requests == single[0] + 1
    assert sp.usage.bytes_sent > single[3] + 8 * 2 * X.nbytes
    assert sp.usage.request_seconds >= single[1] + sum(r.seconds for r in results) * 0.99
    assert sp.usage.student_cpu_seconds > single[2]
