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

from linclass.selfcheck import load_student_code, part_status, run_checks

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
        "python2": write(root / "python2", {**t, "softmax.py": t["softmax.py"].replace(
            "    return loss, dW\n", "    print 'loss', loss\n    return loss, dW\n", 1)}),
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


@pytest.mark.parametrize("name", ["flat", "tree", "mixed", "relative", "bare", "stray_import", "crlf", "tabs", "bom",
                                  "zip_flat", "zip_tree"])
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


def test_python2_code_gets_one_plain_message_and_costs_only_its_file(graded):
    _, out = graded
    result = results(out, "python2")
    assert result["output"].count("softmax.py is Python 2 code (print statement, line 22); the grader runs "
                                  "Python 3") == 1
    totals = points_by_part(result)
    assert all(totals[p][0] == 0 for p in SOFTMAX_PARTS)
    assert all(totals[p][0] == totals[p][1] for p in WRITTEN if p not in SOFTMAX_PARTS), totals
    feedback = (out / "python2" / "feedback.md").read_text()
    assert feedback.count("softmax.py is Python 2 code") == 1 + len(SOFTMAX_PARTS)  # the note, one line per part
    assert "SyntaxError" not in feedback


@pytest.mark.parametrize("name", ["flat", "tree", "mixed", "relative", "bare", "crlf", "tabs", "bom", "zip_tree",
                                  "python2"])
def test_the_self_check_accepts_what_the_grader_accepts(graded, name):
    subs, out = graded
    code = load_student_code(subs[name])
    try:
        status = part_status(run_checks(code))
    finally:
        code.close()
    totals = points_by_part(results(out, name))
    for part in WRITTEN:
        assert (status.get(part) == "pass") == (totals[part][0] == totals[part][1]), (part, status.get(part))
