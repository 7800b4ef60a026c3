"""Grade submissions: run the pytest grading suite against each one and write its reports."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

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
    graded: list[GradeResult | LinclassError] = []
    grade_many([(path, student_id)], out_dir, lambda _path, outcome: graded.append(outcome), assignment=assignment,
               salt=salt, config_path=config_path, sandbox=sandbox)
    if isinstance(graded[0], LinclassError):
        raise graded[0]
    return graded[0]


#: What :func:`grade_many` tells its caller of each submission: its result, or why the grader could not run.
Graded = Callable[[Path, "GradeResult | LinclassError"], None]


def grade_many(submissions: Sequence[tuple[Path, str | None]], out_dir: str | Path, on_graded: Graded, *,
               assignment: Assignment | None = None, salt: str | None = None, config_path: str | Path | None = None,
               sandbox: str = "auto") -> None:
    """Grade each ``(path, student_id or None)`` into ``out_dir/<student_id>/``, one after the other,
    in one pytest session: the suite is configured and collected once, and each submission runs
    every collected check (its student process started ahead of its turn, see
    :class:`_SubmissionQueue`).

    ``on_graded(path, outcome)`` is called as each one is done, with its :class:`GradeResult`, or
    with the :class:`LinclassError` that says why the grader could not run for it (the others go
    on: after a failure of the grader itself, in a fresh session).  A ``KeyboardInterrupt`` stops
    the whole run.
    """
    assignment = assignment or load_assignment()
    out_dir = Path(out_dir)
    queue = [_Queued(Path(path), sid := safe_student_id(student_id) if student_id else student_id_for(Path(path)),
                     out_dir / sid) for path, student_id in submissions]
    suite = assignment.suite_dir
    # importlib mode: the suite's folder is not put on sys.path (but pytest reuses a module of the
    # same name imported before: two assignments whose suites share a module name cannot be graded
    # in one process, and each command grades one assignment); no assertion rewriting: the checks
    # raise CheckFailed with their own messages; no per-check capture: student code never runs in
    # this process, and the whole run's output is the log
    args = [str(suite), "-c", str(suite / "pytest.ini"), "--rootdir", str(suite), "-q", "-rN", "--import-mode",
            "importlib", "--no-header", "--assert=plain", "--capture=no", "-o", "console_output_style=classic",
            *_without(UNUSED_PYTEST_PLUGINS), "--assignment", str(assignment.root), "--sandbox", sandbox]
    if salt:
        args += ["--salt", salt]
    if config_path:
        args += ["--grading-config", str(config_path)]
    from .sandbox.spawn import warm_up

    warm_up(sandbox)
    while queue:
        runner = _SubmissionQueue(queue, on_graded)
        log = io.StringIO()  # the session's own output (a broken suite or config says so here)
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), _grading_env():
            code = pytest.main(args, plugins=[runner])
        if runner.interrupted:
            raise KeyboardInterrupt
        if runner.error is not None:
            raise runner.error
        if not runner.looping:  # the session never reached its checks: nor will another one
            for job in queue:
                job.unmark()
                job.write_log(log.getvalue())
                on_graded(job.path, LinclassError(f"grading {job.path} did not run (pytest exit code {int(code)}); "
                                                  f"see {job.report_dir / 'grader.log'}"))
            return
        if not runner.graded and queue:  # (it failed outside any submission's handling: charged to the first)
            job = queue.pop(0)
            job.write_log(log.getvalue())
            on_graded(job.path, LinclassError(f"grading {job.path} did not finish (pytest exit code {int(code)}); "
                                              f"see {job.report_dir / 'grader.log'}"))


#: A file in a submission's report folder from the moment the grader opens it (reads its files,
#: starts its student process) to the end of its turn: left there, it tells the batch which
#: submissions a grading process that died was working on.
IN_PROGRESS = ".grading"


@dataclass
class _Queued:
    """A submission waiting in :func:`grade_many`."""

    path: Path
    student_id: str
    report_dir: Path

    def mark(self) -> None:
        """Leave :data:`IN_PROGRESS` in its report folder."""
        self.report_dir.mkdir(parents=True, exist_ok=True)
        (self.report_dir / IN_PROGRESS).touch()

    def unmark(self) -> None:
        (self.report_dir / IN_PROGRESS).unlink(missing_ok=True)

    def write_log(self, text: str) -> Path:
        """Its grader.log, at the end of its turn (:data:`IN_PROGRESS` is removed)."""
        self.report_dir.mkdir(parents=True, exist_ok=True)
        self.unmark()
        (self.report_dir / "grader.log").write_bytes(text.encode("utf-8", "backslashreplace"))
        return self.report_dir / "grader.log"

    def result(self, assignment: str) -> GradeResult | LinclassError:
        results_path = self.report_dir / "results.json"
        if not results_path.exists():
            return LinclassError(f"grading {self.path} wrote no results; see {self.report_dir / 'grader.log'}")
        results = json.loads(results_path.read_text())
        return GradeResult(self.student_id, results["score"], results["max_score"], self.report_dir, results,
                           assignment)


class _SubmissionQueue:
    """The plugin of :func:`grade_many`'s session: once the checks are collected, it runs them
    all for each queued submission in turn (taken from the front of ``queue``).

    Every check's fixtures are set up and torn down for each submission (the last check of a
    submission has no next item, so the session-scoped ``grading`` fixture is finalized too):
    a submission sees nothing of the one before.  A failure of the grader itself on one
    submission costs that one only: the session ends (its setup state is then unknown) and
    :func:`grade_many` opens a fresh one for the rest.

    The next submission is opened while the current one's last test module runs, when every
    student process has a uid of its own (:func:`~.sandbox.process.separate_uids`): two of them
    alive at once under one uid would share its process limit, and on the weaker levels the
    running one could read the next one's sandbox folder.
    """

    def __init__(self, queue: list[_Queued], on_graded: Graded) -> None:
        self.queue = queue
        self.on_graded = on_graded
        self.graded = 0
        self.looping = False  # the session got as far as its checks (configured and collected)
        self.interrupted = False
        self.error: BaseException | None = None  # raised by on_graded: the caller's, re-raised to it
        self.ahead: tuple[_Queued, Any] | None = None  # the next submission and its Grading, opened early

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        from . import plugin

        config.stash[plugin.MANY] = True  # (before the grading plugin's own pytest_configure)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo) -> None:
        if not isinstance(excinfo.value, pytest.Session.Interrupted):  # (pytest's own stop is no Ctrl-C)
            self.interrupted = True

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # the first submission's student process starts up while the checks are collected
        self._open(session.config, self.queue[0] if self.queue else None)

    def pytest_sessionfinish(self) -> None:
        self._close_opened()  # (the session ended before its turn)

    @staticmethod
    def _open_now(config: pytest.Config, job: _Queued):
        """``job`` opened (:func:`~.plugin.open_submission`), marked from now on: a grader that dies
        while it reads the files is then seen to have been on it."""
        from . import plugin

        job.mark()
        return plugin.open_submission(config, job.path, job.student_id)

    def _open(self, config: pytest.Config, job: _Queued | None) -> None:
        """Open ``job`` ahead of its turn.  A failure is not reported here: the job is opened
        again, and its failure reported, in its own turn."""
        if job is None:
            return
        try:
            self.ahead = job, self._open_now(config, job)
        except Exception:  # noqa: BLE001 - (reported in its own turn)
            job.unmark()

    def _take_opened(self, config: pytest.Config, job: _Queued):
        """``job``'s Grading: the one opened ahead, or opened now."""
        if self.ahead is not None and self.ahead[0] is job:
            grading, self.ahead = self.ahead[1], None
            return grading
        self._close_opened()  # (none, or another's: what is opened ahead is always the next one)
        return self._open_now(config, job)

    def _close_opened(self) -> None:
        if self.ahead is not None:
            job, grading = self.ahead
            self.ahead = None
            grading.close()
            job.unmark()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        if session.testsfailed:  # errors while collecting (pytest's summary names them): no check runs
            return True
        from . import plugin
        from .sandbox.process import separate_uids

        self.looping = True
        config, items = session.config, session.items
        assignment = plugin.graded_as(config)[0].name
        open_next_at = next((i for i, item in enumerate(items) if item.path == items[-1].path), 0)
        if not separate_uids(config.getoption("--sandbox")):
            open_next_at = -1  # (the next one is opened in its own turn)
        while self.queue:
            job = self.queue[0]
            following = self.queue[1] if len(self.queue) > 1 else None
            log = io.StringIO()
            failed = None
            try:
                with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                    plugin.begin(config, self._take_opened(config, job), job.report_dir)
                    for i, item in enumerate(items):
                        if i == open_next_at:  # the next one starts up while the last module's checks run
                            self._open(config, following)
                        config.hook.pytest_runtest_protocol(item=item, nextitem=items[i + 1] if i + 1 < len(items)
                                                            else None)
                    plugin.finish(config)
                outcome: GradeResult | LinclassError = job.result(assignment)
            except Exception as exc:  # noqa: BLE001 - the grader's own failure: this one is not graded
                failed = exc
                plugin.abandon(config)
                self._close_opened()
                log.write(f"\ninternal error of the grader: {''.join(traceback.format_exception(exc))}")
                outcome = LinclassError(f"grading {job.path} did not finish ({type(exc).__name__}: {exc}); see "
                                        f"{job.report_dir / 'grader.log'}")
            try:
                job.write_log(log.getvalue())
            except OSError as exc:
                if not isinstance(outcome, LinclassError):
                    outcome = LinclassError(f"could not write {job.report_dir / 'grader.log'}: {exc}")
            self.queue.pop(0)
            self.graded += 1
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:  # (its reports of this submission's checks: not kept for the whole batch)
                reporter.stats.clear()
            try:
                self.on_graded(job.path, outcome)
            except BaseException as exc:  # noqa: BLE001 - the caller's own error: raised to it by grade_many
                self.error = exc
                self._close_opened()
                return True
            if failed is not None:
                return True
        return True
