"""`make demo` / `linclass demo`: the whole product in one command, offline.

1. builds the student release with real nbgrader (``linclass release``, without the
   source re-validation that ``linclass release`` adds) and refreshes the notebook example
   ``examples/submissions/ada_complete/`` from it;
2. grades ``examples/submissions/`` as a class (``linclass grade ... --jobs 2``): a complete
   correct notebook submission, one with two typical bugs, a partial one and a hostile one;
   prints the score table with the diagnosed misconceptions and where each report is;
3. runs the assignment's own demo (its ``demo.py``, if it has one): for the linear classifiers,
   the slides' worked numbers and the reference trained and tuned on the embedded digits.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from linclass.assignment import Assignment, load_assignment
from linclass.errors import LinclassError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "submissions"
#: The notebook example, refreshed from the release at every demo.
NOTEBOOK_EXAMPLE = "ada_complete"


def _show(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def build_release_and_example(assignment: Assignment) -> Path:
    """Build the release (no re-validation: ``linclass release`` does that) and refill the notebook example."""
    from .release import build_release, fill_release

    start = time.perf_counter()
    res = build_release(assignment, validate=False, log=lambda line: None)
    print(f"  nbgrader generate_assignment -> {_show(res.release_dir)}/: "
          + ", ".join(f for f in res.files if f.endswith(".ipynb")) + " (+ data, slides, self-check modules)")
    print(f"  leak check passed; student zip {_show(res.zip_path)} ({time.perf_counter() - start:.1f} s)")
    filled = fill_release(res.release_dir, assignment.source_dir, ROOT / "build" / "demo-filled" / NOTEBOOK_EXAMPLE)
    dest = EXAMPLES / NOTEBOOK_EXAMPLE
    dest.mkdir(parents=True, exist_ok=True)
    for nb in sorted(filled.glob("*.ipynb")):
        shutil.copyfile(nb, dest / nb.name)
    shutil.rmtree(filled.parent, ignore_errors=True)
    print(f"  {_show(dest)}/: the release notebooks filled in by a student who got everything right")
    return res.release_dir


def _layout(path: Path) -> str:
    if any(path.glob("*.ipynb")):
        return "notebooks"
    return "CS231n modules" + (" (cs231n/...)" if (path / "cs231n").is_dir() else "")


def score_table(out: Path, students: list[Path]) -> list[str]:
    """The demo's table: one line per student, then the diagnosed misconceptions and the report."""
    from autograder.run import student_id_for

    lines = [f"  {'student':14s} {'layout':26s} {'score':>9s}   parts with lost points"]
    details = []
    for path in students:
        sid = student_id_for(path)
        report = out / sid
        try:
            results = json.loads((report / "results.json").read_text())
        except FileNotFoundError:
            lines.append(f"  {sid:14s} {_layout(path):26s} {'-':>9s}   not graded (see {_show(out)}/not_graded.csv)")
            continue
        lost: dict[str, float] = {}
        found: list[str] = []
        for test in results["tests"]:
            if test["score"] < test["max_score"]:
                part = test["name"].split(":")[0]
                lost[part] = lost.get(part, 0.0) + test["max_score"] - test["score"]
            extra = test.get("extra_data", {})
            found += extra.get("misconception_titles", extra.get("misconceptions", []))
        parts = ", ".join(f"{p} (-{v:g})" for p, v in lost.items()) or "none"
        lines.append(f"  {sid:14s} {_layout(path):26s} {results['score']:>4g} / {results['max_score']:g}   "
                     f"{parts if len(parts) < 90 else parts[:87] + '...'}")
        details += [f"  {sid}: {title}" for title in dict.fromkeys(found)]
    lines += ["", "Diagnosed misconceptions (named in each student's feedback, with a hint):"]
    lines += details or ["  none"]
    lines += ["", "Reports (results.json for Gradescope, junit.xml for CI, feedback.md for the student):"]
    lines += [f"  {_show(out / student_id_for(p))}/feedback.md" for p in students]
    return lines


def grade_examples(out: Path, jobs: int = 2) -> Path:
    """Grade ``examples/submissions/`` as one class into ``out``; print the table."""
    from autograder.batch import expand_paths, grade_batch

    if not EXAMPLES.is_dir():
        raise LinclassError(f"{EXAMPLES} is missing (the demo runs from a linclass checkout)")
    students = expand_paths([EXAMPLES])
    start = time.perf_counter()
    grades = grade_batch([EXAMPLES], out, jobs=jobs, force=True, quiet=True)
    print(f"  {len(students)} submissions graded in {time.perf_counter() - start:.1f} s "
          f"(each in its own sandboxed process)\n")
    print("\n".join(score_table(out, students)))
    print(f"\nClass reports: {_show(grades)}, {_show(out / 'grades_nbgrader.csv')} (nbgrader export columns), "
          f"{_show(out / 'summary.md')} (+ score_histogram.png)")
    return grades


def main(args) -> int:
    """`linclass demo`: release, grade the example class, then the reference on the slides and the digits."""
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LinclassError(f"--out {out}: cannot create it ({exc.strerror})") from None
    assignment = load_assignment()
    start = time.perf_counter()
    print("1. Release: the student notebooks, built with nbgrader and checked for leaks")
    build_release_and_example(assignment)
    print(f"\n2. Grading the example class {_show(EXAMPLES)}/ (linclass grade {_show(EXAMPLES)} --jobs 2)")
    grade_examples(out / "grades")
    if assignment.has_module("demo"):
        print("\n3. The reference implementation")
        assignment.module("demo").run_demo(out)
    print(f"\nDemo done in {time.perf_counter() - start:.0f} s.  Next: `linclass grade PATH --out DIR` on real "
          "submissions; `linclass bundle gradescope|github`; examples/README.md.")
    return 0
