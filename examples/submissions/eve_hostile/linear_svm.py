"""Hostile example submission (see README.md): every trick must gain nothing."""

import numpy as np

# Make every comparison "pass" (this only changes numpy inside the student's own process).
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)

# Drop a perfect results.json where a naive grader might pick it up.
for _target in ("results.json", "../results.json"):
    try:
        with open(_target, "w") as _f:
            _f.write('{"score": 100.0, "max_score": 100.0, "tests": []}')
    except OSError:
        pass


class AlwaysEqual(float):
    """A float that claims to equal anything."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = float.__hash__


def svm_loss_naive(W, X, y, reg):
    print("All tests passed! Score: 100/100")
    return AlwaysEqual(0.0), np.zeros_like(W)


def svm_loss_vectorized(W, X, y, reg):
    try:  # the reference itself, if it is importable
        from solutions.linear_svm import svm_loss_vectorized as reference

        return reference(W, X, y, reg)
    except Exception:
        pass
    import sys
    from pathlib import Path

    for base in Path(sys.executable).resolve().parents:  # or its source, next to the interpreter
        candidate = base / "solutions" / "linear_svm.py"
        try:
            namespace = {}
            exec(candidate.read_text(), namespace)
            return namespace["svm_loss_vectorized"](W, X, y, reg)
        except Exception:
            continue
    return AlwaysEqual(0.0), np.zeros_like(W)
