"""The grading plugin: one submission, its sandboxed process, seeded inputs and the reports.

An assignment's suite (``<assignment>/suite/``) is a folder of pytest checks; its
``conftest.py`` loads this plugin.  Run through ``linclass grade`` or directly::

    pytest <assignment>/suite --submission PATH [--assignment NAME_OR_DIR] [--student-id ID]
                              [--salt S] [--grading-config FILE] [--report-dir DIR]
                              [--sandbox auto|strict|minimal]

Every check is parametrized by ``part`` (a part of the assignment's spec), and its name is
the test function's name without ``test_``; its points come from the grading config as
``"<part>::<check>"``.  Checks fail by raising :class:`autograder.verdicts.CheckFailed`, whose
message becomes the test's feedback; any other exception is the grader's own error, logged
for the instructor and never shown to the student as a traceback.

Run directly, a session grades its one ``--submission``.  ``linclass grade`` runs sessions of
many (``autograder.run.grade_many``): the session is configured and collected once, and each
submission is opened (:func:`open_submission`), made current (:func:`begin`), checked and
finished (:func:`finish`) in turn.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path

import numpy as np
import pytest

from autograder.config import GradingConfig, load_config
from autograder.reports import write_reports
from autograder.session import Grading, TestOutcome
from autograder.verdicts import CheckFailed
from linclass.assignment import Assignment, load_assignment
from linclass.errors import LinclassError


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("linclass", "linclass grading")
    group.addoption("--submission", help="notebook, directory or zip to grade")
    group.addoption("--assignment", default=None, help="assignment name or package folder (default: the kit's)")
    group.addoption("--student-id", default=None, help="student id (default: from the path)")
    group.addoption("--salt", default=None, help="course salt of the input seeds")
    group.addoption("--sandbox", default="auto", choices=("auto", "strict", "minimal"),
                    help="kernel confinement of the student process (default: auto)")
    group.addoption("--grading-config", default=None, help="grading config file (default: the bundled one)")
    group.addoption("--report-dir", default=None, help="write results.json, junit.xml and feedback.md here")


def pytest_configure(config: pytest.Config) -> None:
    if config.stash.get(MANY, False):  # a run over many submissions opens each one itself
        try:
            graded_as(config)
        except LinclassError as exc:
            raise pytest.UsageError(str(exc)) from None
        return
    path = config.getoption("--submission")
    if path is None:
        raise pytest.UsageError("the grading suite needs --submission PATH")
    try:
        begin(config, open_submission(config, Path(path), config.getoption("--student-id")),
              config.getoption("--report-dir"))
    except LinclassError as exc:
        raise pytest.UsageError(str(exc)) from None


def open_submission(config: pytest.Config, path: Path, student_id: str | None) -> Grading:
    """Load (never execute) the submission at ``path`` and start its student process, which then
    confines itself while the caller goes on (while the checks are collected, or while the
    previous submission's last checks run); its code is loaded at its first call.

    Raises
    ------
    LinclassError
        When the assignment or its grading config cannot be loaded.
    """
    assignment, grading_config = graded_as(config)
    grading = Grading.open(path, grading_config, assignment, student_id=student_id,
                           sandbox=config.getoption("--sandbox"))
    grading.start_student()
    return grading


def begin(config: pytest.Config, grading: Grading, report_dir: str | Path | None) -> None:
    """Make ``grading`` (:func:`open_submission`) the submission the session's checks grade next;
    :func:`finish` writes its reports to ``report_dir``."""
    config.stash[GRADING] = grading
    config.stash[OUTCOMES] = []
    config.stash[STARTED] = time.perf_counter()
    config.stash[REPORT_DIR] = Path(report_dir) if report_dir else None


def graded_as(config: pytest.Config) -> tuple[Assignment, GradingConfig]:
    """The session's assignment and grading config, loaded once (:class:`LinclassError` if they cannot be)."""
    if GRADED_AS not in config.stash:
        assignment = load_assignment(config.getoption("--assignment"))
        config.stash[GRADED_AS] = assignment, load_config(assignment, config.getoption("--grading-config"),
                                                   salt=config.getoption("--salt"))
    return config.stash[GRADED_AS]


def finish(config: pytest.Config) -> None:
    """End the submission opened by :func:`begin`: its student process, then its reports."""
    grading = abandon(config)
    if grading is None:
        return
    outcomes = config.stash[OUTCOMES]
    failed = sum(o.status != "passed" for o in outcomes)
    elapsed = time.perf_counter() - config.stash[STARTED]
    print(f"{grading.student_id}: {len(outcomes) - failed} passed, {failed} failed in {elapsed:.2f} s")
    if config.stash[REPORT_DIR] is not None:
        write_reports(config.stash[REPORT_DIR], grading, outcomes, execution_time=elapsed)


def abandon(config: pytest.Config) -> Grading | None:
    """End the submission made current by :func:`begin` (its student process) without reports, as
    when the grader failed on it; returns it (None when there is none)."""
    grading = config.stash.get(GRADING, None)
    if grading is not None:
        del config.stash[GRADING]
        grading.close()
    return grading


GRADING = pytest.StashKey[Grading]()
OUTCOMES = pytest.StashKey[list]()
STARTED = pytest.StashKey[float]()
REPORT_DIR = pytest.StashKey["Path | None"]()
GRADED_AS = pytest.StashKey["tuple[Assignment, GradingConfig]"]()
#: Set when the session grades many submissions (``autograder.run.grade_many``), each opened by :func:`begin`.
MANY = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def grading(request: pytest.FixtureRequest) -> Grading:
    """The submission being graded, its student process and its seeds."""
    return request.config.stash[GRADING]


@pytest.fixture
def rng(request: pytest.FixtureRequest, grading: Grading) -> np.random.Generator:
    """A generator seeded by the course salt, the student id and this check."""
    part, check = _part_and_check(request.node)
    return grading.rng(part, check)


def _part_and_check(item: pytest.Item) -> tuple[str, str]:
    return item.callspec.params["part"], item.originalname.removeprefix("test_")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.failed):
        grading = item.config.stash[GRADING]
        part, check = _part_and_check(item)
        points = grading.config.points_for(part, check)
        exc = call.excinfo.value if call.excinfo else None
        tag = grading.assignment.spec.tag(part, check)
        if report.passed:
            outcome_ = TestOutcome(part, check, points, points, "passed", _docline(item), [], tag=tag)
        elif isinstance(exc, CheckFailed):
            outcome_ = TestOutcome(part, check, 0.0, points, "failed", exc.message, exc.misconceptions,
                                   exc.whole_part, tag=tag)
        else:  # a bug in the grader itself: never blame the student with a traceback
            grading.log_internal_error(f"{item.nodeid}\n{''.join(traceback.format_exception(exc))}")
            outcome_ = TestOutcome(part, check, 0.0, points, "failed",
                                   "The grader could not run this check (internal error). "
                                   "Your instructor has the details.", [], tag=tag)
        item.config.stash[OUTCOMES].append(outcome_)
        if item.config.stash.get(MANY, False):  # each submission's own log of its checks
            print(f"{outcome_.status.upper()} {part}::{check}" + ("" if report.passed else f": {outcome_.output}"))
        # Keep pytest's own terminal output short: the message, not a traceback.
        if report.failed:
            report.longrepr = outcome_.output


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """Every check has points, and every points entry names a check (a typo is an error, not a 0)."""
    if GRADED_AS not in config.stash:
        return
    grading_config = graded_as(config)[1]
    checks = {"::".join(_part_and_check(item)) for item in items if hasattr(item, "callspec")}
    unknown = sorted(set(grading_config.points) - checks)
    if unknown and not config.getoption("-k") and not config.getoption("-m"):
        raise pytest.UsageError(f"{grading_config.path}: [points] {unknown[0]!r} names no check of the suite")


def _docline(item: pytest.Item) -> str:
    doc = (item.function.__doc__ or "").strip().splitlines()
    return doc[0] if doc else ""


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == pytest.ExitCode.INTERRUPTED:  # its reports would cover only the checks that ran
        abandon(session.config)
    else:
        finish(session.config)
