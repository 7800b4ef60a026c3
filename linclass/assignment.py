"""What students implement: one registry used by the release, the self-check and the grader.

Each *part* is one gradable function or method (DESIGN section 2).  Its ``name`` is the
report tag (``tags: [<part>]``).  ``module`` is its CS231n module (``linear_svm.py``, ...),
and ``cell`` the nbgrader ``grade_id`` of the notebook cell that defines it: functions are
defined in a cell of their own name; methods live in their class's cell.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    """One gradable unit of the assignment."""

    name: str  # report tag, e.g. "svm_loss_naive" or "LinearClassifier.train"
    module: str  # CS231n module that defines it, e.g. "linear_svm"
    cell: str  # nbgrader grade_id of the defining notebook cell

    @property
    def symbol(self) -> str:
        """The top-level name to look up in the module (a function or a class)."""
        return self.name.split(".")[0]


PARTS: tuple[Part, ...] = (
    Part("svm_loss_naive", "linear_svm", "svm_loss_naive"),
    Part("svm_loss_vectorized", "linear_svm", "svm_loss_vectorized"),
    Part("softmax_loss_naive", "softmax", "softmax_loss_naive"),
    Part("softmax_loss_vectorized", "softmax", "softmax_loss_vectorized"),
    Part("eval_numerical_gradient", "gradient_check", "eval_numerical_gradient"),
    Part("grad_check_sparse", "gradient_check", "grad_check_sparse"),
    Part("rel_error", "gradient_check", "rel_error"),
    Part("LinearClassifier.train", "linear_classifier", "LinearClassifier"),
    Part("LinearClassifier.predict", "linear_classifier", "LinearClassifier"),
    Part("LinearSVM.loss", "linear_classifier", "LinearSVM"),
    Part("Softmax.loss", "linear_classifier", "Softmax"),
    Part("tune_hyperparameters", "tuning", "tune_hyperparameters"),
)

PARTS_BY_NAME = {p.name: p for p in PARTS}

#: The CS231n module files, in dependency order.
MODULES: tuple[str, ...] = ("gradient_check", "linear_svm", "softmax", "linear_classifier", "tuning")

#: The dotted name each CS231n module is loaded as (its place in the course's ``cs231n`` tree),
#: whatever folder it was handed in from; every other spelling real code uses is an alias.
MODULE_HOMES: dict[str, str] = {
    "gradient_check": "cs231n.gradient_check",
    "linear_svm": "cs231n.classifiers.linear_svm",
    "softmax": "cs231n.classifiers.softmax",
    "linear_classifier": "cs231n.classifiers.linear_classifier",
    "tuning": "cs231n.classifiers.tuning",
}
#: Packages a module can be imported from (``from cs231n.classifiers.softmax import *``,
#: ``from classifiers.softmax import ...``); stand-ins, a student ``__init__.py`` never runs.
ALIAS_PACKAGES: tuple[str, ...] = ("cs231n", "cs231n.classifiers", "classifiers")

#: What only the course's own version of a module contains (a function it defines, or a line of
#: it): CS231n ships ``cs231n/gradient_check.py``, which a student uploading the whole
#: ``assignment1/`` tree hands in without having written it.  (Its 2015 version has only the two
#: functions, the sparse check with this signature: no ``seed``, and it prints instead of returning.)
COURSE_FILES: dict[str, tuple[str, ...]] = {
    "gradient_check": ("eval_numerical_gradient_array", "eval_numerical_gradient_blobs",
                       "eval_numerical_gradient_net", "def grad_check_sparse(f, x, analytic_grad, num_checks):"),
}

#: Every symbol a complete submission defines, per module.
SYMBOLS_BY_MODULE: dict[str, tuple[str, ...]] = {
    m: tuple(dict.fromkeys(p.symbol for p in PARTS if p.module == m)) for m in MODULES
}

#: Report tag of the slide worked-number checks.
SLIDES_TAG = "slides"

#: Name of the default assignment in ``assignments/source/``.
DEFAULT_ASSIGNMENT = "linear_classifiers"
