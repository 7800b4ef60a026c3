"""The README's student section links executed release notebooks that show the feedback."""

from __future__ import annotations

import html
import re

from kit import ROOT

IMG = ROOT / "docs" / "img"


def _text(name: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", (IMG / name).read_text(encoding="utf-8")))


def test_readme_links_the_exports():
    readme = (ROOT / "README.md").read_text()
    student = readme.split("## Students")[1].split("\n## ")[0]
    for name in ("svm-planted-bug.html", "svm-before-gradient-check.html"):
        assert f"(docs/img/{name})" in student
        assert 'href="nbconvert-lab.css"' in (IMG / name).read_text(encoding="utf-8")
    assert (IMG / "nbconvert-lab.css").stat().st_size > 0


def test_the_exports_show_the_feedback_and_no_solution():
    planted = _text("svm-planted-bug.html")
    assert "It is exactly 1 too high: the sum must skip the correct class j = y_i." in planted
    assert "naive and vectorized disagree" in planted
    early = _text("svm-before-gradient-check.html")
    assert "your grad_check_sparse is not written yet: using the provided one" in early
    for page in (planted, early):
        assert "the student's code, written correctly (not shown here)" in page
        assert "num_train" not in page, "the filled solution cells' code is not published"
