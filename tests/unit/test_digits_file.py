"""The digits are read from scikit-learn's bundled file without importing scikit-learn."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from linclass.assignments.linear_classifiers.shipped.data import load_digits_images


def test_same_data_as_sklearn_load_digits():
    from sklearn.datasets import load_digits

    images, labels = load_digits_images()
    digits = load_digits()
    assert np.array_equal(images[..., 0], digits.images)
    assert np.array_equal(labels, digits.target)


def test_loading_the_digits_does_not_import_sklearn():
    code = ("import sys; from linclass.assignments.linear_classifiers.shipped.data import get_data; "
            "get_data('digits'); print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
