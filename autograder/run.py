"""Grade one submission: run the pytest grading suite against it and write its reports."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from linclass.assignment import Assignment, load_assignment
from linclass.errors import LinclassError

#: The plugin that runs an assignment's suite (``autograder/plugin.py``).
PLUGIN = "autograder.plugin"
#: pytest's own plugins a grading run has no use for.  ``unraisableexception`` and
#: ``threadexception`` force full garbage collections at the end of every run (a tenth of a
#: second per submission); ``logging``, ``warnings`` and ``faulthandler`` wrap every check;
#: the engine writes its own junit.xml; the others add options and hooks to every run.  No
#: check uses their fixtures (tmp_path, monkeypatch, recwarn, caplog, subtests).  Plugins
#: installed in the environment (xdist, hypothesis, ...) are not loaded either (``_grading_env``).
UNUSED_PYTEST_PLUGINS = ("cacheprovider", "unraisableexception", "threadexception", "doctest", "pastebin",
                         "legacypath", "stepwise", "debugging", "junitxml", "unittest", "tmpdir", "monkeypatch",
                         "recwarn", "setuponly", "setupplan", "logging", "warnings", "faulthandler", "subtests")


@dataclass(frozen=True)
class GradeResult:
    """Summary of one graded submission (the full detail is in its results.json)."""

    student_id: str
    score: float
    max_score: float
    report_dir: Path
    results: dict
    assignment: str = ""


#: Files a batch (and ``linclass export``, by default) writes next to the students' report folders: no student may
#: be named like them.
CLASS_FILES = frozenset({"grades.csv", "grades_nbgrader.csv", "not_graded.csv", "summary.md", "score_histogram.png",
                         "checks.csv", "canvas_grades.csv", "moodle_grades.csv"})


def safe_student_id(raw: str) -> str:
    """A student id that is a plain folder name inside the report root.

    Characters outside letters, digits and ``._@+-`` become ``_``; a name that starts with a
    dot (``..``, ``.hidden``), is empty, or is one of the batch's own files gets a ``student_``
    prefix, so no report can land outside ``--out`` or over the class files.
    """
    sid = re.sub(r"[^\w.@+-]", "_", raw)
    if not sid or sid.startswith(".") or sid in CLASS_FILES:
        sid = "student_" + sid.lstrip(".")
    return sid


def student_id_for(path: Path) -> str:
    """The student id of a submission path (nbgrader's submitted/<student>/<assignment>/ aware)."""
    from .submission import guess_student_id

    return safe_student_id(guess_student_id(path))


def _without(plugins: tuple[str, ...]) -> list[str]:
    return [arg for name in plugins for arg in ("-p", f"no:{name}")]


@contextlib.contextmanager
def _grading_env():
    """pytest without the plugins that happen to be installed (the suite's conftest loads the
    engine's plugin itself): a grading run does the same wherever it runs, and starts faster."""
    old = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = old


def grade_submission(path: str | Path, out_dir: str | Path, *, assignment: Assignment | None = None,
                     student_id: str | None = None, salt: str | None = None,
                     config_path: str | Path | None = None, sandbox: str = "auto") -> GradeResult:
    """Grade ``path`` into ``out_dir/<student_id>/``.

    Parameters
    ----------
    path : path
        A notebook, a directory of notebooks or CS231n modules, or a zip of either.
    out_dir : path
        The report root; this submission's reports go to ``out_dir/<student_id>``.
    assignment : Assignment, optional
        What it is graded as (default: the kit's default assignment).
    student_id : str, optional
        Defaults to the name derived from ``path``.
    salt : str, optional
        Course salt of the per-student input seeds (default: the config's).
    config_path : path, optional
        Grading configuration (default: the assignment's ``grading.toml``).
    sandbox : {"auto", "strict", "minimal"}
        The kernel's confinement of the student process (see :mod:`autograder.sandbox.levels`).

    Raises
    ------
    LinclassError
        When the grader itself cannot run (missing path, broken configuration, internal
        failure); a failing or hostile submission is graded, never raised.
    """
    path = Path(path)
    if not path.exists():
        raise LinclassError(f"{path}: no such file or directory")
    assignment = assignment or load_assignment()
    student_id = safe_student_id(student_id) if student_id else student_id_for(path)
    report_dir = Path(out_dir) / student_id
    suite = assignment.suite_dir
    # importlib mode: two assignments' suites may hold modules of the same name, in one process;
    # no assertion rewriting: the checks raise CheckFailed with their own messages; no per-check
    # capture: student code never runs in this process, and the whole run's output is the log
    args = [str(suite), "-c", str(suite / "pytest.ini"), "--rootdir", str(suite), "-q", "-rN", "--import-mode",
            "importlib", "--no-header", "--assert=plain", "--capture=no", *_without(UNUSED_PYTEST_PLUGINS),
            "--submission", str(path), "--student-id", student_id, "--report-dir", str(report_dir),
            "--assignment", str(assignment.root), "--sandbox", sandbox]
    if salt:
        args += ["--salt", salt]
    if config_path:
        args += ["--grading-config", str(config_path)]
    from .sandbox.spawn import warm_up

    warm_up(sandbox)
    log = io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), _grading_env():
        code = pytest.main(args)
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "grader.log").write_text(log.getvalue())
    results_path = report_dir / "results.json"
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not results_path.exists():
        raise LinclassError(f"grading {path} did not run (pytest exit code {int(code)}); "
                            f"see {report_dir / 'grader.log'}")
    results = json.loads(results_path.read_text())
    return GradeResult(student_id, results["score"], results["max_score"], report_dir, results, assignment.name)
