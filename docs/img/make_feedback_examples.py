"""Regenerate the HTML exports in this folder: release notebooks as a student sees them.

    PYTHONPATH=. python docs/img/make_feedback_examples.py

* ``svm-planted-bug.html``: ``svm.ipynb`` of a fresh release, filled with the reference except
  for one planted bug in ``svm_loss_vectorized`` (the correct class's margin is not zeroed, so
  every loss is exactly 1 too high), every cell run in turn on the embedded digits.  Its test
  cell prints the public self-check's diagnosis and hint; the timing cell refuses to time
  results that disagree.  (The filled solution cells show a one-line comment instead of code.)
* ``svm-before-gradient-check.html``: the same release, ``svm.ipynb`` filled (no bug) while
  ``gradient_check.ipynb`` is still untouched: the provided checker stands in for the student's
  ``grad_check_sparse``, with one line saying so.

No browser is needed (or available) to turn them into images: these are nbconvert's own HTML
(lab template), with its stylesheets in ``nbconvert-lab.css``, shared by both pages.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from linclass.assignment import load_assignment
from linclass.course.release import build_release, copy_course, fill_release

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUG = ("    margins[rows, y] = 0\n", "")


def plant(gid: str, code: str) -> str:
    """The planted bug, in ``svm_loss_vectorized`` only."""
    return code.replace(*BUG) if gid == "svm_loss_vectorized" else code


def executed(path: Path) -> nbformat.NotebookNode:
    """Every cell run in turn, errors shown and not stopping the run."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   extra_arguments=["--IPKernelApp.log_level=ERROR"],
                   resources={"metadata": {"path": str(path.parent)}}).execute(
        env={**os.environ, "LINCLASS_DATA": "digits"})
    return nb


STYLE = re.compile(r"<style[^>]*>.*?</style>\s*", re.S)
CSS = "nbconvert-lab.css"


def hide_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The filled solution cells' code replaced by one comment (the pages must not publish the
    reference); their outputs, and everything else, stay as they ran."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            gid = meta["grade_id"]
            what = "with the planted bug: the correct class's margin is not zeroed" if gid == "svm_loss_vectorized" \
                and BUG[0] not in cell.source else "written correctly"
            cell.source = f"# {gid}: the student's code, {what} (not shown here)"
    return nb


def export(nb: nbformat.NotebookNode, name: str) -> Path:
    """nbconvert's lab HTML (solutions hidden), its stylesheets moved to one file both pages link."""
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(hide_solutions(nb))
    styles = STYLE.findall(html)
    (HERE / CSS).write_text("\n".join(re.sub(r"^<style[^>]*>|</style>\s*$", "", s.strip()) for s in styles) + "\n",
                            encoding="utf-8")
    first = html.index(styles[0])
    html = html[:first] + f'<link rel="stylesheet" href="{CSS}">\n' + STYLE.sub("", html[first:])
    out = HERE / name
    out.write_text(html, encoding="utf-8")
    return out


def main() -> None:
    assignment = load_assignment()
    source = assignment.source_dir
    with tempfile.TemporaryDirectory(prefix="linclass-docs-") as tmp:
        course = copy_course(source.parents[1], Path(tmp) / "course", assignment.name)
        release = build_release(assignment, course, validate=False, log=lambda _: None).release_dir
        buggy = fill_release(release, source, Path(tmp) / "buggy", mutate=plant)
        print(export(executed(buggy / "svm.ipynb"), "svm-planted-bug.html"))
        early = fill_release(release, source, Path(tmp) / "early")
        shutil.copy(release / "gradient_check.ipynb", early)
        print(export(executed(early / "svm.ipynb"), "svm-before-gradient-check.html"))


if __name__ == "__main__":
    main()
