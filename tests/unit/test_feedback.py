"""The student's feedback (autograder/reports.py, verdicts.py): one line per part that has
nothing to fix check by check, no internal references, report files the course can read."""

from __future__ import annotations

import ast
import re
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from kit import ASSIGNMENT

from autograder.config import load_config
from autograder.reports import feedback_md, results_json, write_reports
from autograder.sandbox.replies import CallResult, StudentError
from autograder.session import TestOutcome as Outcome
from autograder.verdicts import CheckFailed, not_attempted, require_ok

STUB_TRACEBACK = ('Traceback (most recent call last):\n  File "softmax.py", line 61, in softmax_loss_vectorized\n'
                  "    raise NotImplementedError()\nNotImplementedError")


def failed_call(message: str, detail: str, kind: str = "exception") -> CallResult:
    return CallResult(False, None, StudentError(kind, message, detail), 0.0, "", None)


def grading(student_id: str = "cy") -> SimpleNamespace:
    submission = SimpleNamespace(problems=[], tamper=[], notes=[])
    return SimpleNamespace(student_id=student_id, assignment=ASSIGNMENT, submission=submission, notes=[],
                           internal_errors=[], sandbox={"level": "none"}, config=load_config(ASSIGNMENT))


def test_a_stub_is_not_attempted_without_a_traceback():
    with pytest.raises(CheckFailed) as exc:
        require_ok(failed_call("NotImplementedError", STUB_TRACEBACK), "softmax_loss_vectorized on random input 1")
    assert exc.value.message == "not attempted (softmax_loss_vectorized raises NotImplementedError)"
    assert not_attempted(exc.value.message) == "softmax_loss_vectorized"


def test_a_function_that_calls_something_unfinished_is_attempted():
    deeper = STUB_TRACEBACK.replace("    raise NotImplementedError()\n", "    helper()\n"
                                    '  File "softmax.py", line 3, in helper\n    raise NotImplementedError()\n')
    for result in (failed_call("NotImplementedError", deeper), failed_call("ValueError: bad", STUB_TRACEBACK)):
        with pytest.raises(CheckFailed) as exc:
            require_ok(result, "softmax_loss_vectorized on random input 1")
        assert "Traceback" in exc.value.message and not_attempted(exc.value.message) is None


def outcomes_of_a_half_done_submission() -> list[Outcome]:
    """Every check of every part: passed, except a stub, a missing module and one real bug."""
    out = []
    for key, points in load_config(ASSIGNMENT).points.items():
        part, _, check = key.partition("::")
        tag = ASSIGNMENT.spec.tag(part, check)
        if part == "softmax_loss_vectorized":
            out.append(Outcome(part, check, 0.0, points, "failed",
                                   "not attempted (softmax_loss_vectorized raises NotImplementedError)", tag=tag))
        elif part == "LinearClassifier.train":
            out.append(Outcome(part, check, 0.0, points, "failed",
                                   "not attempted (train raises NotImplementedError)", tag=tag))
        elif part == "tune_hyperparameters":
            out.append(Outcome(part, check, 0.0, points, "failed", "tune_hyperparameters was not found in your "
                                   "submission (no module tuning.py)", whole_part=True, tag=tag))
        elif key == "svm_loss_naive::matches_reference":
            out.append(Outcome(part, check, 0.0, points, "failed", "On random input 1: the loss is 2, expected 3.",
                                   tag=tag))
        else:
            out.append(Outcome(part, check, points, points, "passed", "", tag=tag))
    return out


def test_each_unattempted_or_missing_part_is_one_line():
    text = feedback_md(grading(), outcomes_of_a_half_done_submission())
    fix = text.split("## What to fix", 1)[1]
    assert fix.count("softmax_loss_vectorized") == 1
    assert "- **softmax_loss_vectorized** (0 / 17): not attempted (raises NotImplementedError)" in fix
    assert "- **LinearClassifier.train** (0 / 11): not attempted (raises NotImplementedError)" in fix
    assert fix.count("no module tuning.py") == 1 and "- **tune_hyperparameters** (0 / 10): " in fix
    # the real bug keeps its own section
    assert "### svm_loss_naive: matches reference (0 / 4)" in fix and "Traceback" not in fix
    assert len(re.findall(r"^### ", fix, re.MULTILINE)) == 1


def test_a_stub_called_from_another_part_is_that_checks_failure_not_the_parts():
    outs = [Outcome("svm_loss_vectorized", "matches_reference", 4.0, 4.0, "passed", ""),
            Outcome("svm_loss_vectorized", "faster_than_naive", 0.0, 1.0, "failed",
                        "not attempted (svm_loss_naive raises NotImplementedError)")]
    fix = feedback_md(grading(), outs).split("## What to fix", 1)[1]
    assert "### svm_loss_vectorized: faster than naive (0 / 1)" in fix and "- **" not in fix


#: Slide-file line ranges such as (000:462-465): internal references, never for students.
SLIDE_REF = re.compile(r"\b\d{3}:\d+")


def _student_strings(path: Path) -> list[str]:
    """The string literals of a module except docstrings (what can reach a report)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


@pytest.mark.parametrize("path", sorted((ASSIGNMENT.suite_dir).glob("test_*.py")), ids=lambda p: p.name)
def test_no_check_message_cites_slide_line_ranges(path):
    found = [s for s in _student_strings(path) if SLIDE_REF.search(s)]
    assert not found, found


def test_report_files_are_readable_by_the_group(tmp_path):
    write_reports(tmp_path, grading(), outcomes_of_a_half_done_submission(), 1.0)
    log = tmp_path / "grader.log"
    log.write_text("")  # written the plain way, as run.py does
    for name in ("results.json", "feedback.md", "junit.xml"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == stat.S_IMODE(log.stat().st_mode), name


def test_results_json_keeps_the_short_reason_per_test():
    tests = results_json(grading(), outcomes_of_a_half_done_submission(), 1.0)["tests"]
    stub = [t for t in tests if t["name"].startswith("softmax_loss_vectorized:")]
    assert stub and all(t["output"] == "not attempted (softmax_loss_vectorized raises NotImplementedError)"
                        for t in stub)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "submissions"


def test_a_single_notebook_graded_alone_names_the_missing_notebooks(tmp_path):
    from autograder.submission import load_submission

    alone = tmp_path / "svm (1).ipynb"  # renamed by a download: still known by its cells
    alone.write_bytes((EXAMPLES / "ada_complete" / "svm.ipynb").read_bytes())
    assert "not in the submission: gradient_check.ipynb, softmax.ipynb" in load_submission(alone, ASSIGNMENT).notes
    whole = load_submission(EXAMPLES / "ada_complete", ASSIGNMENT)
    assert not [n for n in whole.notes if n.startswith("not in the submission")]


def test_a_part_failed_as_a_whole_keeps_its_diagnosis_in_its_one_line():
    m = SimpleNamespace(id="transposed_layout", title="the 2015 layout", hint="Rewrite it for this layout.")
    outs = [Outcome("svm_loss_naive", check, 0.0, 2.0, "failed", "Written for the 2015 layout.", [m], True)
            for check in ("matches_reference", "edge_cases")]
    fix = feedback_md(grading(), outs).split("## What to fix", 1)[1]
    assert "- **svm_loss_naive** (0 / 4): Written for the 2015 layout." in fix
    assert fix.count("the 2015 layout.**") == 1 and fix.count("Rewrite it for this layout.") == 1


def test_the_same_error_from_every_call_of_a_part_is_said_once():
    error = "your code exited the process (exit code 0) during softmax_loss_naive"
    outs = [Outcome("softmax_loss_naive", "matches_reference", 0.0, 4.0, "failed", f"On random input 1: {error}"),
            Outcome("softmax_loss_naive", "edge_cases", 0.0, 2.0, "failed", f"On a single example: {error}"),
            Outcome("svm_loss_naive", "matches_reference", 0.0, 4.0, "failed", "On input 1: the loss is 2, not 3."),
            Outcome("svm_loss_naive", "edge_cases", 0.0, 2.0, "failed", "On one example: the loss is 5, expected 3.")]
    fix = feedback_md(grading(), outs).split("## What to fix", 1)[1]
    assert f"- **softmax_loss_naive** (0 / 6): {error}" in fix and fix.count(error) == 1
    assert "### svm_loss_naive: matches reference (0 / 4)" in fix and "### svm_loss_naive: edge cases (0 / 2)" in fix
