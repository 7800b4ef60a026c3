"""`linclass answers`: every student's written answers, question by question, for one grading pass.

The written (manually graded) answers are the notebooks' markdown cells whose nbgrader
``grade_id`` is a key of the grading config's ``[written]`` table; each question's prompt is
the locked cell ``<grade_id>_prompt`` of the trusted source notebooks.  Nothing is executed:
the notebooks are only read.

Two formats, chosen by ``--out``'s suffix:

- ``answers.md``: one section per question (its prompt and points), then each student's answer;
- ``answers.csv``: one row per (student, question) with the columns :data:`CSV_COLUMNS`.  The
  TA fills ``points`` (and, if they like, ``comment``) and hands the file to
  ``linclass merge-manual`` as it is.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from linclass.assignment import Assignment, load_assignment
from linclass.errors import LinclassError

#: The columns of answers.csv, which are also those merge-manual reads (it needs the first
#: three: student_id, grade_id, points; ``comment`` is shown to the student).
CSV_COLUMNS = ["student_id", "grade_id", "points", "max_points", "comment", "notebook", "answer"]
#: What nbgrader leaves in an answer cell the student never edited (``ClearSolutions.text_stub``).
STUB = "YOUR ANSWER HERE"
#: The answer column of a question the student left unanswered (or whose cell is gone).
NO_ANSWER = ""


@dataclass(frozen=True)
class Question:
    """One written question: its answer cell's grade_id, its points, its notebook and prompt."""

    grade_id: str
    points: float
    notebook: str
    prompt: str


def questions(assignment: Assignment, written: Mapping[str, float]) -> list[Question]:
    """The written questions in the order of the source notebooks (release order), with their prompts."""
    from linclass.student.notebooks import list_cells, parse_notebook

    found: dict[str, Question] = {}
    source = assignment.source_dir
    for name in assignment.spec.notebooks:
        path = source / name
        if not path.is_file():
            continue
        cells = list_cells(parse_notebook(path.read_bytes(), name))
        prompts = {c.grade_id: c.source for c in cells if c.grade_id}
        for cell in cells:
            if cell.grade_id in written and cell.grade_id not in found:
                found[cell.grade_id] = Question(cell.grade_id, float(written[cell.grade_id]), name,
                                                prompts.get(f"{cell.grade_id}_prompt", "").strip())
    # a question the source notebooks do not hold still gets its column, without a prompt
    return [*found.values(), *(Question(g, float(p), "", "") for g, p in written.items() if g not in found)]


def student_answers(path: Path, written: Mapping[str, float]) -> dict[str, tuple[str, str]]:
    """grade_id -> (notebook, answer text) of one submission's answer cells (unanswered ones left out)."""
    from linclass.student.collect import SubmissionError, collect_files
    from linclass.student.notebooks import NotebookError, list_cells, parse_notebook

    try:
        files = collect_files(Path(path))
    except SubmissionError:  # unreadable as a whole: no answers (the grader's report says why)
        return {}
    found: dict[str, tuple[str, str]] = {}
    for rel, data in sorted(files.items()):
        if not rel.endswith(".ipynb"):
            continue
        try:
            cells = list_cells(parse_notebook(data, rel))
        except NotebookError:
            continue
        for cell in cells:
            text = cell.source.strip()
            if cell.grade_id in written and text and text != STUB:
                found[cell.grade_id] = (rel, text)
    return found


def collect_answers(paths: Sequence[str | Path], assignment: Assignment,
                    written: Mapping[str, float]) -> dict[str, dict[str, tuple[str, str]]]:
    """Student id (as `linclass grade` names them) -> that student's answers (:func:`student_answers`)."""
    from .batch import expand_paths
    from .run import student_id_for

    return {student_id_for(p): student_answers(p, written) for p in expand_paths(paths, assignment)}


def _quoted(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def answers_markdown(qs: Sequence[Question], answers: Mapping[str, Mapping[str, tuple[str, str]]]) -> str:
    """One section per question: its prompt, then every student's answer."""
    total = sum(q.points for q in qs)
    lines = ["# Written answers", "",
             f"{len(answers)} students, {len(qs)} questions, {total:g} points.  Record the points in a CSV with "
             "the columns student_id, grade_id, points (and comment); `linclass answers ... --out answers.csv` "
             "writes one to fill in, and `linclass merge-manual` adds it to the grades.", ""]
    for q in qs:
        where = f", {q.notebook}" if q.notebook else ""
        lines += [f"## {q.grade_id} ({q.points:g} points{where})", ""]
        if q.prompt:
            lines += [_quoted(q.prompt), ""]
        for sid in sorted(answers):
            text = answers[sid].get(q.grade_id, ("", NO_ANSWER))[1]
            lines += [f"### {sid}", "", text or "*(no answer)*", ""]
    return "\n".join(lines)


def _checked_out(out: str | Path) -> Path:
    out = Path(out)
    if out.suffix not in (".md", ".csv"):
        raise LinclassError(f"--out {out}: expected a .md or a .csv file")
    return out


def write_answers(out: str | Path, qs: Sequence[Question],
                  answers: Mapping[str, Mapping[str, tuple[str, str]]]) -> Path:
    """Write ``answers.md`` or ``answers.csv`` (by ``out``'s suffix)."""
    out = _checked_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".md":
        out.write_text(answers_markdown(qs, answers))
        return out
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for sid in sorted(answers):
            for q in qs:
                notebook, text = answers[sid].get(q.grade_id, (q.notebook, NO_ANSWER))
                writer.writerow({"student_id": sid, "grade_id": q.grade_id, "points": "", "max_points": f"{q.points:g}",
                                 "comment": "", "notebook": notebook, "answer": text})
    return out


def main(args: argparse.Namespace) -> int:
    """``linclass answers CLASS_DIR --out answers.md|answers.csv``."""
    from .config import load_config

    _checked_out(args.out)  # before reading the class
    assignment = load_assignment(args.assignment)
    written = load_config(assignment, args.config).written
    if not written:
        raise LinclassError(f"{assignment.name} has no written answers ([written] of its grading config is empty)")
    qs = questions(assignment, written)
    answers = collect_answers(args.paths, assignment, written)
    out = write_answers(args.out, qs, answers)
    answered = sum(len(a) for a in answers.values())
    print(f"{answered} answers of {len(answers)} students to {len(qs)} questions in {out}")
    return 0
