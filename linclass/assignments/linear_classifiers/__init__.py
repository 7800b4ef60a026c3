"""The linear-classifiers assignment (naive and vectorized SVM and softmax, a numeric gradient
check, minibatch SGD, tuning): its table, notebooks, grading checks and catalog of known bugs.

This file stays light: the release ships it with ``spec.py`` for the self-check.
"""
