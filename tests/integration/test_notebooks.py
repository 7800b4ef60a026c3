"""The notebooks in a real Jupyter kernel (nbclient + the venv's ipykernel).

* every source notebook runs top to bottom on the embedded digits, every check passing;
* every release notebook runs up to the first student function and stops at its test cell,
  which says that it is not written yet, nothing earlier failing;
* a release filled with the reference code (keyed by grade_id) runs top to bottom.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from kit import ROOT
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from shared_build import once, release_cli

from linclass.course.release import fill_release

COURSE = ROOT / "assignments"
ASSIGNMENT = "linear_classifiers"
SOURCE = COURSE / "source" / ASSIGNMENT
NOTEBOOKS = ("gradient_check.ipynb", "svm.ipynb", "softmax.ipynb")

pytestmark = pytest.mark.slow


def execute(path: Path, extra_cells: tuple[str, ...] = (), stop_at_error: bool = False) -> nbformat.NotebookNode:
    """Run a notebook in its own folder with the kernel "python3" (this interpreter: jupyter_client
    replaces the kernelspec's `python` with sys.executable), on the embedded digits.

    With ``stop_at_error`` execution stops at the first error, like "Run All" in Jupyter, and
    the partly executed notebook is returned; otherwise an error raises CellExecutionError.
    """
    nb = nbformat.read(path, as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(src) for src in extra_cells]
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute(env={**os.environ, "LINCLASS_DATA": "digits"})
    except CellExecutionError:
        if not stop_at_error:
            raise
    return nb


def errors(nb) -> list[tuple[int, str]]:
    return [(i, o["ename"]) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.outputs if o.output_type == "error"]


def stderr(nb) -> list[str]:
    return [o["text"] for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
            for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_source_notebook_runs_top_to_bottom(name, tmp_path):
    work = tmp_path / "src"
    shutil.copytree(SOURCE, work)  # symlinks followed: data.py etc. become real copies
    nb = execute(work / name, ("import sys; print(sys.prefix)",))
    assert errors(nb) == []
    assert stderr(nb) == [], "a graded cell writing to stderr scores 0 in nbgrader"
    assert nb.cells[-1].outputs[0]["text"].strip() == sys.prefix, "the kernel must be this venv's python"
    if name != "gradient_check.ipynb":
        images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        assert len(images) >= 4, "examples, loss curve, heatmap and templates"


@pytest.fixture(scope="module")
def release(tmp_path_factory, worker_id) -> Path:
    """The release built by `linclass release`, once per session (shared with test_release.py)."""
    built = once(tmp_path_factory, worker_id, "release_cli", release_cli)
    return Path(built["course"]) / "release" / ASSIGNMENT


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_release_notebook_stops_at_the_first_student_function(name, release, tmp_path):
    work = tmp_path / "rel"
    shutil.copytree(release, work)
    nb = execute(work / name, stop_at_error=True)
    first_solution = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution")
                          and c.cell_type == "code")
    assert len(errors(nb)) == 1, "execution stops at the first error"
    first_error, ename = errors(nb)[0]
    error = next(o for o in nb.cells[first_error].outputs if o.output_type == "error")
    gid = nb.cells[first_solution].metadata["nbgrader"]["grade_id"]
    assert (ename, error["evalue"]) == ("AssertionError", f"{gid} is not written yet (it raises NotImplementedError)")
    next_code = next(i for i in range(first_solution + 1, len(nb.cells)) if nb.cells[i].cell_type == "code")
    assert first_error == next_code, "it stops right after the first student function, at its first use"
    before = [c for c in nb.cells[:first_error] if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in before), "every cell before the first student function runs"


def test_reference_filled_release_runs_top_to_bottom(release, tmp_path):
    filled = fill_release(release, SOURCE, tmp_path / "filled")
    for name in NOTEBOOKS:
        nb = execute(filled / name)
        assert errors(nb) == [], name
        assert stderr(nb) == [], name


def test_shipped_selfcheck_runs_standalone_in_the_release(release, tmp_path):
    """`python selfcheck.py` as a student runs it: only the release's own files, no linclass."""
    filled = fill_release(release, SOURCE, tmp_path / "filled")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}  # no PYTHONPATH: linclass is not importable
    done = subprocess.run([sys.executable, "-I", "selfcheck.py"], cwd=filled, capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Summary: 12 of 12 parts pass." in done.stdout
    fresh = tmp_path / "fresh"
    shutil.copytree(release, fresh)
    done = subprocess.run([sys.executable, "-I", "selfcheck.py"], cwd=fresh, capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "0 of 12 parts pass; not implemented yet:" in done.stdout
