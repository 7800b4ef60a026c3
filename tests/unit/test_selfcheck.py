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
from linclass.student import selfcheck

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
