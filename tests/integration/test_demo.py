"""linclass/course/demo.py: the reference on the slides' numbers and on the embedded digits."""

from __future__ import annotations

import re

import pytest

from linclass.assignments.linear_classifiers.demo import print_slide_numbers, run_demo

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_print_slide_numbers(capsys):
    """The slide numbers as the reference computes them: E1 (2.9, 0, 12.9 -> 5.27), E2 (exp
    24.5 / 164.0 / 0.18, p 0.13 / 0.87 / 0.00, 2.04 nats = 0.89 log10), E3 (1.58, 1.04 nats =
    0.452 log10) and E5 (9 and 2.30 at init)."""
    print_slide_numbers()
    out = capsys.readouterr().out
    for expected in ("per-example losses 2.9, 0.0, 12.9 -> mean 5.27", "exp 24.5 / 164.0 / 0.18",
                     "p 0.13 / 0.87 / 0.00", "2.04 nats = 0.89", "hinge 1.58", "1.04 nats = 0.452",
                     "SVM 9.00", "softmax 2.30"):
        assert expected in out


@pytest.mark.slow
def test_run_demo_trains_to_90_percent_and_saves_two_pngs(tmp_path, capsys):
    accuracies = run_demo(tmp_path / "figures")
    out = capsys.readouterr().out
    assert set(accuracies) == {"LinearSVM", "Softmax"}
    for name, acc in accuracies.items():
        assert acc["val"] >= 0.90 and acc["test"] >= 0.85, (name, acc)
        assert re.search(rf"{name}\s*: best lr [\d.e-]+, reg [\d.e-]+: validation {acc['val']:.3f}", out)
    assert "mean 5.27" in out and "0.89 in log10" in out
    pngs = sorted((tmp_path / "figures").iterdir())
    assert [p.name for p in pngs] == ["loss_curves.png", "weight_templates.png"]
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 1000
        assert str(png) in out
