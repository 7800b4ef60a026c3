"""Malformed submissions get a clear message, and a batch goes on past them (issue: hostile and broken).

Every fixture is built in tmp_path from the trusted source notebooks
(assignments/source/linear_classifiers/): invalid JSON, an nbformat 3 notebook, missing
nbgrader metadata, a duplicated and a renamed grade_id, a deleted solution cell, a solution
cell turned into markdown, a 50 MB output, binary garbage, an empty file, a zip with path
traversal and a zip bomb.  The loader is checked directly (fast); one `linclass grade` batch
then runs all of them next to the reference and checks that each gets a report saying what
was wrong, and that the reference is still graded in full.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from kit import ASSIGNMENT, REFERENCE_DIR, ROOT

from autograder.submission import load_submission

SOURCE = ROOT / "assignments" / "source" / "linear_classifiers"
LINCLASS = Path(sys.executable).with_name("linclass")

pytestmark = pytest.mark.skipif(not (SOURCE / "svm.ipynb").exists(), reason="the source notebooks are not built")


def svm_notebook() -> dict:
    return json.loads((SOURCE / "svm.ipynb").read_text())


def _cell(nb: dict, grade_id: str) -> dict:
    return next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _write(path: Path, nb: dict | bytes | str) -> Path:
    if isinstance(nb, dict):
        path.write_text(json.dumps(nb))
    elif isinstance(nb, str):
        path.write_text(nb)
    else:
        path.write_bytes(nb)
    return path


def nbformat3(tmp: Path) -> Path:
    code = "".join(_cell(svm_notebook(), "svm_loss_naive")["source"])
    nb = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "svm"},
          "worksheets": [{"cells": [{"cell_type": "code", "language": "python", "input": code, "outputs": [],
                                     "metadata": {}, "collapsed": False}], "metadata": {}}]}
    return _write(tmp / "nbformat3.ipynb", nb)


def no_metadata(tmp: Path) -> Path:
    nb = svm_notebook()
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("nbgrader", None)
    return _write(tmp / "svm.ipynb", nb)


def duplicated_grade_id(tmp: Path) -> Path:
    nb = svm_notebook()
    cell = _cell(nb, "svm_loss_naive")
    nb["cells"].insert(nb["cells"].index(cell) + 1, copy.deepcopy(cell))
    return _write(tmp / "svm.ipynb", nb)


def renamed_grade_id(tmp: Path) -> Path:
    nb = svm_notebook()
    _cell(nb, "svm_loss_naive")["metadata"]["nbgrader"]["grade_id"] = "my_svm_loss_naive"
    return _write(tmp / "svm.ipynb", nb)


def deleted_solution(tmp: Path) -> Path:
    nb = svm_notebook()
    nb["cells"].remove(_cell(nb, "svm_loss_naive"))
    return _write(tmp / "svm.ipynb", nb)


def solution_as_markdown(tmp: Path) -> Path:
    nb = svm_notebook()
    cell = _cell(nb, "svm_loss_naive")
    cell["cell_type"] = "markdown"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)
    return _write(tmp / "svm.ipynb", nb)


def huge_output(tmp: Path) -> Path:
    nb = svm_notebook()
    _cell(nb, "svm_sanity")["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * (50 << 20)}]
    return _write(tmp / "svm.ipynb", nb)


def zip_traversal(tmp: Path) -> Path:
    path = tmp / "traversal.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for module in ("linear_svm", "softmax", "gradient_check", "linear_classifier", "tuning"):
            zf.write(REFERENCE_DIR / f"{module}.py", f"hw/{module}.py")
        zf.writestr("../evil.py", "print('outside')\n")
    return path


def zip_bomb(tmp: Path) -> Path:
    path = tmp / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("linear_svm.py", "w", force_zip64=True) as fh:
            chunk = b"#" * (1 << 20)
            for _ in range(300):  # 300 MB of comment, about 300 KB compressed
                fh.write(chunk)
    assert path.stat().st_size < 2 << 20
    return path


#: fixture builder -> phrase the report must contain (lower case)
MALFORMED = {
    "invalid_json": (lambda t: _write(t / "invalid_json.ipynb", '{"cells": [, }'), "not valid json"),
    "nbformat3": (nbformat3, "format 3"),
    "no_metadata": (no_metadata, "no nbgrader metadata"),
    "duplicated_grade_id": (duplicated_grade_id, "appears in 2 cells"),
    "renamed_grade_id": (renamed_grade_id, "renamed"),
    "deleted_solution": (deleted_solution, "deleted"),
    "solution_as_markdown": (solution_as_markdown, "markdown"),
    "huge_output": (huge_output, None),
    "binary_garbage": (lambda t: _write(t / "garbage.ipynb", os.urandom(4096) + b"\xff\xfe"), "not a notebook"),
    "empty_file": (lambda t: _write(t / "empty.ipynb", b""), "is empty"),
    "zip_traversal": (zip_traversal, "path traversal"),
    "zip_bomb": (zip_bomb, "zip bomb"),
}


BIG = {"huge_output", "zip_bomb"}  # 50 MB and 300 MB to build: a few seconds each


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in BIG else n
                                  for n in sorted(MALFORMED)])
def test_loader_reports_a_clear_problem(name, tmp_path):
    build, phrase = MALFORMED[name]
    path = build(tmp_path)
    sub = load_submission(path, ASSIGNMENT)  # never raises for a bad submission
    text = " ".join(sub.problems).lower()
    if phrase is None:  # a big but valid notebook: read, no problem
        assert "svm_loss_naive" in {u.name for u in sub.units}
    else:
        assert phrase in text, sub.problems
        assert all("\n" not in p and len(p) < 400 for p in sub.problems), sub.problems  # one clear line each
    assert not (tmp_path.parent / "evil.py").exists()


@pytest.mark.slow
def test_batch_goes_on_past_every_malformed_submission(tmp_path):
    klass = tmp_path / "class"
    klass.mkdir()
    for name, (build, _) in MALFORMED.items():
        (klass / name).mkdir()
        built = build(klass / name)
        if built.suffix == ".zip":  # a zip is a submission of its own, not a file inside a folder
            built.rename(klass / f"{name}.zip")
            (klass / name).rmdir()
    reference = klass / "reference"
    reference.mkdir()
    for module in ("linear_svm", "softmax", "gradient_check", "linear_classifier", "tuning"):
        (reference / f"{module}.py").write_text((REFERENCE_DIR / f"{module}.py").read_text())
    out = tmp_path / "out"
    proc = subprocess.run([str(LINCLASS), "grade", str(klass), "--out", str(out), "--jobs", "2"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    for name, (_, phrase) in MALFORMED.items():
        results = json.loads((out / name / "results.json").read_text())
        if phrase:
            assert phrase in results["output"].lower(), (name, results["output"])
    reference_results = json.loads((out / "reference" / "results.json").read_text())
    assert reference_results["score"] >= 0.9 * reference_results["max_score"]
    assert not (tmp_path / "evil.py").exists() and not (klass / "evil.py").exists()
