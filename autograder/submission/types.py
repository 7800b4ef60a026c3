"""What a loaded submission is: its code units and what was found on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class CodeUnit:
    """One unit of student code: a notebook cell (by grade_id) or a module file (by relative path)."""

    name: str
    source: str
    kind: str  # "cell" | "module"
    origin: str = "student"  # "student" | "source" (the trusted copy from the source notebook)
    notebook: str = ""


@dataclass
class Submission:
    """What was submitted, ready for the sandbox; nothing of it has run."""

    student_id: str
    path: Path
    kind: str  # "notebook" | "modules" | "empty"
    units: list[CodeUnit] = field(default_factory=list)
    modules: dict[str, str] = field(default_factory=dict)  # assignment module -> relative path of its unit
    problems: list[str] = field(default_factory=list)
    tamper: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    homes: dict[str, str] = field(default_factory=dict)  # module unit -> the dotted name it is loaded as
    unloadable: dict[str, str] = field(default_factory=dict)  # module unit -> why it cannot run (Python 2)
    not_graded: dict[str, str] = field(default_factory=dict)  # assignment module -> why (the course's own file)


#: ``available(dotted_name)``: can that module be imported where the student's code runs?
Availability = Callable[[str], bool]
