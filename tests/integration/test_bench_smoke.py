"""The grading benchmark's own measurements still run (they reach into the engine's start-up), on
the smallest sizes; its figures are the benchmark's business, never asserted here."""

from __future__ import annotations

import importlib.util
import sys

from kit import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench_grading", ROOT / "benchmarks" / "bench_grading.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_grading", module)
    spec.loader.exec_module(module)
    return module


def test_the_bare_fork_measurement_runs():
    seconds = _bench().bare_fork_seconds(n=1)
    assert seconds > 0
