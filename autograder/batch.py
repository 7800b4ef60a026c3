"""Grading a whole class: discovery, parallel jobs, shards, resume, grades.csv and summary.

One submission is one independent job (DESIGN section 7): ``--jobs`` spreads them over the
cores of one machine, ``--shard K/N`` picks a deterministic 1/N of the students so that a CI
matrix, a Kubernetes indexed Job or a Slurm array can spread a course over many machines,
and :func:`merge_outputs` combines the shards' reports.
"""

from __future__ import annotations

import csv
import hashlib
import json
import statistics
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Iterable, Sequence

from linclass.assignment import PARTS, SLIDES_TAG
from linclass.errors import LinclassError

from .grade import grade_submission, student_id_for

CODE_SUFFIXES = {".ipynb", ".py"}
COLUMNS = [p.name for p in PARTS] + [SLIDES_TAG]


def _has_code(directory: Path) -> bool:
    return any(child.suffix in CODE_SUFFIXES for child in directory.iterdir() if child.is_file()) or (
        directory / "cs231n").is_dir()


def _is_single_submission(directory: Path) -> bool:
    """A directory is one submission if it holds code (or one folder that does); else a class."""
    if _has_code(directory):
        return True
    children = [c for c in directory.iterdir() if not c.name.startswith(".")]
    if not children:
        return True  # empty: graded (and reported) as an empty submission
    return len(children) == 1 and children[0].is_dir() and _has_code(children[0])


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """The submissions named by ``paths``: each path, or each entry of one class folder.

    A class folder holds one entry per student (a folder, a zip or a notebook); nbgrader's
    ``submitted/<student>/<assignment>/`` layout works as is.
    """
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.exists():
            raise LinclassError(f"{p}: no such file or directory")
    if len(paths) == 1 and paths[0].is_dir() and not _is_single_submission(paths[0]):
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


def _grade_job(path: str, out: str, salt: str | None, config_path: str | None) -> dict:
    """Run in a worker process: grade one submission, never raise."""
    try:
        result = grade_submission(path, out, salt=salt, config_path=config_path)
        return {"student_id": result.student_id, "ok": True}
    except Exception as exc:  # the grader could not run for this one; the batch goes on
        return {"student_id": student_id_for(Path(path)), "ok": False, "error": f"{type(exc).__name__}: {exc}"}


def grade_batch(paths: Sequence[str | Path], out: str | Path, *, jobs: int = 1, shard: str | None = None,
                salt: str | None = None, config_path: str | Path | None = None, force: bool = False) -> Path:
    """Grade every submission in ``paths`` into ``out``; write grades.csv and summary.md.

    Students whose ``results.json`` already exists are skipped unless ``force`` (an
    interrupted batch resumes where it stopped).

    Returns
    -------
    Path
        The ``grades.csv`` written.
    """
    from tqdm import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    part = parse_shard(shard)
    todo = [p for p in expand_paths(paths) if in_shard(student_id_for(p), part)]
    ids = [student_id_for(p) for p in todo]
    duplicates = [i for i, count in Counter(ids).items() if count > 1]
    if duplicates:
        raise LinclassError(f"several submissions map to the same student id: {', '.join(duplicates[:5])}")
    pending = [p for p in todo if force or not (out / student_id_for(p) / "results.json").exists()]
    skipped = len(todo) - len(pending)
    errors = []
    with tqdm(total=len(pending), unit="student", desc="grading", disable=not pending) as bar:
        if jobs <= 1:
            for p in pending:
                errors.append(_grade_job(str(p), str(out), salt, str(config_path) if config_path else None))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(_grade_job, str(p), str(out), salt, str(config_path) if config_path else None)
                           for p in pending]
                for future in as_completed(futures):
                    errors.append(future.result())
                    bar.update()
    failed = [e for e in errors if not e["ok"]]
    for e in failed:
        print(f"could not grade {e['student_id']}: {e['error']}")
    if skipped:
        print(f"skipped {skipped} already graded student(s) (use --force to regrade)")
    grades = write_class_reports(out, [out / i for i in sorted(ids)])
    print(f"graded {len(pending) - len(failed)} of {len(todo)} submissions; grades in {grades}")
    return grades


def _row(report_dir: Path) -> dict:
    results = json.loads((report_dir / "results.json").read_text())
    row = {"student_id": report_dir.name, "score": results["score"], "max_score": results["max_score"]}
    row.update({c: 0.0 for c in COLUMNS})
    misconceptions = []
    for test in results["tests"]:
        for tag in test.get("tags", []):
            if tag in row:
                row[tag] += test["score"]
        misconceptions += test.get("extra_data", {}).get("misconceptions", [])
    row["misconceptions"] = ";".join(dict.fromkeys(misconceptions))
    return row


def write_class_reports(out: Path, report_dirs: Iterable[Path]) -> Path:
    """grades.csv (one row per student) and summary.md (+ histogram) from report directories."""
    rows = [_row(d) for d in report_dirs if (d / "results.json").exists()]
    grades = out / "grades.csv"
    with open(grades, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student_id", "score", "max_score", *COLUMNS, "misconceptions"])
        writer.writeheader()
        for row in sorted(rows, key=lambda r: r["student_id"]):
            writer.writerow({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in row.items()})
    write_summary(out, rows)
    return grades


def write_summary(out: Path, rows: list[dict]) -> Path:
    """summary.md: the score histogram, mean and median per part, the commonest misconceptions."""
    from linclass.plots import plot_histogram

    from .misconceptions import by_id

    lines = ["# Class summary", "", f"{len(rows)} graded submissions.", ""]
    if rows:
        scores = [r["score"] for r in rows]
        plot_histogram(scores, out / "score_histogram.png", max_score=rows[0]["max_score"])
        lines += [f"Total: mean {statistics.mean(scores):.1f}, median {statistics.median(scores):.1f} "
                  f"of {rows[0]['max_score']:g}.", "", "![score histogram](score_histogram.png)", "",
                  "| part | mean | median |", "|---|---|---|"]
        lines += [f"| {c} | {statistics.mean(r[c] for r in rows):.2f} | {statistics.median(r[c] for r in rows):.2f} |"
                  for c in COLUMNS]
        counts = Counter(m for r in rows for m in r["misconceptions"].split(";") if m)
        lines += ["", "## What to re-teach: the most common diagnosed misconceptions", ""]
        if counts:
            lines += ["| misconception | students |", "|---|---|"]
            for mid, n in counts.most_common(10):
                entry = by_id(mid)
                lines.append(f"| {entry.title if entry else mid} | {n} |")
        else:
            lines.append("No known misconception was diagnosed.")
    path = out / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def merge_outputs(dirs: Sequence[str | Path], out: str | Path) -> Path:
    """Combine the per-student reports of several shard outputs into one class report."""
    import shutil

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report_dirs = []
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
    grades = write_class_reports(out, report_dirs)
    print(f"merged {len(report_dirs)} students into {grades}")
    return grades
