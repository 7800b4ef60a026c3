"""How strong one student process's sandbox is: what the kernel enforces, checked where it can be.

The student process reports the layers it applied (:mod:`autograder.harness.confine`) in its
first reply, which it sends before any student code has run, so the report is the harness's,
not the student's.  What ``/proc`` shows of the process from outside is checked against it:
the seccomp filter (``Seccomp: 2``), ``NoNewPrivs`` and its namespaces (their inodes differ
from the grader's).  A layer the report claims and ``/proc`` contradicts does not count.
"""

from __future__ import annotations

import os

#: The modes of ``--sandbox``.
MODES = ("auto", "strict", "minimal")
#: What every concern needs for the sandbox to be complete ("full").
REQUIRED = {
    "filesystem": ("landlock",),
    "network": ("namespace", "seccomp"),
    "processes": ("namespace", "seccomp"),
    "signals": ("namespace", "seccomp"),
    "syscalls": ("seccomp",),
}
CONCERNS = tuple(REQUIRED)


def verify(report: dict, pid: int | None) -> dict:
    """``report`` with every layer ``/proc/<pid>`` contradicts removed (and a note saying so)."""
    checked = {key: list(report.get(key, [])) for key in CONCERNS}
    checked["identity"] = str(report.get("identity", ""))
    checked["notes"] = [str(n) for n in report.get("notes", [])]
    if pid is None:
        return checked
    status = _proc_status(pid)
    if status and status.get("Seccomp") != "2" and "seccomp" in checked["syscalls"]:
        for key in CONCERNS:
            checked[key] = [layer for layer in checked[key] if layer != "seccomp"]
        checked["notes"].append("the process has no seccomp filter, although it said so")
    if status and status.get("NoNewPrivs") != "1" and any(checked.values()):
        checked["notes"].append("no_new_privs is not set")
    for namespace in ("net", "pid", "user"):
        if _same_namespace(pid, namespace) and "namespace" in checked["network" if namespace == "net" else "processes"]:
            for key in ("network", "processes", "signals"):
                checked[key] = [layer for layer in checked[key] if layer != "namespace"]
            checked["notes"].append(f"the process shares the grader's {namespace} namespace, although it said not")
            break
    return checked


def assess(checked: dict, grader_is_root: bool | None = None) -> dict:
    """The sandbox record of results.json: the checked layers plus ``level`` and ``missing``.

    ``level`` is ``full`` (every concern held by the kernel layers of :data:`REQUIRED`, and the
    student's code runs as an unprivileged uid), ``partial`` (some kernel layers) or
    ``minimal`` (the audit hook and rlimits only).
    """
    grader_is_root = os.geteuid() == 0 if grader_is_root is None else grader_is_root
    missing = [f"{key}: {'/'.join(need)}" for key, need in REQUIRED.items()
               if not all(any(layer.startswith(n) for layer in checked.get(key, [])) for n in need)]
    identity = checked.get("identity", "")
    if grader_is_root and not identity.startswith("uid "):
        missing.append("identity: an unprivileged uid (the grader runs as root)")
    kernel = any(checked.get(key) for key in CONCERNS)
    level = "full" if not missing else "partial" if kernel else "minimal"
    return {"level": level, **{key: checked.get(key, []) for key in CONCERNS}, "identity": identity,
            "missing": missing, "notes": checked.get("notes", [])}


def describe(record: dict) -> str:
    """One line for people: ``full: filesystem landlock ABI 7; network namespace+landlock+seccomp; ...``."""
    layers = "; ".join(f"{key} {'+'.join(record.get(key, [])) or 'audit hook only'}" for key in CONCERNS)
    text = f"{record.get('level', 'unknown')}: {layers}; runs as {record.get('identity') or 'the grader'}"
    if record.get("missing"):
        text += "; missing: " + ", ".join(record["missing"])
    return text


def _proc_status(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            return dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)
    except OSError:
        return {}


def _same_namespace(pid: int, kind: str) -> bool:
    try:
        return os.stat(f"/proc/{pid}/ns/{kind}").st_ino == os.stat(f"/proc/self/ns/{kind}").st_ino
    except OSError:
        return False
