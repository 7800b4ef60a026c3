"""An assignment is a package: the registry that finds one, and what the kit needs from it.

An assignment package is a folder (see ``docs/adding-an-assignment.md``) holding:

- ``spec.py``: ``SPEC``, the student-facing table (:class:`linclass.student.spec.Spec`);
- ``grading.toml``: points per check, limits, thresholds, conventions;
- ``suite/``: the grading checks (pytest, run by the engine's plugin);
- ``harness_ops.py`` (optional): the assignment's own requests, served inside the student
  process (plain calls of the student's functions need none);
- ``checks.py``: the public self-check's checks (shipped with the release);
- ``assignment.toml`` (optional): where its reference and source notebooks are, and which
  files every release gets at its root.

The engine (``autograder``) and the course tools (``linclass.course``) take an
:class:`Assignment` and read nothing else about the assignment.
"""

from __future__ import annotations

import functools
import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from .errors import LinclassError
from .student.spec import Part, Spec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Where the kit's own assignment packages live.
BUILTIN = Path(__file__).resolve().parent / "assignments"
#: The assignment used when none is named.
DEFAULT_ASSIGNMENT = "linear_classifiers"


@dataclass(frozen=True)
class Assignment:
    """One assignment package, found by :func:`load_assignment`.

    Attributes
    ----------
    spec : Spec
        What students implement.
    root : Path
        The package folder.
    package : str
        Its importable dotted name.
    reference_dir : Path
        The reference implementations (never shipped).
    source_dir : Path
        The nbgrader source notebooks.
    shipped : dict
        Release-root file name -> the file that is copied there.
    conventions : dict
        Convention name -> the values a course may grade by (``grading.toml`` picks one).
    """

    spec: Spec
    root: Path
    package: str
    reference_dir: Path
    source_dir: Path
    shipped: dict[str, Path] = field(default_factory=dict)
    conventions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def parts(self) -> tuple[Part, ...]:
        return self.spec.parts

    @property
    def suite_dir(self) -> Path:
        """The grading checks."""
        return self.root / "suite"

    @property
    def config_path(self) -> Path:
        """The default grading configuration."""
        return self.root / "grading.toml"

    @property
    def ops_path(self) -> Path:
        """The requests served in the student process (numpy and the standard library only)."""
        return self.root / "harness_ops.py"

    def module(self, name: str) -> ModuleType:
        """One of the package's own modules (``"reference"``, ``"misconceptions"``, ...)."""
        return importlib.import_module(f"{self.package}.{name}")

    def has_module(self, name: str) -> bool:
        return (self.root / f"{name}.py").is_file() or (self.root / name / "__init__.py").is_file()


def _locate(which: str | Path | None) -> tuple[Path, str]:
    """(package folder, dotted name) of a built-in assignment name or a package path."""
    which = DEFAULT_ASSIGNMENT if which is None else which
    path = Path(which)
    if not path.is_dir() and (BUILTIN / path.name / "spec.py").is_file() and path.name == str(which):
        path = BUILTIN / path.name
    if path.is_dir() and (path / "spec.py").is_file():
        path = path.resolve()
        if path.parent == BUILTIN.resolve():
            return path, f"linclass.assignments.{path.name}"
        if not path.name.isidentifier():
            raise LinclassError(f"{path}: an assignment folder's name must be a Python identifier")
        if str(path.parent) not in sys.path:
            sys.path.append(str(path.parent))
        return path, path.name
    known = sorted(p.name for p in BUILTIN.iterdir() if (p / "spec.py").is_file())
    raise LinclassError(f"no assignment {str(which)!r}: give one of {', '.join(known)} or the folder of an "
                        "assignment package (with a spec.py)")


@functools.cache
def _load(root: Path, package: str) -> Assignment:
    spec = importlib.import_module(f"{package}.spec").SPEC
    if not isinstance(spec, Spec):
        raise LinclassError(f"{root / 'spec.py'}: SPEC must be a linclass.student.spec.Spec")
    layout = {}
    if (root / "assignment.toml").is_file():
        try:
            layout = tomllib.loads((root / "assignment.toml").read_text())
        except tomllib.TOMLDecodeError as exc:
            raise LinclassError(f"{root / 'assignment.toml'}: not valid TOML ({exc})") from None
    known = ("reference", "source", "shipped", "conventions")
    unknown = set(layout) - set(known)
    if unknown:
        raise LinclassError(f"{root / 'assignment.toml'}: unknown key {sorted(unknown)[0]!r} (known: "
                            f"{', '.join(known)})")
    shipped = {name: (root / rel).resolve() for name, rel in layout.get("shipped", {}).items()}
    conventions = {name: tuple(choices) for name, choices in layout.get("conventions", {}).items()}
    return Assignment(spec=spec, root=root, package=package,
                      reference_dir=(root / layout.get("reference", "solutions")).resolve(),
                      source_dir=(root / layout.get("source", "source")).resolve(), shipped=shipped,
                      conventions=conventions)


def load_assignment(which: str | Path | None = None) -> Assignment:
    """The assignment named ``which`` (a built-in name, or the folder of an assignment package).

    Raises
    ------
    LinclassError
        No such assignment, or its package is malformed.
    """
    return _load(*_locate(which))
