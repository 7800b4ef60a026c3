"""The tuning probe's answers: one training run's W, whatever the student process asks.

The designed weights stay in the grader; the student process asks for its pair's W at every
training run (``Server.ask``), and a hostile question must get a harmless answer, never an
exception in the grader (the review of the probe redesign found arrays and numpy scalars that
raised IndexError and ValueError there).
"""

from __future__ import annotations

import numpy as np
import pytest

from linclass.assignments.linear_classifiers.harness_ops import probe_weights

TABLE = {(0.1, 0.2): np.ones((2, 3))}
DEFAULT = np.zeros((2, 3))
SETTINGS = {"num_iters": 5, "batch_size": 3}


def ask(**question):
    return probe_weights(TABLE, DEFAULT, SETTINGS, {"learning_rate": 0.1, "reg": 0.2, "num_iters": 5,
                                                    "batch_size": 3, **question})


def test_the_pair_of_an_honest_run_gets_its_designed_w():
    np.testing.assert_array_equal(ask(), np.ones((2, 3)))
    np.testing.assert_array_equal(ask(num_iters=np.int64(5), learning_rate=np.float64(0.1)), np.ones((2, 3)))


def test_other_settings_get_the_w_negated_and_other_pairs_the_default():
    np.testing.assert_array_equal(ask(num_iters=6), -np.ones((2, 3)))
    np.testing.assert_array_equal(ask(num_iters=None), -np.ones((2, 3)))
    np.testing.assert_array_equal(ask(learning_rate=0.3), DEFAULT)


@pytest.mark.parametrize("question", [np.ones(3), np.float64(1.0), [1, 2], None, "x", {"learning_rate": 0.1},
                                      {"learning_rate": np.ones(2), "reg": 0.2, "num_iters": 5, "batch_size": 3}])
def test_a_question_that_is_not_one_gets_the_default(question):
    np.testing.assert_array_equal(probe_weights(TABLE, DEFAULT, SETTINGS, question), DEFAULT)


def test_array_settings_never_raise():
    np.testing.assert_array_equal(ask(num_iters=np.arange(3)), -np.ones((2, 3)))
    np.testing.assert_array_equal(ask(batch_size=np.array([3])), -np.ones((2, 3)))


def test_the_answer_is_a_copy():
    answer = ask()
    answer[0, 0] = 7.0
    assert TABLE[(0.1, 0.2)][0, 0] == 1.0
