"""Helpers for the kit's tests of the grader: run `linclass grade` and read its reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from kit import ROOT

LINCLASS = [sys.executable, "-m", "linclass.cli"]


def run_grade(*paths: Path, out: Path, jobs: int = 1, extra: tuple[str, ...] = (), timeout: float = 600):
    """Run the CLI exactly as a user would; return the CompletedProcess."""
    cmd = [*LINCLASS, "grade", *map(str, paths), "--out", str(out), "--jobs", str(jobs), *extra]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def results(out: Path, student: str) -> dict:
    return json.loads((out / student / "results.json").read_text())


def points_by_part(result: dict) -> dict[str, list[float]]:
    """Part -> [score, max_score], with the slide checks counted in the part they call."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for test in result["tests"]:
        part = test["name"].split(":")[0]
        totals[part][0] += test["score"]
        totals[part][1] += test["max_score"]
    return dict(totals)


def lost_parts(result: dict) -> set[str]:
    return {part for part, (got, most) in points_by_part(result).items() if got < most}


def diagnosed(result: dict, part: str | None = None) -> set[str]:
    found = set()
    for test in result["tests"]:
        if part is None or test["name"].split(":")[0] == part:
            found |= set(test.get("extra_data", {}).get("misconceptions", []))
    return found
