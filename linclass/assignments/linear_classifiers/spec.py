"""The linear-classifiers assignment: what students implement (shipped with the release)."""

from linclass.student.spec import Part, Spec

SPEC = Spec(
    name="linear_classifiers",
    parts=(
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
    ),
    modules=("gradient_check", "linear_svm", "softmax", "linear_classifier", "tuning"),
    notebooks=("gradient_check.ipynb", "svm.ipynb", "softmax.ipynb"),
    # Each module is loaded as its place in the course's cs231n tree, wherever it was handed in
    # from; every other spelling real code uses (classifiers.X, .X, bare X) is an alias.
    homes={
        "gradient_check": "cs231n.gradient_check",
        "linear_svm": "cs231n.classifiers.linear_svm",
        "softmax": "cs231n.classifiers.softmax",
        "linear_classifier": "cs231n.classifiers.linear_classifier",
        "tuning": "cs231n.classifiers.tuning",
    },
    packages=("cs231n", "cs231n.classifiers", "classifiers"),
    # CS231n ships cs231n/gradient_check.py, which a student uploading the whole assignment1/ tree
    # hands in without having written it.  Its 2015 version has only the two functions, the sparse
    # check with this signature: no seed, and it prints instead of returning.
    course_files={
        "gradient_check": ("eval_numerical_gradient_array", "eval_numerical_gradient_blobs",
                           "eval_numerical_gradient_net", "def grad_check_sparse(f, x, analytic_grad, num_checks):"),
    },
    tags={"slides_": "slides"},  # the lecture's worked numbers, reported apart from their part
)
