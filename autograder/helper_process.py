"""Trusted helper processes: the grader's own work (drawing, timing) done on another core.

A helper is ``python -m MODULE ARGS...`` with the grader's imports (its ``sys.path`` as
``PYTHONPATH``) and the kit's folder as its working directory: ``-m`` puts the working
directory first on ``sys.path``, and the grader's own could hold a ``json.py``.  Its answer is
what it prints; a helper that cannot start, fails or hangs answers None, and the caller then
does the work itself.  It never runs student code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: The folder that holds the kit's packages (``autograder``, ``linclass``, ``solutions``).
KIT = Path(__file__).resolve().parents[1]


def start(module: str, *args: str, stdin: bool = False) -> subprocess.Popen | None:
    """Start ``python -m module args`` now (None if it cannot start); ``stdin``: it reads an order."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        return subprocess.Popen([sys.executable, "-m", module, *args], cwd=KIT, env=env, text=True,
                                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
    except OSError:
        return None


def answer(process: subprocess.Popen | None, order: str | None = None, timeout: float = 60.0) -> str | None:
    """What ``process`` printed once it ended well (after reading ``order``), or None: it could
    not start, failed, or did not end within ``timeout`` seconds (it is then killed)."""
    if process is None:
        return None
    try:
        out, _ = process.communicate(order, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        stop(process)
        return None
    return out if process.returncode == 0 else None


def stop(process: subprocess.Popen | None) -> None:
    """Kill and reap a helper that is no longer wanted."""
    if process is not None:
        process.kill()
        process.wait()
