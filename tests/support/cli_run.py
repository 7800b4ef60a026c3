"""Running ``linclass`` as a user does (a subprocess), and the shape of its expected failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("linclass")


def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``linclass ARGS`` through the installed console script (or ``python -m linclass.cli``)."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "linclass.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit 2, exactly one line on stderr, starting "linclass: error:", with every fragment."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("linclass: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]
