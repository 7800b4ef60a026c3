"""Run every benchmark of the kit (``make bench``); none of them is part of ``make test``.

Each entry of ``BENCHMARKS`` is a module in this directory with a ``main(argv) -> int``.
Adding a benchmark is one line here.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

BENCHMARKS = [
    "bench_reference",  # the reference losses: naive vs vectorized, vectorized vs its matmul floor
    "bench_grading",  # linclass grade vs nbgrader autograde, a class of 200 with --jobs 1/2, time breakdown
]


def main() -> int:
    """Run each benchmark in turn; the exit code is the worst of theirs."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    worst = 0
    for name in BENCHMARKS:
        print(f"==== {name} " + "=" * (70 - len(name)), flush=True)
        start = time.perf_counter()
        worst = max(worst, int(importlib.import_module(name).main([]) or 0))
        print(f"==== {name}: {time.perf_counter() - start:.0f} s\n", flush=True)
    return worst


if __name__ == "__main__":
    sys.exit(main())
