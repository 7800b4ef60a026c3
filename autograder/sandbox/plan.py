"""What the student process loads, and in which order: the load plan of one submission.

A notebook submission is one step per solution cell.  A module submission's files are
written under ``submission/`` in the sandbox as they were handed in, and there is one step per
assignment module, in dependency order; the student runtime's importer then resolves every
way real code imports them (``cs231n.classifiers.X``, ``classifiers.X``, ``.X``, ``X``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linclass.student.spec import Spec

from .replies import StudentError

#: The sandbox folder that holds a module submission's files.
PACKAGE = "submission"


@dataclass
class LoadPlan:
    """The steps, the files to write and the import table of one submission.

    Attributes
    ----------
    steps : list of dict
        ``{"kind": "cell", "name", "source"}`` or ``{"kind": "module", "module", "home", "file"}``.
    files : dict
        Sandbox-relative path -> text, written before the student process starts.
    imports : dict
        The student runtime's import table (``files``: home -> absolute path,
        ``packages``, ``unloadable``: home -> reason).
    not_loadable : dict
        Part or symbol name -> why it cannot run at all, decided here from the source text
        (Python 2 code, the course's own file), so the student process cannot claim otherwise.
    """

    steps: list[dict] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    imports: dict = field(default_factory=dict)
    not_loadable: dict[str, StudentError] = field(default_factory=dict)

    @classmethod
    def of(cls, submission: Any, spec: Spec, sandbox: Path) -> LoadPlan:
        """The plan of ``submission`` (an :class:`autograder.submission.Submission`) in ``sandbox``."""
        plan = cls(imports={"files": {}, "packages": list(spec.packages), "unloadable": {}})
        if getattr(submission, "kind", "") == "notebook":
            plan.steps = [{"kind": "cell", "name": u.name, "source": u.source} for u in submission.units
                          if u.kind == "cell"]
            return plan
        homes = dict(getattr(submission, "homes", {}) or {})
        unloadable = dict(getattr(submission, "unloadable", {}) or {})
        for unit in getattr(submission, "units", []):
            if unit.kind != "module":
                continue
            plan.files[f"{PACKAGE}/{unit.name}"] = unit.source
            home = homes.get(unit.name)
            if home is None:
                continue
            if unit.name in unloadable:
                plan.imports["unloadable"][home] = unloadable[unit.name]
            else:
                plan.imports["files"][home] = str(sandbox / PACKAGE / unit.name)
        modules = dict(getattr(submission, "modules", {}) or {})
        for module in spec.modules:
            rel = modules.get(module)
            if rel is not None and homes.get(rel) in plan.imports["files"]:
                plan.steps.append({"kind": "module", "module": module, "home": homes[rel], "file": rel})
        not_graded = dict(getattr(submission, "not_graded", {}) or {})
        for part in spec.parts:
            reason = unloadable.get(modules.get(part.module, "")) or not_graded.get(part.module)
            if reason is not None:
                plan.not_loadable[part.symbol] = plan.not_loadable[part.name] = StudentError(
                    "unloadable", f"not graded: {reason}")
        return plan

    @staticmethod
    def label(step: dict) -> str:
        """How a step is named in messages: ``cell X`` or the module's file."""
        return f"cell {step['name']}" if step["kind"] == "cell" else step["file"]
