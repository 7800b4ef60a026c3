"""The class's reports from students' results.json files (autograder/class_reports.py), without grading."""

from __future__ import annotations

import pytest

from autograder.class_reports import histogram_figure


@pytest.mark.parametrize("scores", [[5.0, 62.0, 93.0, 97.0], [50.0], [10.0] * 3 + [90.0] * 7])
def test_histogram_counts_have_integer_ticks(scores):
    import matplotlib.pyplot as plt

    fig = histogram_figure(scores, max_score=100.0)
    try:
        ticks = fig.axes[0].get_yticks()
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    finally:
        plt.close(fig)
