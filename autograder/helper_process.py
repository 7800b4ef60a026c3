"""Trusted helper processes: the grader's own work (drawing, timing) done on another core.

A helper is ``python -m MODULE ARGS...`` with the grader's imports (its ``sys.path`` as
``PYTHONPATH``) and the kit's folder as its working directory: ``-m`` puts the working
directory first on ``sys.path``, and the grader's own could hold a ``json.py``.  Its answer is
the first line it prints; the helper is killed as soon as that line is read (an interpreter that
has imported matplotlib takes a tenth of a second to exit, and nothing after the answer is
needed).  A helper that cannot start, fails or hangs answers None, and the caller then does the
work itself.  It never runs student code.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

#: The folder that holds the kit's packages (``autograder``, ``linclass``, ``solutions``).
KIT = Path(__file__).resolve().parents[1]


def start(module: str, *args: str, stdin: bool = False) -> subprocess.Popen | None:
    """Start ``python -m module args`` now (None if it cannot start); ``stdin``: it reads an order."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        return subprocess.Popen([sys.executable, "-m", module, *args], cwd=KIT, env=env, bufsize=0,
                                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
    except OSError:
        return None


def answer(process: subprocess.Popen | None, order: str | None = None, timeout: float = 60.0) -> str | None:
    """The first line a helper prints, after it is given its order; the helper is killed then.

    Parameters
    ----------
    process : Popen or None
        A helper from :func:`start` (None: it could not start).
    order : str, optional
        Written to its stdin, which is then closed.
    timeout : float
        Seconds for the whole exchange, the order's writing included.

    Returns
    -------
    str or None
        The line without its newline, or None: no helper, no whole line before it ended, or
        none within ``timeout``.
    """
    if process is None:
        return None
    deadline = time.monotonic() + timeout
    try:
        if order is not None and process.stdin is not None:
            if not _send(process.stdin.fileno(), order.encode(), deadline):
                return None
            process.stdin.close()
        return _first_line(process.stdout.fileno(), deadline)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    finally:
        stop(process)


def _send(fd: int, data: bytes, deadline: float) -> bool:
    """Write all of ``data`` before ``deadline`` (a helper that stops reading cannot block us)."""
    view = memoryview(data)
    while view:
        if not _ready(fd, select.POLLOUT, deadline):
            return False
        view = view[os.write(fd, view[: select.PIPE_BUF]):]
    return True


def _first_line(fd: int, deadline: float, max_bytes: int = 1 << 20) -> str | None:
    data = b""
    while b"\n" not in data:
        if len(data) > max_bytes or not _ready(fd, select.POLLIN, deadline):
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:  # it ended without a whole line
            return None
        data += chunk
    return data.split(b"\n", 1)[0].decode()


def _ready(fd: int, event: int, deadline: float) -> bool:
    """``fd`` is ready for ``event`` (or has hung up) before ``deadline``; poll, not select: a
    grader with many files open has descriptors above select's limit of 1024."""
    poller = select.poll()
    poller.register(fd, event)
    left = deadline - time.monotonic()
    return left > 0 and bool(poller.poll(max(1, int(left * 1000))))


def stop(process: subprocess.Popen | None) -> None:
    """Kill and reap a helper that is no longer wanted."""
    if process is not None:
        process.kill()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
