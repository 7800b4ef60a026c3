"""A student process forked early (when the session opens) and greeted at the first call: a
death while it waits idle is nobody's code's fault, so it is started again, and no loading
step of the student's is blamed for it."""

from __future__ import annotations

import os
import signal
import time

from kit import ASSIGNMENT

from autograder.sandbox.limits import Limits
from autograder.sandbox.process import StudentProcess
from autograder.submission import load_submission
from linclass.assignments.linear_classifiers.mutants import write_reference

FAST = Limits(call_seconds=10.0, cpu_seconds_total=60.0, memory_mb=1024)


def _killed_while_idle(tmp_path) -> StudentProcess:
    sp = StudentProcess(load_submission(write_reference(tmp_path / "s"), ASSIGNMENT), ASSIGNMENT, FAST)
    sp.start()
    time.sleep(0.5)  # it has confined itself and said hello; nothing is loaded yet
    os.killpg(sp._pid, signal.SIGKILL)  # (the kernel's OOM killer, an operator, ...)
    time.sleep(0.2)
    return sp


def test_a_death_before_loading_starts_again_and_blames_no_module(tmp_path):
    sp = _killed_while_idle(tmp_path)
    try:
        result = sp.call("rel_error", 1.0, 2.0)
        report = sp.load_report
    finally:
        sp.close()
    assert result.ok, result.error
    assert abs(result.value - 1 / 3) < 1e-12
    assert all(status == "ok" for status in report.values()), report
    assert sp.usage.starts == 2


def test_an_early_start_counts_only_the_wait_it_did_not_hide(tmp_path):
    sp = StudentProcess(load_submission(write_reference(tmp_path / "s"), ASSIGNMENT), ASSIGNMENT, FAST)
    sp.start()
    time.sleep(1.0)  # the caller's own work (collecting the checks)
    try:
        assert sp.call("rel_error", 1.0, 2.0).ok
    finally:
        sp.close()
    assert sp.usage.start_seconds < 0.5, sp.usage
