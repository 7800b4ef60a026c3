"""The svm.ipynb notebook: the multiclass SVM, SGD (LinearClassifier), tuning."""

from __future__ import annotations

import nbformat

from linclass.assignments.linear_classifiers.shipped import slides
from linclass.course.notebook_builder import Builder, NotebookSource
from solutions.linear_classifiers import linear_svm as ref_svm

from .common import (
    DATA,
    INTRO_CONVENTIONS,
    LOAD_GRADCHECK,
    SHOW_EXAMPLES,
    TEMPLATES,
    _heatmap_code,
    loss_expectations,
    selfcheck_cell,
    setup_code,
    timing_cell,
)


def build_svm(source: NotebookSource) -> nbformat.NotebookNode:
    b = Builder("svm", source)
    b.md("""
    # Part 2: the multiclass SVM

    You will write the multiclass SVM (hinge) loss twice, with loops and vectorized, check its
    gradient, train it with minibatch stochastic gradient descent (SGD), and tune the learning
    rate and the regularization strength on a validation set.

    This notebook uses your `eval_numerical_gradient`, `rel_error` and `grad_check_sparse` from
    `gradient_check.ipynb`: the cell below execs those solution cells of that notebook here.
    """)
    b.md(INTRO_CONVENTIONS)
    b.given("setup_svm", setup_code("Sequence", "DELTA = 1.0  # the hinge margin"), tags=("setup",))
    b.given("load_gradient_check", LOAD_GRADCHECK)
    b.md("## The data\n\nEach row of `X_*` is one image, flattened, with the training mean image subtracted and "
         "a constant 1 appended. A few training examples per class:")
    b.given("load_data", DATA)
    b.given("show_examples", SHOW_EXAMPLES)
    b.md(f"""
    ## The slides' example

    Three training images (a cat, a car and a frog) and three classes. The slides print the
    scores with one column per image; in our layout each image is a row of `X @ W`. With
    `X` = the 3 x 3 identity, `W` is the slides' table transposed:

    | | cat image | car image | frog image |
    |---|---|---|---|
    | cat score | **3.2** | 1.3 | 2.2 |
    | car score | 5.1 | **4.9** | 2.5 |
    | frog score | -1.7 | 2.0 | **-3.1** |

    The loss of example i is $L_i = \\sum_{{j \\ne y_i}} \\max(0, s_j - s_{{y_i}} + 1)$:

    * cat: max(0, 5.1 - 3.2 + 1) + max(0, -1.7 - 3.2 + 1) = 2.9 + 0 = **2.9**
    * car: max(0, 1.3 - 4.9 + 1) + max(0, 2.0 - 4.9 + 1) = 0 + 0 = **0**
    * frog: max(0, 2.2 + 3.1 + 1) + max(0, 2.5 + 3.1 + 1) = 6.3 + 6.6 = **12.9**

    and the loss is their mean, (2.9 + 0 + 12.9) / 3 = **5.27** (5.266667 exactly).

    ### `svm_loss_naive`

    Loop over the examples and the classes. Accumulate the gradient in the same loops: a
    positive margin of class j adds `X[i]` to column j of `dW` and subtracts it from column
    `y[i]`. Divide loss and gradient by N, then add the regularization (on the slides' table
    with `reg = {slides.CAT_CAR_FROG_REG}`, `sum(W**2)` = 89.54 and the loss is {slides.CAT_CAR_FROG_SVM_LOSS_REG}).
    """)
    b.solution("svm_loss_naive")
    b.tests("svm_loss_naive", selfcheck_cell("svm_loss_naive"),
        loss_expectations(ref_svm.svm_loss_naive, 101, 9, 6, 4, 0.0) + "\n" +
        loss_expectations(ref_svm.svm_loss_naive, 102, 12, 5, 3, 0.7, scale=0.5) + "\n" +
        "assert np.array_equal(_W, np.random.RandomState(102).randn(5, 3) * 0.5), 'inputs must not change'")
    b.md("""
    ### Sanity checks: the loss at initialization, and a gradient check

    With a tiny `W` every score is about 0, so every wrong class contributes
    max(0, 0 - 0 + 1) = 1: the loss should be about **C - 1** (9 for 10 classes).
    Then compare your analytic gradient with your numeric one, without and with
    regularization (a forgotten or wrong regularization gradient shows up only in the second).
    """)
    b.given("svm_sanity", """
    W = 0.0001 * np.random.RandomState(0).randn(X_dev.shape[1], num_classes)
    loss, grad = svm_loss_naive(W, X_dev, y_dev, 0.0)
    print(f"loss at init: {loss:.4f}   (C - 1 = {num_classes - 1})")
    assert abs(loss - (num_classes - 1)) < 0.1

    for reg in (0.0, 5e1):
        loss, grad = svm_loss_naive(W, X_dev, y_dev, reg)
        errors = grad_check_sparse(lambda w, reg=reg: svm_loss_naive(w, X_dev, y_dev, reg)[0], W, grad,
                               num_checks=10, seed=1)
        print(f"reg = {reg:g}: largest relative error {np.max(errors):.2e}")
        assert np.max(errors) < 1e-5
    """)
    b.question("q_kink", """
    **Question (the kink).** A dimension of the SVM gradient check can occasionally disagree
    even when your gradient is right. Why? Can it happen for the softmax loss? Would a larger
    margin (delta) make it more or less frequent?
    """, """
    The hinge max(0, m) is not differentiable at m = 0. If a margin lies within h of 0, the
    centered difference straddles the kink: it averages the slopes 0 and 1 (giving about 0.5)
    while the analytic gradient picks one side, so that entry shows a large relative error.
    Softmax is smooth everywhere, so it cannot happen there. The margin only shifts where the
    kinks are (at s_j - s_y = -delta); with tiny W all margins sit near delta, far from the
    kink, so a larger delta makes it rarer early on, but any margin can cross 0 during training.
    """)
    b.md("""
    ### `svm_loss_vectorized`

    The same loss and gradient without any Python loop: compute all margins at once, zero the
    correct-class entries, and build the gradient from a (N, C) matrix of coefficients
    (1 for every positive margin, minus the number of positive margins in the correct class).
    """)
    b.solution("svm_loss_vectorized")
    b.tests("svm_loss_vectorized", selfcheck_cell("svm_loss_vectorized"),
        loss_expectations(ref_svm.svm_loss_vectorized, 201, 15, 7, 5, 0.0) + "\n" +
        loss_expectations(ref_svm.svm_loss_vectorized, 202, 1, 4, 2, 0.3) + "\n" +
        loss_expectations(ref_svm.svm_loss_vectorized, 203, 40, 9, 10, 1e-3, scale=0.01))
    b.md("Naive against vectorized: the two must agree, and the vectorized one should be much faster.")
    b.given("svm_timing", timing_cell("svm"))
    b.md("""
    ## Questions about the loss

    Use the slides' table (cat/car/frog, loss 5.27) where it helps. Numbers are welcome.
    """)
    b.question("q_init_loss", """
    **Question.** At initialization `W` is small, so all scores are about 0. What is the SVM
    loss then, and why? What would a very different value tell you?
    """, """
    Every score is about 0, so each of the C - 1 wrong classes contributes max(0, 0 - 0 + 1) = 1
    and the loss is about C - 1 (9 for 10 classes; (C - 1) * delta in general). A different value
    means a bug: e.g. C if the correct class is included, 1 if we average over classes.
    """)
    b.question("q_include_correct", """
    **Question.** What happens to the loss if the sum also includes j = y_i?
    """, """
    Each L_i gains max(0, s_y - s_y + 1) = 1, so the loss grows by exactly 1 (on the slides'
    table 5.27 becomes 6.27, and the loss at init becomes C). The gradient and the minimizer do
    not change: it is a constant.
    """)
    b.question("q_mean", """
    **Question.** What if we used the mean over the classes instead of the sum?
    """, """
    The loss is divided by C - 1 (the slides' table gives 2.63 instead of 5.27). It is a
    constant rescaling: the same W minimizes it; with regularization it amounts to rescaling reg.
    """)
    b.question("q_squared", """
    **Question.** What if we used $L_i = \\sum_{j \\ne y_i} \\max(0, s_j - s_{y_i} + 1)^2$?
    """, """
    That is a different loss (the squared hinge), not a rescaling: large violations are
    penalized quadratically and small ones less, so the minimizer can change. On the slides'
    table it gives 8.41, 0, 83.25, mean 30.55.
    """)
    b.question("q_unique", """
    **Question.** Suppose we found a `W` with loss 0. Is it unique? How do we choose?
    """, """
    No: 2W (any cW with c >= 1) also has zero loss, because scaling the scores keeps every
    margin >= 1 (with the bias trick the bias scales too). Regularization breaks the tie:
    reg * sum(W**2) prefers the smaller weights (R(2W) = 4 R(W)).
    """)
    b.md("""
    ## Training with SGD

    `LinearClassifier.train` runs minibatch SGD: each step samples `batch_size` rows with
    replacement (`rng.choice`), computes `self.loss` on them and steps against the gradient.
    Initialize `W` to `0.001 * randn(D, C)` **only when `self.W is None`** (C = max label + 1).
    Use `rng = np.random.default_rng(seed)` for both. Return the list of the minibatch losses.
    `predict` returns the highest-scoring class of each row as integers. The subclasses choose
    the loss: `LinearSVM` uses your `svm_loss_vectorized` (softmax comes in the next notebook).
    """)
    b.solution("LinearClassifier")
    b.solution("LinearSVM")
    b.tests("LinearClassifier", selfcheck_cell("LinearClassifier"), """
    class _Probe2(LinearClassifier):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.seen = []

        def loss(self, X_rows, y_rows, reg):
            self.seen.append(np.array(X_rows[:, 0]))
            return 0.0, np.zeros_like(self.W)

    _Xp = np.hstack([np.arange(50.0)[:, None], np.ones((50, 2))])
    _yp = np.arange(50) % 4
    _p = _Probe2()
    _p.train(_Xp, _yp, num_iters=30, batch_size=10, seed=3)
    _rows = np.concatenate(_p.seen).astype(int)
    assert _p.W.shape == (3, 4) and 1e-4 < np.std(_p.W) < 1e-2, "initialize W to 0.001 * randn(D, C)"
    assert len(set(_rows.tolist())) > 25, "sample the minibatches at random from all rows"
    _p2 = _Probe2()
    _p2.train(_Xp, _yp, num_iters=30, batch_size=10, seed=3)
    assert np.array_equal(_p.W, _p2.W), "the same seed gives the same run"
    _p.W = np.eye(3, 4) * 5.0
    assert np.array_equal(_p.predict(np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 0.0]])), [1, 0])
    """)
    b.tests("LinearSVM", selfcheck_cell("LinearSVM"), """
    _svm = LinearSVM()
    _svm.W = np.zeros((X_dev.shape[1], num_classes))
    assert abs(_svm.loss(X_dev, y_dev, 0.0)[0] - (num_classes - 1)) < 1e-12
    """)
    b.md("Train an SVM with the first learning rate and regularization of the grid, and plot its loss:")
    b.given("svm_train", """
    import time

    NUM_ITERS = 1500 if data.source == "cifar10" else 500  # the digits need far fewer steps
    svm = LinearSVM()
    tic = time.perf_counter()
    loss_hist = svm.train(X_train, y_train, learning_rate=grid["learning_rates"][0],
                          reg=grid["regularization_strengths"][0], num_iters=NUM_ITERS, seed=0)
    print(f"trained in {time.perf_counter() - tic:.2f} s")
    plt.figure(figsize=(5, 3))
    plt.plot(loss_hist, linewidth=1)
    plt.xlabel("iteration")
    plt.ylabel("minibatch loss")
    plt.show()
    print(f"training accuracy {np.mean(svm.predict(X_train) == y_train):.3f}, "
          f"validation accuracy {np.mean(svm.predict(X_val) == y_val):.3f}")
    """)
    b.md("""
    ## Tuning the learning rate and the regularization strength

    `tune_hyperparameters` trains one fresh model per (learning rate, reg) pair and keeps the
    best on the **validation** set (the training accuracy rewards memorizing; the test set is
    kept for the very end). `results[(lr, reg)] = (train_accuracy, val_accuracy)`. Pass
    `seed` to every `train` call.
    """)
    b.solution("tune_hyperparameters")
    b.tests("tune_hyperparameters", selfcheck_cell("tune_hyperparameters"), """
    _log, _objects = [], []
    _table = {(0.5, 3): (0.96, 0.5), (0.5, 4): (0.48, 0.625), (0.5, 5): (0.72, 0.25),
              (0.25, 3): (0.2, 0.125), (0.25, 4): (1.0, 0.5), (0.25, 5): (0.6, 0.875)}
    _labels_a, _labels_b = np.arange(25) % 4, np.arange(8) % 4

    class _Fake:
        def __init__(self, *args, **kwargs):
            _objects.append(self)

        def train(self, X_tr, y_tr, learning_rate=0.0, reg=0.0, num_iters=0, batch_size=0, **unused):
            self.hp = (learning_rate, reg)
            _log.append((self, num_iters, batch_size, len(X_tr)))
            return [0.0]

        def predict(self, rows):
            k = 0 if len(rows) == 25 else 1
            labels = _labels_a if k == 0 else _labels_b
            hits = int(round(_table[self.hp][k] * len(rows)))
            return np.concatenate([labels[:hits], (labels[hits:] + 1) % 4])

    _m, _v, _r = tune_hyperparameters(_Fake, np.ones((25, 3)), _labels_a, np.ones((8, 3)), _labels_b,
                                      [0.5, 0.25], [3, 4, 5], num_iters=11, batch_size=5, seed=4)
    assert _m.hp == (0.25, 5) and abs(_v - 0.875) < 1e-9, "choose by validation accuracy"
    assert set(_r) == set(_table) and all(np.allclose(_r[k], _table[k]) for k in _table)
    assert len({id(o) for o, *_ in _log}) == 6 and len(_objects) >= 6, "a fresh model per pair"
    assert all(n == 11 and b == 5 and rows == 25 for _, n, b, rows in _log), "train on the training set"
    """)
    b.given("svm_tune", """
    tic = time.perf_counter()
    best_svm, best_val, results = tune_hyperparameters(LinearSVM, X_train, y_train, X_val, y_val,
                                                       grid["learning_rates"], grid["regularization_strengths"],
                                                       num_iters=NUM_ITERS, seed=0)
    print(f"{len(results)} models in {time.perf_counter() - tic:.1f} s; best validation accuracy {best_val:.3f}")
    for (lr, reg), (train_acc, val_acc) in sorted(results.items()):
        print(f"  lr {lr:g}  reg {reg:g}: train {train_acc:.3f}  val {val_acc:.3f}")
    """)
    b.given("svm_heatmap", _heatmap_code("results", "SVM validation accuracy"))
    b.md("Only now, once, the test accuracy of the chosen model:")
    b.given("svm_test", """
    test_accuracy = np.mean(best_svm.predict(X_test) == y_test)
    print(f"SVM test accuracy: {test_accuracy:.3f}")
    assert data.source != "digits" or test_accuracy > 0.85
    """)
    b.md("Each column of `W` (bias dropped) is a *template* for its class: the score is the dot product "
         "of the image with it.")
    b.given("svm_templates", TEMPLATES.format(model="best_svm"))
    b.question("q_templates", """
    **Question.** Describe the learned templates. Why do they look like blurry averages of
    their class?
    """, """
    Each template roughly looks like a blurred (mean-like) image of its class, with negative
    weight where other classes have ink: the score is a dot product, so one linear template per
    class must match every variant of the class at once (and push down the others), which
    averages them.
    """)
    return b.notebook()


