"""The module files of a submission: flat, nested in the course's package tree, or mixed.

What each file is and what of it runs is decided by :func:`linclass.student.modules.read_modules`,
shared with the public self-check; here the files are cut to the submission's own folder.
"""

from __future__ import annotations

import os

from linclass.student.modules import read_modules
from linclass.student.spec import Spec

from .types import Availability, CodeUnit, Submission

#: Largest module file read (larger ones are ignored, with a problem).
MAX_PY_BYTES = 2 << 20

def _root_of(rel: str, package_dirs: tuple[str, ...]) -> str:
    """The folder a module file was handed in from: above the course's package tree, if in one."""
    parts = rel.split("/")[:-1]
    inside = [i for i, part in enumerate(parts) if part in package_dirs]
    return "/".join(parts[: inside[0]] if inside else parts)


def load_modules(sub: Submission, pys: dict[str, bytes], chosen: dict[str, str], spec: Spec,
                 available: Availability | None = None) -> None:
    """Fill ``sub`` with the module files of ``pys`` (``chosen``: module -> the file graded as it)."""
    sub.kind = "modules"
    roots = [_root_of(rel, spec.package_dirs) for rel in chosen.values()]
    common = os.path.commonpath(roots) if all(roots) else ""
    common = "" if common == "." else common
    prefix = common + "/" if common else ""
    for module, rel in chosen.items():
        copies = [r for r in pys if r.rsplit("/", 1)[-1] == module + ".py"]
        if len(copies) > 1:
            sub.problems.append(f"found {len(copies)} files named {module}.py; graded {rel}")
    files: dict[str, bytes] = {}
    for rel, data in sorted(pys.items()):
        if not rel.startswith(prefix):
            continue
        if len(data) > MAX_PY_BYTES:
            sub.problems.append(f"{rel} is larger than {MAX_PY_BYTES >> 20} MB and was ignored")
            continue
        files[rel[len(prefix):]] = data
    found = read_modules(files, spec, available)
    sub.modules, sub.homes, sub.unloadable, sub.not_graded = found.chosen, found.homes, found.unloadable, \
        found.not_graded
    sub.problems.extend(found.problems)
    sub.notes.extend(found.notes)
    sub.units.extend(CodeUnit(rel, text, "module") for rel, text in found.texts.items())
    missing = [m + ".py" for m in spec.modules if m not in found.chosen and m not in found.not_graded]
    if missing:
        sub.notes.append(f"not in the submission: {', '.join(missing)}")
