"""How a check fails: one exception type carrying the student-facing message and diagnoses.

Grading checks raise :class:`CheckFailed`; the grading plugin turns it into the test's
``output`` in the reports (never a traceback).  Everything that validates a reply from the
student process lives here too, so each check reads as a few plain statements.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from .harness.wire import Unsupported


class CheckFailed(AssertionError):
    """A check failed; ``message`` is written for the student.

    Parameters
    ----------
    message : str
        What came back, what was expected, in plain words.
    misconceptions : sequence, optional
        Entries of the assignment's misconception catalog that match the reply (each has an
        ``id``, a ``title`` and a ``hint``).
    whole_part : bool, optional
        The failure is about the part as a whole, not this check (it is missing, its file did
        not load, an earlier call hit a limit): the student's feedback says it once per part.
    """

    def __init__(self, message: str, misconceptions: Sequence[Any] = (), whole_part: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.misconceptions = list(misconceptions)
        self.whole_part = whole_part


def describe_value(value: Any) -> str:
    """A short, safe description of a reply: its type, and shape/dtype for arrays."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} items ({', '.join(describe_value(v) for v in value[:3])})"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if value is None:
        return "None"
    if isinstance(value, Unsupported):  # e.g. an object array, a generator, a custom class
        return f"an object of type {value.type_name}"
    if isinstance(value, (bool, int, float, complex, str)):
        text = repr(value)
        return f"{type(value).__name__} {text[:60]}"
    return f"an object of type {type(value).__name__}"


#: How a check that met a stub reads: ``not attempted (train raises NotImplementedError)``.
_NOT_ATTEMPTED = re.compile(r"not attempted \((?P<function>[\w.]+) raises NotImplementedError\)")
#: A frame of a student traceback: ``  File "loss.py", line 61, in loss``.
_FRAME = re.compile(r'^  File "[^"\n]*", line \d+, in (?P<function>[\w.<>]+)$', re.MULTILINE)


def stub_function(error) -> str | None:
    """The function whose own body raised ``NotImplementedError`` (the skeleton's stub), if that is the error.

    ``error`` is a call's :class:`~autograder.sandbox.replies.StudentError`.  The stub must be
    the only student frame: a function that calls something unfinished (a helper, a base
    class's ``loss``) is attempted, and its traceback is shown.
    """
    if error is None or error.kind != "exception" or not re.fullmatch(r"NotImplementedError(: .*)?", error.message,
                                                                      re.DOTALL):
        return None
    frames = _FRAME.findall(error.detail or "")
    return frames[0] if len(frames) == 1 else None


def not_attempted(output: str) -> str | None:
    """The function named by a check's output when it met a stub (see :func:`require_ok`), else None."""
    match = _NOT_ATTEMPTED.fullmatch(output.strip())
    return match["function"] if match else None


def require_ok(result, what: str):
    """The decoded value of a successful call, or a failure that says what went wrong.

    A call that reached the skeleton's ``raise NotImplementedError`` says only that (no
    traceback): the reports show such a part as one line, "not attempted".
    """
    if not result.ok:
        stub = stub_function(result.error)
        if stub is not None:
            raise CheckFailed(f"not attempted ({stub} raises NotImplementedError)")
        detail = f"\n{result.error.detail}" if getattr(result.error, "detail", "") else ""
        raise CheckFailed(f"{what}: {result.error.message}{detail}")
    return result.value


def as_scalar(value: Any, what: str) -> float:
    """A finite real number (a Python or numpy scalar, or a 0-d/size-1 array)."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "fiu":
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise CheckFailed(f"{what} should be a number (a float); it returned {describe_value(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise CheckFailed(f"{what} returned {value}, which is not a finite number")
    return value


def as_array(value: Any, what: str, shape: tuple[int, ...] | None = None, finite: bool = True,
             kinds: str = "fiu") -> np.ndarray:
    """A real-valued ndarray of the expected shape, with finite entries."""
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{what} should be a numpy array; it returned {describe_value(value)}")
    if value.dtype.kind not in kinds:
        raise CheckFailed(f"{what} should hold real numbers; it has dtype {value.dtype}")
    if shape is not None and value.shape != tuple(shape):
        hint = " (it looks transposed)" if value.shape == tuple(shape)[::-1] and len(shape) == 2 else ""
        raise CheckFailed(f"{what} has shape {value.shape}; expected {tuple(shape)}{hint}")
    if finite and not np.all(np.isfinite(value)):
        bad = int(np.size(value) - np.isfinite(value).sum())
        raise CheckFailed(f"{what} contains {bad} non-finite entries (NaN or inf)")
    return value


def as_loss_and_grad(value: Any, W_shape: tuple[int, ...], what: str) -> tuple[float, np.ndarray]:
    """Validate a ``(loss, dW)`` reply."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise CheckFailed(f"{what} should return a tuple (loss, dW); it returned {describe_value(value)}")
    return as_scalar(value[0], f"{what}'s loss"), as_array(value[1], f"{what}'s dW", W_shape)


def close(a: float, b: float, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """Scalar closeness, evaluated in the trusted process on plain floats."""
    return abs(float(a) - float(b)) <= atol + rtol * abs(float(b))


def same_array(got: Any, want: np.ndarray, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """Array closeness of a value from the student process, evaluated in the trusted process.

    Stricter than ``np.allclose(got, want)`` where that is lenient: no broadcasting (a (1, C)
    row is not a (D, C) matrix), no arrays of strings or objects, and a NaN or an infinity is
    never close to anything.  It is also about three times faster on small arrays, which counts
    in loops that replay a hundred steps.

    Parameters
    ----------
    got : Any
        The student's value.
    want : ndarray
        What the grader computed.
    rtol, atol : float
        Every entry must satisfy ``|got - want| <= atol + rtol * |want|``.

    Returns
    -------
    bool
    """
    if type(got) is not np.ndarray or got.shape != want.shape or got.dtype.kind not in "biuf":
        return False
    with np.errstate(invalid="ignore", over="ignore"):  # (inf - inf is NaN: not close, and no warning)
        return bool(np.all(np.abs(got - want) <= atol + rtol * np.abs(want)))
