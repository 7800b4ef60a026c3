"""The student process's import world: what it can import and read, and nothing else.

The student process runs ``python -I -S``: the standard library only, plus a private site
directory that exposes numpy and nothing else of the grader's environment (cffi, for one,
would reach libc without an audit event).  :func:`importable_in_sandbox` answers, without
importing anything, whether a module can be imported there; the submission loader uses it to
leave out a stray import of a module that is not available.
"""

from __future__ import annotations

import atexit
import functools
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from linclass.student.runtime import SHIMS

#: Third-party distributions the student process may import: numpy only.
STUDENT_PACKAGES = ("numpy", "numpy.libs")
#: The kit's own packages: never importable nor readable by the student process.
KIT_PACKAGES = ("solutions", "autograder", "linclass")


def kit_dirs() -> list[str]:
    """The directories of the kit's packages (the student process may not read them)."""
    dirs = []
    for name in KIT_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        for loc in (spec.submodule_search_locations or []) if spec else []:
            dirs.append(str(Path(loc).resolve()))
    return dirs


@functools.lru_cache(maxsize=1)
def student_site() -> tuple[str, tuple[str, ...]]:
    """A private site directory holding links to the allowed packages only.

    Returns
    -------
    site : str
        The directory to put on the student process's ``sys.path``.
    targets : tuple of str
        The real package directories behind the links (readable by the student process).
    """
    numpy = importlib.util.find_spec("numpy")  # (found, not imported: a zygote starts before the grader imports it)
    if numpy is None or not numpy.origin:
        raise OSError("numpy is not installed where the grader runs")
    home = Path(numpy.origin).resolve().parent.parent
    site_dir = Path(tempfile.mkdtemp(prefix="linclass-site-"))
    site_dir.chmod(0o755)  # (links only: a student process with its own uid must reach them)
    atexit.register(shutil.rmtree, site_dir, True)
    targets = []
    for name in STUDENT_PACKAGES:
        if (home / name).exists():
            (site_dir / name).symlink_to(home / name)
            targets.append(str(home / name))
    return str(site_dir), tuple(targets)


@functools.lru_cache(maxsize=1)
def student_search_path() -> tuple[str, ...]:
    """The directories the student process imports from: its interpreter's own (``-I -S``:
    the standard library only, asked of the interpreter once) and the private site dir."""
    out = subprocess.run([sys.executable, "-I", "-S", "-c", "import sys; print('\\n'.join(sys.path))"],
                         capture_output=True, text=True, check=True, env={}).stdout
    found = [p for p in out.splitlines() if p] + [student_site()[0]]
    return tuple(p for p in dict.fromkeys(found) if os.path.exists(p))


@functools.lru_cache(maxsize=4096)
def importable_in_sandbox(name: str) -> bool:
    """Can the student process import the module ``name`` (the submission's own files aside)?

    Answered from the same search path and the same finders the student process uses,
    without importing anything: the standard library, the allowed third-party packages
    (numpy) and the student runtime's shims.  A module the policy refuses (``ctypes``) is
    importable here: refusing it is the policy's job, with its own message.
    """
    if name in SHIMS:
        return True
    parts = name.split(".")
    if parts[0] in sys.builtin_module_names:
        return len(parts) == 1
    spec = importlib.machinery.PathFinder.find_spec(parts[0], list(student_search_path()))
    for i in range(1, len(parts)):
        if spec is None or spec.submodule_search_locations is None:
            return False
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: i + 1]),
                                                         list(spec.submodule_search_locations))
    return spec is not None


def imports_from(readable: list[str]) -> dict[str, str]:
    """Name a folder is imported by -> the folder: each readable folder itself, and each link of
    the private site folder -> its package (what a student process with its own uid must still
    reach; see ``confine.reroute``)."""
    site_dir, targets = student_site()
    found = {path: path for path in readable if os.path.isdir(path)}
    for target in targets:
        found[os.path.join(site_dir, os.path.basename(target))] = target
    return found


def python_dirs() -> tuple[list[str], list[str]]:
    """(the student process's site directories, the directories it may read: stdlib and allowed packages)."""
    site_dir, targets = student_site()
    paths = sysconfig.get_paths()
    stdlib = [paths["stdlib"], paths["platstdlib"], sys.base_prefix + "/lib"]
    readable = [p for p in dict.fromkeys(stdlib) if os.path.isdir(p)]
    return [site_dir], readable + [site_dir, *targets]
