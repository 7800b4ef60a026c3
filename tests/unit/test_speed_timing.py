"""The speed check's arithmetic on the CPU times it is given (suite/test_losses.py,
test_faster_than_naive): a call whose CPU the kernel has not settled yet (it can read 0, as it
once did in a loaded batch and divided by zero) neither breaks the check nor flatters the code."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from autograder.sandbox.replies import CallResult
from autograder.verdicts import CheckFailed
from linclass.assignments.linear_classifiers.suite import test_losses as suite

NAIVE = 0.010  # the yardstick: 10 ms of loops


class TimedSession:
    """The session calls of the speed check, each call taking the next of ``times`` (cpu, wall)."""

    def __init__(self, times):
        self.times = list(times)
        self.config = SimpleNamespace(thresholds={"vectorized_min_speedup": 2.0})

    def call(self, part, *args, **kwargs):
        cpu, wall = self.times.pop(0)
        return CallResult(ok=True, value=(1.0, np.zeros_like(args[0])), error=None, seconds=wall, stdout="",
                          stderr="", inputs_after=None, cpu_seconds=cpu)


def speed_check(monkeypatch, times):
    monkeypatch.setattr(suite, "reference_naive_seconds", lambda naive: NAIVE)
    suite.test_faster_than_naive(TimedSession(times), np.random.default_rng(0), "svm_loss_vectorized")


def test_a_call_measured_at_zero_cpu_is_neither_an_error_nor_a_pass(monkeypatch):
    slow = [(0.0, 0.009), (0.008, 0.009), (0.009, 0.010)]  # loops: 8-9 ms, one of them read as 0
    with pytest.raises(CheckFailed, match="faster"):
        speed_check(monkeypatch, slow)


def test_one_under_counted_call_does_not_flatter_slow_code(monkeypatch):
    with pytest.raises(CheckFailed, match="faster"):
        speed_check(monkeypatch, [(0.0001, 0.0002), (0.008, 0.009), (0.009, 0.010)])


def test_fast_code_passes(monkeypatch):
    speed_check(monkeypatch, [(0.0004, 0.0006), (0.0005, 0.0007), (0.0004, 0.0006)])
    speed_check(monkeypatch, [(None, 0.0006), (0.0, 0.0007), (0.0004, 0.0006)])  # unreadable clocks: the wall
