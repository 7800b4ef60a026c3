"""The class's reports from students' results.json files (autograder/class_reports.py), without grading."""

from __future__ import annotations

import pytest

from autograder.histogram import histogram_figure


@pytest.mark.parametrize("scores", [[5.0, 62.0, 93.0, 97.0], [50.0], [10.0] * 3 + [90.0] * 7])
def test_histogram_counts_have_integer_ticks(scores):
    import matplotlib.pyplot as plt

    fig = histogram_figure(scores, max_score=100.0)
    try:
        ticks = fig.axes[0].get_yticks()
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    finally:
        plt.close(fig)


def _class(tmp_path):
    """Three students: two share the vectorized SVM bug, one also fails the naive gradient check."""
    from fake_results import write_results

    vec, grad = "svm_loss_vectorized: matches reference", "svm_loss_naive: gradient check"
    write_results(tmp_path, "ann")
    write_results(tmp_path, "ben", failed=(vec,), misconceptions=("svm_reg_grad_missing_factor_2",))
    write_results(tmp_path, "cy", failed=(vec, grad), misconceptions=("svm_reg_grad_missing_factor_2",
                                                                      "softmax_no_max_shift"))
    return sorted(p for p in tmp_path.iterdir() if p.is_dir())


def _section(summary: str, title: str) -> list[str]:
    body = summary.split(title, 1)[1].split("\n## ", 1)[0]
    return [line for line in body.splitlines() if line.startswith("| ") and "---" not in line][1:]


def test_summary_has_a_per_check_pass_rate_table(tmp_path):
    from kit import ASSIGNMENT

    from autograder.class_reports import write_class_reports

    write_class_reports(tmp_path, _class(tmp_path), ASSIGNMENT)
    table = _section((tmp_path / "summary.md").read_text(), "## Which checks the class failed")
    # the checks someone failed, the least passed first; the check most of the class failed is bold
    assert table == ["| **svm_loss_vectorized: matches reference** | 1 of 3 | 33% |",
                     "| svm_loss_naive: gradient check | 2 of 3 | 67% |"]


def test_summary_names_the_students_of_each_misconception(tmp_path):
    from kit import ASSIGNMENT

    from autograder.class_reports import write_class_reports

    write_class_reports(tmp_path, _class(tmp_path), ASSIGNMENT)
    table = _section((tmp_path / "summary.md").read_text(), "## What to re-teach")
    assert len(table) == 2
    assert table[0].endswith("(`svm_reg_grad_missing_factor_2`) | 2 | ben, cy |")
    assert table[1].endswith("(`softmax_no_max_shift`) | 1 | cy |")


def test_everyone_passing_everything_is_said_in_one_line(tmp_path):
    from fake_results import CHECKS, write_results
    from kit import ASSIGNMENT

    from autograder.class_reports import write_class_reports

    write_class_reports(tmp_path, [write_results(tmp_path, "ann")], ASSIGNMENT)
    summary = (tmp_path / "summary.md").read_text()
    assert f"Every student passed all {len(CHECKS)} checks." in summary
    assert "No known misconception was diagnosed." in summary


def test_a_long_pass_rate_table_is_cut_and_every_rate_is_in_checks_csv(tmp_path):
    import csv

    from fake_results import CHECKS, write_results
    from kit import ASSIGNMENT

    from autograder.class_insights import pass_rate_lines
    from autograder.class_reports import write_class_reports

    everything = [f"{part}: {check}" for part, check, _ in CHECKS]
    rows = [{"_checks": dict.fromkeys(everything, True)}, {"_checks": dict.fromkeys(everything, False)}]
    lines = pass_rate_lines(rows, limit=len(CHECKS) - 1)
    assert len([line for line in lines if line.startswith("| ") and " of 2 |" in line]) == len(CHECKS) - 1
    assert lines[-1] == ("1 more failed checks, each passed by 50% of the class or more: every check's pass rate "
                         "is in `checks.csv`.")
    dirs = [write_results(tmp_path, "ann"), write_results(tmp_path, "ben", failed=tuple(everything))]
    write_class_reports(tmp_path, dirs, ASSIGNMENT)
    with open(tmp_path / "checks.csv", newline="") as f:
        rates = list(csv.DictReader(f))
    assert [r["check"] for r in rates] == everything
    assert {(r["passed"], r["graded"], r["pass_rate"]) for r in rates} == {("1", "2", "50.0")}


def test_no_student_is_named_like_a_class_file():
    from autograder.class_insights import CHECKS_CSV
    from autograder.lms import ID_COLUMNS
    from autograder.run import CLASS_FILES, safe_student_id

    written = {CHECKS_CSV, *(f"{lms}_grades.csv" for lms in ID_COLUMNS)}
    assert written <= CLASS_FILES
    assert all(safe_student_id(name) == f"student_{name}" for name in written)


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_painter_draws_the_histogram_in_its_own_process(tmp_path, monkeypatch):
    from autograder import histogram

    def not_here(*args):
        raise AssertionError("drawn in the grader's process")

    with histogram.HistogramPainter() as painter:
        monkeypatch.setattr(histogram, "plot_histogram", not_here)
        path = painter.plot([10.0, 55.0, 90.0], tmp_path / "h.png", 100.0)
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_a_dead_painter_still_gets_the_histogram_drawn(tmp_path):
    from autograder.histogram import HistogramPainter

    painter = HistogramPainter()
    painter._process.kill()
    painter._process.wait()
    path = painter.plot([10.0, 55.0, 90.0], tmp_path / "h.png", 100.0)
    assert path.read_bytes().startswith(PNG_MAGIC)
    painter.close()
