"""Speed of the reference losses (solutions/), measured side by side in one run.

1. Naive vs vectorized, SVM and softmax, at N = 500, D = 3073, C = 10 (CIFAR-10 sized).
2. The vectorized loss + gradient against the matrix multiplies it cannot avoid: the
   scores ``X @ W`` (N, D) x (D, C) and the gradient ``X.T @ dScores`` (D, N) x (N, C).
   Everything else (the max/exp/log or the margins, the indexing of the correct classes,
   the regularizer) is (N, C) or (D, C) work and should cost little next to them.
   Target: vectorized / floor <= 1.5 at N = 500 and N = 49000 (float64).

"rest" is the median time beyond the floor: the (N, C)-sized work plus the regularizer.

Timing is timeit-style: each repeat calls every candidate ``number`` times in turn
(interleaved, so background load hits all of them alike); the table shows the median and
the minimum over the repeats, and the ratios are of the medians (the minima in brackets).

Run: ``python benchmarks/bench_reference.py`` (or ``make bench`` for every benchmark).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Callable, Sequence

import numpy as np

from solutions.linear_classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from solutions.linear_classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized

D, C, REG = 3073, 10, 2.5e4 * 1e-8  # CIFAR-10 sized; a reg of the usual order (its value does not matter)
TARGET = 1.5


def measure(candidates: dict[str, Callable[[], object]], repeats: int, number: int) -> dict[str, tuple[float, float]]:
    """Seconds per call of each candidate: (median, min) over ``repeats`` interleaved repeats."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for fn in candidates.values():  # warm-up: caches, BLAS threads, lazy imports
        fn()
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - start) / number)
    return {name: (statistics.median(s), min(s)) for name, s in samples.items()}


def problem(N: int, seed: int = 0):
    """CIFAR-like inputs: centred pixel values (std ~ 60) plus the bias column, small W."""
    rng = np.random.default_rng(seed)
    X = np.empty((N, D))
    X[:, :-1] = 60.0 * rng.standard_normal((N, D - 1))
    X[:, -1] = 1.0
    W = 1e-4 * rng.standard_normal((D, C))
    y = rng.integers(0, C, N)
    return W, X, y


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:10.3f}"


def naive_vs_vectorized(repeats: int) -> list[tuple[str, float, float]]:
    """Part 1; returns rows (name, ratio of medians, ratio of minima)."""
    W, X, y = problem(500)
    times = measure({
        "svm_loss_naive": lambda: svm_loss_naive(W, X, y, REG),
        "svm_loss_vectorized": lambda: svm_loss_vectorized(W, X, y, REG),
        "softmax_loss_naive": lambda: softmax_loss_naive(W, X, y, REG),
        "softmax_loss_vectorized": lambda: softmax_loss_vectorized(W, X, y, REG),
    }, repeats=repeats, number=3)
    print(f"\n1. Naive vs vectorized, N = 500, D = {D}, C = {C}, float64 (ms per call: median, min)")
    print(f"   {'function':26s}{'median':>10s}{'min':>11s}")
    for name, (med, low) in times.items():
        print(f"   {name:26s}{ms(med)} {ms(low)}")
    rows = []
    for loss in ("svm", "softmax"):
        naive, vec = times[f"{loss}_loss_naive"], times[f"{loss}_loss_vectorized"]
        rows.append((loss, naive[0] / vec[0], naive[1] / vec[1]))
        print(f"   {loss}: vectorized is {naive[0] / vec[0]:.1f}x faster than naive (min: {naive[1] / vec[1]:.1f}x)")
    return rows


def against_matmul_floor(N: int, repeats: int) -> list[tuple[str, int, float, float]]:
    """Part 2 at one N; returns rows (loss, N, ratio of medians, ratio of minima)."""
    W, X, y = problem(N)
    dscores = np.random.default_rng(1).standard_normal((N, C))
    number = 20 if N <= 1000 else 1
    times = measure({
        "floor: X @ W + X.T @ dS": lambda: (X @ W, X.T @ dscores),
        "svm_loss_vectorized": lambda: svm_loss_vectorized(W, X, y, REG),
        "softmax_loss_vectorized": lambda: softmax_loss_vectorized(W, X, y, REG),
    }, repeats=repeats, number=number)
    floor = times["floor: X @ W + X.T @ dS"]
    print(f"\n2. Vectorized vs the matmul floor, N = {N}, D = {D}, C = {C}, float64")
    print(f"   {'':26s}{'median ms':>10s}{'min ms':>11s}{'/ floor':>10s}{'rest ms':>11s}")
    rows = []
    for name, (med, low) in times.items():
        extra = "" if name.startswith("floor") else f"{med / floor[0]:9.2f}x {ms(med - floor[0])}"
        print(f"   {name:26s}{ms(med)} {ms(low)}{extra}")
        if not name.startswith("floor"):
            rows.append((name.split("_")[0], N, med / floor[0], low / floor[1]))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run both parts and print a summary of the ratios; exit 0 (this is a measurement)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="repeats per measurement (default: %(default)s)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 49000], help="N for part 2")
    args = parser.parse_args(argv)
    threads = os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS") or "default"
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs, BLAS threads: {threads}")
    speedups = naive_vs_vectorized(args.repeats)
    floors = [row for N in args.sizes for row in against_matmul_floor(N, max(3, args.repeats // 2 if N > 1000
                                                                              else args.repeats))]
    print("\nSummary (ratios of medians; minima in brackets)")
    for loss, med, low in speedups:
        print(f"   {loss:8s} naive / vectorized at N = 500:       {med:6.1f}x  ({low:.1f}x)")
    for loss, N, med, low in floors:
        verdict = "ok" if med <= TARGET else f"ABOVE the {TARGET}x target"
        print(f"   {loss:8s} vectorized / matmul floor at N = {N:<6d}: {med:5.2f}x  ({low:.2f}x)  {verdict}")
    if any(abs(med - low) > 0.2 * low for *_, med, low in (*speedups, *floors)):
        print("   note: medians and minima disagree by more than 20%: the machine was busy; the minima "
              "(timeit's advice) are the better estimate")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
