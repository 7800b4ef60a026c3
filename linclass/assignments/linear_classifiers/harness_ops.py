"""The linear-classifiers assignment's requests, served inside the student process.

UNTRUSTED side: the student process loads this file by path (numpy and the standard library
only) and serves ``OPS`` through the ops API of ``autograder/harness/server.py``.  Every probe
is built so that its evidence is what only honest code produces: values chosen by the grader,
passed through the student's own code path, and checked on the trusted side, which imports
the same arithmetic from here (:func:`lsq_loss`, :func:`delegation_reply`) to recompute them.
Nothing a probe records is taken at its word.

Requests (``op``) and the value of a successful reply
------------------------------------------------------
``probe_train`` {X, y, W0, kwargs, record}
    The student's ``LinearClassifier.train`` on a subclass whose ``loss`` is
    :func:`lsq_loss`.  Value: ``history`` (what train returned), ``regs`` (the reg passed to
    each loss() call), ``W_final`` (self.W after train), and with ``record``: ``W_seen``
    (self.W at each loss() call) and ``batches`` (row indices into X of each minibatch; -1 for
    a row that is not a row of X or whose label does not match y).  The trusted side
    recomputes every step from these and the data it sent.
``probe_delegation`` {cls, names, key, W, X, y, reg}
    ``cls().loss(X, y, reg)`` with ``self.W = W`` and the loss functions ``names`` replaced by
    stand-ins that return :func:`delegation_reply` of their arguments.  Value: ``result`` (what
    loss returned) and ``called`` (the stand-ins it called, in order).
``probe_tune`` {shape, X_train, y_train, X_val, y_val, learning_rates, regularization_strengths, kwargs}
    The student's ``tune_hyperparameters`` with :func:`probe_model` as the model class, whose
    every training run asks the grader for its W (``Server.ask`` with {learning_rate, reg,
    num_iters, batch_size}; answered by :func:`probe_weights` on the trusted side).  Value:
    ``best_W`` (the W of the model it returned), ``best_val`` and ``results`` (as returned).
``tune`` {X_train, y_train, X_val, y_val, lrs, regs, kwargs}
    The student's ``tune_hyperparameters`` with :class:`RidgeModel`.  Value: ``best_val``,
    ``results``, ``best_W``.

Callable arguments (``CALLABLES``)
----------------------------------
``{"__callable__": "elementwise", "a": A, "b": B}`` is f(x) = sum(A*x**2 + B*sin(x));
``{"__callable__": "student_loss", "target": name, "X": X, "y": y, "reg": r}`` is
f(W) = the first return value of the student's ``name(W, X, y, r)``.
"""

from __future__ import annotations

import numpy as np

# Bound when the student process loads this file, before any student code: what the probes
# compute does not change when the student reassigns numpy's attributes.
_ARGMAX, _ASARRAY, _SIN, _SUM, _ZEROS_LIKE = np.argmax, np.asarray, np.sin, np.sum, np.zeros_like

# --------------------------------------------------------------------------- shared arithmetic


def lsq_loss(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """The training probe's loss: 0.5 * mean squared error to one-hot labels + reg * sum(W**2).

    Its gradient is ``X.T @ (X @ W - Y) / N + 2 * reg * W``; labels outside [0, C) have no
    one-hot column.
    """
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    diff = X @ W - one_hot(y, X.shape[0], W.shape[1])
    loss = 0.5 * float(np.sum(diff * diff)) / max(X.shape[0], 1) + float(reg) * float(np.sum(W * W))
    return loss, _lsq_gradient(W, X, diff, reg)


def lsq_gradient(W: np.ndarray, X: np.ndarray, Y: np.ndarray, reg: float) -> np.ndarray:
    """The gradient of :func:`lsq_loss`, the very same arithmetic, from one-hot labels.

    Parameters
    ----------
    W : ndarray of shape (D, C)
    X : ndarray of shape (N, D)
    Y : ndarray of shape (N, C)
        ``one_hot(y, N, C)``: built once for a whole X, the trusted side replays many steps on
        rows of it.
    reg : float

    Returns
    -------
    ndarray of shape (D, C), float64
    """
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    return _lsq_gradient(W, X, X @ W - Y, reg)


def _lsq_gradient(W: np.ndarray, X: np.ndarray, diff: np.ndarray, reg: float) -> np.ndarray:
    return X.T @ diff / max(X.shape[0], 1) + 2.0 * float(reg) * W


def one_hot(y: np.ndarray, n: int, c: int) -> np.ndarray:
    """(n, c) float64 one-hot rows of the labels ``y``.

    Parameters
    ----------
    y : array_like of n integer labels
        A label outside [0, c) gives a zero row.  Any other number of labels than ``n``
        raises IndexError (a train that passes mismatched X and y rows finds out here).
    n, c : int
        Rows (examples) and columns (classes).

    Returns
    -------
    ndarray of shape (n, c)
    """
    y = np.asarray(y).astype(np.int64).ravel()
    Y = np.zeros((n, c))
    ok = (y >= 0) & (y < c)
    Y[np.arange(n)[ok], y[ok]] = 1.0
    return Y


def delegation_reply(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float, key: dict) -> tuple[float, np.ndarray]:
    """What the delegation probe's stand-in loss function returns for these arguments.

    A value no loss function computes, made from the arguments and the grader's random
    ``key`` (``A`` shaped like W, numbers ``r``, ``s``, ``t``): a classifier returns it only by
    passing (self.W, X_batch, y_batch, reg) through to its loss function.
    """
    W = np.asarray(W, dtype=np.float64)
    loss = (float(np.sum(np.asarray(key["A"]) * W)) + float(key["r"]) * float(reg)
            + float(key["s"]) * float(np.sum(np.asarray(X, dtype=np.float64)))
            + float(key["t"]) * float(np.sum(np.asarray(y, dtype=np.float64))))
    return loss, np.asarray(key["A"]) * W + float(reg)


def probe_weights(table: dict, default_W: np.ndarray, settings: dict, question) -> np.ndarray:
    """The W one training run of the tuning probe's model adds (the grader's answer to its
    question): the grid pair's own W.

    A pair that is not in the grid, or a question that is not one, gets ``default_W``; a run with
    other (num_iters, batch_size) than the search was given gets the pair's W negated.  Both then
    show in the accuracies the student's search computes, so the trusted side sees them in what
    the search returns.
    """
    if type(question) is not dict:
        return np.array(default_W, dtype=np.float64, copy=True)
    try:
        pair = (float(question["learning_rate"]), float(question["reg"]))
        run = (question["num_iters"], question["batch_size"])
        same_run = not any(isinstance(v, np.ndarray) for v in run) and bool(
            run == (settings["num_iters"], settings["batch_size"]))
    except (TypeError, KeyError, ValueError, OverflowError):
        return np.array(default_W, dtype=np.float64, copy=True)
    W = table.get(pair, default_W)
    if not same_run:
        W = -W
    return np.array(W, dtype=np.float64, copy=True)


class RidgeModel:
    """A closed-form ridge classifier on one-hot labels (``learning_rate`` is ignored)."""

    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False, seed=None,
              **kwargs):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).astype(np.int64)
        n, d = X.shape
        c = int(y.max()) + 1
        Y = np.zeros((n, c))
        Y[np.arange(n), y] = 1.0
        self.W = np.linalg.solve(X.T @ X / n + 2.0 * float(reg) * np.eye(d), X.T @ Y / n)
        return [float(0.5 * np.mean(np.sum((X @ self.W - Y) ** 2, axis=1)))]

    def predict(self, X):
        return np.argmax(np.asarray(X) @ self.W, axis=1)


class RowIndex:
    """Which row of X (with its label in y) each row of a minibatch is: byte-for-byte equal rows.

    Rows are found by an exact 64-bit hash of their bytes (a wrapping sum of their words times
    odd constants: the same whatever the summation order) and a binary search, then compared
    word for word; a row the hash does not place is looked up by its bytes, so a collision
    costs time, never a wrong answer.  Duplicated rows of X map to the first of them.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray):
        self.X = np.array(X, order="C", copy=True)  # (a snapshot: train may reorder its X in place)
        self.y = np.array(y, copy=True)
        self._by_bytes: dict[bytes, int] | None = None
        self.width = self.X.dtype.itemsize * int(np.prod(self.X.shape[1:]))
        if self.X.ndim < 2 or len(self.X) == 0 or self.width == 0 or self.width % 8:
            self.sorted = None  # not rows of whole 64-bit words: looked up row by row
            return
        words = self._words(self.X)
        self.mix = np.random.default_rng(0).integers(1, 2**62, words.shape[1], dtype=np.uint64) * np.uint64(2) + 1
        keys = self._hash(words)
        self.order = np.argsort(keys, kind="stable")
        self.sorted = keys[self.order]

    def _words(self, A: np.ndarray) -> np.ndarray:
        A = np.ascontiguousarray(A, dtype=self.X.dtype)
        if A.ndim != self.X.ndim or A.shape[1:] != self.X.shape[1:]:
            raise ValueError("rows of another shape")
        return A.reshape(len(A), -1).view(np.uint64)

    def _hash(self, words: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return (words * self.mix).sum(axis=1, dtype=np.uint64)

    def find(self, X_batch, y_batch) -> np.ndarray:
        """Row indices into X of the minibatch's rows; -1 for a row that is not one or whose label differs."""
        try:
            if self.sorted is None:
                raise ValueError("no hash index")
            words = self._words(X_batch)
            labels = np.asarray(y_batch).reshape(len(words))
            keys = self._hash(words)
            pos = np.minimum(np.searchsorted(self.sorted, keys), len(self.sorted) - 1)
            ids = self.order[pos]
            found = (self.sorted[pos] == keys) & np.all(self._words(self.X[ids]) == words, axis=1)
        except (TypeError, ValueError, IndexError):
            return self._find_each(X_batch, y_batch)
        ids = np.where(found, ids, -1).astype(np.int64)
        for j in np.flatnonzero(~found):  # not a row of X, or a hash collision
            ids[j] = self._row_of_bytes(words[j].tobytes())
        matched = ids >= 0
        ids[matched & (labels != self.y[np.where(matched, ids, 0)])] = -1
        return ids

    def _row_of_bytes(self, raw: bytes) -> int:
        if self._by_bytes is None:
            self._by_bytes = {}
            for i in range(self.X.shape[0]):
                self._by_bytes.setdefault(self.X[i].tobytes(), i)
        return self._by_bytes.get(raw, -1)

    def _find_each(self, X_batch, y_batch) -> np.ndarray:
        """Row by row, for a minibatch that is not an array of X's rows."""
        ids = np.full(len(X_batch), -1, dtype=np.int64)
        for j in range(len(X_batch)):
            i = self._row_of_bytes(np.asarray(X_batch[j], dtype=self.X.dtype).tobytes())
            if i >= 0 and y_batch[j] == self.y[i]:
                ids[j] = i
        return ids


# --------------------------------------------------------------------------- probes


def probe_train(server, request):
    np_ = server.np
    Base = server.require("LinearClassifier")
    X = np_.asarray(request["X"])
    y = np_.asarray(request["y"])
    record = bool(request.get("record", True))
    trace = {"regs": []}
    if record:
        trace.update(W_seen=[], batches=[])
        rows = RowIndex(X, y)

    def probe_loss(self_, X_batch, y_batch, reg, *args, **kwargs):
        W = self_.W
        loss, grad = lsq_loss(W, X_batch, y_batch, reg)
        trace["regs"].append(reg)
        if record:
            trace["W_seen"].append(np_.array(W, copy=True))
            trace["batches"].append(rows.find(X_batch, y_batch))
        return loss, grad

    Probe = server.guard(type, "while subclassing LinearClassifier", "ProbeClassifier", (Base,), {"loss": probe_loss})
    obj = server.guard(Probe, "while creating LinearClassifier()")
    if request.get("W0") is not None:
        server.guard(setattr, "", obj, "W", np_.array(request["W0"], copy=True))
    train = server.guard(getattr, "", obj, "train")
    reply = server.invoke(train, [X, y], request.get("kwargs", {}), "during LinearClassifier.train")
    if reply["ok"]:
        trace["history"] = reply["value"]
        trace["W_final"] = server.attribute(obj, "W")
        reply["value"] = trace
    return reply


def probe_delegation(server, request):
    cls_name, names, key = request["cls"], list(request["names"]), request["key"]
    cls = server.require(cls_name)
    obj = server.guard(cls, f"while creating {cls_name}()")
    server.guard(setattr, "", obj, "W", server.np.array(request["W"], copy=True))
    called = []

    def stand_in(name):
        def loss_function(W, X, y, reg, *args, **kwargs):
            called.append(name)
            return delegation_reply(W, X, y, reg, key)
        return loss_function

    method = server.guard(getattr, "", cls, "loss")
    with server.runtime.stand_ins(method, list(server.modules.values()), {name: stand_in(name) for name in names}):
        reply = server.invoke(server.guard(getattr, "", obj, "loss"), [request["X"], request["y"], request["reg"]],
                              {}, f"during {cls_name}.loss")
    if reply["ok"]:
        reply["value"] = {"result": reply["value"], "called": called}
    return reply


def probe_model(server, default_W):
    """The tuning probe's model class: training adds its grid pair's W, which the grader designed
    and gives one training run at a time (:func:`probe_weights` on the trusted side), so the
    designed values are never in this process to be read; a model trained twice, or with another
    pair or other settings, predicts differently."""

    class ProbeModel:
        def __init__(self, *args, **kwargs):
            self.W = None

        def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False,
                  seed=None, **kwargs):
            question = {"learning_rate": learning_rate, "reg": reg, "num_iters": num_iters, "batch_size": batch_size}
            W = _ASARRAY(server.ask(question), dtype=np.float64)
            self.W = W if self.W is None else self.W + W
            return [1.0]

        def predict(self, X):
            W = self.W if self.W is not None else _ZEROS_LIKE(default_W)
            return _ARGMAX(_ASARRAY(X, dtype=np.float64) @ W, axis=1)

        def loss(self, X_batch, y_batch, reg):
            return 0.0, _ZEROS_LIKE(default_W)

    return ProbeModel


def _search_value(server, reply):
    """The value of a tuning reply: what the search returned, with the best model's W."""
    returned = reply["value"]
    value = {"best_W": None, "best_val": None, "results": None}
    if type(returned) in (tuple, list) and len(returned) == 3:
        value["best_W"] = server.attribute(returned[0], "W")
        value["best_val"], value["results"] = returned[1], returned[2]
    else:
        value["returned"] = returned
    return value


def probe_tune(server, request):
    tune = server.require("tune_hyperparameters")
    model_cls = probe_model(server, np.zeros(tuple(request["shape"])))
    args = [model_cls, request["X_train"], request["y_train"], request["X_val"], request["y_val"],
            list(request["learning_rates"]), list(request["regularization_strengths"])]
    reply = server.invoke(tune, args, dict(request.get("kwargs", {})), "during tune_hyperparameters")
    reply["inputs_after"] = None
    if reply["ok"]:
        reply["value"] = _search_value(server, reply)
    return reply


def tune(server, request):
    search = server.require("tune_hyperparameters")
    args = [RidgeModel, request["X_train"], request["y_train"], request["X_val"], request["y_val"],
            list(request["lrs"]), list(request["regs"])]
    reply = server.invoke(search, args, dict(request.get("kwargs", {})), "during tune_hyperparameters")
    reply["inputs_after"] = None
    if reply["ok"]:
        reply["value"] = _search_value(server, reply)
    return reply


OPS = {"probe_train": probe_train, "probe_delegation": probe_delegation, "probe_tune": probe_tune, "tune": tune}


# --------------------------------------------------------------------------- callable arguments


def elementwise(server, spec):
    """f(x) = sum(a * x**2 + b * sin(x)), with numpy functions bound before student code ran."""
    a = _ASARRAY(spec["a"], dtype=np.float64)
    b = _ASARRAY(spec["b"], dtype=np.float64)

    def f(x, *args, **kwargs):
        x = _ASARRAY(x, dtype=np.float64)
        return float(_SUM(a * x**2 + b * _SIN(x)))

    return f


def student_loss(server, spec):
    """f(W) = the first value the student's loss function returns at W."""
    fn = server.require(spec["target"])
    X, y, reg = spec["X"], spec["y"], spec["reg"]

    def loss(W, *args, **kwargs):
        out = fn(W, X, y, reg)
        return out[0] if isinstance(out, tuple) else out

    return loss


CALLABLES = {"elementwise": elementwise, "student_loss": student_loss}
