"""The speed check's yardstick: the CPU time of the reference's naive loops on the timing shape.

The vectorized versions are compared with it (``suite/test_losses.py``, test_faster_than_naive);
timing the student's own naive version instead would let a deliberately slowed naive function
make any vectorized version look fast.  The grader measures it once per process, in a process
of its own (``python -m linclass.assignments.linear_classifiers.yardstick NAME...``, which prints
``{name: seconds}`` as JSON), started when the suite is collected: it runs on another core while
the first submission is graded, instead of taking turns with it for the interpreter.
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np

from .inputs import random_case

#: (N, D, C) of the timing inputs: many examples, few features, so that the loops' cost (which
#: grows with N * C) dominates the bytes sent to the student process (which grow with N * D).
TIMING_SHAPE = (1000, 5, 10)


def measure(naive: str) -> float:
    """CPU seconds of the reference's ``naive`` on a timing input (best of 3 runs: one busy
    moment does not make a whole batch lenient)."""
    from solutions.linear_classifiers import linear_svm, softmax

    f = getattr(linear_svm if naive.startswith("svm") else softmax, naive)
    N, D, C = TIMING_SHAPE
    case = random_case(np.random.default_rng(0), "timing", N=N, D=D, C=C, reg=0.1)
    best = math.inf
    for _ in range(3):
        start = time.thread_time()  # this thread's CPU time: other threads' work does not count
        f(*case.args)
        best = min(best, time.thread_time() - start)
    return best


def main(names: list[str]) -> int:
    print(json.dumps({name: measure(name) for name in names}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
