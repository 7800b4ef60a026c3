"""`linclass doctor`: what this machine's kernel can enforce around a student process.

It starts one student process with no student code, exactly as grading does, and prints the
layers that hold it (:mod:`autograder.sandbox.levels`), what is missing and why, and what the
batch workers' memory cap will use.  ``--sandbox strict`` grades only where this says ``full``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

from linclass.errors import LinclassError


def probe_sandbox(mode: str = "auto") -> dict:
    """The sandbox record of a student process started here in ``mode`` (no student code runs)."""
    from linclass.assignment import load_assignment

    from .sandbox.limits import Limits
    from .sandbox.process import SandboxError, StudentProcess
    from .submission import Submission

    process = StudentProcess(Submission("doctor", Path("."), "empty"), load_assignment(), Limits(call_seconds=30),
                             sandbox="auto" if mode == "strict" else mode)
    try:
        _ = process.load_report  # starts it
        record = process.sandbox
    except SandboxError as exc:
        raise LinclassError(f"no student process could be started here: {exc}") from None
    finally:
        process.close()
    if record is None:
        raise LinclassError("the student process did not report its sandbox")
    return record


def require_strict() -> dict:
    """The probe's record; a clear error, naming what is missing, when it is not ``full``."""
    record = probe_sandbox("auto")
    if record["level"] != "full":
        raise LinclassError("--sandbox strict: this machine cannot confine student code fully; missing: "
                            + "; ".join(record["missing"] + record["notes"]) + " (see `linclass doctor`)")
    return record


def main(args: argparse.Namespace) -> int:
    """Print the sandbox this machine gives (``--json`` for the record itself)."""
    from .sandbox.levels import CONCERNS, REQUIRED
    from .sandbox.memory import worker_memory_cap

    record = probe_sandbox(getattr(args, "sandbox", None) or "auto")
    cap = worker_memory_cap(dry_run=True)
    if getattr(args, "json", False):
        print(json.dumps({"sandbox": record, "worker_memory": cap}, indent=2))
        return 0
    print(f"linclass doctor: {platform.system()} {platform.release()} {platform.machine()}, Python "
          f"{platform.python_version()}, grader uid {os.geteuid()}")
    print(f"\nsandbox level: {record['level']}")
    for key in CONCERNS:
        layers = record.get(key) or []
        print(f"  {key:11s} {' + '.join(layers) if layers else 'audit hook only':38s} (full needs: "
              f"{' and '.join(REQUIRED[key])})")
    print(f"  {'identity':11s} {record.get('identity') or 'the grader'}")
    for line in record["missing"]:
        print(f"  missing: {line}")
    for note in record["notes"]:
        print(f"  note: {note}")
    print(f"\nbatch workers' memory cap: {cap}")
    print("\n" + ("`--sandbox strict` will grade here." if record["level"] == "full" else
                  "`--sandbox strict` will refuse to grade here; `auto` (the default) grades with the layers above "
                  "and records them in every results.json."))
    print("The rest (kernel exploits, CPU contention between students) is the container's job: see README.")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m autograder.doctor")
    parser.add_argument("--json", action="store_true")
    sys.exit(main(parser.parse_args()))
