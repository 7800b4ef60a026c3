"""The public self-check: passes on the reference, fails with a useful message on buggy copies."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from kit import ASSIGNMENT, REFERENCE_DIR
from kit import SOURCE as SOURCE_DIR

from linclass.cli import main as cli_main
from linclass.student import live, selfcheck

CHECKS = ASSIGNMENT.module("checks")

SOLUTIONS = REFERENCE_DIR


def run(path) -> tuple[int, str]:
    out = io.StringIO()
    code = selfcheck.check(path, ASSIGNMENT.spec, CHECKS, out=out)
    return code, out.getvalue()


def modules_with(tmp_path: Path, module: str, old: str, new: str) -> Path:
    """A CS231n-style module folder: the reference with one edit (a planted bug)."""
    dst = tmp_path / "student"
    shutil.copytree(SOLUTIONS, dst, ignore=shutil.ignore_patterns("__pycache__"))
    path = dst / f"{module}.py"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))
    return dst


def test_reference_modules_pass():
    code, out = run(SOLUTIONS)
    assert code == 0, out
    assert "Summary: 12 of 12 parts pass." in out


def test_reference_notebooks_pass():
    code, out = run(SOURCE_DIR)  # the source notebooks: solution cells are the reference
    assert code == 0, out
    assert "FAIL" not in out and "Traceback" not in out


def test_one_notebook_checks_only_its_parts():
    code, out = run(SOURCE_DIR / "gradient_check.ipynb")
    assert code == 0
    assert "3 of 3 parts pass" in out and "svm_loss_naive" not in out


BUGS = [
    ("linear_svm",
     "            if j == y[i]:\n                continue  # the correct class is not part of the sum\n", "",
     "svm_loss_naive", "exactly 1 too high"),
    ("linear_svm", "    loss /= num_train\n", "", "svm_loss_naive", "divide the sum by N"),
    ("linear_svm", "    dW += 2 * reg * W\n    return float(loss), dW\n\n\ndef svm_loss_vectorized",
     "    dW += reg * W\n    return float(loss), dW\n\n\ndef svm_loss_vectorized", "svm_loss_naive",
     "regularization gradient is 2 * reg * W"),
    ("softmax", "    loss = -log_probs[rows, y].mean()", "    loss = -log_probs[rows, y].mean() / np.log(10)",
     "softmax_loss_vectorized", "base-10"),
    ("softmax", "    shifted = scores - scores.max(axis=1, keepdims=True)", "    shifted = scores",
     "softmax_loss_vectorized", "subtract each row's max"),
    ("gradient_check", "            x[ix] = original - h\n            f_minus = f(x)\n        finally:\n"
     "            x[ix] = original\n        grad[ix] = (f_plus - f_minus) / (2 * h)",
     "            x[ix] = original\n            f_minus = f(x)\n        finally:\n"
     "            x[ix] = original\n        grad[ix] = (f_plus - f_minus) / h", "eval_numerical_gradient",
     "forward difference"),
    ("gradient_check", "    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))",
     "    return np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))", "rel_error", "Python float"),
    ("linear_classifier", "        return np.argmax(X @ self.W, axis=1)",
     "        return np.argmax(X @ self.W, axis=1) * 1.0", "LinearClassifier.predict", "must be integers"),
    ("linear_classifier", "        if self.W is None:\n            self.W = 0.001",
     "        if True:\n            self.W = 0.001", "LinearClassifier.train", "keeping a W you set"),
    ("tuning", "            if val_accuracy > best_val_accuracy:\n"
     "                best_model, best_val_accuracy = model, val_accuracy",
     "            if train_accuracy > best_val_accuracy:\n"
     "                best_model, best_val_accuracy = model, train_accuracy",
     "tune_hyperparameters", "best *validation* accuracy"),
    ("linear_svm", "    margins[rows, y] = 0\n", "    margins[rows, y] = 0\n    X[0, 0] += 1.0\n",
     "svm_loss_vectorized", "modified its inputs"),
]


@pytest.mark.parametrize("module,old,new,part,hint", BUGS, ids=[b[3] + ":" + b[4][:12] for b in BUGS])
def test_buggy_copy_fails_with_a_useful_message(tmp_path, module, old, new, part, hint):
    code, out = run(modules_with(tmp_path, module, old, new))
    assert code == 1, out
    assert "Traceback" not in out
    block = out.split(f"\n{part}\n")[1].split("\n\n")[0]
    assert "FAIL" in block and hint in block, out
    assert "failing: " in out.split("Summary:")[1] and part in out.split("Summary:")[1]


def test_a_crash_is_one_line_with_the_students_line_number(tmp_path):
    student = modules_with(tmp_path, "linear_svm", "    loss /= num_train\n", "    loss /= num_train - num_train\n")
    code, out = run(student)
    assert code == 1
    assert "raised ZeroDivisionError: float division by zero (line " in out and "of your linear_svm.py)" in out
    assert "Traceback" not in out


def test_unimplemented_release_cells_are_todo(tmp_path):
    nb = nbformat.v4.new_notebook()
    stub = nbformat.v4.new_code_cell("def rel_error(x, y):\n    # YOUR CODE HERE\n    raise NotImplementedError()")
    stub.metadata["nbgrader"] = {"grade_id": "rel_error", "solution": True}
    nb.cells = [stub]
    nbformat.write(nb, tmp_path / "gradient_check.ipynb")
    code, out = run(tmp_path / "gradient_check.ipynb")
    assert code == 1
    assert "TODO  values: 0.2 / 4.2 and zeros (not implemented yet)" in out
    assert "not implemented yet: rel_error" in out


def test_endless_loop_times_out(tmp_path, monkeypatch):
    monkeypatch.setattr(selfcheck, "CALL_TIMEOUT", 1)
    student = modules_with(tmp_path, "gradient_check", '    x = np.asarray(x, dtype=np.float64)\n',
                           '    while True:\n        pass\n')
    code, out = run(student)
    assert code == 1 and "took longer than 1 s" in out


def test_zip_and_cli(tmp_path, capsys):
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in SOLUTIONS.glob("*.py"):
            zf.write(p, f"cs231n/classifiers/{p.name}")
    assert cli_main(["check", str(archive)]) == 0
    assert "12 of 12 parts pass" in capsys.readouterr().out
    assert cli_main(["check", str(tmp_path / "missing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_import_cells_loads_a_sibling_notebook(tmp_path, monkeypatch):
    shutil.copy(SOURCE_DIR / "gradient_check.ipynb", tmp_path)
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    selfcheck.import_cells("gradient_check.ipynb", ["rel_error"], ns)
    assert ns["rel_error"](1.0, 1.0) == 0.0
    with pytest.raises(selfcheck.CodeLoadError, match="has no cell 'nope'"):
        selfcheck.import_cells("gradient_check.ipynb", ["nope"], ns)
    with pytest.raises(selfcheck.CodeLoadError, match="svm.ipynb was not found"):
        selfcheck.import_cells("svm.ipynb", ["svm_loss_naive"], ns)


def test_import_cells_under_nbgrader_autograde_reads_the_submission(tmp_path, monkeypatch):
    submitted = tmp_path / "submitted" / "alice" / "hw"
    autograded = tmp_path / "autograded" / "alice" / "hw"
    submitted.mkdir(parents=True)
    autograded.mkdir(parents=True)
    nb = json.loads((SOURCE_DIR / "gradient_check.ipynb").read_text())
    (submitted / "gradient_check.ipynb").write_text(json.dumps(nb))
    monkeypatch.chdir(autograded)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    ns: dict = {}
    selfcheck.import_cells("gradient_check.ipynb", ["eval_numerical_gradient"], ns)
    assert "eval_numerical_gradient" in ns


# ------------------------------------------------------------- parts in notebook order, --part
NOTEBOOK_ORDER = ["eval_numerical_gradient", "rel_error", "grad_check_sparse",  # gradient_check.ipynb
                  "svm_loss_naive", "svm_loss_vectorized", "LinearClassifier.train", "LinearClassifier.predict",
                  "LinearSVM.loss", "tune_hyperparameters",  # svm.ipynb
                  "softmax_loss_naive", "softmax_loss_vectorized", "Softmax.loss"]  # softmax.ipynb


def _listed_parts(out: str) -> list[str]:
    names = set(ASSIGNMENT.spec.part_names)
    return [line for line in out.splitlines() if line in names]


def test_parts_are_listed_in_notebook_order(tmp_path):
    code, out = run(SOURCE_DIR)
    assert code == 0, out
    assert _listed_parts(out) == NOTEBOOK_ORDER
    release_like = tmp_path / "release"  # every solution cell a stub: the summary names them in order too
    release_like.mkdir()
    for name in ("gradient_check.ipynb", "svm.ipynb", "softmax.ipynb"):
        nb = json.loads((SOURCE_DIR / name).read_text())
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("solution") and cell["cell_type"] == "code":
                cell["source"] = "".join(cell["source"]).replace("### BEGIN SOLUTION", "raise NotImplementedError()")
        (release_like / name).write_text(json.dumps(nb))
    code, out = run(release_like)
    assert code == 1
    assert out.split("not implemented yet: ")[-1].strip() == ", ".join(NOTEBOOK_ORDER) + "."


def test_part_option_checks_one_part(capsys):
    assert selfcheck.run_main(argv=[str(SOURCE_DIR), "--part", "svm_loss_vectorized"]) == 0
    out = capsys.readouterr().out
    assert _listed_parts(out) == ["svm_loss_vectorized"] and "Summary: 1 of 1 parts pass." in out
    assert selfcheck.run_main(argv=["--part=LinearClassifier", str(SOURCE_DIR)]) == 0  # a class cell: its parts
    assert _listed_parts(capsys.readouterr().out) == ["LinearClassifier.train", "LinearClassifier.predict"]


@pytest.mark.parametrize("argv,message", [
    (["--part", "svm_loss"], "no part 'svm_loss'; the parts are: eval_numerical_gradient, rel_error, "),
    (["--part"], "--part needs a part name"),
    (["--verbose"], "unknown option --verbose"),
])
def test_part_option_errors_are_one_line(capsys, argv, message):
    assert selfcheck.run_main(argv=[str(SOURCE_DIR), *argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err + captured.out


def test_linclass_check_has_the_part_option(capsys):
    assert cli_main(["check", str(SOURCE_DIR), "--part", "rel_error"]) == 0
    assert _listed_parts(capsys.readouterr().out) == ["rel_error"]


def test_script_under_ipython_does_not_raise_systemexit(monkeypatch, capsys):
    """`%run selfcheck.py` in a notebook: the report, and no SystemExit under it."""
    monkeypatch.setattr(selfcheck, "in_ipython", lambda: True)
    monkeypatch.setattr("sys.argv", ["selfcheck.py", "--part", "rel_error"])
    selfcheck.script_main(here=SOURCE_DIR)  # returns: nothing to catch
    out = capsys.readouterr().out
    assert "save them first" in out and _listed_parts(out) == ["rel_error"]
    monkeypatch.setattr(selfcheck, "in_ipython", lambda: False)
    with pytest.raises(SystemExit) as exited:
        selfcheck.script_main(here=SOURCE_DIR)
    assert exited.value.code == 0


# ------------------------------------------------------------------ the kernel's live objects
def _solution(grade_id: str) -> str:
    from linclass.course.notebook_builder import strip_markers

    nb = json.loads((SOURCE_DIR / "svm.ipynb").read_text())
    return next(strip_markers("".join(c["source"])) for c in nb["cells"]
                if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id and c["cell_type"] == "code")


def _run_cell(namespace: dict, source: str, name: str) -> None:
    """Run ``source`` as IPython runs a cell: compiled under a file name whose text is in linecache."""
    import linecache

    filename = f"/tmp/ipykernel_0/{name}-{abs(hash(source))}.py"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102


@pytest.fixture
def kernel() -> dict:
    """A kernel's globals after the svm notebook's setup cell and both loss cells (the reference)."""
    ns = {"__name__": "__main__"}
    _run_cell(ns, "from typing import Sequence\n\nimport numpy as np\n\nDELTA = 1.0\n", "setup")
    for grade_id in ("svm_loss_naive", "svm_loss_vectorized"):
        _run_cell(ns, _solution(grade_id), grade_id)
    return ns


def test_check_cell_passes_in_one_line(kernel):
    out = io.StringIO()
    report = live.check_cell("svm_loss_vectorized", kernel, out=out)
    assert report.passed and bool(report)
    assert out.getvalue().splitlines() == [
        f"svm_loss_vectorized: all {len(report.results)} public checks pass (the grader also uses hidden inputs)"]


def test_check_cell_diagnoses_the_live_function_not_the_file(kernel, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no notebook anywhere: only the kernel's objects count
    buggy = _solution("svm_loss_vectorized").replace("    margins[rows, y] = 0\n", "")
    _run_cell(kernel, buggy, "svm_loss_vectorized-edited")  # re-run after an edit, not saved
    out = io.StringIO()
    report = live.check_cell("svm_loss_vectorized", kernel, out=out)
    assert not report.passed
    assert "FAIL  slides: cat/car/frog" in out.getvalue()
    assert report.summary.startswith("svm_loss_vectorized: the slides' cat/car/frog table gives 2.9, 0, 12.9")
    assert "exactly 1 too high: the sum must skip the correct class j = y_i" in report.summary


def test_check_cell_finds_loops_in_the_cell_that_ran(kernel):
    looped = _solution("svm_loss_vectorized").replace(
        "    margins[rows, y] = 0\n", "    for i in range(num_train):\n        margins[i, y[i]] = 0\n")
    _run_cell(kernel, looped, "svm_loss_vectorized-looped")
    out = io.StringIO()
    report = live.check_cell("svm_loss_vectorized", kernel, out=out)
    assert not report.passed
    assert "FAIL  no Python loops: a for loop at line" in out.getvalue()
    assert "of svm_loss_vectorized: use array operations instead" in out.getvalue()


def test_check_cell_names_the_students_line(kernel):
    crash = _solution("svm_loss_naive").replace("    loss /= num_train\n", "    loss /= num_train - num_train\n")
    _run_cell(kernel, crash, "svm_loss_naive-crash")
    report = live.check_cell("svm_loss_naive", kernel, out=io.StringIO())
    assert "raised ZeroDivisionError: float division by zero (line " in report.summary
    assert "of your svm_loss_naive)" in report.summary


def test_check_cell_of_an_unwritten_function(kernel):
    _run_cell(kernel, "def svm_loss_naive(W, X, y, reg):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n",
              "stub")
    out = io.StringIO()
    report = live.check_cell("svm_loss_naive", kernel, out=out)
    assert not report.passed
    assert report.summary == "svm_loss_naive is not written yet (it raises NotImplementedError)"
    assert out.getvalue().strip() == report.summary


def test_check_cell_before_its_cell_ran(kernel):
    del kernel["svm_loss_vectorized"]
    report = live.check_cell("svm_loss_vectorized", kernel, out=io.StringIO())
    assert report.summary == ("svm_loss_vectorized: svm_loss_vectorized is not defined "
                              "(run the cell that defines it first)")


def test_check_cell_of_an_unwritten_class(kernel):
    _run_cell(kernel, "class LinearClassifier:\n    def train(self, X, y, **kw):\n        raise NotImplementedError()\n"
              "\n    def predict(self, X):\n        raise NotImplementedError()\n", "stub")
    report = live.check_cell("LinearClassifier", kernel, out=io.StringIO())
    assert report.summary == ("LinearClassifier.train, LinearClassifier.predict are not written yet "
                              "(they raise NotImplementedError)")


def test_check_cell_of_an_unknown_cell_is_one_clear_error(kernel):
    with pytest.raises(selfcheck.CodeLoadError, match="has no solution cell 'svm'"):
        live.check_cell("svm", kernel)


# --------------------------------------------------------- a later notebook before an earlier one
def _gradient_check_release_copy(tmp_path: Path, stub: str) -> Path:
    """gradient_check.ipynb with the cell ``stub`` as the release has it."""
    nb = json.loads((SOURCE_DIR / "gradient_check.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == stub and cell["cell_type"] == "code":
            head = '    """'.join("".join(cell["source"]).split('    """', 2)[:2])  # up to the docstring's end
            cell["source"] = head + '    """\n    # YOUR CODE HERE\n    raise NotImplementedError()\n'
    (tmp_path / "gradient_check.ipynb").write_text(json.dumps(nb))
    return tmp_path


def test_import_cells_stands_in_for_an_unwritten_grad_check_sparse(tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.chdir(_gradient_check_release_copy(tmp_path, "grad_check_sparse"))
    ns: dict = {}
    out = io.StringIO()
    ev, rel, gcs = selfcheck.import_cells("gradient_check.ipynb",
                                          ["eval_numerical_gradient", "rel_error", "grad_check_sparse"], ns, out=out)
    assert out.getvalue() == "your grad_check_sparse is not written yet: using the provided one\n"
    assert gcs is ns["grad_check_sparse"] is CHECKS.PROVIDED["grad_check_sparse"]
    x = np.random.RandomState(0).randn(4, 3)
    right = gcs(lambda w: float(np.sum(w ** 3)), x, 3 * x ** 2, num_checks=5, seed=1)
    wrong = gcs(lambda w: float(np.sum(w ** 3)), x, 3.3 * x ** 2, num_checks=5, seed=1)
    assert right.shape == (5,) and np.max(right) < 1e-7 and np.min(wrong) > 1e-3
    assert rel(np.array([1.0]), np.array([1.0])) == 0.0  # the written ones are the student's own


def test_import_cells_keeps_a_written_function(tmp_path, monkeypatch):
    monkeypatch.chdir(_gradient_check_release_copy(tmp_path, "rel_error"))  # no stand-in for rel_error
    ns: dict = {}
    out = io.StringIO()
    selfcheck.import_cells("gradient_check.ipynb", ["rel_error", "grad_check_sparse"], ns, out=out)
    assert out.getvalue() == ""
    assert ns["grad_check_sparse"] is not CHECKS.PROVIDED["grad_check_sparse"]
    with pytest.raises(NotImplementedError):
        ns["rel_error"](1.0, 1.0)


def test_a_classifier_cell_does_not_take_the_blame_for_an_unwritten_loss(kernel):
    """LinearSVM.loss written, svm_loss_vectorized not yet: its learning check is skipped with a
    note naming the unwritten function (not "LinearSVM.loss is not written yet")."""
    nb = json.loads((SOURCE_DIR / "svm.ipynb").read_text())
    from linclass.course.notebook_builder import strip_markers

    for grade_id in ("LinearClassifier", "LinearSVM"):
        _run_cell(kernel, next(strip_markers("".join(c["source"])) for c in nb["cells"]
                               if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id), grade_id)
    _run_cell(kernel, "def svm_loss_vectorized(W, X, y, reg):\n    raise NotImplementedError()\n", "stub")
    out = io.StringIO()
    report = live.check_cell("LinearSVM", kernel, out=out)
    assert report.passed, out.getvalue()
    assert "skip  learns easy data (> 90% accuracy): your svm_loss_vectorized is not written yet" in out.getvalue()
