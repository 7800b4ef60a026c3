"""The grading configuration of one assignment: its ``grading.toml``, or a course's own copy.

The file is validated when it is read: an unknown table or key is an error that names it, and
every default lives in one place (the limits in :class:`~autograder.sandbox.limits.Limits`, the
thresholds and conventions in the assignment's own ``grading.toml``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from linclass.assignment import Assignment
from linclass.errors import LinclassError

from .late import LatePolicy, parse_late
from .sandbox.limits import Limits

TABLES = ("course", "conventions", "limits", "thresholds", "points", "written", "late")


@dataclass(frozen=True)
class GradingConfig:
    """A validated grading configuration.

    Attributes
    ----------
    points : dict
        ``"<part>::<check>"`` -> points of each autograded check.
    limits : Limits
        What the student process may use.
    thresholds : dict
        Named numbers the checks compare with (accuracies, speed-ups).
    conventions : dict
        Convention name -> the value the course grades by (e.g. ``regularization = "half"``).
    written : dict
        Written (manually graded) question -> points.
    salt : str
        Course salt of the per-student input seeds.
    path : Path
        Where the configuration was read from.
    late : LatePolicy or None
        The due date and late penalty (``[late]``, see :mod:`autograder.late`); None: no due date.
    """

    points: dict[str, float]
    limits: Limits
    thresholds: dict[str, float]
    conventions: dict[str, str]
    salt: str
    path: Path
    written: dict[str, float] = field(default_factory=dict)
    late: LatePolicy | None = None

    def points_for(self, part: str, check: str) -> float:
        """Points of one check; a check missing from the file is a configuration error."""
        try:
            return self.points[f"{part}::{check}"]
        except KeyError:
            raise LinclassError(f"{self.path}: no points for check '{part}::{check}'") from None

    @property
    def autograded_total(self) -> float:
        return sum(self.points.values())

    @property
    def written_total(self) -> float:
        return sum(self.written.values())


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise LinclassError(f"{path}: grading config not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LinclassError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise LinclassError(f"{path}: not valid TOML ({exc})") from None


def _number(path: Path, where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise LinclassError(f"{path}: {where} must be a number >= 0, not {value!r}")
    return float(value)


def _table(path: Path, raw: dict, name: str) -> dict:
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise LinclassError(f"{path}: [{name}] must be a table")
    return table


def load_config(assignment: Assignment, path: str | Path | None = None, salt: str | None = None) -> GradingConfig:
    """Read and validate ``path`` (default: the assignment's own ``grading.toml``).

    A course's own file needs only what it changes: the assignment's file gives every other
    value (thresholds, conventions, written answers); points must be given in full when given.

    Raises
    ------
    LinclassError
        The file is missing, not valid TOML, or has an unknown table, key or value.
    """
    default_path = assignment.config_path
    path = Path(path) if path else default_path
    raw = _read(path)
    base = raw if path == default_path else _read(default_path)
    for name in raw:
        if name not in TABLES:
            raise LinclassError(f"{path}: unknown table [{name}] (known: {', '.join(TABLES)})")

    course = _table(path, raw, "course")
    for key in course:
        if key != "salt":
            raise LinclassError(f"{path}: unknown key {key!r} in [course] (known: salt)")

    known_limits = {f.name: f.type for f in fields(Limits)}
    limit_values = {}
    for key, value in _table(path, raw, "limits").items():
        if key not in known_limits:
            raise LinclassError(f"{path}: unknown key {key!r} in [limits] (known: {', '.join(known_limits)})")
        limit_values[key] = _number(path, f"[limits] {key}", value)
        if known_limits[key] in ("int", int):
            limit_values[key] = int(limit_values[key])

    thresholds = {k: _number(default_path, f"[thresholds] {k}", v) for k, v in _table(default_path, base,
                                                                                          "thresholds").items()}
    for key, value in _table(path, raw, "thresholds").items():
        if key not in thresholds:
            raise LinclassError(f"{path}: unknown key {key!r} in [thresholds] (known: {', '.join(thresholds)})")
        thresholds[key] = _number(path, f"[thresholds] {key}", value)

    allowed = assignment.conventions
    conventions = {k: choices[0] for k, choices in allowed.items()}
    for source, table in ((default_path, _table(default_path, base, "conventions")),
                          (path, _table(path, raw, "conventions"))):
        for key, value in table.items():
            if key not in allowed:
                raise LinclassError(f"{source}: unknown key {key!r} in [conventions] (the assignment offers: "
                                    f"{', '.join(allowed) or 'none'})")
            if value not in allowed[key]:
                raise LinclassError(f"{source}: [conventions] {key} must be one of {', '.join(allowed[key])}, "
                                    f"not {value!r}")
            conventions[key] = value

    points_table = _table(path, raw, "points") or _table(default_path, base, "points")
    if not points_table:
        raise LinclassError(f"{path}: missing the [points] table")
    parts = set(assignment.spec.part_names)
    points = {}
    for key, value in points_table.items():
        part, sep, check = key.partition("::")
        if not sep or not check or part not in parts:
            raise LinclassError(f"{path}: [points] key {key!r} is not '<part>::<check>' with a part of "
                                f"{assignment.name}")
        points[key] = _number(path, f"[points] {key!r}", value)

    written = {k: _number(path, f"[written] {k!r}", v)
               for k, v in (_table(path, raw, "written") or _table(default_path, base, "written")).items()}
    salt = salt or course.get("salt") or _table(default_path, base, "course").get("salt", "linclass")
    late = parse_late(path, _table(path, raw, "late")) or parse_late(default_path, _table(default_path, base, "late"))
    return GradingConfig(points=points, limits=Limits(**limit_values), thresholds=thresholds, conventions=conventions,
                         salt=salt, path=path, written=written, late=late)
