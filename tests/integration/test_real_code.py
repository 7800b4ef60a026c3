"""Real CS231n submissions, as students hand them in, grade like the kit's own layout.

The patterns come from grading public CS231n assignment-1 solutions (``tests/realcode/``
restores that corpus; it is not in the repository).  Each pattern that broke the grader is
rebuilt here from ``tests/fixtures/cs231n_style/``, a CS231n-style submission written for these
tests: the course's ``from cs231n.classifiers.linear_svm import *`` in a flat folder, the whole
``assignment1/`` tree with the course's package ``__init__`` files, a mix of both, relative and
bare imports, minibatches drawn without replacement, no ``seed`` parameter, an editor's stray
import, Python 2 code, Windows line endings, tabs, a byte-order mark, and zips of all of it.
The self-check must accept exactly what the grader accepts.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from grading_helpers import ROOT, points_by_part, results, run_grade
from kit import ASSIGNMENT

from linclass.student.selfcheck import load_student_code, part_status, run_checks

pytestmark = pytest.mark.slow

STYLE = ROOT / "tests" / "fixtures" / "cs231n_style"
FILES = ("linear_svm.py", "softmax.py", "linear_classifier.py")
#: The parts a CS231n student writes in these three files.
WRITTEN = ("svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized",
           "LinearClassifier.train", "LinearClassifier.predict", "LinearSVM.loss", "Softmax.loss")
SOFTMAX_PARTS = ("softmax_loss_naive", "softmax_loss_vectorized")

#: The course's own package files, as the assignment1/ tree ships them (imports of classifiers
#: and of packages the grader does not have).
PACKAGE_INIT = "from cs231n.classifiers.k_nearest_neighbor import *\nfrom cs231n.classifiers.linear_svm import *\n"
#: CS231n's own gradient_check.py, as the course ships it (in spirit: written for these tests).
COURSE_GRADIENT_CHECK = """import numpy as np
from random import randrange


def eval_numerical_gradient(f, x, verbose=True, h=0.00001):
    fx = f(x)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f(x)
        x[ix] = oldval - h
        fxmh = f(x)
        x[ix] = oldval
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    raise NotImplementedError


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5):
    for i in range(num_checks):
        ix = tuple([randrange(m) for m in x.shape])
        print('numerical: %f analytic: %f' % (0.0, analytic_grad[ix]))
"""
#: The 2015 edition's gradient_check.py: two functions only, and the course's print line.
COURSE_GRADIENT_CHECK_2015 = """import numpy as np
from random import randrange


def eval_numerical_gradient(f, x):
    fx = f(x)
    grad = np.zeros(x.shape)
    h = 0.00001
    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
    while not it.finished:
        ix = it.multi_index
        old_value = x[ix]
        x[ix] = old_value + h
        fxh = f(x)
        x[ix] = old_value
        grad[ix] = (fxh - fx) / h
        it.iternext()
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks):
    for i in xrange(num_checks):
        ix = tuple([randrange(m) for m in x.shape])
        print 'numerical: %f analytic: %f, relative error: %e' % (0.0, analytic_grad[ix], 0.0)
"""
DATA_UTILS = "from six.moves import cPickle as pickle\nimport numpy as np\nfrom imageio import imread\n\n\n" \
             "def load_CIFAR10(ROOT):\n    raise NotImplementedError\n"


def texts() -> dict[str, str]:
    return {name: (STYLE / name).read_text() for name in FILES}


def write(dest: Path, files: dict[str, str], encoding: str = "utf-8", newline: str | None = None) -> Path:
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding=encoding, newline=newline) as fh:
            fh.write(text)
    return dest


def tree(files: dict[str, str]) -> dict[str, str]:
    out = {f"assignment1/cs231n/classifiers/{n}": t for n, t in files.items()}
    out["assignment1/cs231n/__init__.py"] = ""
    out["assignment1/cs231n/classifiers/__init__.py"] = PACKAGE_INIT
    out["assignment1/cs231n/data_utils.py"] = DATA_UTILS
    out["assignment1/cs231n/gradient_check.py"] = COURSE_GRADIENT_CHECK
    return out


def tabs(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" ")
        lines.append("\t" * ((len(line) - len(stripped)) // 4) + " " * ((len(line) - len(stripped)) % 4) + stripped)
    return "".join(lines)


def zipped(folder: Path) -> Path:
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder.parent).as_posix())
    shutil.rmtree(folder)
    return archive


def variants(root: Path) -> dict[str, Path]:
    """Every real-code pattern as a submission (folder or zip) under ``root``."""
    t = texts()
    made = {
        "flat": write(root / "flat", t),
        "tree": write(root / "tree", tree(t)),
        "mixed": write(root / "mixed", {"linear_svm.py": t["linear_svm.py"],
                                        **{f"cs231n/classifiers/{n}": t[n] for n in FILES[1:]}}),
        "relative": write(root / "relative", {**t, "linear_classifier.py": t["linear_classifier.py"].replace(
            "from cs231n.classifiers.linear_svm import *", "from .linear_svm import *").replace(
            "from cs231n.classifiers.softmax import *", "from classifiers.softmax import *")}),
        "bare": write(root / "bare", {**t, "linear_classifier.py": t["linear_classifier.py"].replace(
            "from cs231n.classifiers.linear_svm import *", "import linear_svm\nsvm_loss_vectorized = "
            "linear_svm.svm_loss_vectorized")}),
        "stray_import": write(root / "stray_import", {**t, "softmax.py": t["softmax.py"].replace(
            "import numpy as np\n", "import numpy as np\nfrom sqlalchemy import true\n", 1)}),
        "crlf": write(root / "crlf", t, newline="\r\n"),
        "tabs": write(root / "tabs", {n: tabs(x) for n, x in t.items()}),
        "bom": write(root / "bom", t, encoding="utf-8-sig"),
        "python2": write(root / "python2", {**t, "linear_classifier.py": t["linear_classifier.py"].replace(
            "print('iteration %d / %d: loss %f' % (it, num_iters, loss))",
            "print 'iteration %d / %d: loss %f' % (it, num_iters, loss)")}),
        "python2_except": write(root / "python2_except", {**t, "softmax.py": t["softmax.py"].replace(
            "    return loss, dW\n", "    try:\n        pass\n    except ValueError, e:\n        pass\n"
            "    return loss, dW\n", 1)}),
        "bare_xrange": write(root / "bare_xrange", {**t, "linear_svm.py": t["linear_svm.py"].replace(
            "from past.builtins import xrange\n", "")}),
        "tree_2015": write(root / "tree_2015", {**tree(t), "assignment1/cs231n/gradient_check.py":
                                                COURSE_GRADIENT_CHECK_2015}),
        "mixed_import": write(root / "mixed_import", {**t, "linear_svm.py": t["linear_svm.py"].replace(
            "import numpy as np\n", "import tensorflow as tf, numpy as np\n", 1)}),
        "relative_up": write(root / "relative_up", {**t, "linear_classifier.py": t["linear_classifier.py"].replace(
            "from cs231n.classifiers.linear_svm import *", "from ..classifiers.linear_svm import *").replace(
            "from cs231n.classifiers.softmax import *", "from ..classifiers.softmax import *")}),
    }
    made["zip_flat"] = zipped(write(root / "zip_flat", t))
    made["zip_tree"] = zipped(write(root / "zip_tree", tree(t)))
    return made


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    subs = variants(root / "class")
    out = root / "out"
    proc = run_grade(root / "class", out=out, jobs=2)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return subs, out


EVERY_PART = ["flat", "tree", "mixed", "relative", "bare", "stray_import", "crlf", "tabs", "bom", "zip_flat",
              "zip_tree", "python2", "bare_xrange", "relative_up", "tree_2015", "mixed_import"]


@pytest.mark.parametrize("name", EVERY_PART)
def test_correct_cs231n_code_gets_full_marks_in_every_part_it_implements(graded, name):
    _, out = graded
    result = results(out, name)
    totals = points_by_part(result)
    lost = {part: f"{got:g}/{most:g}" for part, (got, most) in totals.items() if part in WRITTEN and got < most}
    why = [f"{t['name']}: {t['output'][:300]}" for t in result["tests"]
           if t["status"] != "passed" and t["name"].split(":")[0] in WRITTEN]
    assert not lost, why
    assert "Traceback" not in result["output"]


def test_a_stray_import_is_skipped_with_one_note(graded):
    _, out = graded
    output = results(out, "stray_import")["output"]
    assert "softmax.py, line 4, `from sqlalchemy import true`: that module is not available in the grader, so the " \
           "line was skipped" in output


def test_python2_print_statements_run_as_print_calls_with_one_message(graded):
    _, out = graded
    result = results(out, "python2")
    message = ("linear_classifier.py is Python 2 code (print statement, line 34); the grader runs Python 3, so its "
               "print statements were run as print() calls")
    assert result["output"].count(message) == 1


def test_other_python2_code_gets_one_plain_message_and_costs_only_its_file(graded):
    _, out = graded
    result = results(out, "python2_except")
    assert result["output"].count("softmax.py is Python 2 code (except X, e, line 24); the grader runs Python 3") == 1
    totals = points_by_part(result)
    assert all(totals[p][0] == 0 for p in SOFTMAX_PARTS)
    assert all(totals[p][0] == totals[p][1] for p in WRITTEN if p not in SOFTMAX_PARTS), totals
    feedback = (out / "python2_except" / "feedback.md").read_text()
    assert feedback.count("softmax.py is Python 2 code") == 1 + len(SOFTMAX_PARTS)  # the note, one line per part
    assert "SyntaxError" not in feedback


def test_python2_builtins_are_provided_and_named(graded):
    _, out = graded
    output = results(out, "bare_xrange")["output"]
    assert "linear_svm.py uses Python 2's builtins; the grader provided xrange (line 13) as range" in output


@pytest.mark.parametrize("name", ["tree", "tree_2015"])
def test_the_courses_own_gradient_check_is_not_graded_as_the_students(graded, name):
    """CS231n ships cs231n/gradient_check.py (in two versions): a tree upload grades like the three files."""
    _, out = graded
    tree, flat = results(out, name), results(out, "flat")
    assert "cs231n/gradient_check.py is the course's own file (it " in tree["output"]
    assert points_by_part(tree) == points_by_part(flat)
    assert "Python 2" not in tree["output"]  # nothing is said about a file the student did not write
    failed = [t["output"] for t in tree["tests"] if t["tags"] == ["grad_check_sparse"]]
    assert failed and all("the course's own file" in o for o in failed)


def test_only_the_unavailable_name_of_a_mixed_import_is_left_out(graded):
    _, out = graded
    assert "linear_svm.py, line 4, `import tensorflow as tf, numpy as np`: tensorflow is not available in the " \
           "grader, so it was left out of the line" in results(out, "mixed_import")["output"]


def test_tracebacks_show_the_students_paths_not_the_sandboxs(tmp_path):
    text = texts()["linear_svm.py"].replace("    dW = np.zeros(W.shape)\n", "    dW = np.zeros(W.shape)\n"
                                            "    raise ValueError('not yet')\n", 1)
    sub = write(tmp_path / "raises", tree({**texts(), "linear_svm.py": text}))
    assert run_grade(sub, out=tmp_path / "out").returncode == 0
    feedback = (tmp_path / "out" / "raises" / "feedback.md").read_text()
    assert 'File "cs231n/classifiers/linear_svm.py", line' in feedback
    assert "linclass-sandbox" not in feedback and "submission/" not in feedback


@pytest.mark.parametrize("name", [*EVERY_PART, "python2_except"])
def test_the_self_check_accepts_what_the_grader_accepts(graded, name):
    subs, out = graded
    code = load_student_code(subs[name], ASSIGNMENT.spec)
    try:
        status = part_status(run_checks(code, ASSIGNMENT.module("checks")))
    finally:
        code.close()
    totals = points_by_part(results(out, name))
    for part in WRITTEN:
        assert (status.get(part) == "pass") == (totals[part][0] == totals[part][1]), (part, status.get(part))


def half_reg(text: str) -> str:
    return text.replace("reg * np.sum(W * W)", "0.5 * reg * np.sum(W * W)").replace("2 * reg * W", "reg * W")


def test_the_half_reg_convention_is_named_and_graded_by_the_course_setting(tmp_path):
    """The older 0.5 * reg convention costs the value checks once per function, named as such; a
    course that grades by it ([conventions] regularization = "half") gives full marks."""
    t = texts()
    sub = write(tmp_path / "half", {**t, "linear_svm.py": half_reg(t["linear_svm.py"]),
                                    "softmax.py": half_reg(t["softmax.py"])})
    config = tmp_path / "half.toml"
    config.write_text('[conventions]\nregularization = "half"\n')  # a course's file: only what it changes
    assert run_grade(sub, out=tmp_path / "full").returncode == 0
    assert run_grade(sub, out=tmp_path / "as_half", extra=("--config", str(config))).returncode == 0
    graded_full = results(tmp_path / "full", "half")
    for part in ("svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized"):
        failed = [t for t in graded_full["tests"] if t["name"].startswith(part + ":") and t["status"] != "passed"]
        assert [t["name"] for t in failed] == [f"{part}: matches reference"]
        assert "the old 0.5 * reg convention" in failed[0]["output"]
    totals = points_by_part(results(tmp_path / "as_half", "half"))
    assert all(totals[p][0] == totals[p][1] for p in WRITTEN), totals


def test_the_2015_layout_is_named(tmp_path):
    """CS231n 2015 stored W as (C, D) and X as (D, N): such code is named, not just a shape error."""
    text = texts()["linear_svm.py"].replace(
        "    num_train = X.shape[0]\n    scores = X.dot(W)", "    W, X = W.T, X.T\n    num_train = X.shape[0]\n"
        "    scores = X.dot(W)").replace("    dW = X.T.dot(mask) / num_train + 2 * reg * W\n    return loss, dW",
                                        "    dW = X.T.dot(mask) / num_train + 2 * reg * W\n    return loss, dW.T")
    sub = write(tmp_path / "old", {**texts(), "linear_svm.py": text})
    assert run_grade(sub, out=tmp_path / "out").returncode == 0
    test = next(t for t in results(tmp_path / "out", "old")["tests"] if t["name"] == "svm_loss_vectorized: matches "
                "reference")
    assert test["status"] == "failed" and "2015 CS231n layout" in test["output"]


def test_a_repeated_loss_call_costs_the_sgd_steps_check_and_no_other(tmp_path):
    """A loss() line pasted twice in train (a real 2019 submission): the loss history doubles and
    the sgd-steps check says so; initialization and sampling are right and keep their points."""
    line = "            loss, grad = self.loss(X_batch, y_batch, reg)\n            loss_history.append(loss)\n"
    text = texts()["linear_classifier.py"]
    assert line in text
    sub = write(tmp_path / "twice", {**texts(), "linear_classifier.py": text.replace(line, line + line)})
    assert run_grade(sub, out=tmp_path / "out").returncode == 0
    tests = {t["name"]: t for t in results(tmp_path / "out", "twice")["tests"]}
    steps = tests["LinearClassifier.train: sgd steps"]
    assert steps["status"] == "failed" and "called loss() 12 times for num_iters=6" in steps["output"]
    for check in ("initialization", "minibatch sampling"):
        test = tests[f"LinearClassifier.train: {check}"]
        assert test["status"] == "passed", test
