"""What students implement in one assignment: the table the self-check and the grader share.

A :class:`Spec` lists the assignment's *parts* (one gradable function or method each), the
module files and notebooks they live in, and how real module submissions import each other.
It is plain data (standard library only) and ships with every student release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Part:
    """One gradable unit of an assignment.

    Attributes
    ----------
    name : str
        The report tag: a function (``svm_loss_naive``) or ``Class.method``.
    module : str
        The module file that defines it, without ``.py``.
    cell : str
        The nbgrader ``grade_id`` of the notebook cell that defines it (a method lives in its
        class's cell).
    """

    name: str
    module: str
    cell: str

    @property
    def symbol(self) -> str:
        """The top-level name to look up in the module (a function or a class)."""
        return self.name.split(".")[0]


@dataclass(frozen=True)
class Spec:
    """The student-facing description of an assignment.

    Attributes
    ----------
    name : str
        The assignment's name (its folder in ``assignments/source/``).
    parts : tuple of Part
        In the order students meet them.
    modules : tuple of str
        The module files, in dependency order.
    notebooks : tuple of str
        The release notebooks, in the order students work through them.
    homes : mapping
        Module -> the dotted name it is loaded as, wherever it was handed in from (default:
        its own name, at the top level).
    packages : tuple of str
        Packages the modules can be imported from (stand-ins: a student ``__init__.py`` never
        runs); the first is the home of helper files beside no assignment module.
    course_files : mapping
        Module -> what only the course's own version of that file contains (a function name,
        or a whole line): such a file is not graded as the student's.
    tags : mapping
        Check-name prefix -> report tag, for checks reported apart from their part
        (``{"slides_": "slides"}``).
    """

    name: str
    parts: tuple[Part, ...]
    modules: tuple[str, ...]
    notebooks: tuple[str, ...] = ()
    homes: Mapping[str, str] = field(default_factory=dict)
    packages: tuple[str, ...] = ()
    course_files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    def part(self, name: str) -> Part:
        """The part called ``name`` (KeyError naming the known parts if there is none)."""
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(f"{self.name} has no part {name!r}; its parts: {', '.join(p.name for p in self.parts)}")

    @property
    def part_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts)

    def home(self, module: str) -> str:
        """The dotted name ``module`` is loaded as."""
        return self.homes.get(module, module)

    @property
    def package_dirs(self) -> tuple[str, ...]:
        """The top-level folders a handed-in tree keeps its modules under (``cs231n``)."""
        return tuple(dict.fromkeys(name.split(".")[0] for name in (*self.packages, *self.homes.values())
                                   if "." in name or name in self.packages))

    @property
    def cells(self) -> tuple[str, ...]:
        """The solution cells' grade_ids, each once, in part order."""
        return tuple(dict.fromkeys(p.cell for p in self.parts))

    def tag(self, part: str, check: str) -> str:
        """The report tag of one check: its part, or the tag of its name's prefix."""
        return next((tag for prefix, tag in self.tags.items() if check.startswith(prefix)), part)
