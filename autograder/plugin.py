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
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path

import numpy as np
import pytest

from autograder.config import load_config
from autograder.reports import write_reports
from autograder.session import Grading, TestOutcome
from autograder.verdicts import CheckFailed
from linclass.assignment import load_assignment
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
    path = config.getoption("--submission")
    if path is None:
        raise pytest.UsageError("the grading suite needs --submission PATH")
    try:
        assignment = load_assignment(config.getoption("--assignment"))
        grading_config = load_config(assignment, config.getoption("--grading-config"), salt=config.getoption("--salt"))
    except LinclassError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[GRADING] = Grading.open(Path(path), grading_config, assignment,
                                         student_id=config.getoption("--student-id"),
                                         sandbox=config.getoption("--sandbox"))
    config.stash[GRADING].start_student()  # (it starts up while the checks are collected)
    config.stash[OUTCOMES] = []
    config.stash[STARTED] = time.perf_counter()


GRADING = pytest.StashKey[Grading]()
OUTCOMES = pytest.StashKey[list]()
STARTED = pytest.StashKey[float]()


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
        # Keep pytest's own terminal output short: the message, not a traceback.
        if report.failed:
            report.longrepr = outcome_.output


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """Every check has points, and every points entry names a check (a typo is an error, not a 0)."""
    grading = config.stash.get(GRADING, None)
    if grading is None:
        return
    checks = {"::".join(_part_and_check(item)) for item in items if hasattr(item, "callspec")}
    unknown = sorted(set(grading.config.points) - checks)
    if unknown and not config.getoption("-k") and not config.getoption("-m"):
        raise pytest.UsageError(f"{grading.config.path}: [points] {unknown[0]!r} names no check of the suite")


def _docline(item: pytest.Item) -> str:
    doc = (item.function.__doc__ or "").strip().splitlines()
    return doc[0] if doc else ""


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    grading = config.stash.get(GRADING, None)
    if grading is None:
        return
    grading.close()
    report_dir = config.getoption("--report-dir")
    if report_dir:
        write_reports(Path(report_dir), grading, config.stash[OUTCOMES],
                      execution_time=time.perf_counter() - config.stash[STARTED])
