"""Grading a whole class: discovery, parallel jobs, shards, resume, grades.csv and summary.

Each submission is graded as if alone (DESIGN section 7), but not in a pytest run of its own:
a grading session (:func:`~.run.grade_many`) configures pytest and collects the checks once,
then runs them for one submission after another.  With ``--jobs 1`` the batch is one session;
``--jobs N`` spreads chunks of submissions (:func:`chunks`) over N worker processes, one session
per chunk.  ``--shard K/N`` picks a deterministic 1/N of the students so that a CI matrix, a
Kubernetes indexed Job or a Slurm array can spread a course over many machines, and
:func:`merge_outputs` combines the shards' reports.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import multiprocessing
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Iterable, Sequence

from linclass.assignment import Assignment, load_assignment
from linclass.errors import LinclassError
from linclass.student.spec import Spec

from .class_reports import write_class_reports
from .export import submission_meta, write_meta
from .histogram import HistogramPainter
from .run import IN_PROGRESS, grade_many, student_id_for

CODE_SUFFIXES = {".ipynb", ".py"}
#: Attempts per submission when the grading worker process itself dies.
MAX_ATTEMPTS = 2
#: The most submissions a worker grades in one task (:func:`chunks`).
CHUNK = 8
#: Submissions the grader could not run for (student_id, path, error); absent when none.
NOT_GRADED = "not_graded.csv"


def _has_code(directory: Path, spec: Spec) -> bool:
    return any(child.suffix in CODE_SUFFIXES for child in directory.iterdir() if child.is_file()) or any(
        (directory / name).is_dir() for name in spec.package_dirs)


def _is_single_submission(directory: Path, spec: Spec) -> bool:
    """A directory is one submission if it holds code (or one folder that does); else a class."""
    if _has_code(directory, spec):
        return True
    children = [c for c in directory.iterdir() if not c.name.startswith(".")]
    if not children:
        return True  # empty: graded (and reported) as an empty submission
    return len(children) == 1 and children[0].is_dir() and _has_code(children[0], spec)


def expand_paths(paths: Iterable[str | Path], assignment: Assignment | None = None) -> list[Path]:
    """The submissions named by ``paths``: each path, or each entry of one class folder.

    A class folder holds one entry per student (a folder, a zip or a notebook); nbgrader's
    ``submitted/<student>/<assignment>/`` layout works as is.
    """
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.exists():
            raise LinclassError(f"{p}: no such file or directory")
    spec = (assignment or load_assignment()).spec
    if len(paths) == 1 and paths[0].is_dir() and not _is_single_submission(paths[0], spec):
        return sorted(c for c in paths[0].iterdir() if not c.name.startswith("."))
    return paths


def parse_shard(shard: str | None) -> tuple[int, int] | None:
    """``"K/N"`` -> (K, N) with 1 <= K <= N."""
    if not shard:
        return None
    try:
        k, n = (int(v) for v in shard.split("/"))
    except ValueError:
        raise LinclassError(f"--shard {shard!r}: expected K/N, e.g. 2/4") from None
    if not 1 <= k <= n:
        raise LinclassError(f"--shard {shard!r}: K must be between 1 and N")
    return k, n


def in_shard(student_id: str, shard: tuple[int, int] | None) -> bool:
    """Deterministic, balanced assignment of students to shards (independent of the class list)."""
    if shard is None:
        return True
    k, n = shard
    return int.from_bytes(hashlib.sha256(student_id.encode()).digest()[:8], "little") % n == k - 1


_frozen = False


def _freeze_warm_heap() -> None:
    """After a worker's first submission, move its warm heap (imports, the suite) out of the GC's sight.

    pytest runs full ``gc.collect()`` passes at the end of every session; over a warm
    worker's ~60k long-lived objects they cost ~0.2 s each, ~15% of a submission.  The
    frozen objects are the modules and caches that live as long as the worker anyway;
    garbage made by later submissions is still collected.
    """
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True


def _start_worker(memory_mb: int, sandbox: str = "auto") -> None:
    """A batch worker's first acts: its memory cap (see :mod:`autograder.sandbox.memory`), then
    its start-up, while the other workers start and the first submissions are read: the
    grading engine and pytest imported, and the zygote started."""
    from .sandbox.memory import worker_memory_cap

    worker_memory_cap(memory_mb)
    from . import plugin, run  # noqa: F401 - imported now, not at the first submission
    from .sandbox.spawn import warm_up

    warm_up(sandbox)


def _grade_chunk(paths: list[str], out: str, assignment: str, salt: str | None, config_path: str | None,
                 sandbox: str = "auto") -> list[dict]:
    """Run in a worker process: grade a few submissions in one grading session, never raise."""
    jobs: list[dict] = []
    _grade_jobs(paths, out, assignment, salt, config_path, sandbox, on_done=jobs.append)
    return jobs


def chunks(paths: Sequence[Path], jobs: int, largest: int = CHUNK) -> list[list[Path]]:
    """``paths`` cut into the workers' tasks: up to ``largest`` submissions each (one grading
    session collects the checks once for all of them), shrinking towards the end so that the
    ``jobs`` workers run out of work together (guided self-scheduling)."""
    out, rest = [], list(paths)
    while rest:
        size = max(1, min(largest, len(rest) // (2 * jobs)))
        out.append(rest[:size])
        rest = rest[size:]
    return out


def _not_graded(path: str | Path, error: str) -> dict:
    """The job record of a submission the grader could not run for."""
    return {"student_id": student_id_for(Path(path)), "path": str(path), "ok": False, "error": error, "seconds": 0.0}


def _grade_jobs(paths: Sequence[str], out: str, assignment: str, salt: str | None, config_path: str | None,
                sandbox: str = "auto", *, on_done: Callable[[dict], None]) -> None:
    """Grade ``paths`` one after the other in one grading session (:func:`~.run.grade_many`), never
    raise: ``on_done(job)`` gets each one's job record (its score, or why it was not graded)."""
    start = time.perf_counter()
    try:
        graded_as = load_assignment(assignment)
    except Exception as exc:  # noqa: BLE001 - the grader could not run for any of them; the batch goes on
        for path in paths:
            on_done(_not_graded(path, f"{type(exc).__name__}: {exc}"))
        return

    reported: set[str] = set()

    def graded(path: Path, outcome) -> None:
        nonlocal start
        reported.add(str(path))
        job = {"student_id": student_id_for(path), "path": str(path), "seconds": time.perf_counter() - start}
        try:
            if isinstance(outcome, Exception):
                raise outcome
            write_meta(outcome.report_dir, submission_meta(path, graded_as))
            job.update(student_id=outcome.student_id, ok=True, score=outcome.score)
        except Exception as exc:  # noqa: BLE001 - the grader could not run for this one; the batch goes on
            job.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        _freeze_warm_heap()
        on_done(job)
        start = time.perf_counter()

    try:
        grade_many([(Path(p), student_id_for(Path(p))) for p in paths], out, graded, assignment=graded_as, salt=salt,
                   config_path=config_path, sandbox=sandbox)
    except Exception as exc:  # noqa: BLE001 - the grader itself failed: the ones left are not graded
        for path in paths:
            if str(Path(path)) not in reported:
                on_done(_not_graded(path, f"the grading session failed: {type(exc).__name__}: {exc}"))


def _ready() -> None:
    """A worker's first task: none (submitting it starts the worker)."""


def _start_pool(workers: int, worker_memory_mb: int, sandbox: str) -> ProcessPoolExecutor:
    """A pool of ``workers`` grading workers, started now: each caps its memory, imports the
    engine and starts its zygote while the caller goes on (:func:`_start_worker`)."""
    # Workers start as fresh interpreters ("spawn"), never as forks of the caller: the
    # caller may itself be a pytest session (or hold threads) whose state must not leak into
    # the grading suite's own pytest runs.  (A fork server would need a Unix socket under
    # TMPDIR, whose path can be too long for AF_UNIX.)
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                               initargs=(worker_memory_mb, sandbox))
    for _ in range(workers):  # a spawn pool starts one worker per submitted task, up to max_workers
        pool.submit(_ready)
    return pool


def _run_pool(pending: list[Path], jobs: int, args: tuple, on_done: Callable[[dict], None],
              worker_memory_mb: int = 4096, pool: ProcessPoolExecutor | None = None) -> None:
    """Grade ``pending`` on ``jobs`` worker processes (reused across submissions); ``pool``, if
    given, is a pool already started (:func:`_start_pool`) for the first round.

    Each worker's task is a chunk of submissions (:func:`chunks`).  A worker that dies (the
    grader's own process, never the sandboxed child, which is isolated) breaks the pool, and
    every unfinished chunk with it.  The submissions a dead worker may have been on are those
    left marked (:data:`~.run.IN_PROGRESS`; the other workers' current ones are marked too): they
    are suspects, each counts an attempt and is graded again alone, as the only task in the pool,
    so that a break then names exactly that one.  The others go back to the chunks uncounted.
    A suspect that breaks the pool :data:`MAX_ATTEMPTS` times is reported as not graded.  So one
    bad job can neither stop the batch nor take other submissions with it.
    """
    out = Path(args[0])
    attempts: Counter = Counter()
    broken_starts = 0
    queue, suspects = list(pending), []
    try:
        while queue or suspects:
            pool = pool or _start_pool(min(jobs, max(1, len(queue))), worker_memory_mb, args[-1])
            if suspects:
                tasks = [[suspects.pop(0)]]
            else:
                tasks, queue = chunks(queue, jobs), []
            try:
                futures = {pool.submit(_grade_chunk, [str(p) for p in task], *args): task for task in tasks}
            except BrokenProcessPool:  # it broke before any work (a worker died starting): a fresh one
                broken_starts += 1
                if broken_starts >= MAX_ATTEMPTS:
                    raise LinclassError("the grading workers could not start (twice); run with --jobs 1 to see "
                                        "why") from None
                queue = [p for task in tasks for p in task] + queue
                pool.shutdown(wait=True, cancel_futures=True)
                pool = None
                continue
            broken: list[Path] = []
            for future in as_completed(futures):
                try:
                    graded = future.result()
                except BrokenProcessPool:
                    broken += futures[future]
                    continue
                for job in graded:
                    on_done(job)
            if not broken:
                continue
            pool.shutdown(wait=True, cancel_futures=True)
            pool = None
            marked = {p for p in broken if (out / student_id_for(p) / IN_PROGRESS).exists()}
            for p in broken:  # (a break without a mark, outside any submission: every one of them counts)
                (out / student_id_for(p) / IN_PROGRESS).unlink(missing_ok=True)
                if p not in marked and marked:
                    queue.append(p)
                    continue
                attempts[p] += 1
                if attempts[p] < MAX_ATTEMPTS:
                    suspects.append(p)
                else:
                    on_done(_not_graded(p, "the grading worker process died (twice) on this submission"))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        from .sandbox.memory import remove_worker_cgroups

        remove_worker_cgroups()


def grade_batch(paths: Sequence[str | Path], out: str | Path, *, assignment: Assignment | None = None, jobs: int = 1,
                shard: str | None = None, salt: str | None = None, config_path: str | Path | None = None,
                force: bool = False, quiet: bool = False, sandbox: str = "auto") -> Path:
    """Grade every submission in ``paths`` into ``out``; write the class reports.

    Students whose ``results.json`` already exists are skipped unless ``force`` (an
    interrupted batch resumes where it stopped).  Writes ``grades.csv``,
    ``grades_nbgrader.csv`` (``nbgrader export`` columns), ``summary.md`` with
    ``score_histogram.png``, and ``not_graded.csv`` when the grader could not run for some
    submission.  ``quiet`` hides the progress bar and the closing lines (failures are
    always printed).

    Returns
    -------
    Path
        The ``grades.csv`` written.
    """
    from tqdm import tqdm

    assignment = assignment or load_assignment()
    tqdm.monitor_interval = 0  # no monitor thread: the worker processes are forked while the bar runs
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    part = parse_shard(shard)  # (a bad --shard is refused before any worker starts)
    from .config import load_config

    config = load_config(assignment, config_path)
    # the workers start (imports, zygotes) while the submissions are found and read (with one
    # job, this process's zygote does), and the histogram's painter imports matplotlib meanwhile
    with HistogramPainter() as painter:
        pool = _start_pool(jobs, config.limits.worker_memory_mb, sandbox) if jobs > 1 else None
        if pool is None:
            from .sandbox.spawn import warm_up

            warm_up(sandbox)
        try:
            return _grade_found(paths, out, assignment, shard, part, config, pool, jobs, salt, config_path, force,
                                quiet, sandbox, painter)
        finally:
            if pool is not None:  # (already shut down when it graded)
                pool.shutdown(cancel_futures=True)


def _grade_found(paths, out: Path, assignment: Assignment, shard: str | None, part, config, pool, jobs: int, salt,
                 config_path, force: bool, quiet: bool, sandbox: str, painter: HistogramPainter) -> Path:
    """The rest of :func:`grade_batch`, once its workers are starting: find the submissions,
    grade the pending ones, write the class reports."""
    from tqdm import tqdm

    limits = config.limits
    todo = [p for p in expand_paths(paths, assignment) if in_shard(student_id_for(p), part)]
    ids = [student_id_for(p) for p in todo]
    duplicates = [i for i, count in Counter(ids).items() if count > 1]
    if duplicates:
        raise LinclassError(f"several submissions map to the same student id: {', '.join(duplicates[:5])}")
    pending = [p for p in todo if force or not (out / student_id_for(p) / "results.json").exists()]
    skipped = len(todo) - len(pending)
    if force:
        for p in pending:  # a regraded student's old reports must not survive a failed regrade
            (out / student_id_for(p) / "results.json").unlink(missing_ok=True)
    for p in pending:  # (an interrupted run's marks: they would name the wrong submission if a worker died)
        (out / student_id_for(p) / IN_PROGRESS).unlink(missing_ok=True)
    args = (str(out), str(assignment.root), salt, str(config_path) if config_path else None, sandbox)
    done: list[dict] = []
    start = time.perf_counter()
    with tqdm(total=len(pending), unit="student", desc="grading", disable=quiet or not pending) as bar:
        def on_done(job: dict) -> None:
            done.append(job)
            bar.set_postfix_str(job["student_id"][:24], refresh=False)
            bar.update()

        if jobs <= 1 or len(pending) <= 1:
            _grade_jobs([str(p) for p in pending], *args, on_done=on_done)
        else:
            _run_pool(pending, jobs, args, on_done, limits.worker_memory_mb, pool)
    wall = time.perf_counter() - start
    # every earlier failure lacked a results.json, so it was pending again: this run's list is complete
    failed = sorted((e for e in done if not e["ok"]), key=lambda e: e["student_id"])
    write_not_graded(out, failed)
    for e in failed:
        print(f"could not grade {e['student_id']}: {e['error']}")
    if skipped and pending and not quiet:
        print(f"skipped {skipped} already graded student(s) (use --force to regrade)")
    # the class report covers every student graded into ``out`` (a --force regrade of one student keeps the rest)
    grades = write_class_reports(out, sorted(p for p in out.iterdir() if (p / "results.json").exists()),
                                 assignment, not_graded=failed, late=config.late, painter=painter)
    rate = f" in {wall:.1f} s ({60 * len(pending) / wall:.0f} submissions/min)" if pending and wall > 0 else ""
    if not quiet and not pending:
        what = (f"all {len(todo)} student(s) of this batch already have reports in {out} (use --force to regrade "
                "them)" if todo else "no submission in this batch" + (f" (shard {shard})" if shard else ""))
        print(f"nothing to do: {what}; class reports rewritten: {grades}")
    elif not quiet:
        print(f"graded {len(pending) - len(failed)} of {len(pending)} pending "
              f"submission(s){rate}; {len(todo)} in this batch; grades in {grades}")
    return grades


def read_not_graded(out: Path) -> list[dict]:
    path = out / NOT_GRADED
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [dict(row, ok=False) for row in csv.DictReader(f)]


def write_not_graded(out: Path, failed: list[dict]) -> None:
    path = out / NOT_GRADED
    if not failed:
        path.unlink(missing_ok=True)
        return
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student_id", "path", "error"], extrasaction="ignore",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(failed)


def merge_outputs(dirs: Sequence[str | Path], out: str | Path, assignment: Assignment | None = None,
                  config_path: str | Path | None = None) -> Path:
    """Combine the per-student reports of several shard outputs into one class report.

    ``config_path``: the grading config whose ``[late]`` table applies (default: the assignment's).
    """
    import shutil

    from .config import load_config

    assignment = assignment or load_assignment()
    late = load_config(assignment, config_path).late

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report_dirs, not_graded = [], []
    for d in map(Path, dirs):
        if not d.is_dir():
            raise LinclassError(f"{d}: not a directory")
        for student in sorted(p for p in d.iterdir() if (p / "results.json").exists()):
            target = out / student.name
            if target.resolve() != student.resolve():
                if target.exists():
                    raise LinclassError(f"student {student.name} appears in more than one shard")
                shutil.copytree(student, target)
            report_dirs.append(target)
        not_graded += read_not_graded(d)
    graded = {d.name for d in report_dirs}
    not_graded = sorted((e for e in not_graded if e["student_id"] not in graded), key=lambda e: e["student_id"])
    write_not_graded(out, not_graded)
    grades = write_class_reports(out, sorted(report_dirs), assignment, not_graded, late=late)
    print(f"merged {len(report_dirs)} students into {grades}"
          + (f"; {len(not_graded)} could not be graded (see {out / NOT_GRADED})" if not_graded else ""))
    return grades
