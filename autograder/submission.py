"""Turn a submitted PATH into a :class:`Submission`, without executing anything.

PATH may be a notebook, a directory of notebooks, a directory of CS231n-style modules
(``linear_svm.py``, ``softmax.py``, ``gradient_check.py``, ``linear_classifier.py``,
``tuning.py``; at the top or nested, e.g. ``cs231n/classifiers/linear_svm.py``), a single
``.py`` module, or a ``.zip`` of any of these.  Everything is read into memory: the
submission's files are never imported here.

Whatever is wrong with the input becomes a one-line entry of ``problems`` (invalid JSON,
an old notebook format, missing nbgrader metadata, duplicated or renamed grade_ids, a
deleted solution cell, a solution cell turned into markdown, an unsafe zip, ...); edited
locked/test cells become entries of ``tamper`` and are graded from the trusted source
notebook (``assignments/source/<assignment>/``) when it is available.
"""

from __future__ import annotations

import ast
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from linclass.assignment import ALIAS_PACKAGES, COURSE_FILES, DEFAULT_ASSIGNMENT, MODULE_HOMES, MODULES, PARTS
from linclass.notebooks import Cell, NotebookError, compute_checksum, list_cells, parse_notebook
from linclass.student.modules import read_modules
from linclass.student.runtime import importable_with
from linclass.student.sources import find_modules, skip_unavailable_imports

#: Caps on what is read from a submission (a zip is refused when it exceeds them).
MAX_FILES = 2000
MAX_TOTAL_BYTES = 200 << 20
MAX_PY_BYTES = 2 << 20
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git", "node_modules", "datasets"}
PART_CELLS = tuple(dict.fromkeys(p.cell for p in PARTS))
#: Modules a trusted import-only locked cell may import (e.g. ``from typing import Callable``).
SAFE_IMPORTS = {"numpy", "typing", "math", "random", "time", "collections", "itertools", "functools", "__future__"}
_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)
_MAGIC = re.compile(r"^(\s*)([%!].*)$")
_CELL_MAGICS_OK = {"time", "timeit", "capture"}


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
    modules: dict[str, str] = field(default_factory=dict)  # CS231n module -> relative path of its unit
    problems: list[str] = field(default_factory=list)
    tamper: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    homes: dict[str, str] = field(default_factory=dict)  # module unit -> the dotted name it is loaded as
    unloadable: dict[str, str] = field(default_factory=dict)  # module unit -> why it cannot run (Python 2)
    not_graded: dict[str, str] = field(default_factory=dict)  # assignment module -> why (the course's own file)


#: ``available(dotted_name)``: can that module be imported where the student's code runs?
Availability = Callable[[str], bool]


class SubmissionError(ValueError):
    """The input cannot be read at all (the message is one line)."""


# --------------------------------------------------------------------------- entry point


def default_source_dir(assignment: str = DEFAULT_ASSIGNMENT) -> Path | None:
    """The trusted source notebooks of ``assignment`` in this checkout, if present."""
    here = Path(__file__).resolve().parent.parent / "assignments" / "source" / assignment
    return here if here.is_dir() else None


def load_submission(path: str | Path, student_id: str | None = None, source_dir: str | Path | None = None,
                    assignment: str = DEFAULT_ASSIGNMENT, available: Availability | None = None) -> Submission:
    """Load ``path`` (notebook, directory, module or zip) into a :class:`Submission`.

    Never raises for a bad submission: problems are reported in ``Submission.problems``.

    Parameters
    ----------
    available : callable, optional
        ``available("package.module")`` says whether a module can be imported where the code
        will run; import statements of unavailable modules are then skipped, with a note.
        None keeps every import as it is.
    """
    path = Path(path)
    sub = Submission(student_id or guess_student_id(path, assignment), path, "empty")
    try:
        files = collect_files(path)
    except SubmissionError as exc:
        sub.problems.append(str(exc))
        return sub
    source = Path(source_dir) if source_dir else default_source_dir(assignment)
    trusted = _read_trusted(source) if source else {}
    notebooks = {rel: data for rel, data in files.items() if rel.endswith(".ipynb")}
    pys = {rel: data for rel, data in files.items() if rel.endswith(".py")}
    nb_sub = _load_notebooks(sub, notebooks, trusted, available) if notebooks else None
    modules = find_modules(pys, MODULES)
    if nb_sub is not None and nb_sub["by_metadata"]:
        if modules:
            sub.notes.append("both notebooks and .py modules were found; the notebooks were graded")
        _adopt_notebook(sub, nb_sub)
    elif modules:
        _load_modules(sub, pys, modules, available)
        if nb_sub is not None and nb_sub["units"]:
            sub.notes.append("both notebooks and .py modules were found; the modules were graded")
    elif nb_sub is not None and nb_sub["units"]:
        _adopt_notebook(sub, nb_sub)
    else:
        if nb_sub is not None:
            sub.problems.extend(nb_sub["problems"])
        if not files:
            sub.problems.append(f"no notebook (.ipynb) or Python module (.py) was found in {path.name}")
        else:
            sub.problems.append("none of the assignment's functions was found (expected solution cells with "
                                f"nbgrader grade_ids, or modules named {', '.join(m + '.py' for m in MODULES)})")
    return sub


def guess_student_id(path: Path, assignment: str = DEFAULT_ASSIGNMENT) -> str:
    """The student id from the path: nbgrader's ``submitted/<student>/<assignment>/`` or the stem."""
    path = Path(os.path.abspath(path))
    parts = path.parts
    if "submitted" in parts[:-1]:
        i = len(parts) - 1 - parts[::-1].index("submitted")
        if i + 1 < len(parts):
            return parts[i + 1]
    if path.is_dir() and path.name == assignment and path.parent.name:
        return path.parent.name
    name = path.name
    for suffix in (".zip", ".ipynb", ".py"):
        if name.endswith(suffix):
            return name[: -len(suffix)] or name
    return name or "student"


# --------------------------------------------------------------------------- reading files


def _wanted(rel: str) -> bool:
    parts = rel.split("/")
    if any(p in SKIP_DIRS or (p.startswith(".") and p not in (".", "..")) for p in parts[:-1]):
        return False
    return parts[-1].endswith((".ipynb", ".py")) and not parts[-1].startswith(".")


def collect_files(path: Path) -> dict[str, bytes]:
    """The .ipynb and .py files of ``path`` by relative path (a zip is read safely in memory)."""
    if not path.exists():
        raise SubmissionError(f"{path} does not exist")
    if path.is_dir():
        return _collect_dir(path)
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        return _collect_zip(path)
    if path.suffix in (".ipynb", ".py"):
        size = path.stat().st_size
        if size > MAX_TOTAL_BYTES:
            raise SubmissionError(f"{path.name} is too large ({size >> 20} MB)")
        return {path.name: path.read_bytes()}
    raise SubmissionError(f"{path.name} is not a notebook, a Python module, a directory or a zip")


def _collect_dir(root: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if not _wanted(rel) or full.is_symlink() or not full.is_file():
                continue
            size = full.stat().st_size
            total += size
            if len(files) >= MAX_FILES or total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{root.name} holds too many or too large files (limits: {MAX_FILES} files, "
                                      f"{MAX_TOTAL_BYTES >> 20} MB of notebooks and modules)")
            files[rel] = full.read_bytes()
    return files


def _collect_zip(path: Path) -> dict[str, bytes]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{path.name} is not a readable zip file ({exc})") from None
    files: dict[str, bytes] = {}
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES:
            raise SubmissionError(f"{path.name} has {len(infos)} entries (at most {MAX_FILES} allowed)")
        declared = 0
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p]
            if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                raise SubmissionError(f"{path.name} was refused: its entry {info.filename!r} points outside the "
                                      "archive (path traversal)")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise SubmissionError(f"{path.name} was refused: its entry {info.filename!r} is a symbolic link")
            declared += info.file_size
            if declared > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{path.name} was refused: it expands to more than {MAX_TOTAL_BYTES >> 20} MB "
                                      "(a zip bomb?)")
        total = 0
        for info in infos:
            rel = "/".join(p for p in info.filename.replace("\\", "/").split("/") if p)
            if info.is_dir() or not _wanted(rel):
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_TOTAL_BYTES - total + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
                raise SubmissionError(f"{path.name}: cannot extract {info.filename!r} ({exc})") from None
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{path.name} was refused: it expands to more than {MAX_TOTAL_BYTES >> 20} MB "
                                      "(a zip bomb?)")
            files[rel] = data
    return files


# --------------------------------------------------------------------------- notebooks


def _read_trusted(source: Path) -> dict[str, Cell]:
    """The trusted source notebooks' cells by grade_id (empty when unreadable).

    Each cell's ``nbgrader`` dict also gets ``"_notebook"``: the file name it came from.
    """
    cells: dict[str, Cell] = {}
    for nb_path in sorted(source.glob("*.ipynb")):
        try:
            nb = parse_notebook(nb_path.read_bytes(), nb_path.name)
        except (NotebookError, OSError):
            continue
        for cell in list_cells(nb):
            if cell.grade_id:
                cell.nbgrader = {**cell.nbgrader, "_notebook": nb_path.name}
                cells.setdefault(cell.grade_id, cell)
    return cells


def _defines(source: str) -> set[str]:
    """Top-level function and class names defined by a cell (regex fallback for broken code)."""
    try:
        tree = ast.parse(strip_magics(source)[0])
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set(re.findall(r"^(?:def|class)\s+([A-Za-z_]\w*)", source, flags=re.M))
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))}


def strip_magics(source: str) -> tuple[str, list[str]]:
    """Source with IPython magics and shell lines replaced by ``pass``; and what was removed."""
    removed: list[str] = []
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].strip()[2:].split()[0] if lines[0].strip()[2:] else ""
        removed.append(lines[0].strip())
        if magic not in _CELL_MAGICS_OK:
            return "", removed
        lines = lines[1:]
    out = []
    for line in lines:
        m = _MAGIC.match(line)
        if m:
            removed.append(m.group(2).strip())
            out.append(m.group(1) + "pass")
        else:
            out.append(line)
    return "\n".join(out) + ("\n" if source.endswith("\n") else ""), removed


def _setup_only(source: str) -> bool:
    """Only safe imports and constant assignments (``DELTA = 1.0``): a setup cell worth running."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            value = node.value
            if value is None or not all(isinstance(n, (ast.Constant, ast.UnaryOp, ast.BinOp, ast.Tuple, ast.operator,
                                                       ast.unaryop, ast.Load)) for n in ast.walk(value)):
                return False
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            return False
        if any(n.split(".")[0] not in SAFE_IMPORTS for n in names):
            return False
    return bool(tree.body)


def _load_notebooks(sub: Submission, notebooks: dict[str, bytes], trusted: dict[str, Cell],
                    available: Availability | None = None) -> dict:
    """Units, problems and tamper findings of a set of notebooks (not yet adopted)."""
    problems: list[str] = []
    tamper: list[str] = []
    notes: list[str] = []
    units: list[CodeUnit] = []
    found_cells: dict[str, int] = {}
    by_metadata = False
    parsed: list[tuple[str, list[Cell]]] = []
    for rel, data in sorted(notebooks.items()):
        try:
            nb = parse_notebook(data, rel)
        except NotebookError as exc:
            problems.append(str(exc))
            continue
        if nb.get("converted_from") == 3:
            problems.append(f"{rel} uses the old notebook format 3 (no nbgrader metadata); its cells were read by "
                            "the functions they define")
        parsed.append((rel, list_cells(nb)))
    # Trusted setup cells first (imports such as typing.Callable, constants such as DELTA).
    seen_sources: set[str] = set()
    for gid, cell in trusted.items():
        if cell.cell_type == "code" and cell.locked and not cell.grade and _setup_only(cell.source):
            if cell.source not in seen_sources:
                seen_sources.add(cell.source)
                units.append(CodeUnit(gid, cell.source, "cell", origin="source"))
    for rel, cells in parsed:
        has_meta = any(c.nbgrader for c in cells)
        if not has_meta:
            problems.append(f"{rel} has no nbgrader metadata; its functions were found by their definitions")
        for cell in cells:
            gid = cell.grade_id
            ref = trusted.get(gid) if gid else None
            if cell.nbgrader and gid and _edited(cell, ref):
                tamper.append(f"cell {gid} of {rel} was edited; graded from the original")
            if gid in PART_CELLS and cell.solution:
                if cell.cell_type != "code":
                    problems.append(f"the solution cell {gid} of {rel} was turned into a {cell.cell_type} cell; its "
                                    "code was not run")
                    continue
                if ref is not None and ref.locked and ref.cell_type == "code":
                    units.append(CodeUnit(gid, ref.source, "cell", origin="source", notebook=rel))
                else:
                    units.append(_cell_unit(gid, cell.source, rel, notes, available))
                found_cells[gid] = found_cells.get(gid, 0) + 1
                by_metadata = True
            elif gid in PART_CELLS and ref is not None and ref.locked and ref.cell_type == "code":
                units.append(CodeUnit(gid, ref.source, "cell", origin="source", notebook=rel))
                found_cells[gid] = found_cells.get(gid, 0) + 1
            elif cell.solution and cell.cell_type == "code" and gid:
                units.append(_cell_unit(gid, cell.source, rel, notes, available))  # a helper solution cell
    for gid, count in found_cells.items():
        if count > 1:
            problems.append(f"grade_id {gid} appears in {count} cells; they were run in order (the last definition "
                            "wins)")
    # Parts whose cell was not found by grade_id: look for a code cell that defines the name.
    for gid in PART_CELLS:
        if gid in found_cells:
            continue
        for rel, cells in parsed:
            match = next((c for c in reversed(cells) if c.cell_type == "code" and gid in _defines(c.source)), None)
            if match is not None:
                units.append(_cell_unit(gid, match.source, rel, notes, available))
                found_cells[gid] = 1
                label = f"cell {match.grade_id}" if match.grade_id else f"cell {match.index + 1}"
                if parsed and any(c.nbgrader for c in cells):
                    problems.append(f"no solution cell with grade_id {gid} in {rel}; {label} defines {gid} and was "
                                    "used (was the grade_id renamed?)")
                break
        else:
            home = trusted[gid].nbgrader.get("_notebook") if gid in trusted else None
            if home is not None and any(Path(rel).name == home for rel, _ in parsed):
                problems.append(f"no cell of {home} defines {gid} (was its solution cell deleted?)")
    if all(u.origin == "source" and u.name not in PART_CELLS for u in units):
        units = []  # nothing of the student's: no setup cells either
    units = _order(units)
    return {"units": units, "problems": problems, "tamper": tamper, "notes": notes, "by_metadata": by_metadata}


def _normalized(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _edited(cell: Cell, ref: Cell | None) -> bool:
    """Was a locked or test cell changed?  Compared with the trusted source (hidden tests removed),
    or, without a source, with the nbgrader checksum stored in the cell."""
    if ref is not None:
        if not ref.locked:
            return False
        return _normalized(cell.source) not in (_normalized(ref.source), _normalized(_HIDDEN.sub("", ref.source)))
    return cell.locked and cell.checksum is not None and compute_checksum(cell) != cell.checksum


def _cell_unit(gid: str, source: str, notebook: str, notes: list[str], available: Availability | None) -> CodeUnit:
    cleaned, removed = strip_magics(source)
    for line in removed:
        notes.append(f"cell {gid}: the IPython line {line[:60]!r} was skipped (not Python)")
    if available is not None:
        cleaned, skipped = skip_unavailable_imports(cleaned, importable_with(available, [], ALIAS_PACKAGES))
        notes.extend(s.note(f"cell {gid}") for s in skipped)
    return CodeUnit(gid, cleaned, "cell", notebook=notebook)


def _order(units: list[CodeUnit]) -> list[CodeUnit]:
    """Setup cells first, then the parts in module order (base classes before subclasses)."""
    rank = {cell: i for i, cell in enumerate(p.cell for m in MODULES for p in PARTS if p.module == m)}

    def key(item: tuple[int, CodeUnit]) -> tuple[int, int]:
        i, unit = item
        if unit.origin == "source" and unit.name not in rank:
            return (0, i)
        return (1 + rank.get(unit.name, len(rank)), i)

    return [u for _, u in sorted(enumerate(units), key=key)]


def _adopt_notebook(sub: Submission, nb: dict) -> None:
    sub.kind = "notebook"
    sub.units = nb["units"]
    sub.problems.extend(nb["problems"])
    sub.tamper.extend(nb["tamper"])
    sub.notes.extend(nb["notes"])


# --------------------------------------------------------------------------- modules


def _root_of(rel: str) -> str:
    parts = rel.split("/")[:-1]
    if "cs231n" in parts:
        return "/".join(parts[: parts.index("cs231n")])
    return "/".join(parts)


def _load_modules(sub: Submission, pys: dict[str, bytes], chosen: dict[str, str],
                  available: Availability | None = None) -> None:
    sub.kind = "modules"
    roots = [_root_of(rel) for rel in chosen.values()]
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
    found = read_modules(files, MODULES, MODULE_HOMES, ALIAS_PACKAGES, available, COURSE_FILES)
    sub.modules, sub.homes, sub.unloadable, sub.not_graded = found.chosen, found.homes, found.unloadable, \
        found.not_graded
    sub.problems.extend(found.problems)
    sub.notes.extend(found.notes)
    sub.units.extend(CodeUnit(rel, text, "module") for rel, text in found.texts.items())
    missing = [m + ".py" for m in MODULES if m not in found.chosen and m not in found.not_graded]
    if missing:
        sub.notes.append(f"not in the submission: {', '.join(missing)}")
