"""The kit's handles that the kit's own tests share: the repository, the default assignment."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from linclass.assignment import Assignment, load_assignment

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = load_assignment()
SPEC = ASSIGNMENT.spec
#: Part name -> Part.
PARTS_BY_NAME = {part.name: part for part in SPEC.parts}
MODULES = SPEC.modules
#: The grading configuration the assignment ships.
DEFAULT_CONFIG = ASSIGNMENT.config_path
#: The nbgrader course that holds the source notebooks, and their folder.
COURSE = ASSIGNMENT.source_dir.parents[1]
SOURCE = ASSIGNMENT.source_dir
REFERENCE_DIR = ASSIGNMENT.reference_dir


def with_source(source_dir) -> Assignment:
    """The default assignment with other trusted source notebooks."""
    return dataclasses.replace(ASSIGNMENT, source_dir=Path(source_dir))
