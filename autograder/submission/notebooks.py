"""The notebooks of a submission: solution cells by nbgrader ``grade_id``, tamper findings.

Edited locked or test cells are reported (``tamper``) and graded from the trusted source
notebooks; cells whose grade_id was renamed or lost are found by the functions they define.
Nothing here runs a cell.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from linclass.student.notebooks import Cell, NotebookError, compute_checksum, list_cells, parse_notebook, strip_magics
from linclass.student.runtime import importable_with
from linclass.student.sources import parsed, skip_unavailable_imports
from linclass.student.spec import Spec

from .types import Availability, CodeUnit, Submission

#: Modules a trusted import-only locked cell may import (e.g. ``from typing import Callable``).
SAFE_IMPORTS = {"numpy", "typing", "math", "random", "time", "collections", "itertools", "functools", "__future__"}
_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)

def read_trusted(source: Path) -> dict[str, Cell]:
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


def _setup_only(source: str) -> bool:
    """Only safe imports and constant assignments (``DELTA = 1.0``): a setup cell worth running."""
    try:
        tree = parsed(source)
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


def load_notebooks(notebooks: dict[str, bytes], trusted: dict[str, Cell], spec: Spec,
                   available: Availability | None = None) -> dict:
    """Units, problems and tamper findings of a set of notebooks (not yet adopted)."""
    part_cells = spec.cells
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
            if gid in part_cells and cell.solution:
                if cell.cell_type != "code":
                    problems.append(f"the solution cell {gid} of {rel} was turned into a {cell.cell_type} cell; its "
                                    "code was not run")
                    continue
                if ref is not None and ref.locked and ref.cell_type == "code":
                    units.append(CodeUnit(gid, ref.source, "cell", origin="source", notebook=rel))
                else:
                    units.append(_cell_unit(gid, cell.source, rel, notes, spec, available))
                found_cells[gid] = found_cells.get(gid, 0) + 1
                by_metadata = True
            elif gid in part_cells and ref is not None and ref.locked and ref.cell_type == "code":
                units.append(CodeUnit(gid, ref.source, "cell", origin="source", notebook=rel))
                found_cells[gid] = found_cells.get(gid, 0) + 1
            elif cell.solution and cell.cell_type == "code" and gid:
                units.append(_cell_unit(gid, cell.source, rel, notes, spec, available))  # a helper solution cell
    for gid, count in found_cells.items():
        if count > 1:
            problems.append(f"grade_id {gid} appears in {count} cells; they were run in order (the last definition "
                            "wins)")
    # Parts whose cell was not found by grade_id: look for a code cell that defines the name.
    for gid in part_cells:
        if gid in found_cells:
            continue
        for rel, cells in parsed:
            match = next((c for c in reversed(cells) if c.cell_type == "code" and gid in _defines(c.source)), None)
            if match is not None:
                units.append(_cell_unit(gid, match.source, rel, notes, spec, available))
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
    if all(u.origin == "source" and u.name not in part_cells for u in units):
        units = []  # nothing of the student's: no setup cells either
    units = _order(units, spec)
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


def _cell_unit(gid: str, source: str, notebook: str, notes: list[str], spec: Spec,
               available: Availability | None) -> CodeUnit:
    cleaned, removed = strip_magics(source)
    for line in removed:
        notes.append(f"cell {gid}: the IPython line {line[:60]!r} was skipped (not Python)")
    if available is not None:
        cleaned, skipped = skip_unavailable_imports(cleaned, importable_with(available, [], spec.packages))
        notes.extend(s.note(f"cell {gid}") for s in skipped)
    return CodeUnit(gid, cleaned, "cell", notebook=notebook)


def _order(units: list[CodeUnit], spec: Spec) -> list[CodeUnit]:
    """Setup cells first, then the parts in module order (base classes before subclasses)."""
    rank = {cell: i for i, cell in enumerate(p.cell for m in spec.modules for p in spec.parts if p.module == m)}

    def key(item: tuple[int, CodeUnit]) -> tuple[int, int]:
        i, unit = item
        if unit.origin == "source" and unit.name not in rank:
            return (0, i)
        return (1 + rank.get(unit.name, len(rank)), i)

    return [u for _, u in sorted(enumerate(units), key=key)]


def adopt_notebooks(sub: Submission, nb: dict) -> None:
    sub.kind = "notebook"
    sub.units = nb["units"]
    sub.problems.extend(nb["problems"])
    sub.tamper.extend(nb["tamper"])
    sub.notes.extend(nb["notes"])


