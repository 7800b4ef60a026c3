"""Grading speed: linclass vs real ``nbgrader autograde``, class throughput, and where the time goes.

``python benchmarks/bench_grading.py [--repeats 5] [--class-size 200] [--skip-nbgrader] [--skip-class]``

1. **Per submission, side by side in one run.**  The release is built with nbgrader in a
   temporary course, filled in from the source by :func:`linclass.course.release.fill_release` (a
   student who got everything right), then graded alternately by ``linclass grade`` and by
   ``nbgrader autograde`` (both end to end, as subprocesses, ``--repeats`` times each; median
   and ratio).  Checks counted: linclass's ``tests`` in results.json; nbgrader's autograded
   test cells (``grade: true``, not solution) in the notebooks.
2. **Class scale.**  ``--class-size`` generated module-layout submissions, half the
   reference and half one-bug mutants (:mod:`linclass.assignments.linear_classifiers.mutants`, cycling through the
   catalog), graded with ``linclass grade DIR --jobs 1`` and ``--jobs 2``: wall time,
   submissions per minute, scaling efficiency (T1 / (2 T2)).
3. **Where the time goes for one submission**: interpreter start, imports, the whole
   grading in a warm process, the per-check durations (pytest's own ``--durations`` in the
   grader log), and the floor (a bare interpreter + the child's numpy import + the
   reference's own training run).

Each figure is printed with the machine's load average: on a busy machine the medians are
noisy, so rerun on an idle one before quoting.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from linclass.assignment import DEFAULT_ASSIGNMENT  # noqa: E402

BIN = Path(sys.executable).parent
STUDENT = "bench_student"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} on {os.cpu_count()} cores"


def env() -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONWARNINGS": "ignore"}


def children_cpu() -> float:
    """CPU seconds (user + system) of every waited-for descendant so far (workers and sandboxed children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cwd: Path | None = None, cpu: list | None = None) -> float:
    """Wall seconds of ``cmd``; its CPU seconds (whole process tree) are appended to ``cpu`` if given."""
    start, cpu_start = time.perf_counter(), children_cpu()
    proc = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if cpu is not None:
        cpu.append(children_cpu() - cpu_start)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds


# --------------------------------------------------------------------------------------------
# 1. linclass vs nbgrader on the same filled release notebooks
# --------------------------------------------------------------------------------------------


def prepare_course(tmp: Path) -> tuple[Path, Path]:
    """A temporary nbgrader course with the assignment generated (gradebook kept) and one filled submission."""
    from nbgrader.apps import NbGraderAPI

    from linclass.course.release import copy_course, course_config, fill_release, nbgrader_env

    course = copy_course(ROOT / "assignments", tmp / "course")
    with nbgrader_env():
        api = NbGraderAPI(config=course_config(course, course))
        result = api.generate_assignment(DEFAULT_ASSIGNMENT, force=True, create=True)
    if not result.get("success"):
        raise RuntimeError(f"nbgrader generate_assignment failed: {result.get('error') or result.get('log')}")
    release = course / "release" / DEFAULT_ASSIGNMENT
    filled = fill_release(release, course / "source" / DEFAULT_ASSIGNMENT, tmp / STUDENT)
    submitted = course / "submitted" / STUDENT / DEFAULT_ASSIGNMENT
    shutil.copytree(filled, submitted)
    return course, filled


def nbgrader_checks(notebooks: Path) -> int:
    """nbgrader's autograded test cells in the notebooks (grade: true, solution: false, code)."""
    count = 0
    for nb in notebooks.glob("*.ipynb"):
        for cell in json.loads(nb.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            count += cell["cell_type"] == "code" and meta.get("grade", False) and not meta.get("solution", False)
    return count


def nbgrader_score(course: Path) -> str:
    """Score nbgrader stored for the student (read from its gradebook)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission(DEFAULT_ASSIGNMENT, STUDENT)
        return f"{sub.score:g} / {sub.max_score:g}"


def side_by_side(tmp: Path, repeats: int) -> dict:
    print(f"\n## 1. One submission, linclass grade vs nbgrader autograde ({load()})")
    course, filled = prepare_course(tmp)
    lc_out = tmp / "lc_out"
    lc, nb = [], []
    for r in range(repeats):
        lc.append(timed([str(BIN / "linclass"), "grade", str(filled), "--out", str(lc_out)]))
        nb.append(timed([str(BIN / "nbgrader"), "autograde", DEFAULT_ASSIGNMENT, "--student", STUDENT, "--force"],
                        cwd=course))
        print(f"  run {r + 1}: linclass {lc[-1]:.2f} s, nbgrader {nb[-1]:.2f} s", flush=True)
    results = json.loads((lc_out / STUDENT / "results.json").read_text())
    out = {"linclass_s": statistics.median(lc), "nbgrader_s": statistics.median(nb),
           "linclass_checks": len(results["tests"]), "nbgrader_checks": nbgrader_checks(filled),
           "linclass_score": f"{results['score']:g} / {results['max_score']:g}",
           "nbgrader_score": nbgrader_score(course)}
    out["ratio"] = out["nbgrader_s"] / out["linclass_s"]
    print(f"  median of {repeats}: linclass {out['linclass_s']:.2f} s ({out['linclass_checks']} checks, "
          f"score {out['linclass_score']}), nbgrader autograde {out['nbgrader_s']:.2f} s "
          f"({out['nbgrader_checks']} test cells, score {out['nbgrader_score']})")
    verdict = "meets" if out["ratio"] >= 5 and out["linclass_checks"] > out["nbgrader_checks"] else "MISSES"
    print(f"  linclass is {out['ratio']:.1f}x faster while running {out['linclass_checks']} vs "
          f"{out['nbgrader_checks']} checks: {verdict} the target (>= 5x, more checks)")
    return out


# --------------------------------------------------------------------------------------------
# 2. Class scale
# --------------------------------------------------------------------------------------------


def make_class(dest: Path, size: int) -> dict[str, int]:
    """``size`` module-layout submissions: even ids the reference, odd ids one-bug mutants."""
    from linclass.assignments.linear_classifiers.mutants import MUTANTS, write_mutant, write_reference

    kinds: dict[str, int] = defaultdict(int)
    for i in range(size):
        folder = dest / f"s{i:03d}"
        if i % 2 == 0:
            write_reference(folder)
            kinds["correct"] += 1
        else:
            write_mutant(*MUTANTS[(i // 2) % len(MUTANTS)], folder)
            kinds["one bug"] += 1
    return dict(kinds)


def class_scale(tmp: Path, size: int, jobs_list: Sequence[int]) -> dict:
    print(f"\n## 2. A class of {size} submissions ({load()})")
    corpus = tmp / "class"
    kinds = make_class(corpus, size)
    print(f"  {', '.join(f'{v} {k}' for k, v in kinds.items())} (one-bug mutants cycle through the catalog)")
    walls, cpus = {}, {}
    for jobs in jobs_list:
        out = tmp / f"class_out_j{jobs}"
        cpu: list[float] = []
        walls[jobs] = timed([str(BIN / "linclass"), "grade", str(corpus), "--out", str(out), "--jobs", str(jobs)],
                            cpu=cpu)
        cpus[jobs] = cpu[0]
        rows = (out / "grades.csv").read_text().count("\n") - 1
        print(f"  --jobs {jobs}: {walls[jobs]:.1f} s for {rows} graded, {60 * size / walls[jobs]:.0f} submissions/min "
              f"({walls[jobs] / size:.2f} s each); CPU {cpus[jobs]:.0f} s ({cpus[jobs] / size:.2f} s each, "
              f"{cpus[jobs] / walls[jobs]:.2f} cores busy on average) [{load()}]", flush=True)
    result = {"size": size, "walls": walls, "cpu": cpus}
    if 1 in walls and 2 in walls:
        result["efficiency"] = walls[1] / (2 * walls[2])
        print(f"  scaling efficiency 1 -> 2 jobs: {result['efficiency']:.0%} (speed-up {walls[1] / walls[2]:.2f}x)")
    if 2 in walls:
        verdict = "meets" if walls[2] * 200 / size < 180 else "MISSES"
        print(f"  200 submissions on 2 cores: {walls[2] * 200 / size:.0f} s: {verdict} the target (< 180 s)")
        idle = cpus[2] * 200 / size / 2
        print(f"  CPU-bound bound on 2 idle cores (the batch's CPU time / 2): {idle:.0f} s for 200; when the wall "
              "time is far above it, other processes held the cores (see the load average)")
        result["idle_2_core_s"] = idle
    return result


# --------------------------------------------------------------------------------------------
# 3. Where the time goes
# --------------------------------------------------------------------------------------------


def _median_run(cmd: list[str], n: int = 5) -> float:
    return statistics.median(timed(cmd) for _ in range(n))


DURATION = re.compile(r"^([\d.]+)s (setup|call|teardown)\s+(\S+?)\.py::(\w+)(?:\[(.*)\])?")


def breakdown(tmp: Path) -> dict:
    print(f"\n## 3. Where the time goes for one submission ({load()})")
    from linclass.assignments.linear_classifiers.mutants import write_reference

    py = sys.executable
    bare = _median_run([py, "-I", "-S", "-c", "pass"])
    child_floor = _median_run([py, "-I", "-B", "-c", "import numpy"])
    imports = _median_run([py, "-c", "import autograder.run, autograder.sandbox.process, numpy, pytest"])
    print(f"  interpreter start (python -I -S): {bare * 1000:.0f} ms; python -I + numpy (the child floor): "
          f"{child_floor * 1000:.0f} ms")
    print(f"  grader process start + imports (autograder.run, pytest, numpy): {imports * 1000:.0f} ms "
          "(paid once per worker, not per submission)")

    from autograder.run import grade_submission

    subs = [write_reference(tmp / "warm" / f"w{i}") for i in range(4)]
    old = os.environ.get("PYTEST_ADDOPTS")
    os.environ["PYTEST_ADDOPTS"] = "--durations=0 --durations-min=0"
    try:
        walls = []
        for sub in subs:
            start = time.perf_counter()
            result = grade_submission(sub, tmp / "warm_out")
            walls.append(time.perf_counter() - start)
    finally:
        if old is None:
            os.environ.pop("PYTEST_ADDOPTS", None)
        else:
            os.environ["PYTEST_ADDOPTS"] = old
    warm = statistics.median(walls[1:])
    per_file: dict[str, float] = defaultdict(float)
    setup = 0.0
    training = 0.0
    for line in (result.report_dir / "grader.log").read_text().splitlines():
        m = DURATION.match(line.strip())
        if not m:
            continue
        seconds, phase, module, param = float(m[1]), m[2], m[3].split("/")[-1], m[5]
        if phase == "setup":
            setup += seconds
        else:
            per_file[module] += seconds
        if param == "LinearClassifier.train" and phase == "call":
            training += seconds
    checks = sum(per_file.values())
    print(f"  one submission in a warm grader process: {warm:.2f} s "
          f"(median of {len(walls) - 1}; first: {walls[0]:.2f} s)")
    print(f"    fixture setup: {setup:.2f} s")
    for module, seconds in sorted(per_file.items(), key=lambda kv: -kv[1]):
        print(f"    {module:22s} {seconds:.2f} s")
    print(f"    of which the training checks (LinearClassifier.train): {training:.2f} s")
    print(f"    outside the checks (pytest config + collection, the child's start and load, reports): "
          f"{max(0.0, warm - setup - checks):.2f} s")

    from linclass.assignments.linear_classifiers.shipped.data import get_data
    from solutions.linear_classifiers.linear_classifier import LinearSVM

    data = get_data("digits")
    start = time.perf_counter()
    LinearSVM().train(data.X_train, data.y_train, learning_rate=1e-3, reg=1e-3, num_iters=300, batch_size=200, seed=0)
    train_ref = time.perf_counter() - start
    floor = child_floor + train_ref
    print(f"  floor: child start with numpy {child_floor:.2f} s + the reference's own training run "
          f"(300 SGD steps on the digits, in-process) {train_ref:.2f} s = {floor:.2f} s; "
          f"we are at {warm / floor:.1f}x the floor")
    return {"warm_s": warm, "setup_s": setup, "checks_s": checks, "training_s": training, "floor_s": floor,
            "bare_ms": bare * 1000, "child_floor_ms": child_floor * 1000, "imports_ms": imports * 1000}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three measurements; print a summary."""
    parser = argparse.ArgumentParser(prog="bench_grading", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--class-size", type=int, default=200)
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values for the class run")
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--skip-class", action="store_true")
    parser.add_argument("--json", default=None, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    numbers = {"load_at_start": load()}
    with tempfile.TemporaryDirectory(prefix="linclass-bench-") as tmp:
        tmp = Path(tmp)
        if not args.skip_nbgrader:
            numbers["per_submission"] = side_by_side(tmp, args.repeats)
        numbers["breakdown"] = breakdown(tmp)
        if not args.skip_class:
            numbers["class"] = class_scale(tmp, args.class_size, [int(j) for j in args.jobs.split(",")])
    if args.json:
        Path(args.json).write_text(json.dumps(numbers, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
