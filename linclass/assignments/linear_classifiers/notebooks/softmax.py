"""The softmax.ipynb notebook: the softmax classifier."""

from __future__ import annotations

import nbformat

from linclass.course.notebook_builder import Builder, NotebookSource
from solutions.linear_classifiers import softmax as ref_softmax

from .common import (
    DATA,
    INTRO_CONVENTIONS,
    LOAD_GRADCHECK,
    SHOW_EXAMPLES,
    STABILITY,
    TEMPLATES,
    _heatmap_code,
    loss_expectations,
    selfcheck_cell,
    setup_code,
    timing_cell,
)


def build_softmax(source: NotebookSource) -> nbformat.NotebookNode:
    b = Builder("softmax", source)
    b.md("""
    # Part 3: the softmax classifier

    The softmax classifier turns the scores into probabilities, $p_j = e^{s_j} / \\sum_k e^{s_k}$,
    and its loss is the cross-entropy $L_i = -\\ln p_{y_i}$.

    This notebook reuses your gradient-check functions (`gradient_check.ipynb`) and your
    `LinearClassifier` and `tune_hyperparameters` (`svm.ipynb`): the cell below execs those
    solution cells of the two notebooks here.
    """)
    b.md(INTRO_CONVENTIONS)
    b.given("setup_softmax", setup_code(), tags=("setup",))
    b.given("load_earlier_parts", LOAD_GRADCHECK + """
# Your LinearClassifier and tune_hyperparameters from svm.ipynb (LinearSVM needs svm_loss_vectorized).
svm_loss_vectorized, LinearClassifier, LinearSVM, tune_hyperparameters = import_cells(
    "svm.ipynb", ["svm_loss_vectorized", "LinearClassifier", "LinearSVM", "tune_hyperparameters"], globals())
""")
    b.md("## The data")
    b.given("load_data", DATA)
    b.given("show_examples", SHOW_EXAMPLES)
    b.md("""
    ## The slides' example: the cat image

    The cat image's scores are 3.2 (cat), 5.1 (car), -1.7 (frog). Exponentiated:
    24.5, 164.0, 0.18; normalized: **0.13**, 0.87, 0.00. The loss is
    $-\\ln 0.13$ = **2.04**.

    The slides print 0.89 for the same loss: they use the base-10 logarithm
    ($-\\log_{10} 0.13 = 0.89 = 2.04 / \\ln 10$). Everything here uses the natural log, like
    numpy's `np.log` and like the sanity check "the loss at init is ln(C)". The slides' other
    example, scores [-2.85, 0.86, 0.28] with the third class correct, gives 1.04 nats (printed
    0.452 in log10); its SVM loss is 1.58.
    """)
    b.given("slides_softmax", """
    from slides import CAT_SOFTMAX, nats_to_log10

    scores = CAT_SOFTMAX.scores[0]
    exps = np.exp(scores)
    probs = exps / exps.sum()
    print("exp:", np.round(exps, 2), " probabilities:", np.round(probs, 2))
    print(f"loss = -ln p_cat = {-np.log(probs[0]):.2f} nats = {nats_to_log10(-np.log(probs[0])):.2f} in log10")
    """)
    b.md("""
    ### `softmax_loss_naive`

    Loop over the examples. Subtract each row's maximum score before `exp` (the probabilities
    do not change, and `exp` cannot overflow), and compute `log p` as
    `shifted - log(sum(exp(shifted)))` so that a tiny probability never becomes `log(0)`. The
    gradient of $L_i$ with respect to the scores is $p_j - 1[j = y_i]$.
    """)
    b.solution("softmax_loss_naive")
    b.tests("softmax_loss_naive", selfcheck_cell("softmax_loss_naive"),
        loss_expectations(ref_softmax.softmax_loss_naive, 301, 9, 6, 4, 0.0) + "\n" +
        loss_expectations(ref_softmax.softmax_loss_naive, 302, 11, 5, 3, 0.4, scale=2.0) + "\n" +
        "_l, _ = softmax_loss_naive(np.array([[1000.0, 1001.0, 999.0]]), np.ones((1, 1)), np.array([0]), 0.0)\n"
        "_l0, _ = softmax_loss_naive(np.array([[0.0, 1.0, -1.0]]), np.ones((1, 1)), np.array([0]), 0.0)\n"
        "assert np.isfinite(_l) and abs(_l - _l0) < 1e-9, 'subtract the max score'")
    b.md("""
    ### Sanity checks

    With a tiny `W` all scores are about equal, every class gets probability 1/C, and the loss
    is about **ln(C)** (ln 10 = 2.30). Then a gradient check without and with regularization.
    """)
    b.given("softmax_sanity", """
    import math

    W = 0.0001 * np.random.RandomState(0).randn(X_dev.shape[1], num_classes)
    loss, grad = softmax_loss_naive(W, X_dev, y_dev, 0.0)
    print(f"loss at init: {loss:.4f}   (ln C = {math.log(num_classes):.4f})")
    assert abs(loss - math.log(num_classes)) < 0.1

    for reg in (0.0, 5e1):
        loss, grad = softmax_loss_naive(W, X_dev, y_dev, reg)
        errors = grad_check_sparse(lambda w, reg=reg: softmax_loss_naive(w, X_dev, y_dev, reg)[0], W, grad,
                                   num_checks=10, seed=1)
        print(f"reg = {reg:g}: largest relative error {np.max(errors):.2e}")
        assert np.max(errors) < 1e-5
    """)
    b.question("q_softmax_init", """
    **Question.** Why is the softmax loss about ln(C) at initialization? What would a value of
    about 1.0 for C = 10 suggest?
    """, """
    With W tiny all scores are about equal, so every class has probability 1/C and
    L_i = -ln(1/C) = ln C (2.30 for C = 10). A value of 1.0 = log10(10) means the code uses the
    base-10 logarithm (the slides' 0.89 convention) instead of the natural log.
    """)
    b.question("q_softmax_minmax", """
    **Question.** What are the smallest and the largest possible values of the softmax loss
    $L_i$? Are they attained?
    """, """
    0 is the infimum: it is approached as p_y -> 1 (the correct score infinitely above the
    others) but never reached with finite scores. There is no maximum: as p_y -> 0 the loss
    grows without bound (+infinity). Unlike the SVM, softmax is never fully satisfied.
    """)
    b.md("""
    ### `softmax_loss_vectorized`

    The same loss and gradient without Python loops (shift every row by its own maximum).
    """)
    b.solution("softmax_loss_vectorized")
    b.tests("softmax_loss_vectorized", selfcheck_cell("softmax_loss_vectorized"),
        loss_expectations(ref_softmax.softmax_loss_vectorized, 401, 15, 7, 5, 0.0) + "\n" +
        loss_expectations(ref_softmax.softmax_loss_vectorized, 402, 1, 4, 2, 0.3) + "\n" +
        STABILITY)
    b.given("softmax_timing", timing_cell("softmax"))
    b.md("## Training and tuning\n\n`Softmax` is a `LinearClassifier` whose loss is your `softmax_loss_vectorized`.")
    b.solution("Softmax")
    b.tests("Softmax", selfcheck_cell("Softmax"), """
    _sm = Softmax()
    _sm.W = np.zeros((X_dev.shape[1], num_classes))
    assert abs(_sm.loss(X_dev, y_dev, 0.0)[0] - np.log(num_classes)) < 1e-12
    """)
    b.given("softmax_tune", """
    NUM_ITERS = 1500 if data.source == "cifar10" else 500  # the digits need far fewer steps
    tic = time.perf_counter()
    best_softmax, best_val, results = tune_hyperparameters(Softmax, X_train, y_train, X_val, y_val,
                                                           grid["learning_rates"], grid["regularization_strengths"],
                                                           num_iters=NUM_ITERS, seed=0)
    print(f"{len(results)} models in {time.perf_counter() - tic:.1f} s; best validation accuracy {best_val:.3f}")
    best_lr, best_reg = max(results, key=lambda k: results[k][1])
    loss_hist = Softmax().train(X_train, y_train, learning_rate=best_lr, reg=best_reg, num_iters=NUM_ITERS, seed=0)
    plt.figure(figsize=(5, 3))
    plt.plot(loss_hist, linewidth=1)
    plt.xlabel("iteration")
    plt.ylabel("minibatch loss")
    plt.title(f"softmax, lr {best_lr:g}, reg {best_reg:g}")
    plt.show()
    """)
    b.given("softmax_heatmap", _heatmap_code("results", "softmax validation accuracy"))
    b.given("softmax_test", """
    test_accuracy = np.mean(best_softmax.predict(X_test) == y_test)
    print(f"softmax test accuracy: {test_accuracy:.3f}")
    assert data.source != "digits" or test_accuracy > 0.85
    """)
    b.given("softmax_templates", TEMPLATES.format(model="best_softmax"))
    b.question("q_svm_vs_softmax", """
    **Question.** Is it possible to add a training example that leaves the SVM loss unchanged
    but changes the softmax loss? Explain with the slides' example scores [-2.85, 0.86, 0.28].
    """, """
    Yes. An example whose correct score beats every other score by at least the margin has SVM
    loss exactly 0, so adding it leaves the (summed) SVM loss unchanged; its softmax loss is
    always > 0 (p_y < 1), so the softmax loss changes. For [-2.85, 0.86, 0.28] with class 3
    correct, the SVM loss is 1.58 and the softmax loss 1.04 nats; raising the third score to
    2.0 makes the SVM loss 0 while the softmax loss stays positive (0.28 nats).
    """)
    return b.notebook()


