"""A pytest plugin for the speed benchmark: every test phase's exact duration, as JSON lines.

Loaded with ``-p bench_durations`` (``PYTEST_ADDOPTS``) by ``bench_grading.breakdown``; it
appends ``{"nodeid", "when", "seconds"}`` lines to the file named by
``LINCLASS_BENCH_DURATIONS`` (pytest's own ``--durations`` rounds to 10 ms).
"""

from __future__ import annotations

import json
import os


def pytest_runtest_logreport(report) -> None:
    path = os.environ.get("LINCLASS_BENCH_DURATIONS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"nodeid": report.nodeid, "when": report.when, "seconds": report.duration}) + "\n")
