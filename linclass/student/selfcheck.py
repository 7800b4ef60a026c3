"""The public self-check: run it on your own work before you submit.

    python selfcheck.py [PATH] [--part NAME]   (in the assignment folder; PATH defaults to this folder)
    %run selfcheck.py [--part NAME]            (the same, in a notebook cell)
    linclass check PATH                        (the same, from the kit)

``--part NAME`` (repeatable) checks only that part (a function, ``Class.method``, or a class
cell such as ``LinearClassifier``).  Parts are listed in the order of the notebooks.

PATH is a notebook, a folder of notebooks or of module files (any folder layout), or a zip of
either, read with the grader's own reader and its caps.  The checks are the assignment's public
ones (its ``checks.py``): they need no solutions.  Passing them does not guarantee full marks
(the grader uses more, and randomized, inputs), but a failure here is a real bug.

Your code is loaded and called the way the grader does (:mod:`linclass.student.runtime`:
the same imports, shims and calling conventions), in this process (it is your machine).
Every failure is reported as one clear message, never a traceback, followed by a summary;
the exit code is 0 only when every check passes.

This module also provides :func:`import_cells`, which the notebooks use to reuse your
functions from an earlier notebook; :mod:`linclass.student.live` runs these checks on the
live objects of a notebook's kernel (the visible part of each test cell).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import signal
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterable

from linclass.student.collect import SubmissionError, collect_files
from linclass.student.modules import read_modules
from linclass.student.notebooks import NotebookError, list_cells, parse_notebook, strip_magics
from linclass.student.runtime import (
    PYTHON2_BUILTINS,
    SubmissionImporter,
    adapt_seed,
    importable_with,
    is_unavailable_stand_in,
)
from linclass.student.sources import skip_unavailable_imports, unwritten
from linclass.student.spec import Spec

SETUP_TAG = "setup"
CALL_TIMEOUT = 60  # seconds per check, where the platform allows an alarm


class CodeLoadError(Exception):
    """The student's code could not be found or loaded; the message says why."""


class CheckFailed(Exception):
    """A check's assertion, with the message for the student (``skipped: ...`` for a skip)."""


def expect(condition: bool, message: str) -> None:
    """Fail the current check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


def call(fn: Callable, *args, **kwargs):
    """Call your function as the grader does: code without a ``seed`` parameter (CS231n's
    ``train``) is called without it, after seeding numpy's global generator."""
    import numpy as np

    return fn(*args, **adapt_seed(fn, kwargs, np.random.seed))


# ------------------------------------------------------------------------------ loading code
def notebook_cells(data: bytes, name: str) -> tuple[list[str], dict[str, str]]:
    """The setup cells and the code cells by ``grade_id`` of one notebook.

    Returns
    -------
    setup : list of str
        Sources of the code cells tagged ``setup`` (imports and constants the solutions use).
    cells : dict
        grade_id -> source, for every code cell that has a grade_id.
    """
    try:
        cells = list_cells(parse_notebook(data, name))
    except NotebookError as exc:
        raise CodeLoadError(str(exc)) from None
    setup, by_id = [], {}
    for cell in cells:
        if cell.cell_type != "code":
            continue
        if SETUP_TAG in cell.tags:
            setup.append(strip_magics(cell.source)[0])
        elif cell.grade_id:
            by_id[cell.grade_id] = strip_magics(cell.source)[0]
    return setup, by_id


def _find_sibling(name: str) -> Path:
    here = Path.cwd() / name
    if here.is_file():
        return here
    # Under `nbgrader autograde` the kernel runs in autograded/<student>/<assignment>/, where the other
    # notebooks may not be written yet: read them from submitted/<student>/<assignment>/ instead.
    if os.environ.get("NBGRADER_EXECUTION"):
        cwd = Path.cwd()
        if len(cwd.parents) >= 3:
            submitted = cwd.parents[2] / "submitted" / cwd.parent.name / cwd.name / name
            if submitted.is_file():
                return submitted
    raise CodeLoadError(f"{name} was not found next to this notebook; keep the assignment's notebooks together")


def _exec(source: str, label: str, namespace: dict) -> None:
    exec(compile(source, label, "exec"), namespace)  # noqa: S102 - the student's own code, on their machine


def provided_functions() -> dict[str, Callable]:
    """The stand-ins the shipped assignment provides (its checks' ``PROVIDED``; none if it has none)."""
    try:
        _, checks = load_checks()
    except CodeLoadError:
        return {}
    return dict(getattr(checks, "PROVIDED", {}))


def import_cells(notebook: str, grade_ids: Iterable[str], namespace: dict,
                 provided: dict[str, Callable] | None = None, out=None) -> tuple:
    """Exec your solution cells ``grade_ids`` of the sibling ``notebook`` into ``namespace``.

    The notebook's setup cells run first (imports and constants).  Used by a later notebook to
    reuse the functions you wrote in an earlier one, without copying them.  Returns what each
    cell defines under its own name (the function or class ``grade_id``), in order.

    A cell still written as ``raise NotImplementedError()`` whose function has a stand-in in
    ``provided`` (default: :func:`provided_functions`) gets the stand-in instead, and one line
    on ``out`` (default: stdout) says so: the later notebook does not depend on the order in
    which you work.
    """
    grade_ids = list(grade_ids)
    provided = provided_functions() if provided is None else provided
    path = _find_sibling(notebook)
    setup, cells = notebook_cells(path.read_bytes(), notebook)
    for i, src in enumerate(setup):
        _exec(src, f"<{notebook}:setup{i}>", namespace)
    for grade_id in grade_ids:
        if grade_id not in cells:
            raise CodeLoadError(f"{notebook} has no cell '{grade_id}' (was it deleted?)")
        _exec(cells[grade_id], f"<{notebook}:{grade_id}>", namespace)
        if grade_id in provided and unwritten(cells[grade_id], grade_id):
            namespace[grade_id] = provided[grade_id]
            print(f"your {grade_id} is not written yet: using the provided one", file=out or sys.stdout)
    return tuple(namespace.get(grade_id) for grade_id in grade_ids)


@dataclass
class StudentCode:
    """The student's definitions, loaded into one namespace."""

    namespace: dict
    parts: tuple[str, ...]  # the parts to check
    sources: dict[str, str] = field(default_factory=dict)  # unit name -> source text (for the loop check)
    labels: set[str] = field(default_factory=set)  # code labels, to find the student's frames in tracebacks
    unit_names: dict[str, str] = field(default_factory=dict)  # label -> what to call it ("svm_loss_naive")
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth knowing, not failures (a skipped stray import)
    importer: SubmissionImporter | None = None  # installed while the checks run (the grader's import rules)
    modules: list = field(default_factory=list)  # the student's loaded modules (module submissions)

    def close(self) -> None:
        """Forget the student's modules (they are re-read on the next check)."""
        if self.importer is not None:
            self.importer.uninstall()
            self.importer = None


def importable(name: str) -> bool:
    """Can ``name`` be imported in this Python (without importing it, where possible)?"""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def _load_notebooks(notebooks: dict[str, bytes], only: str | None, code: StudentCode, spec: Spec) -> None:
    order = {name: i for i, name in enumerate(spec.notebooks)}
    names = sorted(notebooks, key=lambda rel: (order.get(Path(rel).name, len(order)), rel))
    found: dict[str, str] = {}
    position: dict[str, tuple[int, int]] = {}  # grade_id -> (notebook, cell): the order students meet them
    code.importer = SubmissionImporter({}, spec.packages).install()  # the shims, as in the grader
    available = importable_with(importable, [], spec.packages)
    part_cells = set(spec.cells)
    for rel in names:
        name = Path(rel).name
        setup, cells = notebook_cells(notebooks[rel], name)
        for i, src in enumerate(setup):
            label = f"<{name}:setup{i}>"
            code.labels.add(label)
            try:
                _exec(src, label, code.namespace)
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                code.problems.append(f"{name}: a setup cell failed ({type(exc).__name__}: {exc})")
        for grade_id, src in cells.items():
            if grade_id not in part_cells:
                continue
            label = f"<{name}:{grade_id}>"
            code.labels.add(label)
            found[grade_id] = name
            position[grade_id] = (names.index(rel), len(position))
            src, skipped = skip_unavailable_imports(src, available)
            code.notes.extend(s.note(f"cell {grade_id}") for s in skipped)
            try:
                _exec(src, label, code.namespace)
            except Exception as exc:  # noqa: BLE001
                code.problems.append(f"{name}: cell '{grade_id}' does not run ({_describe(exc, code)})")
            code.sources[grade_id] = src
    parts = [p for p in spec.parts if only is None or found.get(p.cell) == only]
    unplaced = (len(names), 0)
    code.parts = tuple(p.name for p in sorted(parts, key=lambda p: position.get(p.cell, unplaced)))


def _load_modules(files: dict[str, bytes], code: StudentCode, spec: Spec, where: str) -> None:
    """Import your modules the way the grader does: any folder layout, any import style."""
    found = read_modules(files, spec, importable)
    code.problems.extend(found.problems)
    code.notes.extend(found.notes)
    paths = {rel: os.path.join(where, rel) for rel in files}
    runnable = {home: paths[rel] for rel, home in found.homes.items() if rel not in found.unloadable}
    code.importer = SubmissionImporter(runnable, spec.packages,
                                       {found.homes[rel]: why for rel, why in found.unloadable.items()},
                                       {found.homes[rel]: found.texts[rel] for rel in found.homes}).install()
    for module in spec.modules:
        rel = found.chosen.get(module)
        if rel is None:
            if module not in found.not_graded:
                code.problems.append(f"{module}.py not found")
            continue
        if rel in found.unloadable:
            continue
        code.labels.add(paths[rel])
        try:
            loaded = code.importer.load(found.homes[rel])
        except SyntaxError as exc:
            code.problems.append(f"{module}.py: syntax error on line {exc.lineno}: {exc.msg}")
            continue
        except Exception as exc:  # noqa: BLE001
            code.problems.append(f"{module}.py does not import ({_describe(exc, code)})")
            continue
        code.modules.append(loaded)
        for name, value in vars(loaded).items():
            if not name.startswith("_") and not is_unavailable_stand_in(value):
                code.namespace.setdefault(name, value)
        code.sources[rel] = found.texts[rel]


def load_student_code(path: str | Path, spec: Spec) -> StudentCode:
    """Load the student's code from a notebook, a folder or a zip (see the module docstring).

    Raises
    ------
    CodeLoadError
        Nothing of the assignment can be read there; the message says why.
    """
    path = Path(path)
    if not path.exists():
        raise CodeLoadError(f"{path}: no such file or folder")
    only = None
    if path.is_file() and path.suffix == ".ipynb":  # one notebook, checked among its siblings
        only, path = path.name, path.parent
    try:
        files = collect_files(path)
    except SubmissionError as exc:
        raise CodeLoadError(str(exc)) from None
    code = StudentCode(namespace={"__name__": "student", **PYTHON2_BUILTINS}, parts=spec.part_names)
    notebooks = {rel: data for rel, data in files.items() if rel.endswith(".ipynb")}
    if notebooks:
        folders: dict[str, list[str]] = {}
        for rel in notebooks:
            folders.setdefault(os.path.dirname(rel), []).append(rel)
        # several folders: the one holding the assignment's notebooks
        best = max(folders, key=lambda d: (sum(Path(r).name in spec.notebooks for r in folders[d]), -len(d)))
        _load_notebooks({rel: notebooks[rel] for rel in folders[best]}, only, code, spec)
    elif any(rel.endswith(".py") for rel in files):
        _load_modules({rel: data for rel, data in files.items() if rel.endswith(".py")}, code, spec, str(path))
    else:
        raise CodeLoadError(f"{path}: no notebooks and no Python modules found")
    return code


# ----------------------------------------------------------------------------- running checks
class _Timeout(Exception):
    pass


class NotImplementedYet(Exception):
    """The student's function still raises NotImplementedError."""


@contextlib.contextmanager
def _time_limit(seconds: int):
    use_alarm = hasattr(signal, "SIGALRM") and _in_main_thread()
    if use_alarm:
        def handler(signum, frame):
            raise _Timeout()
        old = signal.signal(signal.SIGALRM, handler)
        signal.alarm(seconds)
    try:
        yield
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _describe(exc: BaseException, code: StudentCode) -> str:
    """``ValueError: ... (line 12 of your svm_loss_naive)`` without a traceback."""
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename in code.labels:
            label = frame.filename
            unit = code.unit_names.get(label) or (label.strip("<>").split(":")[-1] if label.startswith("<")
                                                  else Path(label).name)
            where = f" (line {frame.lineno} of your {unit})"
            break
    msg = str(exc).strip().split("\n")[0][:300]
    return f"{type(exc).__name__}{': ' + msg if msg else ''}{where}"


@dataclass
class CheckResult:
    """The outcome of one check of one part."""

    part: str
    name: str
    status: str  # "pass" | "fail" | "todo" (not implemented yet) | "missing" | "skip"
    message: str = ""


def run_checks(code: StudentCode, checks: ModuleType) -> list[CheckResult]:
    """Run every check of every part; student exceptions become messages.

    ``checks`` is the assignment's public checks module: ``checks_for(part, namespace, code)``
    yields (name, check) pairs and ``required(part)`` names what must be defined first.
    """
    results = []
    ns = code.namespace
    for part in code.parts:
        missing = [s for s in checks.required(part) if not callable(ns.get(s))]
        if missing:
            results.append(CheckResult(part, "defined", "missing", f"{missing[0]} is not defined"))
            continue
        for name, check in checks.checks_for(part, ns, code):
            try:
                with _time_limit(CALL_TIMEOUT), contextlib.redirect_stdout(io.StringIO()), \
                        warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    check()
            except CheckFailed as exc:
                status = "skip" if str(exc).startswith("skipped:") else "fail"
                results.append(CheckResult(part, name, status, str(exc).removeprefix("skipped: ")))
                continue
            except NotImplementedError:
                results.append(CheckResult(part, name, "todo", "not implemented yet"))
                break
            except _Timeout:
                results.append(CheckResult(part, name, "fail", f"took longer than {CALL_TIMEOUT} s (an endless loop?)"))
                continue
            except RecursionError:
                results.append(CheckResult(part, name, "fail", "RecursionError: your code calls itself endlessly"))
                continue
            except Exception as exc:  # noqa: BLE001 - any student error is a message
                results.append(CheckResult(part, name, "fail", f"raised {_describe(exc, code)}"))
                continue
            results.append(CheckResult(part, name, "pass"))
    return results


def part_status(results: list[CheckResult]) -> dict[str, str]:
    """One status per part: fail > missing > todo > pass (skips do not count)."""
    status: dict[str, str] = {}
    rank = {"pass": 0, "skip": 0, "todo": 1, "missing": 2, "fail": 3}
    for r in results:
        current = status.get(r.part, "pass")
        status[r.part] = r.status if rank[r.status] > rank[current] else current
    return status


_MARK = {"pass": "ok  ", "fail": "FAIL", "todo": "TODO", "missing": "MISS", "skip": "skip"}


def format_result(r: CheckResult) -> str:
    """One check's line: ``  FAIL  its name: the diagnosis``."""
    return (f"  {_MARK[r.status]}  {r.name}" + (f": {r.message}" if r.message and r.status != "todo" else "")
            + (" (not implemented yet)" if r.status == "todo" else ""))


def report(results: list[CheckResult], problems: list[str], out=None, notes: Iterable[str] = ()) -> int:
    """Print the results and the summary; return the exit code (0 only if every part passes)."""
    out = out or sys.stdout
    for p in problems:
        print(f"problem: {p}", file=out)
    for n in notes:
        print(f"note: {n}", file=out)
    current = None
    for r in results:
        if r.part != current:
            current = r.part
            print(f"\n{r.part}", file=out)
        print(format_result(r), file=out)
    status = part_status(results)
    counts = {s: [p for p, v in status.items() if v == s] for s in ("pass", "fail", "todo", "missing")}  # in order
    print(f"\nSummary: {len(counts['pass'])} of {len(status)} parts pass", file=out, end="")
    for s, label in (("fail", "failing"), ("todo", "not implemented yet"), ("missing", "missing")):
        if counts[s]:
            print(f"; {label}: {', '.join(counts[s])}", file=out, end="")
    print(".", file=out)
    ok = bool(status) and all(v == "pass" for v in status.values()) and not problems
    if ok:
        print("All public checks pass. (The grader also uses hidden, randomized inputs.)", file=out)
    return 0 if ok else 1


def shipped_assignment() -> str:
    """The one assignment a release ships (its ``linclass/assignments/<name>/``)."""
    import linclass.assignments

    found = sorted(p.parent.name for p in Path(linclass.assignments.__file__).parent.glob("*/checks.py"))
    if len(found) != 1:
        raise CodeLoadError(f"expected one assignment beside this self-check, found {len(found)}: name one")
    return found[0]


def load_checks(name_or_package: str | None = None) -> tuple[Spec, ModuleType]:
    """The spec and the public checks of an assignment: a built-in name, an importable package,
    or (None) the one a release ships."""
    name_or_package = name_or_package or shipped_assignment()
    package = name_or_package if "." in name_or_package else f"linclass.assignments.{name_or_package}"
    return importlib.import_module(f"{package}.spec").SPEC, importlib.import_module(f"{package}.checks")


def select_parts(code: StudentCode, spec: Spec, wanted: Iterable[str]) -> None:
    """Keep only the parts named in ``wanted`` (a part's name or its cell's grade_id), in
    ``code``'s order.

    Raises
    ------
    CodeLoadError
        A name is no part of the assignment (the message lists the parts).
    """
    wanted = list(wanted)
    if not wanted:
        return
    known = {p.name: {p.name} for p in spec.parts}
    for p in spec.parts:
        known.setdefault(p.cell, set()).add(p.name)
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise CodeLoadError(f"no part {unknown[0]!r}; the parts are: {', '.join(code.parts or spec.part_names)}")
    chosen = set().union(*(known[w] for w in wanted))
    code.parts = tuple(p for p in code.parts if p in chosen)


def check(path: str | Path, spec: Spec, checks: ModuleType, out=None, prog: str = "selfcheck",
          parts: Iterable[str] = ()) -> int:
    """Load, check and report; return the exit code (2 when the code could not be loaded or a
    part in ``parts`` does not exist)."""
    out = out or sys.stdout
    err = sys.stderr if out is sys.stdout else out
    try:
        code = load_student_code(path, spec)
    except CodeLoadError as exc:
        print(f"{prog}: {exc}", file=err)
        return 2
    try:
        try:
            select_parts(code, spec, parts)
        except CodeLoadError as exc:
            print(f"{prog}: {exc}", file=err)
            return 2
        print(f"Self-check of {path} (public checks only, no solutions involved)", file=out)
        return report(run_checks(code, checks), code.problems, out, code.notes)
    finally:
        code.close()


# ----------------------------------------------------------------------------- the command
def parse_args(argv: list[str]) -> tuple[str | None, list[str]]:
    """``[PATH] [--part NAME]...`` -> (PATH or None, the part names).

    Raises
    ------
    CodeLoadError
        For an unknown option, a ``--part`` without a name, or two paths.
    """
    path, parts = None, []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--part":
            if not args or args[0].startswith("-"):
                raise CodeLoadError("--part needs a part name (e.g. --part svm_loss_vectorized)")
            parts.append(args.pop(0))
        elif arg.startswith("--part="):
            parts.append(arg.split("=", 1)[1])
        elif arg.startswith("-"):
            raise CodeLoadError(f"unknown option {arg} (usage: python selfcheck.py [PATH] [--part NAME])")
        elif path is not None:
            raise CodeLoadError(f"one PATH only, got {path} and {arg}")
        else:
            path = arg
    return path, parts


def run_main(assignment: str | None = None, argv: list[str] | None = None, here: str | Path | None = None) -> int:
    """``python selfcheck.py [PATH] [--part NAME]`` in a release: check PATH (default: the
    release folder ``here``)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    try:
        path, parts = parse_args(argv)
        spec, checks = load_checks(assignment)
    except CodeLoadError as exc:
        print(f"selfcheck: {exc}", file=sys.stderr)
        return 2
    if in_ipython():
        print("(checking the notebooks as saved: save them first)")
    return check(path or here or Path.cwd(), spec, checks, parts=parts)


def in_ipython() -> bool:
    """Is this running inside IPython or a Jupyter kernel (``%run selfcheck.py``)?"""
    ipython = sys.modules.get("IPython")
    return ipython is not None and getattr(ipython, "get_ipython", lambda: None)() is not None


def script_main(here: str | Path) -> None:
    """The body of the shipped ``selfcheck.py``: run, then exit with the code, except under
    ``%run`` in IPython, where a ``SystemExit`` would only add noise under the report."""
    try:
        code = run_main(here=here)
    except BrokenPipeError:  # the reader went away (`python selfcheck.py | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141
    if not in_ipython():
        sys.exit(code)
