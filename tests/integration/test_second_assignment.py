"""A second assignment is a package, not a fork: the kit releases, self-checks, grades and
bundles ``tests/fixtures/assignments/tiny_regression/`` (two functions, a reference, one
notebook, three checks, one misconception), and nothing outside that folder names it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest
from kit import ROOT

from linclass.assignment import load_assignment
from linclass.cli import main as cli_main
from linclass.course import notebook_builder
from linclass.course.bundle import build_gradescope_zip, run_gradescope
from linclass.course.leakcheck import check_release
from linclass.course.release import fill_release

FOLDER = ROOT / "tests" / "fixtures" / "assignments" / "tiny_regression"
TINY = load_assignment(FOLDER)
#: The planted bug of the one misconception: the gradient without its factor 2.
HALF_GRADIENT = ("2.0 * X.T", "X.T")


def test_it_is_found_by_its_folder_and_read_from_its_own_files():
    assert TINY.name == "tiny_regression" and TINY.root == FOLDER
    assert TINY.spec.part_names == ("mse_loss", "predict")
    assert TINY.reference_dir == FOLDER / "solutions" and TINY.source_dir == FOLDER / "source"
    assert not TINY.ops_path.exists()  # plain calls need no requests of its own


def test_its_notebook_is_generated_from_its_reference():
    assert notebook_builder.main(["--assignment", str(FOLDER), "--check"]) == 0


def test_nothing_outside_its_folder_names_it():
    """The extension point needed no change elsewhere: no file of the kit mentions it."""
    hits = [str(p.relative_to(ROOT)) for folder in ("linclass", "autograder", "assignments", "docs")
            for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in (".py", ".toml", ".md", ".ini")
            and "tiny_regression" in p.read_text(errors="replace")]
    assert hits == [] or hits == ["docs/adding-an-assignment.md"]


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """`linclass release <folder> --course DIR`, then a correct and a buggy student copy."""
    tmp = tmp_path_factory.mktemp("tiny")
    assert cli_main(["release", str(FOLDER), "--course", str(tmp / "course")]) == 0
    release = tmp / "course" / "release" / "tiny_regression"
    good = fill_release(release, TINY.source_dir, tmp / "good")
    bug = fill_release(release, TINY.source_dir, tmp / "bug",
                       mutate=lambda gid, code: code.replace(*HALF_GRADIENT) if gid == "mse_loss" else code)
    return {"tmp": tmp, "release": release, "good": good, "bug": bug}


@pytest.mark.slow
def test_the_release_is_built_with_nbgrader_and_leaks_nothing(released):
    release = released["release"]
    files = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    assert "regression.ipynb" in files and "selfcheck.py" in files
    assert "linclass/assignments/tiny_regression/checks.py" in files
    assert not [f for f in files if "solutions" in f or "suite" in f or "misconceptions" in f]
    assert check_release(release, TINY) == []
    assert (released["tmp"] / "course" / "release" / "tiny_regression.zip").is_file()


@pytest.mark.slow
def test_it_is_graded_end_to_end(released):
    out = released["tmp"] / "grades"
    assert cli_main(["grade", str(released["good"]), str(released["bug"]), "--assignment", str(FOLDER),
                     "--out", str(out)]) == 0
    good = json.loads((out / "good" / "results.json").read_text())
    bug = json.loads((out / "bug" / "results.json").read_text())
    assert (good["score"], good["max_score"]) == (10, 10)
    lost = {t["name"]: t for t in bug["tests"] if t["score"] < t["max_score"]}
    assert list(lost) == ["mse_loss: gradient"] and bug["score"] == 6
    assert lost["mse_loss: gradient"]["extra_data"]["misconceptions"] == ["mse_gradient_missing_2"]
    assert "lost its factor 2" in (out / "bug" / "feedback.md").read_text()
    header = (out / "grades.csv").read_text().splitlines()[0]
    assert header == "student_id,score,max_score,mse_loss,predict,misconceptions"


@pytest.mark.slow
def test_its_module_file_is_graded_like_its_notebook(released, tmp_path):
    (tmp_path / "dana").mkdir()
    (tmp_path / "dana" / "regression.py").write_text((TINY.reference_dir / "regression.py").read_text())
    assert cli_main(["grade", str(tmp_path / "dana"), "--assignment", str(FOLDER), "--out", str(tmp_path / "o")]) == 0
    assert json.loads((tmp_path / "o" / "dana" / "results.json").read_text())["score"] == 10


@pytest.mark.slow
def test_its_self_check_runs_from_the_kit_and_standalone_in_the_release(released, capsys):
    assert cli_main(["check", str(released["good"]), "--assignment", str(FOLDER)]) == 0
    assert cli_main(["check", str(released["bug"]), "--assignment", str(FOLDER)]) == 1
    assert "the factor 2 of r**2" in capsys.readouterr().out
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for student, code in (("good", 0), ("bug", 1)):
        run = subprocess.run([sys.executable, "selfcheck.py"], cwd=released[student], env=env, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == code, run.stdout + run.stderr


@pytest.mark.slow
def test_it_bundles_for_gradescope(released, tmp_path, monkeypatch):
    zip_path = build_gradescope_zip(tmp_path / "tiny.zip", TINY)
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        run_autograder = zf.read("run_autograder").decode()
    prefix = "tests/fixtures/assignments/tiny_regression/"
    assert {prefix + "suite/test_loss.py", prefix + "solutions/regression.py", prefix + "source/regression.ipynb",
            "autograder/plugin.py"} <= names
    assert f'--assignment "{prefix.rstrip("/")}"' in run_autograder
    assert run_gradescope(released["bug"], tmp_path / "results", str(FOLDER)) == 0
    assert json.loads((tmp_path / "results" / "results.json").read_text())["score"] == 6
