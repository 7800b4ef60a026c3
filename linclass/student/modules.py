"""A module submission's files made ready to run: one function for the grader and the self-check.

:func:`read_modules` takes the submission's ``.py`` files (relative path -> bytes) and decides,
without running anything, what each file is and what text of it runs:

- the text as Python reads it (byte-order mark, ``coding:`` line, Windows line endings);
- which file is which assignment module (the shallowest of each name), and which files are
  the course's own (CS231n ships ``gradient_check.py``: it is importable, not graded);
- the dotted name each file is loaded as (:func:`~linclass.student.sources.module_homes`);
- Python 2 code: print statements become ``print()`` calls when that makes the file
  compile; a file that still does not compile is *unloadable*, with one plain message;
- stray imports of modules that are not available are skipped, with a note each;
- uses of Python 2 builtins (``xrange``) are noted (the runtime provides them).

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from .runtime import PYTHON2_BUILTINS, importable_with
from .sources import (
    course_file,
    decode_module,
    find_modules,
    module_homes,
    python2_names,
    python2_problem,
    run_as_python3,
    skip_unavailable_imports,
)
from .spec import Spec


@dataclass
class ModuleFiles:
    """What :func:`read_modules` decided.

    Attributes
    ----------
    chosen : dict
        Assignment module -> relative path of the file graded as that module.
    texts : dict
        Relative path -> the text that runs (for every readable file).
    homes : dict
        Relative path -> the dotted name it is loaded as.
    unloadable : dict
        Relative path -> why that file cannot run at all.
    not_graded : dict
        Assignment module -> why its file is not graded (the course's own file).
    problems, notes : list of str
        Plain-words findings: problems cost points somewhere, notes only inform.
    """

    chosen: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    homes: dict[str, str] = field(default_factory=dict)
    unloadable: dict[str, str] = field(default_factory=dict)
    not_graded: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_modules(files: Mapping[str, bytes], spec: Spec,
                 available: Callable[[str], bool] | None = None) -> ModuleFiles:
    """Decide what each of a module submission's files is, and what of it runs.

    Parameters
    ----------
    files : mapping
        Relative path -> bytes, for the submission's ``.py`` files.
    spec : Spec
        The assignment: its modules, their homes and alias packages, the course's own files.
    available : callable, optional
        ``available(name)``: can ``name`` be imported where the code runs?  None keeps every
        import statement.
    """
    modules, packages, course_files = spec.modules, spec.packages, spec.course_files
    found = ModuleFiles()
    for rel, data in sorted(files.items()):
        text, clean = decode_module(data)
        if not clean:
            found.problems.append(f"{rel} is not valid UTF-8 text")
        found.texts[rel] = text
    found.chosen = find_modules(found.texts, modules)
    for module, rel in list(found.chosen.items()):
        marker = course_file(found.texts[rel], (course_files or {}).get(module, ()))
        if marker is not None:
            del found.chosen[module]
            what = f"it defines {marker}" if marker.isidentifier() else "it matches the course's version"
            found.not_graded[module] = (f"{rel} is the course's own file ({what}), not your work, so it is not "
                                        "graded as yours")
            found.notes.append(found.not_graded[module])
    found.homes = module_homes(found.texts, found.chosen, {m: spec.home(m) for m in modules},
                               packages[0] if packages else "")
    graded = set(found.chosen.values())
    importable = importable_with(available, list(found.homes.values()), packages) if available else None
    for rel in found.homes:
        problem = python2_problem(rel, found.texts[rel])
        if problem is not None:
            converted = run_as_python3(found.texts[rel]) if "print statement" in problem else None
            if converted is None:
                found.unloadable[rel] = problem
                if rel in graded:
                    found.problems.append(problem)
                continue
            found.texts[rel] = converted[0]
            if rel in graded:
                found.notes.append(f"{problem}, so its print statements were run as print() calls")
        if importable is not None:
            found.texts[rel], skipped = skip_unavailable_imports(found.texts[rel], importable)
            if rel in graded:  # (a helper file's skipped imports matter only if it is imported: no note)
                found.notes.extend(s.note(rel) for s in skipped)
        old = python2_names(found.texts[rel])
        if old and rel in graded:
            listed = ", ".join(f"{n} (line {line}) as {PYTHON2_BUILTINS[n].__name__}" for n, line in old)
            found.notes.append(f"{rel} uses Python 2's builtins; the grader provided {listed}")
    return found
