"""What one request to the student process returns, as the trusted side keeps it.

A reply is validated here before any check sees it: its shape (``ok``, ``value`` or
``error``), the types of its fields, and which of the arguments came back changed.  The CPU
time of a call is read from the kernel (:func:`process_cpu_ns`), never from the reply.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class StudentError:
    """Why a call produced no value, in words for the report.

    ``kind`` is one of "exception", "timeout", "exit", "memory", "missing", "forbidden",
    "protocol", "budget" and "unloadable"; ``detail`` is e.g. the traceback restricted to the
    student's own frames.
    """

    kind: str
    message: str
    detail: str = ""


@dataclass
class CallResult:
    """The outcome of one request to the student process.

    Attributes
    ----------
    ok : bool
        Did the call return a value?
    value : object
        The decoded reply value (plain types only, see :mod:`autograder.harness.wire`).
    error : StudentError or None
        Why there is no value.
    seconds : float
        Wall clock around the round trip, measured by the grader.
    cpu_seconds : float or None
        The student process's CPU time over the same span, as the kernel counts it (all its
        threads): it does not grow when the machine is busy, and the student cannot report it.
    inputs_after : list or None
        The positional array arguments as they were after the call (None for the others).
    stdout, stderr : str
        What the call printed (truncated).
    notes : list of str
        What the wire converted (an ndarray or float subclass made plain, ...).
    child_seconds : float or None
        The student process's own measurement: shown, never used to grade.
    """

    ok: bool
    value: Any | None
    error: StudentError | None
    seconds: float
    stdout: str
    inputs_after: list | None
    stderr: str = ""
    notes: list[str] = field(default_factory=list)
    child_seconds: float | None = None
    cpu_seconds: float | None = None


def process_cpu_ns(pid: int) -> int | None:
    """CPU time (ns) used so far by process ``pid`` and all its threads, read from the kernel.

    The process-wide CPU clock of another process has the clock id
    ``(~pid << 3) | CPUCLOCK_SCHED`` (``MAKE_PROCESS_CPUCLOCK`` in the kernel); where that
    clock cannot be read, the per-thread ``/proc/<pid>/task/*/schedstat`` run times are summed.
    """
    try:
        return time.clock_gettime_ns(((~pid) << 3) | 2)
    except OSError:
        pass
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as fh:
                total += int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total


def error_from(raw: Any) -> StudentError:
    """A :class:`StudentError` from a reply's error dict (whatever the student process sent)."""
    if type(raw) is not dict:
        return StudentError("protocol", "the student process sent a malformed error")
    kind, message, detail = raw.get("kind"), raw.get("message"), raw.get("detail", "")
    return StudentError(kind if type(kind) is str else "protocol",
                        message if type(message) is str else "unknown error",
                        detail if type(detail) is str else "")


def result_from(reply: dict, notes: list[str], seconds: float, output: tuple[str, str], args: list | None = None,
                cpu_seconds: float | None = None) -> CallResult:
    """The :class:`CallResult` of one reply.

    The arguments that came back unchanged are filled in from the grader's own copies
    (``args``): the student process sends back only the arrays it reports changed.
    """
    inputs_after = reply.get("inputs_after")
    changed = reply.get("inputs_changed")
    if args is not None and type(inputs_after) is list and type(changed) is list \
            and len(inputs_after) == len(changed) == len(args):
        inputs_after = [after if flag is True else (arg if isinstance(arg, np.ndarray) else None)
                        for arg, after, flag in zip(args, inputs_after, changed)]
    child_seconds = reply.get("child_seconds")
    common = dict(seconds=seconds, stdout=output[0], stderr=output[1],
                  inputs_after=inputs_after if type(inputs_after) is list else None, notes=list(notes),
                  child_seconds=child_seconds if type(child_seconds) is float else None, cpu_seconds=cpu_seconds)
    if reply["ok"]:
        return CallResult(ok=True, value=reply.get("value"), error=None, **common)
    return CallResult(ok=False, value=None, error=error_from(reply.get("error")), **common)


def failure(error: StudentError, seconds: float, output: tuple[str, str] = ("", "")) -> CallResult:
    """A call that produced no reply."""
    return CallResult(ok=False, value=None, error=error, seconds=seconds, stdout=output[0], inputs_after=None,
                      stderr=output[1])


def reply_budget(*values: Any) -> int:
    """The bytes a reply may have for a request carrying ``values``.

    No function of this kit legitimately returns much more than it is given: a reply may hold
    four times the request's arrays plus 1 MiB, and anything larger is refused unread (a
    request that needs more says so).
    """
    total = 0
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, np.ndarray):
            total += value.nbytes
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
    return 4 * total + (1 << 20)
