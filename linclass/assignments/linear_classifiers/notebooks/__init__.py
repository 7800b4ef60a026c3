"""The notebooks of the linear-classifiers assignment, generated (``python -m linclass.course.notebook_builder``).

In teaching order::

    gradient_check.ipynb   numeric gradients, rel_error, grad_check_sparse
    svm.ipynb              the multiclass SVM, SGD (LinearClassifier), tuning
    softmax.ipynb          the softmax classifier

Every solution cell is the reference's own source with its body marked (one source of truth:
``tests/unit/test_single_source.py``).  A later notebook reuses the student's own functions
from an earlier one through ``selfcheck.import_cells`` (it execs the solution cells of the
sibling notebook by ``grade_id``), so no student work is duplicated.
"""

from __future__ import annotations

from solutions.linear_classifiers import gradient_check as ref_gc
from solutions.linear_classifiers import linear_classifier as ref_lc
from solutions.linear_classifiers import linear_svm as ref_svm
from solutions.linear_classifiers import softmax as ref_softmax
from solutions.linear_classifiers import tuning as ref_tuning

from .gradient_check import build_gradient_check
from .softmax import build_softmax
from .svm import build_svm

#: Which reference object each solution cell is generated from.
REFERENCE: dict[str, object] = {
    "eval_numerical_gradient": ref_gc.eval_numerical_gradient,
    "grad_check_sparse": ref_gc.grad_check_sparse,
    "rel_error": ref_gc.rel_error,
    "svm_loss_naive": ref_svm.svm_loss_naive,
    "svm_loss_vectorized": ref_svm.svm_loss_vectorized,
    "softmax_loss_naive": ref_softmax.softmax_loss_naive,
    "softmax_loss_vectorized": ref_softmax.softmax_loss_vectorized,
    "LinearClassifier": ref_lc.LinearClassifier,
    "LinearSVM": ref_lc.LinearSVM,
    "Softmax": ref_lc.Softmax,
    "tune_hyperparameters": ref_tuning.tune_hyperparameters,
}

#: Methods whose bodies students write, per class cell (functions: the whole body).
SOLUTION_METHODS = {"LinearClassifier": ("train", "predict"), "LinearSVM": ("loss",), "Softmax": ("loss",)}

#: Notebook name -> its builder, in teaching order.
BUILDERS = {"gradient_check": build_gradient_check, "svm": build_svm, "softmax": build_softmax}
