"""`linclass bundle gradescope|github`: package the grader for the places classes are graded.

- ``gradescope`` writes the autograder zip Gradescope asks for (``setup.sh`` and
  ``run_autograder`` at the root): the kit, the assignment package (its grading suite), its
  reference and its trusted source notebooks, plus ``requirements.txt`` pinned to the versions
  this kit was tested with.  ``run_autograder`` grades ``/autograder/submission`` and writes
  ``/autograder/results/results.json`` (already Gradescope's format).  Both roots can be
  moved with environment variables, which is how the tests run it:
  ``LINCLASS_AUTOGRADER_ROOT`` (default ``/autograder``), or ``LINCLASS_SUBMISSION_DIR``,
  ``LINCLASS_RESULTS_DIR``, ``LINCLASS_SOURCE_DIR`` and ``LINCLASS_PYTHON`` one by one.
- ``github`` writes a GitHub Actions workflow for student repositories (the way GitHub
  Classroom grades): it installs the grader from a course secret (the grader holds the
  reference, so it never lives in the student's repository), grades the repository's
  notebooks, prints the score and the feedback into the job summary, uploads the reports as
  an artifact, and fails only when grading could not run.

The bundle never contains only the public release files: without the suite and the
reference nothing could be graded.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import json
import re
import sys
import tempfile
import zipfile
from pathlib import Path

from linclass.assignment import Assignment, load_assignment
from linclass.errors import LinclassError

ROOT = Path(__file__).resolve().parents[2]
#: The kit's packages, shipped in every Gradescope zip (the assignment's own folders are added).
PACKAGES = ("linclass", "autograder")
#: Where an assignment package from outside the kit goes in the zip.
EXTERNAL = "assignments"
#: Distributions the grader imports at grading time (the release/notebook tooling is not needed).
GRADING_DISTRIBUTIONS = ("numpy", "scikit-learn", "matplotlib", "tqdm", "pytest", "nbformat")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SKIP = {"__pycache__", ".ipynb_checkpoints", ".DS_Store"}

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, when the autograder image is built.  Base image: Ubuntu 24.04
# (Python 3.12); the pins in requirements.txt need Python >= 3.11.
set -euo pipefail
SOURCE="${LINCLASS_SOURCE_DIR:-/autograder/source}"
VENV="${LINCLASS_VENV:-/autograder/venv}"
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
    apt-get update -q && apt-get install -y -q python3 python3-venv python3-pip
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "linclass needs Python >= 3.11: choose the Ubuntu 24.04 base image" >&2; exit 1; }
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$SOURCE/requirements.txt"
"$VENV/bin/python" -c "import sys; sys.path.insert(0, '$SOURCE'); import autograder.run"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission.  It grades the submission with linclass (the
# student's code runs in a sandboxed child process, never in the grader) and writes
# results.json.  Every root can be moved for local testing (see linclass/course/bundle.py).
set -uo pipefail
ROOT="${LINCLASS_AUTOGRADER_ROOT:-/autograder}"
SUBMISSION="${LINCLASS_SUBMISSION_DIR:-$ROOT/submission}"
RESULTS="${LINCLASS_RESULTS_DIR:-$ROOT/results}"
SOURCE="${LINCLASS_SOURCE_DIR:-$ROOT/source}"
PYTHON="${LINCLASS_PYTHON:-$ROOT/venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
mkdir -p "$RESULTS"
cd "$SOURCE" || exit 1
PYTHONPATH="$SOURCE" "$PYTHON" -m linclass.course.bundle run-gradescope "$SUBMISSION" "$RESULTS" \\
    --assignment "{assignment}"
"""

GITHUB_WORKFLOW = """\
# linclass autograding for a student repository (GitHub Classroom style).
# Written by `linclass bundle github`; copy it to .github/workflows/linclass.yml in the
# assignment's template repository.
#
# The grader contains the reference solutions, so it is installed from a course secret,
# never from the student's repository: set the organization secret LINCLASS_GRADER to a pip
# requirement of your private grader copy, e.g.
#   git+https://x-access-token:<token>@github.com/<course>/linclass-grader@<tag>
# The job fails only when grading could not run; a low score is a green job with a score.
name: linclass autograding

on:
  push:
  workflow_dispatch:

permissions:
  contents: read

jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@v4

      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"

      - name: Install the grader
        id: install
        env:
          LINCLASS_GRADER: ${{ secrets.LINCLASS_GRADER }}
        run: |
          if [ -z "${LINCLASS_GRADER:-}" ]; then
            echo "::error::the course secret LINCLASS_GRADER is not set: grading cannot run"
            exit 1
          fi
          python -m pip install --quiet "$LINCLASS_GRADER"

      - name: Grade the notebooks
        id: grade
        env:
          REPORTS: ${{ runner.temp }}/linclass-reports
        run: |
          linclass grade "$GITHUB_WORKSPACE" --assignment {assignment} --out "$REPORTS"
          python - <<'EOF'
          import json, os, pathlib
          reports = pathlib.Path(os.environ["REPORTS"])
          for results in sorted(reports.glob("*/results.json")):
              r = json.loads(results.read_text())
              print(f"::notice title=linclass score::{r['score']:g} / {r['max_score']:g}")
              summary = os.environ.get("GITHUB_STEP_SUMMARY")
              if summary:
                  with open(summary, "a") as f:
                      f.write((results.parent / "feedback.md").read_text() + "\\n")
          EOF

      - name: Upload the reports
        if: ${{ always() && steps.install.outcome == 'success' }}
        uses: actions/upload-artifact@v4
        with:
          name: linclass-reports
          path: ${{ runner.temp }}/linclass-reports
          if-no-files-found: warn
"""


# --------------------------------------------------------------------------------------------
# Pinned requirements.
# --------------------------------------------------------------------------------------------


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_requirements(roots: tuple[str, ...] = GRADING_DISTRIBUTIONS) -> list[str]:
    """``name==version`` for ``roots`` and everything they need, as installed here.

    Markers of the dependencies are evaluated for this interpreter, without extras, so the
    list is the closure actually installed with the kit.
    """
    from packaging.requirements import Requirement

    pins, todo = {}, list(roots)
    while todo:
        name = _canonical(todo.pop())
        if name in pins:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise LinclassError(f"cannot pin {name}: it is not installed in this environment") from None
        pins[name] = f"{dist.metadata['Name']}=={dist.version}"
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return sorted(pins.values(), key=str.lower)


# --------------------------------------------------------------------------------------------
# Gradescope.
# --------------------------------------------------------------------------------------------


def _files(root: Path, base: Path) -> list[tuple[str, Path]]:
    """(name relative to ``base``, file) for every file under ``root`` (symlinks followed), caches skipped."""
    out = []
    for path in sorted(root.rglob("*")):
        if any(part in SKIP for part in path.relative_to(root).parts) or path.suffix in {".pyc", ".pyo"}:
            continue
        if path.is_file():
            out.append((path.relative_to(base).as_posix(), path))
    return out


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.external_attr = (0o755 if executable else 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def gradescope_readme(assignment: Assignment, requirements: list[str], folders: list[str]) -> str:
    """The README shipped inside the zip."""
    return (f"# linclass autograder for Gradescope ({assignment.name})\n\n"
            "Upload this zip as the assignment's autograder (base image: Ubuntu 24.04).\n"
            "Students upload their notebooks (or CS231n-style .py modules, or one zip of either).\n"
            "`run_autograder` grades /autograder/submission with the sandboxed grader and writes\n"
            "/autograder/results/results.json; the feedback is in each test's output.\n\n"
            f"Contents: {', '.join(folders)} (the kit, the assignment with its grading suite, its reference\n"
            f"and its trusted source notebooks), requirements.txt ({len(requirements)} pinned distributions).\n")


def bundle_layout(assignment: Assignment) -> tuple[dict[str, Path], str]:
    """The folders of the zip (archive folder -> folder here) and the ``--assignment`` that
    ``run_autograder`` passes.

    The kit and anything of the assignment that lives in this checkout keep their paths, so an
    ``assignment.toml`` pointing outside its package still resolves.  A package from elsewhere
    goes to ``assignments/<name>/`` and must then hold its reference and its source.
    """
    folders = {package: ROOT / package for package in PACKAGES}
    inside = [assignment.root, assignment.reference_dir, assignment.source_dir]
    if all(p.is_relative_to(ROOT) for p in inside):
        for path in inside:
            if not any(path.is_relative_to(folder) for folder in folders.values()):
                folders[path.relative_to(ROOT).as_posix()] = path
        builtin = assignment.package == f"linclass.assignments.{assignment.root.name}"
        return folders, assignment.name if builtin else assignment.root.relative_to(ROOT).as_posix()
    outside = [p for p in inside[1:] if not p.is_relative_to(assignment.root)]
    if outside:
        raise LinclassError(f"cannot bundle {assignment.root}: {outside[0]} is outside the assignment package "
                            "(keep its reference and source inside it, or the package inside the kit)")
    folders[f"{EXTERNAL}/{assignment.root.name}"] = assignment.root
    return folders, f"{EXTERNAL}/{assignment.root.name}"


def build_gradescope_zip(out: str | Path, assignment: Assignment) -> Path:
    """Write the Gradescope autograder zip of ``assignment`` to ``out``; return its path.

    The entries are sorted and dated 1980-01-01, so the same tree gives the same zip.
    """
    out = Path(out)
    folders, which = bundle_layout(assignment)
    missing = [path for path in folders.values() if not path.is_dir()]
    if missing:
        raise LinclassError(f"cannot bundle: {missing[0]} is missing (run from a linclass checkout)")
    if not any(assignment.source_dir.glob("*.ipynb")) or not assignment.suite_dir.is_dir():
        raise LinclassError(f"cannot bundle {assignment.name}: it needs its source notebooks "
                            f"({assignment.source_dir}) and its grading suite ({assignment.suite_dir})")
    requirements = pinned_requirements()
    entries: list[tuple[str, Path]] = []
    for name, folder in sorted(folders.items()):
        entries += [(f"{name}/{rel}", path) for rel, path in _files(folder, folder)]
        parents = Path(name).parents
        entries += [(f"{parent.as_posix()}/__init__.py", folder.parents[i] / "__init__.py")  # its packages' own
                    for i, parent in enumerate(list(parents)[:-1]) if (folder.parents[i] / "__init__.py").is_file()]
    entries = sorted(dict(entries).items())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER.replace("{assignment}", which).encode(), executable=True)
        _add(zf, "requirements.txt", ("\n".join(requirements) + "\n").encode())
        _add(zf, "README.md", gradescope_readme(assignment, requirements, sorted(folders)).encode())
        for name, path in entries:
            _add(zf, name, path.read_bytes())
    tmp.replace(out)
    return out


def _submission_target(submission: Path) -> Path:
    """What to grade in Gradescope's submission folder: the folder, or the one zip/notebook in it."""
    entries = [p for p in submission.iterdir() if not p.name.startswith(".")] if submission.is_dir() else []
    if len(entries) == 1 and entries[0].is_file() and entries[0].suffix in {".zip", ".ipynb"}:
        return entries[0]
    return submission


def failure_results(message: str) -> dict:
    """The results.json written when the grader itself could not run (the student sees why)."""
    return {"score": 0.0, "execution_time": 0.0, "visibility": "visible", "stdout_visibility": "hidden",
            "output": "The autograder could not grade this submission: " + message
                      + "\nThis is not a grade; please contact the course staff.",
            "tests": []}


def run_gradescope(submission: str | Path, results_dir: str | Path, assignment: str | None = None) -> int:
    """Grade ``submission`` and write ``results_dir/results.json``; the body of ``run_autograder``.

    Returns 0 when results.json was written from a real grading run, 1 when only the
    failure notice could be written (Gradescope still shows it to the student).
    """
    submission, results_dir = Path(submission), Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    target = results_dir / "results.json"
    try:
        from autograder.run import grade_submission

        if not submission.exists():
            raise LinclassError(f"the submission folder {submission} does not exist")
        with tempfile.TemporaryDirectory(prefix="linclass-gs-") as tmp:
            result = grade_submission(_submission_target(submission), tmp, student_id="submission",
                                      assignment=load_assignment(assignment))
            # Gradescope's format has no top-level max_score (the assignment's points set it there),
            # and keeps the sandbox record in its free-form extra_data
            results = {k: v for k, v in result.results.items() if k not in ("max_score", "sandbox")}
            results["extra_data"] = {**results.get("extra_data", {}), "sandbox": result.results.get("sandbox")}
            feedback = (result.report_dir / "feedback.md").read_text()
    except Exception as exc:  # the grader could not run: leave a readable notice, never a traceback
        message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, LinclassError) else str(exc)
        target.write_text(json.dumps(failure_results(message), indent=2))
        print(f"linclass: could not grade {submission}: {message}", file=sys.stderr)
        return 1
    target.write_text(json.dumps(results, indent=2))
    try:  # Gradescope's instructor-only log; a closed stdout must not undo the grading
        print(f"graded {submission}: {result.score:g} / {result.max_score:g}\n\n{feedback}", flush=True)
    except OSError:
        pass
    return 0


# --------------------------------------------------------------------------------------------
# GitHub Actions.
# --------------------------------------------------------------------------------------------


def github_workflow(assignment: Assignment) -> str:
    """The student-repository workflow that grades ``assignment`` (by the name the installed
    grader knows it by: a built-in's name, or its package's)."""
    return GITHUB_WORKFLOW.replace("{assignment}", assignment.name if assignment.package.startswith(
        "linclass.assignments.") else assignment.package)


def write_github_workflow(out: str | Path, assignment: Assignment) -> Path:
    """Write the student-repository workflow to ``out``; return its path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(github_workflow(assignment))
    return out


def main(args: argparse.Namespace) -> int:
    """`linclass bundle gradescope|github [--out PATH]`."""
    assignment = load_assignment(getattr(args, "assignment", None))
    if args.target == "gradescope":
        path = build_gradescope_zip(args.out or f"build/gradescope/{assignment.name}_autograder.zip", assignment)
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            requirements = zf.read("requirements.txt").decode().split()
        print(f"Gradescope autograder: {path} ({path.stat().st_size / 1024:.0f} kB, {len(names)} files, "
              f"{len(requirements)} pinned requirements)")
        print(f"  setup.sh, run_autograder, the kit, {assignment.name} with its grading suite, its reference and its "
              "trusted source notebooks\n  Upload it as the assignment's autograder (base image Ubuntu 24.04).")
        return 0
    path = write_github_workflow(args.out or "build/github/linclass.yml", assignment)
    print(f"GitHub Actions workflow: {path}\n  Copy it to .github/workflows/ in the assignment template repository "
          "and set the organization secret LINCLASS_GRADER (a pip requirement of your private grader copy).")
    return 0


def _cli(argv: list[str] | None = None) -> int:
    """``python -m linclass.course.bundle run-gradescope SUBMISSION RESULTS`` (used by run_autograder)."""
    parser = argparse.ArgumentParser(prog="python -m linclass.course.bundle")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run-gradescope")
    run.add_argument("submission")
    run.add_argument("results")
    run.add_argument("--assignment", default=None)
    args = parser.parse_args(argv)
    return run_gradescope(args.submission, args.results, args.assignment)


if __name__ == "__main__":
    sys.exit(_cli())
