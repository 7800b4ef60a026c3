"""Forged training and tuning records never break the grader.

The training probe's records (``history``, ``regs``, ``W_seen``, ``batches``, ``W_final``) are
reported by the student process, so a hostile submission can replace any of them with any
value the wire carries.  Whatever it sends, each training check of the suite ends in a verdict
(pass or CheckFailed), never in an exception of the grader (which the reports would show as an
internal error).  The checks run here against a stand-in for the session whose probe replies are
honest records with one field, or one entry of a field, forged by hypothesis; the tuning
checks get replies forged whole.  Each forgery below once gave an internal error: a record
field replaced by None (TypeError), a loss history of lists (ValueError), an array of strings.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from autograder.harness.wire import Unsupported
from autograder.sandbox.replies import CallResult
from autograder.verdicts import CheckFailed
from linclass.assignments.linear_classifiers.harness_ops import lsq_loss
from linclass.assignments.linear_classifiers.suite import test_classifier as suite
from linclass.assignments.linear_classifiers.suite import test_tuning as tuning

FIELDS = ("history", "regs", "W_seen", "batches", "W_final")
LIST_FIELDS = ("history", "regs", "W_seen", "batches")


def honest_record(X, y, W0=None, learning_rate=1e-3, reg=0.0, num_iters=100, batch_size=200, seed=0, **_):
    """What the probe reports for a correct train (with replacement sampling)."""
    rng = np.random.default_rng(seed)
    C = int(y.max()) + 1
    W = np.array(W0, dtype=np.float64) if W0 is not None else 0.001 * rng.standard_normal((X.shape[1], C))
    record = {"history": [], "regs": [], "W_seen": [], "batches": []}
    for _ in range(num_iters):
        rows = rng.choice(len(X), batch_size)
        loss, grad = lsq_loss(W, X[rows], y[rows], reg)
        record["W_seen"].append(W.copy())
        record["batches"].append(rows.astype(np.int64))
        record["regs"].append(float(reg))
        record["history"].append(loss)
        W = W - learning_rate * grad
    record["W_final"] = W
    return record


class ForgingSession:
    """The few session calls the training checks make; every probe reply is forged by ``forge``."""

    def __init__(self, forge):
        self.forge = forge
        self.config = SimpleNamespace(thresholds={"train_val_accuracy": 0.85})

    def request(self, part, op, fields, args=None, reply_bytes=None, answer=None):
        assert op == "probe_train"
        value = self.forge(honest_record(fields["X"], fields["y"], fields["W0"], **fields["kwargs"]))
        return CallResult(ok=True, value=value, error=None, seconds=0.0, stdout="", stderr="", inputs_after=None)


#: Values the wire can deliver (autograder/harness/wire.py): plain types, containers, arrays of
#: the allowed dtypes and shapes, and the placeholder of anything it does not carry.
wire_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=4),
              st.just(Unsupported("object", "<object>")),
              arrays(st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_, np.complex128, "<U2"]),
                     array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner),
                            st.dictionaries(st.text(max_size=2), inner, max_size=2)),
    max_leaves=6)

CHECKS = ("test_sgd_steps", "test_minibatch_sampling", "test_initialization", "test_learns_digits")


def forger(draw_field, draw_index, value):
    def forge(record):
        if draw_field in LIST_FIELDS and draw_index is not None and record[draw_field]:
            record[draw_field][draw_index % len(record[draw_field])] = value
        else:
            record[draw_field] = value
        return record
    return forge


@pytest.mark.parametrize("check", CHECKS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), index=st.one_of(st.none(), st.integers(0, 200)), value=wire_values)
def test_a_forged_record_gets_a_verdict_never_an_error(check, field, index, value):
    try:
        run(check, ForgingSession(forger(field, index, value)))
    except CheckFailed:
        pass


@pytest.mark.parametrize("check", CHECKS)
def test_the_honest_record_passes(check):
    """The stand-in is faithful: unforged records of a correct train pass every check."""
    run(check, ForgingSession(lambda record: record))


def run(check: str, session: ForgingSession) -> None:
    if check == "test_learns_digits":  # (its inputs are the digits: no generator)
        suite.test_learns_digits(session, suite.TRAIN)
    else:
        getattr(suite, check)(session, np.random.default_rng(0), suite.TRAIN)


# ----------------------------------------------------------------------------- the tuning probes
#: The designed grid's pairs (suite/test_tuning.py designed_probe) and a few strangers.
pair_keys = st.one_of(st.tuples(st.sampled_from([1e-3, 1e-2, 1e-1, 5.0]), st.sampled_from([0.01, 1.0, 3.0])),
                      st.text(max_size=2), st.integers(0, 3))
tune_replies = st.one_of(wire_values, st.fixed_dictionaries({}, optional={
    "best_W": wire_values, "best_val": wire_values, "returned": wire_values,
    "results": st.one_of(wire_values, st.dictionaries(pair_keys, wire_values, max_size=7))}))


class ForgedTuneSession:
    """The tuning checks' session: every probe reply value is ``value``."""

    def __init__(self, value):
        self.value = value
        self.config = SimpleNamespace(thresholds={"tune_val_accuracy": 0.85})

    def request(self, part, op, fields, args=None, reply_bytes=None, answer=None):
        assert op in ("probe_tune", "tune")
        return CallResult(ok=True, value=self.value, error=None, seconds=0.0, stdout="", stderr="", inputs_after=None)


@pytest.mark.parametrize("check", ("test_selects_by_validation", "test_results_table", "test_fresh_model_per_pair",
                                   "test_reaches_threshold"))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=tune_replies)
def test_a_forged_tuning_reply_gets_a_verdict_never_an_error(check, value):
    try:
        if check == "test_reaches_threshold":
            tuning.test_reaches_threshold(ForgedTuneSession(value), tuning.PART)
        else:
            getattr(tuning, check)(ForgedTuneSession(value), np.random.default_rng(0), tuning.PART)
    except CheckFailed:
        pass
