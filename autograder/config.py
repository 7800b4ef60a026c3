"""The grading configuration: points per check, limits and thresholds (``config.toml``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from linclass.errors import LinclassError

from .reference import REGULARIZATION

DEFAULT_CONFIG = Path(__file__).with_name("config.toml")


@dataclass(frozen=True)
class GradingConfig:
    """Parsed ``config.toml``.

    Attributes
    ----------
    points : dict
        ``"<part>::<check>"`` -> points.
    limits : dict
        Keyword arguments of :class:`autograder.sandbox.Limits`.
    thresholds : dict
        Named accuracy and speed thresholds.
    salt : str
        Course salt of the per-student input seeds.
    path : Path
        Where the configuration was read from.
    regularization : str
        The penalty convention losses are graded by: ``"full"`` (``reg * sum(W**2)``, the
        assignment's) or ``"half"`` (``0.5 * reg * sum(W**2)``, older CS231n skeletons).
    """

    points: dict[str, float]
    limits: dict[str, float]
    thresholds: dict[str, float]
    salt: str
    path: Path
    regularization: str = "full"

    def points_for(self, part: str, check: str) -> float:
        """Points of one check; a check missing from the file is a configuration error."""
        try:
            return self.points[f"{part}::{check}"]
        except KeyError:
            raise LinclassError(f"{self.path}: no points for check '{part}::{check}'") from None

    def sandbox_limits(self):
        """The limits as a :class:`autograder.sandbox.Limits`."""
        from .sandbox import Limits

        known = {f.name for f in fields(Limits)}
        return Limits(**{k: v for k, v in self.limits.items() if k in known})


def load_config(path: str | Path | None = None, salt: str | None = None) -> GradingConfig:
    """Read a grading configuration (the bundled default when ``path`` is None).

    Raises
    ------
    LinclassError
        The file is missing or not valid TOML, or lacks the ``points`` table.
    """
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise LinclassError(f"{path}: grading config not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise LinclassError(f"{path}: not valid TOML ({exc})") from None
    if not isinstance(raw.get("points"), dict) or not raw["points"]:
        raise LinclassError(f"{path}: missing the [points] table")
    regularization = raw.get("conventions", {}).get("regularization", "full")
    if regularization not in REGULARIZATION:
        raise LinclassError(f"{path}: [conventions] regularization must be one of {', '.join(REGULARIZATION)}, "
                            f"not {regularization!r}")
    return GradingConfig(points={k: float(v) for k, v in raw["points"].items()},
                         limits=dict(raw.get("limits", {})), thresholds=dict(raw.get("thresholds", {})),
                         salt=salt or raw.get("course", {}).get("salt", "linclass"), path=path,
                         regularization=regularization)
