"""Reading notebooks robustly: cells with their nbgrader metadata, solution cells by grade_id.

Used by the grader (loading submissions), the public self-check and the release (checking
what it builds).  Only reading: nothing here executes a notebook.  Outputs are dropped on
reading, so a notebook with huge outputs costs nothing beyond parsing its JSON.  Standard
library only.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from linclass.errors import LinclassError


class NotebookError(LinclassError):
    """A notebook that cannot be read; the message says why in one line."""


@dataclass
class Cell:
    """One cell and its nbgrader metadata (empty when it has none)."""

    index: int
    cell_type: str
    source: str
    nbgrader: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    @property
    def grade_id(self) -> str | None:
        gid = self.nbgrader.get("grade_id")
        return gid if isinstance(gid, str) else None

    @property
    def solution(self) -> bool:
        return bool(self.nbgrader.get("solution", False))

    @property
    def grade(self) -> bool:
        return bool(self.nbgrader.get("grade", False))

    @property
    def locked(self) -> bool:
        """nbgrader's ``is_locked``: test cells are locked, solution cells never."""
        if not self.nbgrader or self.solution:
            return False
        return self.grade or bool(self.nbgrader.get("locked", False))

    @property
    def checksum(self) -> str | None:
        value = self.nbgrader.get("checksum")
        return value if isinstance(value, str) else None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return ""


def parse_notebook(data: bytes, name: str = "notebook") -> dict:
    """The notebook JSON as a dict (format 4; format 3 is converted), outputs dropped.

    Raises
    ------
    NotebookError
        For an empty file, binary data, invalid JSON or something that is not a notebook.
    """
    if not data.strip():
        raise NotebookError(f"{name} is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not a notebook (it is not UTF-8 text)") from None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
                            "it may have been truncated or edited by hand") from None
    except RecursionError:
        raise NotebookError(f"{name} is not a notebook (its JSON is nested too deeply)") from None
    if not isinstance(nb, dict):
        raise NotebookError(f"{name} is not a notebook (its JSON is not an object)")
    major = nb.get("nbformat")
    if major == 3 or (major is None and "worksheets" in nb):
        nb = _from_v3(nb)
    elif not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{name} is not a notebook (no list of cells)")
    for cell in nb["cells"]:
        if isinstance(cell, dict):
            cell.pop("outputs", None)
    return nb


def _from_v3(nb: dict) -> dict:
    """The cells of an nbformat 3 notebook in format-4 shape (v3 has no nbgrader metadata of ours)."""
    cells = []
    for sheet in nb.get("worksheets") or []:
        for cell in (sheet.get("cells") or []) if isinstance(sheet, dict) else []:
            if not isinstance(cell, dict):
                continue
            kind = cell.get("cell_type")
            source = cell.get("input") if kind == "code" else cell.get("source")
            cells.append({"cell_type": "markdown" if kind == "heading" else kind, "source": _text(source),
                          "metadata": cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}})
    return {"nbformat": 4, "nbformat_minor": 0, "metadata": {}, "cells": cells, "converted_from": 3}


def list_cells(nb: dict) -> list[Cell]:
    """Every well-formed cell of ``nb`` with its nbgrader metadata."""
    cells = []
    for index, raw in enumerate(nb.get("cells") or []):
        if not isinstance(raw, dict):
            continue
        meta = raw.get("metadata")
        nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
        kind = raw.get("cell_type")
        tags = meta.get("tags") if isinstance(meta, dict) else None
        cells.append(Cell(index, kind if isinstance(kind, str) else "unknown", _text(raw.get("source")),
                          nbg if isinstance(nbg, dict) else {},
                          tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()))
    return cells


def solution_cells(nb: dict) -> dict[str, Cell]:
    """Solution cells by grade_id (the last one wins when a grade_id repeats)."""
    return {c.grade_id: c for c in list_cells(nb) if c.solution and c.grade_id}


def compute_checksum(cell: Cell) -> str:
    """nbgrader's cell checksum (``nbgrader.utils.compute_checksum``), without importing nbgrader.

    md5 over the source, the cell type, is_grade, is_solution, is_locked, the grade_id and,
    for grade cells, the points as a float; a test checks it against nbgrader's own.
    """
    m = hashlib.md5()
    for part in (cell.source, cell.cell_type, str(cell.grade), str(cell.solution), str(cell.locked),
                 str(cell.nbgrader.get("grade_id"))):
        m.update(part.encode("utf-8"))
    if cell.grade:
        m.update(str(float(cell.nbgrader.get("points", 0))).encode("utf-8"))
    return m.hexdigest()


_MAGIC = re.compile(r"^(\s*)([%!].*)$")
#: Cell magics whose body is still Python (the cell is kept without its first line).
_CELL_MAGICS_OK = {"time", "timeit", "capture"}


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
