"""The class's score histogram (``score_histogram.png``), drawn while the class is graded.

Importing matplotlib costs about half a second, more than grading one submission.  A batch
starts a :class:`HistogramPainter` first: a process of its own (a fresh interpreter, never a
fork of the grader, and never the caller's ``__main__`` again) imports matplotlib on another
core while the submissions are graded, and draws the histogram once the scores are in.
Without a painter, or when it fails, the histogram is drawn in the calling process.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from . import helper_process

#: Longest wait for the painter's drawing before the histogram is drawn here instead.
PAINT_SECONDS = 60.0


def histogram_figure(scores: Sequence[float], max_score: float):
    """The histogram of total scores (a matplotlib figure; its count axis has integer ticks only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(scores, bins=20, range=(0, max_score), color="#4C72B0", edgecolor="white")
    ax.set(xlabel="score", ylabel="students", title=f"Scores ({len(scores)} submissions)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # a count of students: never 0.2 of one
    fig.tight_layout()
    return fig


def plot_histogram(scores: Sequence[float], path: str | Path, max_score: float) -> Path:
    """Save a histogram of total scores as a PNG."""
    import matplotlib.pyplot as plt

    fig = histogram_figure(scores, max_score)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


class HistogramPainter:
    """A process that imports matplotlib now and draws one histogram later (see the module).

    The process is ``python -m autograder.histogram``: it reads the scores as one JSON line on
    its stdin and answers ``ok`` on its stdout.  Use the painter as a context manager, or call
    :meth:`close`.
    """

    def __init__(self) -> None:
        self._process = helper_process.start("autograder.histogram", stdin=True)

    def plot(self, scores: Sequence[float], path: str | Path, max_score: float) -> Path:
        """:func:`plot_histogram`, drawn by the painter (or here, if the painter cannot)."""
        process, self._process = self._process, None  # (one drawing per painter)
        order = json.dumps({"scores": [float(s) for s in scores], "path": str(Path(path).resolve()),
                            "max_score": float(max_score)})
        if (helper_process.answer(process, order + "\n", PAINT_SECONDS) or "").strip() == "ok":
            return Path(path)
        return plot_histogram(scores, path, max_score)  # (it died or hung: the histogram is still drawn, here)

    def close(self) -> None:
        helper_process.stop(self._process)
        self._process = None

    def __enter__(self) -> HistogramPainter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _paint() -> int:
    """The painter process: matplotlib imported and one throw-away histogram drawn first (its
    fonts, renderer and PNG writer loaded), then one order read and drawn.  It runs at a lower
    priority: grading comes first on a busy core, and a painter has the whole batch to get ready."""
    try:
        os.nice(10)
    except OSError:  # (a system that refuses: the painter runs at the grader's priority)
        pass
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = histogram_figure([0.0], 1.0)
    fig.savefig(io.BytesIO(), format="png", dpi=100)
    plt.close(fig)
    order = json.loads(sys.stdin.readline())
    plot_histogram(order["scores"], order["path"], order["max_score"])
    print("ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_paint())
