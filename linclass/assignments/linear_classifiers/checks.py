"""The public self-check's checks of the linear-classifiers assignment (shipped with every release).

They need no solutions: the slides' worked numbers, numeric gradients of *your own* loss,
your naive against your vectorized version, shapes and types.  The runner
(:mod:`linclass.student.selfcheck`) calls :func:`checks_for` for each part of the assignment
and reports each check's outcome in one line.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from linclass.student.loops import find_loops
from linclass.student.runtime import stand_ins
from linclass.student.selfcheck import CheckFailed, call, expect

try:  # inside the kit
    from linclass.assignments.linear_classifiers.shipped import slides
except ImportError:  # in a release: next to the notebooks
    import slides  # type: ignore[no-redef]


def _num(value) -> float:
    """A returned loss as a float, or a check failure naming the type."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) and not (
            isinstance(value, np.ndarray) and value.shape == ()):
        raise CheckFailed(f"the loss must be a number, got {type(value).__name__}")
    return float(value)


def _loss_grad(fn: Callable, W, X, y, reg) -> tuple[float, np.ndarray]:
    out = fn(W, X, y, reg)
    expect(isinstance(out, tuple) and len(out) == 2, f"must return a tuple (loss, dW), got {type(out).__name__}")
    loss, dW = out
    loss = _num(loss)
    expect(isinstance(dW, np.ndarray), f"dW must be a numpy array, got {type(dW).__name__}")
    expect(dW.shape == W.shape, f"dW must be shaped like W {W.shape}, got {dW.shape}")
    return loss, dW


def _copies(example, row: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fresh copies of a slide example's W, X, y (a buggy function may modify its inputs)."""
    X, y = (example.X, example.y) if row is None else (example.X[row:row + 1], example.y[row:row + 1])
    return example.W.copy(), X.copy(), y.copy()


def _case(seed: int, n: int = 8, d: int = 6, c: int = 4, scale: float = 1.0):
    rs = np.random.RandomState(seed)
    return scale * rs.randn(d, c), rs.randn(n, d), rs.randint(c, size=n)


def directional_errors(loss_fn: Callable, W: np.ndarray, dW: np.ndarray, seed: int | None, count: int = 6,
                       h: float = 1e-6) -> np.ndarray:
    """The relative errors between ``dW`` and the centered slope of ``loss_fn`` along ``count``
    random directions (``W`` itself is never modified)."""
    rs = np.random.RandomState(seed)
    relative = np.empty(count)
    for k in range(count):
        V = rs.randn(*W.shape)
        slope = (loss_fn(W + h * V) - loss_fn(W - h * V)) / (2 * h)
        predicted = float(np.sum(dW * V))
        relative[k] = abs(slope - predicted) / max(1e-8, abs(slope) + abs(predicted))
    return relative


def _directional_errors(loss_fn: Callable, W: np.ndarray, dW: np.ndarray, seed: int, count: int = 6,
                        h: float = 1e-6) -> float:
    """Largest relative error between your gradient and the slope of your loss along random directions."""
    return float(np.max(directional_errors(loss_fn, W, dW, seed, count, h)))


def provided_grad_check(f: Callable, x: np.ndarray, analytic_grad: np.ndarray, num_checks: int = 10,
                        h: float = 1e-5, seed: int | None = None) -> np.ndarray:
    """The provided gradient check, used by the notebooks until your ``grad_check_sparse`` is written.

    It has the signature of ``grad_check_sparse`` but checks differently: along ``num_checks``
    random *directions* V it compares the centered slope ``(f(x + hV) - f(x - hV)) / 2h`` with
    ``sum(analytic_grad * V)``.  Returns the ``num_checks`` relative errors.
    """
    return directional_errors(lambda w: float(f(w)), np.asarray(x, dtype=float), np.asarray(analytic_grad, dtype=float),
                              seed, num_checks, h)


#: Stand-ins for student functions that later notebooks use but do not grade: a notebook that
#: loads a sibling's cell still written as ``raise NotImplementedError()`` gets these instead
#: (:func:`linclass.student.selfcheck.import_cells`).
PROVIDED: dict[str, Callable] = {"grad_check_sparse": provided_grad_check}


# ----------------------------------------------------------------------------------- checks
def _loss_checks(kind: str, vectorized: bool, ns: dict, code):
    """Checks of one loss function; yields (name, callable)."""
    name = f"{kind}_loss_{'vectorized' if vectorized else 'naive'}"
    fn = ns[name]
    table = slides.CAT_CAR_FROG

    def returns():
        W, X, y = _case(1)
        _loss_grad(fn, W, X, y, 0.1)
    yield "returns (loss, dW) with dW shaped like W", returns

    if kind == "svm":
        def slide_table():
            per = [_loss_grad(fn, *_copies(table, i), 0.0)[0] for i in range(3)]
            loss, _ = _loss_grad(fn, *_copies(table), 0.0)
            hint = ""
            if abs(loss - (table.svm_loss + 1)) < 1e-4:
                hint = " It is exactly 1 too high: the sum must skip the correct class j = y_i."
            elif abs(loss - 3 * table.svm_loss) < 1e-4:
                hint = " It is 3 times too high: divide the sum by N (the loss is a mean)."
            expect(np.allclose(per, table.svm_losses, atol=1e-6) and abs(loss - table.svm_loss) < 1e-5,
                   f"the slides' cat/car/frog table gives 2.9, 0, 12.9 -> mean 5.27; yours gives "
                   f"{', '.join(f'{v:.4g}' for v in per)} -> {loss:.4f}.{hint}")
        yield "slides: cat/car/frog losses 2.9, 0, 12.9 -> 5.27", slide_table

        def slide_reg():
            loss, _ = _loss_grad(fn, *_copies(table), slides.CAT_CAR_FROG_REG)
            half = table.svm_loss + 0.5 * slides.CAT_CAR_FROG_REG * float(np.sum(table.W ** 2))
            hint = " That is the 0.5 * reg convention; this course adds reg * sum(W**2)." if abs(loss - half) < 1e-4 \
                else ""
            expect(abs(loss - slides.CAT_CAR_FROG_SVM_LOSS_REG) < 1e-5,
                   f"with reg = 0.1 the table's loss is 5.266667 + 0.1 * 89.54 = 14.220667, got {loss:.6f}.{hint}")
        yield "slides: with reg = 0.1 the loss is 14.22", slide_reg

        def slide_grad():
            _, dW = _loss_grad(fn, *_copies(table), 0.0)
            expect(np.allclose(dW, slides.CAT_CAR_FROG_SVM_DW, atol=1e-6),
                   "the gradient on the slides' table should be [[-1/3, 1/3, 0], [0, 0, 0], [1/3, 1/3, -2/3]], "
                   f"got {np.round(dW, 4).tolist()}")
        yield "slides: gradient of the table", slide_grad
    else:
        def slide_cat():
            cat = slides.CAT_SOFTMAX
            loss, _ = _loss_grad(fn, *_copies(cat), 0.0)
            hint = " That is the slides' base-10 value: use the natural log (np.log)." \
                if abs(loss - cat.softmax_loss_log10) < 1e-4 else ""
            expect(abs(loss - cat.softmax_loss) < 1e-5,
                   f"the cat image (scores 3.2, 5.1, -1.7) has p_cat = 0.13 and loss -ln 0.13 = 2.04, "
                   f"got {loss:.6f}.{hint}")
        yield "slides: cat image loss -ln(0.13) = 2.04 nats", slide_cat

        def slide_table():
            loss, dW = _loss_grad(fn, *_copies(table), 0.0)
            expect(abs(loss - table.softmax_loss) < 1e-5,
                   f"the cat/car/frog table's softmax loss is 2.758655, got {loss:.6f}")
            expect(np.allclose(dW, slides.CAT_CAR_FROG_SOFTMAX_DW, atol=1e-6),
                   f"the gradient on the slides' table is wrong: got {np.round(dW, 4).tolist()}")
            sv = slides.SVM_VS_SOFTMAX
            loss, _ = _loss_grad(fn, *_copies(sv), 0.0)
            expect(abs(loss - sv.softmax_loss) < 1e-5,
                   f"scores [-2.85, 0.86, 0.28] with the third class correct give 1.04 nats, got {loss:.6f}")
        yield "slides: cat/car/frog table 2.76 and [-2.85, 0.86, 0.28] -> 1.04", slide_table

        def stable():
            W = np.array([[1000.0, 1001.0, 999.0]])
            X, y = np.ones((1, 1)), np.array([0])
            with np.errstate(all="ignore"):
                big, dbig = _loss_grad(fn, W, X, y, 0.0)
            small, dsmall = _loss_grad(fn, W - 1000.0, X, y, 0.0)
            expect(np.isfinite(big) and np.all(np.isfinite(dbig)),
                   "scores [1000, 1001, 999] give inf/nan: subtract each row's max score before exp")
            expect(abs(big - small) < 1e-8 and np.allclose(dbig, dsmall),
                   f"shifting all scores by 1000 must not change the loss ({small:.6f} vs {big:.6f})")
        yield "numerically stable for large scores", stable

    def init_loss():
        rs = np.random.RandomState(3)
        W, X, y = 1e-6 * rs.randn(20, 10), rs.randn(200, 20), rs.randint(10, size=200)
        loss, _ = _loss_grad(fn, W, X, y, 0.0)
        want = slides.init_loss_svm(10) if kind == "svm" else slides.init_loss_softmax(10)
        expect(abs(loss - want) < 0.05,
               f"with a tiny W (all scores ~0) and C = 10 the loss should be "
               f"{'C - 1 = 9' if kind == 'svm' else 'ln(10) = 2.30'}, got {loss:.4f}")
    yield f"loss at init is {'C - 1' if kind == 'svm' else 'ln(C)'}", init_loss

    def gradcheck():
        for reg, seed in ((0.0, 11), (0.7, 12)):
            W, X, y = _case(seed)
            W0, X0, y0 = W.copy(), X.copy(), y.copy()
            _, dW = _loss_grad(fn, W, X, y, reg)
            expect(np.array_equal(W, W0) and np.array_equal(X, X0) and np.array_equal(y, y0),
                   "your function modified its inputs (W, X or y); work on copies")
            err = _directional_errors(lambda w, X=X, y=y, reg=reg: _num(fn(w, X, y, reg)[0]), W, dW, seed)
            what = "the regularization gradient is 2 * reg * W" if reg else "check your dW"
            expect(err < 1e-6, f"your dW disagrees with the numeric slope of your own loss (reg = {reg}): "
                               f"relative error {err:.1e}; {what}")
    yield "gradient check of your own loss (reg = 0 and reg > 0)", gradcheck

    if vectorized:
        naive = ns.get(f"{kind}_loss_naive")

        def agrees():
            W, X, y = _case(21, n=30, d=9, c=5, scale=0.5)
            try:
                ln, gn = _loss_grad(naive, W, X, y, 0.3)
            except NotImplementedError:
                raise CheckFailed(f"skipped: your {kind}_loss_naive is not implemented yet") from None
            lv, gv = _loss_grad(fn, W, X, y, 0.3)
            expect(abs(ln - lv) < 1e-9 * max(1.0, abs(ln)) and np.allclose(gn, gv, atol=1e-9),
                   f"naive and vectorized disagree: loss {ln:.10f} vs {lv:.10f}, "
                   f"gradient difference {np.linalg.norm(gn - gv):.2e}")
        if naive is not None:
            yield f"agrees with your {kind}_loss_naive", agrees

        def no_loops():
            loops = find_loops(list(code.sources.items()), name)
            if loops is None:
                raise CheckFailed(f"skipped: the source of your {name} is not available to check")
            expect(not loops, f"{loops[0]}: use array operations instead" if loops else "")
        yield "no Python loops", no_loops

        def edge():
            W, X, y = _case(31, n=1, d=3, c=2)
            _loss_grad(fn, W, X, y, 0.0)
            W32, X32, y32 = (a.astype(np.float32) if a.dtype.kind == "f" else a for a in _case(32))
            _loss_grad(fn, W32, X32, y32, 0.1)
        yield "N = 1, C = 2 and float32 inputs work", edge


def _gradient_tool_checks(part: str, ns: dict, code):
    fn = ns[part]
    if part == "eval_numerical_gradient":
        def calculus():
            x = np.array([2.0])
            g = fn(lambda w: float(np.sum(w ** 2 + 3)), x)
            expect(isinstance(g, np.ndarray) and g.shape == (1,), "return an array shaped like x")
            expect(abs(float(g[0]) - 4.0) < 1e-6, f"the slides' L(w) = w**2 + 3 has slope 4 at w = 2, got {g[0]}")
            expect(x[0] == 2.0, "x must be restored after perturbing it")
        yield "slides: d(w**2 + 3)/dw = 4 at w = 2", calculus

        def centered():
            x = np.array([[0.3, -1.2], [2.0, 0.5]])
            x0 = x.copy()
            g = fn(lambda v: float(np.sum(np.sin(v))), x)
            expect(isinstance(g, np.ndarray) and g.shape == x.shape, "return an array shaped like x (2-D here)")
            err = float(np.max(np.abs(g - np.cos(x0))))
            hint = " That is the error of a forward difference: use (f(x+h) - f(x-h)) / (2h)." if 1e-7 < err < 1e-4 \
                else ""
            expect(err < 1e-8, f"the gradient of sum(sin(x)) is cos(x); your largest error is {err:.1e}.{hint}")
            expect(np.array_equal(x, x0), "x must be restored after perturbing it")
        yield "centered differences on a 2-D input, x restored", centered
    elif part == "rel_error":
        def values():
            e = fn(np.array([1.0, 2.0]), np.array([1.0, 2.2]))
            expect(isinstance(e, float), f"return a Python float, got {type(e).__name__}")
            expect(abs(e - 0.2 / 4.2) < 1e-12, f"rel_error([1, 2], [1, 2.2]) is 0.2 / 4.2 = 0.047619, got {e}")
            z = fn(np.zeros(3), np.zeros(3))
            expect(z == 0.0, f"two zero arrays must give 0 (no division by zero), got {z}")
        yield "values: 0.2 / 4.2 and zeros", values
    else:
        def exact_and_wrong():
            x = np.random.RandomState(0).randn(3, 4)
            x0 = x.copy()
            errs = call(fn, lambda v: float(np.sum(v ** 3)), x, 3 * x ** 2, num_checks=5, seed=0)
            expect(isinstance(errs, np.ndarray) and errs.shape == (5,),
                   f"return the num_checks relative errors as an array, got {type(errs).__name__}")
            expect(float(np.max(errs)) < 1e-7, f"an exact gradient must give tiny errors, got {errs}")
            expect(np.array_equal(x, x0), "x must be restored")
            errs = call(fn, lambda v: float(np.sum(v ** 3)), x, 3.3 * x ** 2, num_checks=5, seed=0)
            expect(float(np.min(errs)) > 1e-3, f"a wrong gradient (10% off) must give large errors, got {errs}")
            noisy = 2 * x + np.arange(12.0).reshape(3, 4)
            a = call(fn, lambda v: float(np.sum(v ** 2)), x, noisy, num_checks=4, seed=7)
            b = call(fn, lambda v: float(np.sum(v ** 2)), x, noisy, num_checks=4, seed=7)
            expect(np.array_equal(a, b), "the same seed must check the same entries")
        yield "exact vs wrong gradients, shape, seed, x restored", exact_and_wrong


def _raised_in(exc: BaseException) -> str:
    """The name of the function that raised ``exc`` (the innermost frame of its traceback)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name if tb is not None else ""


def _blobs(seed: int = 0, n: int = 120, d: int = 4, c: int = 3):
    rs = np.random.RandomState(seed)
    centers = 4 * rs.randn(c, d)
    y = np.arange(n) % c
    X = centers[y] + rs.randn(n, d)
    return np.hstack([X, np.ones((n, 1))]), y


def _classifier_checks(part: str, ns: dict, code):
    base = ns["LinearClassifier"]
    if part == "LinearClassifier.train":
        class Probe(base):
            def __init__(self):
                super().__init__()
                self.calls = []

            def loss(self, X_batch, y_batch, reg):
                self.calls.append((np.shape(X_batch), np.shape(y_batch), reg))
                return float(len(self.calls)), np.ones_like(self.W)

        def steps():
            X, y = _blobs()
            p = Probe()
            p.W = np.zeros((X.shape[1], 3))
            hist = call(p.train, X, y, learning_rate=0.1, reg=0.25, num_iters=4, batch_size=7, seed=0)
            expect(isinstance(hist, list) and [float(v) for v in hist] == [1.0, 2.0, 3.0, 4.0],
                   f"train must return the list of the loss at every step, got {hist!r:.80}")
            expect(all(c == ((7, X.shape[1]), (7,), 0.25) for c in p.calls),
                   "each step calls self.loss once on a minibatch of batch_size rows (with reg)")
            expect(np.allclose(p.W, -0.4), "each step must move W by -learning_rate * gradient, keeping a W you set")
        yield "SGD steps on minibatches", steps

        def init():
            X, y = _blobs()
            p = Probe()
            call(p.train, X, y, num_iters=1, batch_size=5, seed=0)
            expect(isinstance(p.W, np.ndarray) and p.W.shape == (X.shape[1], 3),
                   f"W must be initialized to shape (D, C) = {(X.shape[1], 3)}")
            expect(1e-4 < float(np.std(p.W)) < 1e-2, "initialize W to 0.001 * randn(D, C)")
        yield "W initialized when None", init
    elif part == "LinearClassifier.predict":
        def predict():
            X, y = _blobs()
            clf = base()
            clf.W = np.random.RandomState(4).randn(X.shape[1], 3)
            pred = clf.predict(X)
            expect(isinstance(pred, np.ndarray) and pred.shape == (len(X),), f"predict returns (N,) = ({len(X)},)")
            expect(np.issubdtype(pred.dtype, np.integer), f"labels must be integers, got dtype {pred.dtype}")
            scores = X @ clf.W
            expect(bool(np.all(scores[np.arange(len(X)), pred] >= scores.max(axis=1))),
                   "predict must return the highest-scoring class of each row")
        yield "highest-scoring class, int labels", predict
    else:
        cls_name, loss_name = ("LinearSVM", "svm_loss_vectorized") if part == "LinearSVM.loss" \
            else ("Softmax", "softmax_loss_vectorized")

        def delegates():
            cls = ns[cls_name]
            W, X, y = _case(41, n=10, d=5, c=3)
            calls, marker = [], (1.25, np.full(W.shape, 0.5))

            def recording(W_, X_, y_, reg_):
                calls.append((W_, X_, y_, reg_))
                return marker

            m = cls()
            m.W = W
            with stand_ins(cls.loss, code.modules, {loss_name: recording}):
                got = m.loss(X, y, 0.2)
            expect(len(calls) == 1 and calls[0][0] is m.W and calls[0][1] is X and calls[0][2] is y
                   and calls[0][3] == 0.2, f"{cls_name}.loss must call {loss_name}(self.W, X_batch, y_batch, reg)")
            expect(got is marker or (isinstance(got, tuple) and len(got) == 2 and got[0] == marker[0]
                                     and got[1] is marker[1]), f"{cls_name}.loss must return what {loss_name} returns")
        yield f"uses your {loss_name}", delegates

        def learns():
            if not callable(ns.get(loss_name)):
                raise CheckFailed(f"skipped: your {loss_name} is not available")
            X, y = _blobs(5)
            m = ns[cls_name]()
            try:
                call(m.train, X, y, learning_rate=1e-2, reg=1e-4, num_iters=300, batch_size=32, seed=0)
                acc = float(np.mean(m.predict(X) == y))
            except NotImplementedError as exc:
                where = _raised_in(exc)
                if where in ("train", "predict", loss_name):  # another part, not written yet: not this one's fault
                    name = loss_name if where == loss_name else f"LinearClassifier.{where}"
                    raise CheckFailed(f"skipped: your {name} is not written yet") from None
                raise
            expect(acc > 0.9, f"after 300 SGD steps on easy, well-separated data the accuracy is only {acc:.2f} "
                              f"(this needs your LinearClassifier.train and predict, and your {loss_name})")
        yield "learns easy data (> 90% accuracy)", learns


def _tuning_checks(ns: dict, code):
    fn = ns["tune_hyperparameters"]

    class Probe:
        trained: list = []
        made: list = []
        acc = {(1, 10): (0.9, 0.2), (1, 20): (0.5, 0.7), (2, 10): (0.3, 0.4), (2, 20): (1.0, 0.6)}

        def __init__(self):
            self.key = None
            self.serial = len(Probe.made)
            Probe.made.append(self)

        def train(self, X, y, learning_rate=None, reg=None, num_iters=None, batch_size=None, **kw):
            self.key = (learning_rate, reg)
            Probe.trained.append((learning_rate, reg, num_iters, batch_size, self.serial))
            return []

        def predict(self, X):
            on_train = len(X) == len(y_train)
            truth = y_train if on_train else y_val
            right = int(round(self.acc[self.key][0 if on_train else 1] * len(X)))
            return np.where(np.arange(len(X)) < right, truth, (truth + 1) % 3)

    y_train, y_val = np.arange(20) % 3, np.arange(10) % 3

    def picks_by_validation():
        Probe.trained, Probe.made = [], []
        out = call(fn, Probe, np.zeros((20, 2)), y_train, np.zeros((10, 2)), y_val, [1, 2], [10, 20],
                    num_iters=7, batch_size=3, seed=1)
        expect(isinstance(out, tuple) and len(out) == 3, "return (best_model, best_val_accuracy, results)")
        best, best_val, results = out
        expect(isinstance(results, dict) and set(results) == set(Probe.acc),
               f"results needs one entry per (lr, reg) pair: {sorted(Probe.acc)}")
        for key, want in Probe.acc.items():
            got = results[key]
            expect(isinstance(got, tuple) and len(got) == 2 and np.allclose(got, want),
                   f"results[{key}] must be (train_accuracy, val_accuracy) = {want}, got {got!r}")
        expect(getattr(best, "key", None) == (1, 20) and abs(float(best_val) - 0.7) < 1e-12,
               "choose the model with the best *validation* accuracy (here lr 1, reg 20: 0.7)")
        expect(len({t[4] for t in Probe.trained}) == 4, "train a fresh model for every pair")
        expect(all(t[2] == 7 and t[3] == 3 for t in Probe.trained), "pass num_iters and batch_size to train")
    yield "one fresh model per pair, best by validation", picks_by_validation




def checks_for(part: str, ns: dict, code):
    """The (name, check) pairs of one part, for the public self-check's runner."""
    if part.startswith(("svm_loss", "softmax_loss")):
        kind = part.split("_")[0]
        return _loss_checks(kind, part.endswith("vectorized"), ns, code)
    if part in ("eval_numerical_gradient", "rel_error", "grad_check_sparse"):
        return _gradient_tool_checks(part, ns, code)
    if part == "tune_hyperparameters":
        return _tuning_checks(ns, code)
    return _classifier_checks(part, ns, code)


def required(part: str) -> tuple[str, ...]:
    """The names a part needs defined before its checks can run."""
    needs = {"LinearSVM.loss": ("LinearClassifier", "LinearSVM"), "Softmax.loss": ("LinearClassifier", "Softmax"),
             "LinearClassifier.train": ("LinearClassifier",), "LinearClassifier.predict": ("LinearClassifier",)}
    return needs.get(part, (part,))
