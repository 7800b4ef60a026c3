"""`linclass release`: real nbgrader, a reproducible zip, and a leak check that can fail."""

from __future__ import annotations

import inspect
import json
import re
import shutil
import textwrap
import zipfile
from pathlib import Path

import pytest
from kit import ASSIGNMENT as TASK
from kit import REFERENCE_DIR, ROOT
from shared_build import once, release_cli

from linclass.cli import main as cli_main
from linclass.course.leakcheck import check_release
from linclass.course.release import build_release, copy_course, validate_source
from linclass.errors import LinclassError
from solutions.linear_classifiers.linear_svm import svm_loss_naive

COURSE = ROOT / "assignments"
ASSIGNMENT = "linear_classifiers"
SOURCE = COURSE / "source" / ASSIGNMENT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def released(tmp_path_factory, worker_id) -> tuple[Path, str]:
    """The real command on a copy of the course (validate included), once per session."""
    built = once(tmp_path_factory, worker_id, "release_cli", release_cli)
    return Path(built["course"]), built["out"]


def test_release_prints_what_it_produced(released):
    course, out = released
    assert "nbgrader validate: 3 source notebooks pass all their tests" in out
    assert "leak check passed" in out
    for name in ("gradient_check.ipynb", "svm.ipynb", "softmax.ipynb", "data.py", "slides.py", "selfcheck.py"):
        assert f"    {name}\n" in out
    assert "linear_classifiers.zip" in out
    assert not (course / "gradebook.db").exists(), "release must not leave a gradebook behind"


def test_release_contents(released):
    course, _ = released
    rel = course / "release" / ASSIGNMENT
    files = sorted(p.relative_to(rel).as_posix() for p in rel.rglob("*") if p.is_file())
    student_side = sorted(f"linclass/student/{p.name}" for p in (ROOT / "linclass" / "student").glob("*.py"))
    package = [f"linclass/assignments/{ASSIGNMENT}/{name}" for name in ("__init__.py", "checks.py", "spec.py")]
    assert files == ["README.md", "data.py", "gradient_check.ipynb", "linclass/__init__.py",
                     "linclass/assignments/__init__.py", *package, "linclass/errors.py", *student_side, "plots.py",
                     "requirements.txt", "selfcheck.py", "slides.py", "softmax.ipynb", "svm.ipynb"]
    assert not any(p.is_symlink() for p in rel.rglob("*"))
    assert (rel / "data.py").read_bytes() == (TASK.root / "shipped" / "data.py").read_bytes()
    with zipfile.ZipFile(course / "release" / f"{ASSIGNMENT}.zip") as zf:
        names = sorted(zf.namelist())
        assert names == [f"{ASSIGNMENT}/{f}" for f in files]
        assert zf.read(f"{ASSIGNMENT}/svm.ipynb") == (rel / "svm.ipynb").read_bytes()
    assert check_release(rel, TASK, SOURCE) == []


def test_release_ships_the_students_requirements(released):
    """A student's environment needs numpy, matplotlib, jupyterlab and scikit-learn (its bundled
    digits), never nbgrader: everything the release imports is the standard library, a
    requirement, or a file of the release."""
    import ast
    import sys

    course, _ = released
    rel = course / "release" / ASSIGNMENT
    lines = [line.split("#")[0].strip() for line in (rel / "requirements.txt").read_text().splitlines()]
    names = [re.split(r"[<>=!~ ]", line)[0] for line in lines if line]
    assert names == ["numpy", "matplotlib", "jupyterlab", "scikit-learn"]
    provides = {"numpy": {"numpy"}, "matplotlib": {"matplotlib"}, "jupyterlab": {"IPython", "ipykernel"},
                "scikit-learn": {"sklearn"}}
    local = {p.stem for p in rel.glob("*.py")} | {p.name for p in rel.iterdir() if p.is_dir()}
    allowed = set(sys.stdlib_module_names) | set().union(*provides.values()) | local

    def imports(source: str):
        tree = ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                   for line in source.splitlines()))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                yield from (a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                yield node.module.split(".")[0]

    used = {}
    for path in rel.rglob("*"):
        if path.suffix == ".py":
            sources = [path.read_text()]
        elif path.suffix == ".ipynb":
            sources = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        else:
            continue
        for source in sources:
            for name in imports(source):
                used.setdefault(name, path.relative_to(rel).as_posix())
    assert "nbgrader" not in used
    assert {name: where for name, where in used.items() if name not in allowed} == {}


def test_release_does_not_print_kernel_warnings(tmp_path, capfd):
    """nbgrader validate's kernels warn that local TCP is unencrypted, on stderr, once per notebook."""
    course = copy_course(COURSE, tmp_path / "course")
    assert validate_source(course, course, [course / "source" / ASSIGNMENT / "gradient_check.ipynb"]) == []
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out


def test_release_is_reproducible(released, tmp_path):
    course, _ = released
    again = build_release(TASK, copy_course(course, tmp_path / "again"), validate=False, log=lambda _: None)
    assert again.zip_path.read_bytes() == (course / "release" / f"{ASSIGNMENT}.zip").read_bytes()


# ----------------------------------------------------------------------- the leak check fails
def _leaky_copy(released, tmp_path) -> Path:
    course, _ = released
    dst = tmp_path / "leaky"
    shutil.copytree(course / "release" / ASSIGNMENT, dst)
    return dst


def _edit_cell(nb_path: Path, grade_id: str, edit) -> None:
    nb = json.loads(nb_path.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            cell["source"] = edit("".join(cell["source"]))
    nb_path.write_text(json.dumps(nb))


def test_leak_check_catches_a_copied_solution_body(released, tmp_path):
    leaky = _leaky_copy(released, tmp_path)
    body = textwrap.dedent(inspect.getsource(svm_loss_naive)).split('    """\n', 1)[1]  # after the docstring
    _edit_cell(leaky / "svm.ipynb", "svm_loss_naive",
               lambda src: src.replace("    # YOUR CODE HERE\n    raise NotImplementedError()", body.rstrip()))
    findings = [str(f) for f in check_release(leaky, TASK, SOURCE)]
    assert any("is a line of the reference linear_classifiers/linear_svm.py:svm_loss_naive" in f for f in findings)
    assert any("svm_loss_naive is the reference implementation" in f for f in findings)
    assert any("svm_loss_naive (cell 'svm_loss_naive') does not just raise NotImplementedError" in f
               for f in findings)


def test_leak_check_catches_a_renamed_or_recommented_copy(released, tmp_path):
    leaky = _leaky_copy(released, tmp_path)
    # one reference line, re-indented and with a different comment, hidden in a support file
    planted = "\ndef helper(W, reg):\n        loss = 0\n        loss +=   reg * np.sum( W * W )   # hint\n"
    (leaky / "plots.py").write_text((leaky / "plots.py").read_text() + planted)
    findings = [str(f) for f in check_release(leaky, TASK, SOURCE)]
    assert any(f.startswith("plots.py: line") and "reference linear_classifiers/linear_svm.py" in f for f in findings)


@pytest.mark.parametrize("plant,expect", [
    ("marker", "contains the nbgrader marker 'BEGIN SOLUTION'"),
    ("hidden", "is from the hidden tests of "),
    ("answer", "contains the model answer of q_include_correct"),
    ("checkpoint", "must not be in a release"),
    ("solutions", "is a copy of the reference's tuning.py, which only the grader may see"),
    ("suite", "is a copy of linear_classifiers/suite/test_tuning.py, which only the grader may see"),
    ("catalog", "is a copy of linear_classifiers/misconceptions.py, which only the grader may see"),
    ("unstubbed", "rel_error (cell 'rel_error') does not just raise NotImplementedError"),
    ("deleted", "the solution cell 'rel_error' is missing"),
])
def test_leak_check_catches(released, tmp_path, plant, expect):
    leaky = _leaky_copy(released, tmp_path)
    src_nb = json.loads((SOURCE / "svm.ipynb").read_text())
    if plant == "marker":
        _edit_cell(leaky / "svm.ipynb", "svm_loss_naive", lambda s: s + "\n    ### BEGIN SOLUTION\n    pass")
    elif plant == "hidden":
        test = next("".join(c["source"]) for c in src_nb["cells"]
                    if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_svm_loss_naive")
        hidden = test.split("### BEGIN HIDDEN TESTS\n")[1].split("\n")[3]
        _edit_cell(leaky / "svm.ipynb", "svm_timing", lambda s: s + "\n" + hidden)
    elif plant == "answer":
        answer = next("".join(c["source"]) for c in src_nb["cells"]
                      if c["metadata"].get("nbgrader", {}).get("grade_id") == "q_include_correct")
        (leaky / "README.md").write_text(answer)
    elif plant == "checkpoint":
        (leaky / ".ipynb_checkpoints").mkdir()
        shutil.copy(leaky / "svm.ipynb", leaky / ".ipynb_checkpoints" / "svm-checkpoint.ipynb")
    elif plant == "solutions":
        shutil.copy(REFERENCE_DIR / "tuning.py", leaky / "notes.py")
    elif plant == "suite":
        shutil.copy(TASK.suite_dir / "test_tuning.py", leaky / "notes.py")
    elif plant == "catalog":
        shutil.copy(TASK.root / "misconceptions.py", leaky / "helpers.py")
    elif plant == "unstubbed":
        _edit_cell(leaky / "gradient_check.ipynb", "rel_error",
                   lambda s: s.replace("raise NotImplementedError()", "return 0.0"))
    elif plant == "deleted":
        nb = json.loads((leaky / "gradient_check.ipynb").read_text())
        nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "rel_error"]
        (leaky / "gradient_check.ipynb").write_text(json.dumps(nb))
    findings = [str(f) for f in check_release(leaky, TASK, SOURCE)]
    assert any(expect in f for f in findings), findings


def test_release_refuses_and_deletes_a_leaking_release(tmp_path, monkeypatch):
    course = copy_course(COURSE, tmp_path / "course")
    import linclass.course.release as release

    monkeypatch.setattr(release, "check_release", lambda *a: ["svm.ipynb: planted finding"])
    with pytest.raises(LinclassError, match="planted finding"):
        release.build_release(TASK, course, validate=False, log=lambda _: None)
    assert not (course / "release" / ASSIGNMENT).exists()
    assert not (course / "release" / f"{ASSIGNMENT}.zip").exists()


def test_validate_catches_a_failing_source_notebook(tmp_path):
    course = copy_course(COURSE, tmp_path / "course")
    nb_path = course / "source" / ASSIGNMENT / "gradient_check.ipynb"
    _edit_cell(nb_path, "rel_error", lambda s: s.replace("return float(np.max(", "return float(np.min("))
    problems = validate_source(course, course, [nb_path])
    assert problems and all(p.startswith("gradient_check.ipynb: failed cell") for p in problems)
    assert any("AssertionError" in p for p in problems)


def test_release_of_a_missing_assignment_is_one_clear_error(tmp_path, capsys):
    assert cli_main(["release", "nope", "--course", str(tmp_path)]) == 2
    assert "no assignment 'nope': give one of linear_classifiers or the folder" in capsys.readouterr().err
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "spec.py").write_text("SPEC = 1\n")
    assert cli_main(["release", str(tmp_path / "pkg")]) == 2
    assert "SPEC must be a linclass.student.spec.Spec" in capsys.readouterr().err
