"""Grading speed: linclass vs real ``nbgrader autograde``, class throughput, the floor, where the time goes.

``python benchmarks/bench_grading.py [--repeats 5] [--batch 8] [--class-size 200] [--skip-nbgrader] [--skip-class]``

Every figure comes from this one run, side by side, with the machine's load average printed
next to it (on a busy machine the medians are noisy: rerun on an idle one before quoting).

1. **linclass vs nbgrader on the same notebooks.**  The release is built with nbgrader in a
   temporary course and filled in from the source by :func:`linclass.course.release.fill_release`
   (a student who got everything right).  (a) One submission, one cold command each, graded
   alternately by ``linclass grade`` and ``nbgrader autograde --student`` (``--repeats`` times,
   medians).  (b) ``--batch`` copies of it: ``linclass grade DIR --jobs 1`` against one
   ``nbgrader autograde`` of the ``--batch`` students.  Both include each tool's start-up.
2. **Class scale.**  ``--class-size`` generated module-layout submissions, half the reference and
   half one-bug mutants (:mod:`linclass.assignments.linear_classifiers.mutants`, cycling through
   the catalog), graded with ``--jobs 1`` and ``--jobs 2``: wall time, scaling efficiency
   (T1 / (2 T2)).
3. **The floor, and where the time goes** for one submission in a warm grader: the floor is what
   no grader of these checks can avoid, a fork of the student process from the zygote (with its
   confinement) plus the CPU time of the reference's own numerics in it (the student process's
   CPU over the grading, from the kernel); the rest is split into pytest's own run
   (configuration, collection, hooks), the checks' grader-side work (the reference's results,
   recomputed SGD steps, verdicts) and the wire, with pytest's ``--durations`` per module.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


def machine_cpu() -> float:
    """CPU seconds every core of the machine has been busy so far (user, nice, system, irq,
    softirq), from ``/proc/stat``.

    Not the rusage of the command's descendants: a student process killed with its PID
    namespace is reaped by the kernel, not by its parent, so its CPU never reaches any
    rusage, and neither does the kernel's work of tearing it down.  On an otherwise idle
    machine this is the command's whole cost.
    """
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = ticks
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def timed(cmd: list[str], cwd: Path | None = None, cpu: list | None = None) -> float:
    """Wall seconds of ``cmd``; the machine's busy CPU seconds meanwhile are appended to ``cpu`` if given."""
    start, cpu_start = time.perf_counter(), machine_cpu()
    proc = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if cpu is not None:
        cpu.append(machine_cpu() - cpu_start)
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


def side_by_side(tmp: Path, repeats: int, batch: int) -> dict:
    print(f"\n## 1. linclass grade vs nbgrader autograde, same filled release notebooks ({load()})")
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
    print(f"  (a) one submission, cold, median of {repeats}: linclass {out['linclass_s']:.2f} s "
          f"({out['linclass_checks']} checks, score {out['linclass_score']}), nbgrader autograde "
          f"{out['nbgrader_s']:.2f} s ({out['nbgrader_checks']} test cells, score {out['nbgrader_score']})")
    print(f"      linclass is {out['ratio']:.1f}x faster: {verdict(out['ratio'] >= 10)} the target (>= 10x)")

    # (c) the student's self-check of the whole filled release folder
    checks = [timed([sys.executable, "selfcheck.py"], cwd=filled) for _ in range(repeats)]
    out["selfcheck_s"] = statistics.median(checks)
    print(f"  (c) the student's self-check of the whole release folder (python selfcheck.py), median of {repeats}: "
          f"{out['selfcheck_s']:.2f} s: {verdict(out['selfcheck_s'] < 1)} the target (< 1 s)")

    # (b) a batch: the same notebooks for ``batch`` students, one command each tool
    students = [STUDENT] + [f"{STUDENT}{i:02d}" for i in range(1, batch)]
    lc_class = tmp / "lc_class"
    for sid in students:
        shutil.copytree(filled, lc_class / sid)
        if sid != STUDENT:  # (prepare_course submitted the first one)
            shutil.copytree(filled, course / "submitted" / sid / DEFAULT_ASSIGNMENT)
    lc_batch = timed([str(BIN / "linclass"), "grade", str(lc_class), "--out", str(tmp / "lc_class_out"),
                      "--jobs", "1"]) / batch
    # without --student, nbgrader autogrades every submitted student (the option takes one id only)
    nb_batch = timed([str(BIN / "nbgrader"), "autograde", DEFAULT_ASSIGNMENT, "--force"], cwd=course) / batch
    out.update(batch=batch, linclass_batch_s=lc_batch, nbgrader_batch_s=nb_batch, batch_ratio=nb_batch / lc_batch)
    print(f"  (b) {batch} submissions in one command each ({load()}): linclass --jobs 1 {lc_batch:.2f} s per "
          f"submission, nbgrader autograde {nb_batch:.2f} s per submission")
    print(f"      linclass is {out['batch_ratio']:.1f}x faster: {verdict(out['batch_ratio'] >= 30)} the target "
          "(>= 30x)")
    return out


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


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
              f"({walls[jobs] / size:.2f} s each); the machine's CPU {cpus[jobs]:.0f} s ({cpus[jobs] / size:.2f} s "
              f"each, {cpus[jobs] / walls[jobs]:.2f} of {os.cpu_count()} cores busy on average) [{load()}]", flush=True)
    result = {"size": size, "walls": walls, "cpu": cpus}
    if 1 in walls and 2 in walls:
        result["efficiency"] = walls[1] / (2 * walls[2])
        print(f"  scaling efficiency 1 -> 2 jobs: {result['efficiency']:.0%} (speed-up {walls[1] / walls[2]:.2f}x): "
              f"{verdict(result['efficiency'] >= 0.9)} the target (>= 90 %)")
    if 2 in walls:
        print(f"  200 submissions on 2 cores: {walls[2] * 200 / size:.0f} s: {verdict(walls[2] * 200 / size < 40)} "
              "the target (< 40 s)")
        idle = cpus[2] * 200 / size / 2
        print(f"  the CPU bound on 2 cores (the machine's busy CPU time / 2): {idle:.0f} s for 200; a wall time near "
              "it means the batch keeps both cores busy")
        result["idle_2_core_s"] = idle
    return result


# --------------------------------------------------------------------------------------------
# 3. Where the time goes
# --------------------------------------------------------------------------------------------


def _median_run(cmd: list[str], n: int = 5) -> float:
    return statistics.median(timed(cmd) for _ in range(n))


USAGE = re.compile(r"student process: (\d+) start\(s\) in (\d+) ms, (\d+) requests in ([\d.]+) s "
                   r"\(its CPU ([\d.]+) s\)")


def bare_fork_seconds(n: int = 20) -> float:
    """Median wall time of a zygote fork of a student process that loads nothing: confined, and
    its first reply read (the start a submission cannot avoid)."""
    from autograder.sandbox.limits import Limits
    from autograder.sandbox.process import StudentProcess
    from autograder.submission import load_submission
    from linclass.assignment import load_assignment
    from linclass.assignments.linear_classifiers.mutants import write_reference

    assignment = load_assignment()
    with tempfile.TemporaryDirectory(prefix="linclass-bench-fork-") as tmp:
        submission = load_submission(write_reference(Path(tmp) / "s"), assignment)
        seconds = []
        for _ in range(n + 1):
            proc = StudentProcess(submission, assignment, Limits())
            try:
                proc._fork()  # the start alone: fork, confinement, hello
                proc._greet()
            finally:
                seconds.append(proc.usage.start_seconds)
                proc.close()
    return statistics.median(seconds[1:])  # the first one starts the zygote


def breakdown(tmp: Path) -> dict:
    print(f"\n## 3. The floor, and where the time goes for one submission ({load()})")
    from linclass.assignments.linear_classifiers.mutants import write_reference

    py = sys.executable
    cold_child = _median_run([py, "-I", "-B", "-c", "import numpy"])
    imports = _median_run([py, "-c", "import autograder.run, autograder.sandbox.process, numpy, pytest"])
    fork = bare_fork_seconds()
    print(f"  a student process forked from the zygote (confined, first reply): {fork * 1000:.1f} ms; a cold "
          f"interpreter with numpy: {cold_child * 1000:.0f} ms ({cold_child / fork:.0f}x)")
    print(f"  grader process start + imports (autograder.run, pytest, numpy): {imports * 1000:.0f} ms "
          "(paid once per worker, hidden behind discovery in a batch)")

    from autograder.run import grade_many

    subs = [write_reference(tmp / "warm" / f"w{i}") for i in range(6)]
    saved = {key: os.environ.get(key) for key in ("PYTEST_ADDOPTS", "LINCLASS_BENCH_DURATIONS")}
    os.environ["PYTEST_ADDOPTS"] = "-p bench_durations"  # (benchmarks/bench_durations.py: exact phase times)
    runs = []
    # one grading session, as a batch worker runs it: each submission's time is from the end of the
    # one before (the first one's includes the session's start: pytest's configuration, collection)
    started = [time.perf_counter()]

    def graded(path: Path, result) -> None:
        if isinstance(result, Exception):
            raise result
        durations = Path(os.environ["LINCLASS_BENCH_DURATIONS"])
        log = (result.report_dir / "grader.log").read_text()
        phases = [json.loads(line) for line in durations.read_text().splitlines()]
        runs.append((time.perf_counter() - started[0], log, phases))
        os.environ["LINCLASS_BENCH_DURATIONS"] = str(tmp / f"durations_{len(runs)}.jsonl")
        started[0] = time.perf_counter()

    try:
        os.environ["LINCLASS_BENCH_DURATIONS"] = str(tmp / "durations_0.jsonl")
        grade_many([(sub, None) for sub in subs], tmp / "warm_out", graded)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    warm_runs = sorted(runs[1:], key=lambda r: r[0])
    warm, log, phases = warm_runs[len(warm_runs) // 2]  # the median run, with its own log
    per_file: dict[str, float] = defaultdict(float)
    per_check: dict[str, float] = defaultdict(float)
    setup = 0.0
    for phase in phases:
        path, _, check = phase["nodeid"].partition("::")
        module = Path(path).stem
        if phase["when"] == "call":
            per_file[module] += phase["seconds"]
            per_check[f"{module}::{check.partition('[')[0]}"] += phase["seconds"]
        else:
            setup += phase["seconds"]
    usage = USAGE.search(log)
    starts, start_ms, requests, request_s, student_cpu = (int(usage[1]), int(usage[2]), int(usage[3]),
                                                          float(usage[4]), float(usage[5]))
    checks = sum(per_file.values())
    print(f"  one submission in a warm grading session: {warm:.3f} s (median of {len(warm_runs)}; the first, which "
          f"configures pytest, collects the checks, starts the zygote and times the naive yardstick: "
          f"{runs[0][0]:.2f} s)")
    print(f"    student process: {starts} start(s), {start_ms} ms; {requests} requests, {request_s:.3f} s on the wire "
          f"and in the student's code, of which its CPU {student_cpu:.3f} s")
    print(f"    the checks' own time (pytest call phases, including those requests): {checks:.3f} s; "
          f"setup and teardown phases {setup:.3f} s")
    for module, seconds in sorted(per_file.items(), key=lambda kv: -kv[1]):
        print(f"      {module:22s} {seconds:.3f} s")
    top = sorted(per_check.items(), key=lambda kv: -kv[1])[:6]
    print("    the slowest checks: " + ", ".join(f"{name.split('::')[1]} {sec * 1000:.1f} ms" for name, sec in top))
    grader_side = max(0.0, checks - request_s)
    outside = max(0.0, warm - setup - checks - start_ms / 1000)
    floor = fork + student_cpu
    print(f"  floor: the fork {fork * 1000:.1f} ms + the reference's own numerics in the student process "
          f"{student_cpu:.3f} s = {floor:.3f} s; a warm grading is {warm / floor:.1f}x the floor: "
          f"{verdict(warm / floor <= 3)} the target (<= 3x)")
    print(f"  the gap ({warm - floor:.3f} s): pytest's run outside the checks (hooks, reports; configured and "
          f"collected once per session) {outside:.3f} s; the checks' grader-side work (reference results, "
          f"recomputed SGD steps, verdicts, encoding) {grader_side:.3f} s; the wire and the student process's waits "
          f"{max(0.0, request_s - student_cpu):.3f} s; setup and teardown phases {setup:.3f} s")
    return {"warm_s": warm, "first_s": runs[0][0], "fork_ms": fork * 1000, "cold_child_ms": cold_child * 1000,
            "imports_ms": imports * 1000, "student_cpu_s": student_cpu, "requests": requests,
            "request_s": request_s, "checks_s": checks, "setup_s": setup, "floor_s": floor,
            "per_file": dict(per_file)}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three measurements; print a summary."""
    parser = argparse.ArgumentParser(prog="bench_grading", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8, help="submissions in the side-by-side batch")
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
            numbers["per_submission"] = side_by_side(tmp, args.repeats, args.batch)
        numbers["breakdown"] = breakdown(tmp)
        if not args.skip_class:
            numbers["class"] = class_scale(tmp, args.class_size, [int(j) for j in args.jobs.split(",")])
    if args.json:
        Path(args.json).write_text(json.dumps(numbers, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
