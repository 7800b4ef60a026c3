"""The misconception catalog, its diagnosis, the mutants made from it, and the alternatives.

The catalog IS the kit's set of deliberately buggy copies of the reference (issue 2): every
loss and gradient-check variant here is a one-option change of a parametrized implementation
whose default options are the reference.  The grader reuses the same variants to diagnose
students (``diagnose``), and the assignment's ``mutants`` module writes them into one-bug
submissions for the grading tests.  This file shows that

* each variant is a real bug: it differs from ``solutions/`` on the inputs that reveal it, and
  the reference's own comparison checks (loss within 1e-6, dW relative error below 1e-6) reject
  it (``tests/unit/test_reference_catches_bugs.py`` runs the full reference check battery too);
* ``diagnose`` names exactly that variant when fed its output, nothing for the reference's
  output, and never raises on malformed replies;
* the variants of one part can be told apart;
* every mutant differs from the reference in exactly its function and behaves like its variant;
* the hand-written alternative submissions in ``tests/fixtures/alternatives`` are correct.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import sys
import types
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from kit import MODULES, PARTS_BY_NAME, REFERENCE_DIR, ROOT

from linclass.assignments.linear_classifiers import misconceptions as M
from linclass.assignments.linear_classifiers import mutants
from linclass.student.loops import find_loops
from solutions.linear_classifiers import gradient_check, linear_classifier, linear_svm, softmax

ALTERNATIVES_DIR = ROOT / "tests" / "fixtures" / "alternatives"
ALTERNATIVES = sorted(p.name for p in ALTERNATIVES_DIR.iterdir() if p.is_dir())

SOLUTION = {
    "svm_loss_naive": linear_svm.svm_loss_naive,
    "svm_loss_vectorized": linear_svm.svm_loss_vectorized,
    "softmax_loss_naive": softmax.softmax_loss_naive,
    "softmax_loss_vectorized": softmax.softmax_loss_vectorized,
    "eval_numerical_gradient": gradient_check.eval_numerical_gradient,
    "grad_check_sparse": gradient_check.grad_check_sparse,
    "rel_error": gradient_check.rel_error,
}
VALUE_PARTS = ("eval_numerical_gradient", "grad_check_sparse", "rel_error")
KINDS = {**{p: ("standard", "large_scores", "row_offsets") for p in M.LOSS_PARTS},
         "eval_numerical_gradient": ("standard",), "grad_check_sparse": ("standard",),
         "rel_error": ("standard", "zero_pairs")}

VARIANT_CASES = [(m, part) for m in M.CATALOG if m.variant is not None for part in m.parts]
VALUE_CASES = [(m, part) for m, part in VARIANT_CASES if m.affects != "behaviour"]


def case_id(case) -> str:
    m, part = case
    return f"{m.id}-{part}"


def run(func, args):
    """``func`` on fresh copies of the arguments (as the grader would call it)."""
    with np.errstate(all="ignore"):
        return func(*(a.copy() if isinstance(a, np.ndarray) else a for a in args))


def kind_for(m) -> str:
    return m.inputs if m.inputs in ("large_scores", "row_offsets", "zero_pairs") else "standard"


def same(a, b, rtol=1e-8, atol=1e-10) -> bool:
    """Equal shapes, non-finite at the same places, finite parts close."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return False
    return bool(np.allclose(a[np.isfinite(a)], b[np.isfinite(b)], rtol=rtol, atol=atol))


def same_output(part, out, ref, **tol) -> bool:
    if part in M.LOSS_PARTS:
        return same(out[0], ref[0], **tol) and same(out[1], ref[1], **tol)
    return same(out, ref, **tol)


# --------------------------------------------------------------------------------------------
# The catalog.
# --------------------------------------------------------------------------------------------

#: The bugs the design and issue 4 name; each must have an entry.
REQUIRED = {
    "svm_correct_class_in_sum", "svm_loss_not_divided_by_n", "svm_grad_not_divided_by_n",
    "svm_half_reg_convention", "svm_reg_grad_missing_factor_2", "svm_no_reg_in_grad", "svm_no_reg_in_loss",
    "svm_delta_zero", "svm_squared_hinge", "svm_mean_over_classes", "svm_grad_sign_flipped",
    "svm_grad_transposed", "softmax_log10", "softmax_no_max_shift", "softmax_global_max_shift",
    "softmax_grad_missing_minus_one", "softmax_wrong_axis", "softmax_sum_instead_of_mean",
    "numgrad_forward_difference", "numgrad_x_not_restored", "numgrad_divides_by_h", "rel_error_no_abs",
    "rel_error_no_floor", "rel_error_global_denominator", "gradcheck_ignores_seed", "sgd_ascent",
    "sgd_reused_minibatch", "sgd_first_rows_only", "sgd_reinitializes_w", "predict_wrong_axis",
    "predict_float_labels", "tune_selects_by_train", "tune_reuses_model", "tune_ignores_hyperparameters",
}


def test_catalog_covers_the_named_bugs():
    ids = [m.id for m in M.CATALOG]
    assert len(ids) == len(set(ids)) >= 28
    assert REQUIRED <= set(ids), REQUIRED - set(ids)
    for m in M.CATALOG:
        assert set(m.parts) <= set(PARTS_BY_NAME), m.id
        assert m.affects in M.AFFECTS and m.inputs in M.INPUT_KINDS
        # behavioural ones are edits of the reference, or another reference function in its place
        assert (m.variant is None) == (m.id in mutants.EDITS or m.id in mutants.STAND_INS), m.id
        assert m.title and m.hint and not m.title.endswith(".")  # the report adds its own punctuation


def test_for_part_and_by_id():
    assert M.by_id("svm_reg_grad_missing_factor_2").parts == ("svm_loss_naive", "svm_loss_vectorized")
    assert {m.id for m in M.for_part("rel_error")} >= {"rel_error_no_abs", "rel_error_no_floor"}
    assert [m.id for m in M.for_part("LinearSVM.loss")] == ["classifier_wrong_loss"]
    with pytest.raises(KeyError, match="unknown misconception"):
        M.by_id("no_such_bug")


CODE_FRAGMENTS = ("np.", "+=", "-=", "dW =", "dW[", "axis=", "keepdims", "[:, ", "2 * reg * W", "return ")


@pytest.mark.parametrize("m", M.CATALOG, ids=lambda m: m.id)
def test_hints_teach_without_code(m):
    """A hint describes the reasoning; it never prints a fixed line of code."""
    assert not [f for f in CODE_FRAGMENTS if f in m.hint], m.hint
    assert len(m.hint) > 60


@pytest.mark.parametrize("part", sorted(M.REFERENCE))
def test_default_options_are_the_reference(part):
    """The parametrized implementations with no bug option equal solutions/."""
    for kind in KINDS[part]:
        args = M.sample_args(part, kind)
        assert same_output(part, run(M.REFERENCE[part], args), run(SOLUTION[part], args), rtol=1e-10), kind


# --------------------------------------------------------------------------------------------
# Each variant is a bug; the reference checks catch it; diagnose names it.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", VALUE_CASES, ids=case_id)
def test_variant_is_a_bug(case):
    """The variant's output differs from solutions/ in what it affects, on its revealing inputs."""
    m, part = case
    args = M.sample_args(part, kind_for(m))
    out, ref = run(m.variant, args), run(SOLUTION[part], args)
    if part in M.LOSS_PARTS:
        loss_differs, grad_differs = not same(out[0], ref[0]), not same(out[1], ref[1])
        expected = {"loss": (True, False), "grad": (False, True)}.get(m.affects)
        if expected:
            assert (loss_differs, grad_differs) == expected
        else:
            assert loss_differs or grad_differs
    else:
        assert not same(out, ref)


@pytest.mark.parametrize("case", VALUE_CASES, ids=case_id)
def test_reference_comparison_checks_reject_the_variant(case):
    """The buggy copies fail the comparisons the reference's own tests make: the loss within
    1e-6 and dW with a relative error below 1e-6 (losses), values within 1e-9 (the rest)."""
    m, part = case
    args = M.sample_args(part, kind_for(m))
    out, ref = run(m.variant, args), run(SOLUTION[part], args)
    if part in M.LOSS_PARTS:
        loss_ok = np.isfinite(out[0]) and abs(out[0] - ref[0]) <= 1e-6 * max(1.0, abs(ref[0]))
        grad_ok = np.shape(out[1]) == ref[1].shape and gradient_check.rel_error(out[1], ref[1]) < 1e-6
        assert not (loss_ok and grad_ok)
    else:
        assert not (np.shape(out) == np.shape(ref) and np.allclose(out, ref, rtol=1e-9, atol=1e-12))


@pytest.mark.parametrize("case", VALUE_CASES, ids=case_id)
def test_diagnose_names_the_variant(case):
    m, part = case
    args = M.sample_args(part, kind_for(m))
    assert M.diagnose(part, args, run(m.variant, args)) == [m]


@pytest.mark.parametrize("part", sorted(M.REFERENCE))
def test_diagnose_finds_nothing_in_the_reference(part):
    for kind in KINDS[part]:
        for seed in (0, 1):
            args = M.sample_args(part, kind, seed)
            assert M.diagnose(part, args, run(SOLUTION[part], args)) == [], (kind, seed)


def test_diagnose_separates_a_loss_bug_from_a_gradient_bug():
    """A student can have two bugs: the loss and dW are matched separately."""
    args = M.sample_args("svm_loss_vectorized")
    loss, _ = run(M.by_id("svm_loss_not_divided_by_n").variant, args)
    _, dW = run(M.by_id("svm_reg_grad_missing_factor_2").variant, args)
    found = [m.id for m in M.diagnose("svm_loss_vectorized", args, (loss, dW))]
    assert found == ["svm_loss_not_divided_by_n", "svm_reg_grad_missing_factor_2"]


def test_diagnose_prefers_the_explanation_of_both_loss_and_gradient():
    """The 0.5 * reg convention and the missing factor 2 share dW; only the first explains the
    loss too, so only it is reported."""
    args = M.sample_args("softmax_loss_naive")
    half = M.by_id("softmax_half_reg_convention")
    assert M.diagnose("softmax_loss_naive", args, run(half.variant, args)) == [half]


def test_diagnose_needs_evidence():
    """With reg = 0 every regularizer bug equals the reference: none can be diagnosed."""
    W, X, y, _ = M.sample_args("svm_loss_vectorized")
    args = (W, X, y, 0.0)
    reply = run(M.by_id("svm_reg_grad_missing_factor_2").variant, args)
    assert M.diagnose("svm_loss_vectorized", args, reply) == []


@pytest.mark.parametrize("reply", [
    None, "a string", 3.0, (1.0,), (1.0, 2.0, 3.0), {"loss": 1.0}, (np.nan, np.zeros((5, 4))),
    ("text", np.zeros((2, 2))), (1.0, "grad"), (np.ones(3), np.ones((5, 4))), [np.inf, np.full((5, 4), np.nan)],
], ids=repr)
def test_diagnose_never_raises_on_malformed_replies(reply):
    for part in sorted(M.REFERENCE):
        assert M.diagnose(part, M.sample_args(part), reply) == []


def test_diagnose_handles_partial_replies_and_bad_args():
    args = M.sample_args("svm_loss_vectorized")
    loss, _ = run(M.by_id("svm_correct_class_in_sum").variant, args)
    found = M.diagnose("svm_loss_vectorized", args, (loss, np.zeros((2, 2))))  # dW of the wrong shape
    assert [m.id for m in found] == ["svm_correct_class_in_sum"]
    assert M.diagnose("svm_loss_vectorized", ("W", None), (1.0, np.zeros(3))) == []
    assert M.diagnose("LinearClassifier.train", (), None) == []
    assert M.diagnose("no_such_part", (), None) == []


def test_diagnose_evaluates_elementwise_specs():
    f, x, h = M.sample_args("eval_numerical_gradient")
    spec = {"__callable__": "elementwise", "a": f.a, "b": f.b}
    reply = run(M.by_id("numgrad_divides_by_h").variant, (f, x, h))
    assert [m.id for m in M.diagnose("eval_numerical_gradient", (spec, x, h), reply)] == ["numgrad_divides_by_h"]
    other = {"__callable__": "student_loss", "target": "svm_loss_vectorized"}
    assert M.diagnose("eval_numerical_gradient", (other, x, h), reply) == []


def test_diagnose_loosens_tolerances_for_float32():
    W, X, y, reg = M.sample_args("softmax_loss_vectorized")
    args32 = (W.astype(np.float32), X.astype(np.float32), y, reg)
    m = M.by_id("softmax_log10")
    loss, dW = run(m.variant, (W, X, y, reg))  # computed in float64: differs from a float32 run in digit 7
    assert M.diagnose("softmax_loss_vectorized", args32, (loss * (1 + 3e-6), dW)) == [m]


def test_grad_check_sparse_diagnosis_ignores_the_order_of_the_checks():
    args = M.sample_args("grad_check_sparse")
    m = M.by_id("gradcheck_divides_by_h")
    reply = run(m.variant, args)[::-1]
    assert M.diagnose("grad_check_sparse", args, reply) == [m]


def test_behavioural_variants_show_their_bug():
    """The two behavioural entries with a variant: x comes back changed; the seed is ignored."""
    f, x, h = M.sample_args("eval_numerical_gradient")
    before = x.copy()
    M.by_id("numgrad_x_not_restored").variant(f, x, h)
    assert not np.array_equal(x, before)
    args = M.sample_args("grad_check_sparse")
    noisy = args[2] * np.random.default_rng(0).uniform(0.5, 1.5, args[2].shape)
    ignores = M.by_id("gradcheck_ignores_seed").variant
    first, again = (run(ignores, (args[0], args[1], noisy, 8, 1e-5, 3)) for _ in range(2))
    assert not np.array_equal(first, again)
    reference = [run(SOLUTION["grad_check_sparse"], (args[0], args[1], noisy, 8, 1e-5, 3)) for _ in range(2)]
    assert np.array_equal(*reference)


@pytest.mark.parametrize("part", sorted(M.REFERENCE))
def test_variants_of_a_part_are_distinguishable(part):
    """No two variants of one part give the same output on all of the part's input kinds.
    (softmax_no_max_shift and softmax_global_max_shift agree with the reference and with each
    other on standard inputs; large_scores separates the first, row_offsets the second.)"""
    variants = [m for m in M.for_part(part) if m.variant is not None and m.affects != "behaviour"]
    inputs = [M.sample_args(part, kind) for kind in KINDS[part]]
    outputs = {m.id: [run(m.variant, args) for args in inputs] for m in variants}
    for a, b in combinations(outputs, 2):
        assert not all(same_output(part, x, y) for x, y in zip(outputs[a], outputs[b])), (a, b)


# --------------------------------------------------------------------------------------------
# Mutants.
# --------------------------------------------------------------------------------------------

FORBIDDEN_IMPORTS = ("solutions", "autograder", "linclass")


def _definitions(source: str) -> dict[str, str]:
    """Qualified name -> AST dump of every top-level function, class body statement and method."""
    defs = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            defs[node.name] = ast.dump(node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                name = getattr(item, "name", None) or f"<stmt {ast.dump(item)}>"
                defs[f"{node.name}.{name}"] = ast.dump(item)
            defs[node.name] = ast.dump(ast.ClassDef(node.name, node.bases, node.keywords, [], node.decorator_list))
        else:
            defs[f"<stmt {ast.dump(node)}>"] = ast.dump(node)
    return defs


def _imports(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_there_are_at_least_30_mutants():
    assert len(mutants.MUTANTS) >= 30
    assert len(set(mutants.MUTANTS)) == len(mutants.MUTANTS)
    assert {part for _, part in mutants.MUTANTS} >= set(SOLUTION) | {
        "LinearClassifier.train", "LinearClassifier.predict", "tune_hyperparameters"}


def test_reference_submission_is_standalone(tmp_path):
    dest = mutants.write_reference(tmp_path / "reference")
    assert sorted(p.name for p in dest.iterdir()) == sorted(f"{m}.py" for m in MODULES)
    for path in dest.iterdir():
        assert not _imports(path.read_text()) & set(FORBIDDEN_IMPORTS), path.name
    with loaded(dest) as mods:
        args = M.sample_args("softmax_loss_vectorized")
        assert same_output("softmax_loss_vectorized", run(mods["softmax"].softmax_loss_vectorized, args),
                           run(SOLUTION["softmax_loss_vectorized"], args))
        assert issubclass(mods["linear_classifier"].LinearSVM, mods["linear_classifier"].LinearClassifier)


@pytest.mark.parametrize("pair", mutants.MUTANTS, ids=lambda p: f"{p[0]}-{p[1]}")
def test_mutant_changes_exactly_its_function(pair):
    mid, part = pair
    reference = mutants.reference_sources()
    mutant = mutants.mutant_sources(mid, part)
    filename = f"{PARTS_BY_NAME[part].module}.py"
    assert {n for n in mutant if mutant[n] != reference[n]} == {filename}
    before, after = _definitions(reference[filename]), _definitions(mutant[filename])
    changed = {n for n in before if before[n] != after.get(n)}
    assert changed == {part}
    added = set(after) - set(before)
    assert all(n.startswith("_") for n in added), added  # only the catalog's private helpers
    assert not _imports(mutant[filename]) & set(FORBIDDEN_IMPORTS)


@pytest.mark.parametrize("case", VARIANT_CASES, ids=case_id)
def test_mutant_behaves_like_its_variant(case, tmp_path):
    """The generated function gives the variant's output; vectorized mutants pass the loop check."""
    m, part = case
    dest = mutants.write_mutant(m.id, part, tmp_path / "mutant")
    module = PARTS_BY_NAME[part].module
    func = getattr(load_file(dest / f"{module}.py"), part)
    if m.affects != "behaviour":  # (the behavioural two are random or mutate x: shown above)
        args = M.sample_args(part, kind_for(m))
        assert same_output(part, run(func, args), run(m.variant, args), rtol=1e-10)
    units = [(p.name, p.read_text()) for p in dest.iterdir()]
    loops = find_loops(units, part)
    assert bool(loops) == (part in ("svm_loss_naive", "softmax_loss_naive") or part in VALUE_PARTS[:2])


BEHAVIOURAL_MUTANTS = sorted((mid, part) for mid, parts in {**mutants.EDITS, **mutants.STAND_INS}.items()
                             for part in parts)


@pytest.mark.parametrize("pair", BEHAVIOURAL_MUTANTS, ids=lambda p: f"{p[0]}-{p[1]}")
def test_behavioural_mutant_shows_its_bug(pair, tmp_path, digits_small):
    """Each behavioural mutant fails the probe that the reference passes."""
    mid, part = pair
    with loaded(mutants.write_mutant(mid, part, tmp_path / "mutant")) as buggy:
        assert BEHAVIOUR_PROBES[mid](buggy, digits_small, part)
    with loaded(mutants.write_reference(tmp_path / "reference")) as reference:
        assert not BEHAVIOUR_PROBES[mid](reference, digits_small, part)


# Probes: each returns True when the submission shows the bug.


def _recording(mods):
    base = mods["linear_classifier"].LinearSVM

    class Recording(base):
        def loss(self, X_batch, y_batch, reg):
            self.batches.append(X_batch.copy())
            return super().loss(X_batch, y_batch, reg)

    model = Recording()
    model.batches = []
    return model


def _probe_ascent(mods, data, part=None):
    X, y = data
    history = train(mods["linear_classifier"].LinearSVM(), X, y, learning_rate=1e-2, num_iters=30)
    return history[-1] > history[0]


def _probe_same_batches(mods, data, part=None):
    X, y = data
    model = _recording(mods)
    train(model, X, y, num_iters=3, batch_size=20)
    return all(np.array_equal(model.batches[0], b) for b in model.batches[1:])


def _probe_first_rows(mods, data, part=None):
    X, y = data
    model = _recording(mods)
    train(model, X, y, num_iters=3, batch_size=20)
    return all(np.array_equal(b, X[:20]) for b in model.batches)


def _probe_reinit(mods, data, part=None):
    X, y = data
    model = mods["linear_classifier"].LinearSVM()
    model.W = W0 = np.full((X.shape[1], 10), 0.5)
    train(model, X, y, num_iters=0)
    return not np.array_equal(model.W, W0)


def _predict(mods, data):
    X, y = data
    model = mods["linear_classifier"].Softmax()
    model.W = np.random.default_rng(0).normal(size=(X.shape[1], 10))
    return np.asarray(model.predict(X)), X


def _probe_predict_axis(mods, data, part=None):
    labels, X = _predict(mods, data)
    return labels.shape != (X.shape[0],)


def _probe_predict_floats(mods, data, part=None):
    labels, _ = _predict(mods, data)
    return not np.issubdtype(labels.dtype, np.integer)


class _ProbeModel:
    """A model whose accuracies are designed per (lr, reg): train and validation disagree."""

    instances: list = []
    TRAIN = {(1.0, 0.1): 0.9, (2.0, 0.1): 0.5}
    VAL = {(1.0, 0.1): 0.4, (2.0, 0.1): 0.8}

    def __init__(self):
        self.W = None
        self.pair = None
        self.trained = []
        self.settings = []
        _ProbeModel.instances.append(self)

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False, seed=None):
        self.pair = (learning_rate, reg)
        self.trained.append(self.pair)
        self.settings.append((num_iters, batch_size))
        return []

    def predict(self, X):
        table = self.TRAIN if len(X) == 10 else self.VAL
        correct = int(round(10 * table.get(self.pair, 0.0)))
        return np.r_[np.zeros(correct, int), np.ones(len(X) - correct, int)]


def _tune(mods):
    _ProbeModel.instances = []
    X, y = np.zeros((10, 2)), np.zeros(10, int)
    Xv, yv = np.zeros((11, 2)), np.zeros(11, int)
    best, best_val, results = mods["tuning"].tune_hyperparameters(
        _ProbeModel, X, y, Xv, yv, [1.0, 2.0], [0.1], num_iters=1, batch_size=1)
    return best, results


def _probe_by_train(mods, data, part=None):
    best, _ = _tune(mods)
    return best.pair == (1.0, 0.1)


def _probe_reused(mods, data, part=None):
    _tune(mods)
    return len(_ProbeModel.instances) == 1


def _probe_ignored(mods, data, part=None):
    best, _ = _tune(mods)
    return {p for m in _ProbeModel.instances for p in m.trained} != {(1.0, 0.1), (2.0, 0.1)}


def _probe_modifies_w(mods, data, part):
    fn = getattr(mods["linear_svm" if part.startswith("svm") else "softmax"], part)
    W, X, y, reg = M.sample_args(part)
    W0 = W.copy()
    fn(W, X, y, reg)
    return not np.array_equal(W, W0)


def _probe_transposed(mods, data, part):
    fn = getattr(mods["linear_svm" if part.startswith("svm") else "softmax"], part)
    W, X, y, reg = M.sample_args(part)
    try:
        loss, _ = fn(W, X, y, reg)
    except ValueError:  # the shapes do not fit the 2015 layout it was written for
        return True
    return not np.isclose(loss, SOLUTION[part](W, X, y, reg)[0])


def _probe_loops(mods, data, part):
    module = "linear_svm" if part.startswith("svm") else "softmax"
    return bool(find_loops([(f"{module}.py", inspect.getsource(mods[module]))], part))


class _Spy:
    """Wraps a LinearSVM: records every loss call and the initial W."""

    def __init__(self, mods):
        base = mods["linear_classifier"].LinearSVM
        spy = self

        class Spied(base):
            def loss(self, X_batch, y_batch, reg):
                spy.regs.append(reg)
                spy.batches.append(X_batch.copy())
                if spy.W_init is None:
                    spy.W_init = self.W.copy()
                return super().loss(X_batch, y_batch, reg)

        self.model, self.regs, self.batches, self.W_init = Spied(), [], [], None


def _probe_ignores_reg(mods, data, part):
    spy = _Spy(mods)
    train(spy.model, *data, reg=0.5, num_iters=3)
    return spy.regs != [0.5] * 3


def _probe_unique_classes(mods, data, part):
    X, y = data
    keep = y != 1
    spy = _Spy(mods)
    try:
        train(spy.model, X[keep], y[keep], num_iters=1)
    except IndexError:  # the largest label has no column of W
        pass
    return spy.W_init is None or spy.W_init.shape[1] != int(y.max()) + 1


def _probe_init_scale(mods, data, part):
    spy = _Spy(mods)
    train(spy.model, *data, num_iters=1)
    return not 2e-4 < float(np.std(spy.W_init)) < 5e-3


def _probe_ignores_seed(mods, data, part):
    a, b = _Spy(mods), _Spy(mods)
    train(a.model, *data, num_iters=2, seed=4)
    train(b.model, *data, num_iters=2, seed=4)
    return not all(np.array_equal(u, v) for u, v in zip(a.batches, b.batches))


def _probe_history(mods, data, part):
    history = train(mods["linear_classifier"].LinearSVM(), *data, num_iters=3)
    return not (isinstance(history, list) and len(history) == 3)


def _probe_step_count(mods, data, part):
    spy = _Spy(mods)
    train(spy.model, *data, num_iters=3)
    return len(spy.regs) != 3


def _probe_wrong_loss(mods, data, part):
    cls = part.split(".")[0]
    own = "svm_loss_vectorized" if cls == "LinearSVM" else "softmax_loss_vectorized"
    W, X, y, reg = M.sample_args(own)
    model = getattr(mods["linear_classifier"], cls)()
    model.W = W
    expected = getattr(mods["linear_svm" if cls == "LinearSVM" else "softmax"], own)(W, X, y, reg)
    return not np.isclose(model.loss(X, y, reg)[0], expected[0])


def _probe_last_model(mods, data, part):
    _ProbeModel.instances = []
    X, y = np.zeros((10, 2)), np.zeros(10, int)
    Xv, yv = np.zeros((11, 2)), np.zeros(11, int)
    best, _, _ = mods["tuning"].tune_hyperparameters(_ProbeModel, X, y, Xv, yv, [2.0, 1.0], [0.1], num_iters=1,
                                                     batch_size=1)
    return best.pair != (2.0, 0.1)


def _probe_swapped(mods, data, part):
    _, results = _tune(mods)  # (1.0, 0.1): train accuracy 9/10, validation accuracy 4/11
    return not np.allclose(results[(1.0, 0.1)], (0.9, 4 / 11))


def _probe_num_iters(mods, data, part):
    _tune(mods)
    return any(m.settings != [(1, 1)] for m in _ProbeModel.instances)


BEHAVIOUR_PROBES = {
    "loss_modifies_w": _probe_modifies_w, "vectorized_with_loops": _probe_loops, "transposed_layout": _probe_transposed,
    "sgd_ascent": _probe_ascent, "sgd_reused_minibatch": _probe_same_batches,
    "sgd_first_rows_only": _probe_first_rows, "sgd_reinitializes_w": _probe_reinit,
    "sgd_ignores_reg": _probe_ignores_reg, "sgd_classes_from_unique": _probe_unique_classes,
    "sgd_init_unscaled": _probe_init_scale, "sgd_ignores_seed": _probe_ignores_seed,
    "sgd_history_missing": _probe_history, "sgd_one_step_short": _probe_step_count,
    "classifier_wrong_loss": _probe_wrong_loss,
    "predict_wrong_axis": _probe_predict_axis, "predict_float_labels": _probe_predict_floats,
    "tune_selects_by_train": _probe_by_train, "tune_returns_last_model": _probe_last_model,
    "tune_results_swapped": _probe_swapped, "tune_ignores_num_iters": _probe_num_iters,
    "tune_reuses_model": _probe_reused, "tune_ignores_hyperparameters": _probe_ignored,
}


def test_every_behavioural_entry_has_a_probe():
    behavioural = {m.id for m in M.CATALOG if m.variant is None}
    assert set(BEHAVIOUR_PROBES) == set(mutants.EDITS) | set(mutants.STAND_INS) == behavioural


# --------------------------------------------------------------------------------------------
# Alternative correct submissions.
# --------------------------------------------------------------------------------------------


def _shim_past() -> dict[str, types.ModuleType]:
    """``past.builtins.xrange`` for old CS231n code (the sandbox has the same shim)."""
    past, builtins_ = types.ModuleType("past"), types.ModuleType("past.builtins")
    builtins_.xrange = range
    past.builtins = builtins_
    return {"past": past, "past.builtins": builtins_}


@contextlib.contextmanager
def loaded(root: Path):
    """Import a module-layout submission (flat, or nested as cs231n/...) and yield its modules.

    Flat files are imported as top-level modules with their directory on sys.path (like the
    sandbox does); files inside a package by their dotted name.  sys.path and sys.modules are
    restored afterwards, so submissions never see each other's modules.
    """
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    clash = {n: sys.modules.pop(n) for n in list(sys.modules)
             if n.split(".")[0] in {*MODULES, "cs231n"}}
    try:
        if importlib.util.find_spec("past") is None:
            sys.modules.update(_shim_past())
        sys.path.insert(0, str(root))
        found = {}
        for module in MODULES:
            path = next(iter(sorted(root.rglob(f"{module}.py"))))
            parts = [module]
            parent = path.parent
            while (parent / "__init__.py").exists() and parent != root:
                parts.insert(0, parent.name)
                parent = parent.parent
            found[module] = importlib.import_module(".".join(parts))
        yield found
    finally:
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]
        sys.modules.update(clash)


def load_file(path: Path) -> types.ModuleType:
    """Execute one standalone module file under a private name."""
    module = types.ModuleType(f"_mutant_{path.stem}")
    module.__file__ = str(path)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)  # our own generated code
    return module


def train(model, X, y, seed=0, **kwargs):
    """``model.train`` with a seed, or numpy's global seed for the old signature (as the grader does)."""
    if "seed" in inspect.signature(model.train).parameters:
        return model.train(X, y, seed=seed, **kwargs)
    np.random.seed(seed)
    return model.train(X, y, **kwargs)


@pytest.fixture(scope="module")
def digits_small(digits):
    return digits.X_train[:300], digits.y_train[:300]


def _loss_inputs():
    """Standard, edge (N = 1, C = 2, reg = 0) and stability inputs."""
    cases = [M.sample_args(p, "standard", seed) for p in ("svm_loss_naive",) for seed in range(3)]
    W, X, y, reg = cases[0]
    cases += [(W, X[:1], y[:1], reg), (W[:, :2], X, y % 2, reg), (W, X, y, 0.0)]
    cases += [M.sample_args("softmax_loss_naive", kind) for kind in ("large_scores", "row_offsets")]
    return cases


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_alternative_losses_match_the_reference(name):
    with loaded(ALTERNATIVES_DIR / name) as mods:
        for part in M.LOSS_PARTS:
            student = getattr(mods["linear_svm" if part.startswith("svm") else "softmax"], part)
            for args in _loss_inputs():
                frozen = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
                loss, dW = student(*args)
                ref_loss, ref_dW = SOLUTION[part](*args)
                assert abs(loss - ref_loss) <= 1e-8 * max(1.0, abs(ref_loss)), (part, loss, ref_loss)
                assert np.shape(dW) == ref_dW.shape and np.allclose(dW, ref_dW, rtol=1e-8, atol=1e-10), part
                assert all(np.array_equal(a, b) for a, b in zip(args, frozen)), f"{part} modified its inputs"
            W, X, y, reg = M.sample_args(part)
            loss32, dW32 = student(W.astype(np.float32), X.astype(np.float32), y, reg)
            ref_loss, ref_dW = SOLUTION[part](W, X, y, reg)
            assert abs(loss32 - ref_loss) <= 1e-4 * abs(ref_loss) and np.allclose(dW32, ref_dW, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_alternative_gradient_checks_match_the_reference(name, capsys):
    with loaded(ALTERNATIVES_DIR / name) as mods:
        gc = mods["gradient_check"]
        f, x, h = M.sample_args("eval_numerical_gradient")
        before = x.copy()
        assert np.allclose(gc.eval_numerical_gradient(f, x, h=h), f.gradient(x), rtol=1e-8, atol=1e-9)
        assert np.array_equal(x, before)
        exact = f.gradient(x)
        first = gc.grad_check_sparse(f, x, exact * np.linspace(0.5, 1.5, x.size).reshape(x.shape), 6, seed=4)
        again = gc.grad_check_sparse(f, x, exact * np.linspace(0.5, 1.5, x.size).reshape(x.shape), 6, seed=4)
        assert np.shape(first) == (6,) and np.array_equal(first, again) and np.array_equal(x, before)
        assert np.max(gc.grad_check_sparse(f, x, exact, num_checks=5, seed=1)) < 1e-7
        assert np.allclose(gc.grad_check_sparse(f, x, 2 * exact, num_checks=5, seed=1), 1 / 3, atol=1e-6)
        for kind in KINDS["rel_error"]:
            a, b = M.sample_args("rel_error", kind)
            assert abs(gc.rel_error(a, b) - gradient_check.rel_error(a, b)) < 1e-12
        assert gc.rel_error(np.zeros(4), np.zeros(4)) == 0.0
    capsys.readouterr()  # the CS231n versions print as they go


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_alternative_classifier_and_tuning_work(name, digits, capsys):
    """predict = argmax of the scores; W is kept when set; training reaches the reference's
    accuracy (within 0.05) on the digits; tuning selects by validation accuracy."""
    with loaded(ALTERNATIVES_DIR / name) as mods:
        lc = mods["linear_classifier"]
        for cls, ref_cls in ((lc.LinearSVM, linear_classifier.LinearSVM), (lc.Softmax, linear_classifier.Softmax)):
            model = cls()
            model.W = W0 = np.random.default_rng(1).normal(size=(digits.X_val.shape[1], 10))
            labels = np.asarray(model.predict(digits.X_val))
            assert np.issubdtype(labels.dtype, np.integer) and np.array_equal(labels, np.argmax(digits.X_val @ W0, 1))
            train(model, digits.X_train, digits.y_train, num_iters=0)
            assert np.array_equal(model.W, W0)

            accuracies = []
            for model in (cls(), ref_cls()):
                history = train(model, digits.X_train, digits.y_train, learning_rate=1e-2, reg=1e-3, num_iters=200)
                assert len(history) == 200 and np.mean(history[-20:]) < np.mean(history[:20])
                accuracies.append(np.mean(np.asarray(model.predict(digits.X_val)) == digits.y_val))
            assert accuracies[0] >= accuracies[1] - 0.05, accuracies

        grid = ([1e-3, 1e-2], [1e-2])
        best, best_val, results = mods["tuning"].tune_hyperparameters(
            lc.Softmax, digits.X_train, digits.y_train, digits.X_val, digits.y_val, *grid, num_iters=100,
            batch_size=100, seed=0)
        assert set(results) == {(lr, reg) for lr in grid[0] for reg in grid[1]}
        assert best_val == max(val for _, val in results.values())
        assert np.mean(np.asarray(best.predict(digits.X_val)) == digits.y_val) == best_val
    capsys.readouterr()


def test_there_are_at_least_six_alternatives():
    assert len(ALTERNATIVES) >= 6
    assert (ALTERNATIVES_DIR / "cs231n_nested" / "cs231n" / "classifiers" / "linear_svm.py").exists()
    old = (ALTERNATIVES_DIR / "old_train_signature" / "linear_classifier.py").read_text()
    assert "seed" not in old.split("def train")[1].split(":")[0]


def _reformatted(code: str) -> str:
    """``code`` laid out differently, meaning the same: a comment on every statement, spacing
    between all tokens, and every bracketed comma followed by a line break."""
    import io
    import tokenize

    out, depth = [], 0
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.NEWLINE:
            out.append((tokenize.COMMENT, "# reformatted"))
        depth += tok.string in "([{" and tok.type == tokenize.OP
        depth -= tok.string in ")]}" and tok.type == tokenize.OP
        out.append((tok.type, tok.string))
        if tok.type == tokenize.OP and tok.string == "," and depth > 0:
            out.append((tokenize.NL, "\n"))
    return tokenize.untokenize(out)


@pytest.mark.parametrize("misconception_id, part", [(m, p) for m, parts in mutants.EDITS.items() for p in parts])
def test_an_edit_survives_a_reformatted_reference(misconception_id, part):
    """The behavioural mutants are edits matched by tokens: reformatting the reference (line
    breaks, spacing, comments) does not break them, and each still changes the code."""
    module = PARTS_BY_NAME[part].module
    text = _reformatted((REFERENCE_DIR / f"{module}.py").read_text())
    node = mutants._definition(ast.parse(text), part)
    segment = "".join(text.splitlines(keepends=True)[node.lineno - 1:node.end_lineno])
    edited = mutants._edited(misconception_id, part, segment)
    wrapped = f"class _C:\n{edited}" if "." in part else edited
    assert ast.dump(ast.parse(wrapped)) != ast.dump(ast.parse(f"class _C:\n{segment}" if "." in part else segment))


def test_an_edit_that_does_not_apply_is_an_error():
    with pytest.raises(ValueError, match="occurs 0 times"):
        mutants.edit("x = 1\n", "y = 2", "y = 3")
    with pytest.raises(ValueError, match="occurs 2 times"):
        mutants.edit("x = 1\nx = 1\n", "x = 1", "x = 2")
