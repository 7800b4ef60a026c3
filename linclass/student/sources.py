"""Reading a student's module files and checking their text, before any of it runs.

- :func:`decode_module`, :func:`find_modules`, :func:`module_homes`: the files' text as Python
  reads it, which file is which module, and the dotted name each is loaded as.

- :func:`python2_problem`: old CS231n code is often Python 2 (``print x``); say so once, in
  plain words, instead of a SyntaxError in every check of the file.  :func:`run_as_python3`
  turns Python 2 print statements (often the course skeleton's own verbose line) into
  ``print()`` calls, so that the rest of such a file can be graded; :func:`python2_names`
  finds uses of Python 2 builtins (``xrange``) that the runtime provides.
- :func:`course_file`: a file the course itself provides (CS231n's ``gradient_check.py``) is not
  the student's work and is not graded as such.
- :func:`is_stub`, :func:`unwritten`: a function whose body is still the release's
  ``raise NotImplementedError()`` (the leak check wants every student function so; a later
  notebook falls back to a provided stand-in for one the student has not written yet).
- :func:`skip_unavailable_imports`: an editor's stray auto-import (``from sqlalchemy import
  true``) of a module that does not exist where the code runs must not sink the whole file.
  Such an import statement is replaced by ``pass`` (line numbers stay), and a note says so;
  code that then uses the name meets the usual ``NameError``.

Standard library only: used by the grader's trusted side and by the public self-check.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import io
import os
import re
import tokenize
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from .runtime import PYTHON2_BUILTINS


@functools.lru_cache(maxsize=64)
def parsed(source: str) -> ast.Module:
    """``ast.parse(source)``, once per text: the checks of one submission parse each of its units
    several times (Python 2, stray imports, loops, stubs).  The tree is shared, so it is only read.

    Raises what :func:`ast.parse` raises (a failure is not remembered).
    """
    return ast.parse(source)

_PY2_MESSAGES = (
    ("Missing parentheses in call to 'print'", "print statement"),
    ("Missing parentheses in call to 'exec'", "exec statement"),
    ("multiple exception types must be parenthesized", "except X, e"),
    ("leading zeros in decimal integer literals", "an octal literal like 0777"),
)
_PY2_LINES = (
    (re.compile(r"^\s*print\s+[^\s(=]"), "print statement"),
    (re.compile(r"^\s*raise\s+\w[\w.]*\s*,"), "raise E, message"),
    (re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:"), "except X, e"),
    (re.compile(r"<>"), "the <> operator"),
    (re.compile(r"`[^`]+`"), "backquotes"),
    (re.compile(r"\bur['\"]"), "a ur'' string"),
)


def python2_problem(name: str, source: str) -> str | None:
    """A one-line message if ``source`` does not compile because it is Python 2 code, else None.

    Parameters
    ----------
    name : str
        The file name shown to the student (``softmax.py``).
    source : str
        The file's text.
    """
    try:
        parsed(source)
        return None
    except SyntaxError as exc:
        message, line = str(exc.msg or ""), exc.lineno
        kind = next((what for text, what in _PY2_MESSAGES if text in message), None)
        if kind is None and isinstance(exc, TabError):
            kind = "tabs and spaces mixed in the indentation"
        if kind is None and line:
            text = source.splitlines()[line - 1] if line <= len(source.splitlines()) else ""
            kind = next((what for pattern, what in _PY2_LINES if pattern.search(text)), None)
    except (ValueError, RecursionError, MemoryError):
        return None
    if kind is None:
        return None
    return f"{name} is Python 2 code ({kind}, line {line}); the grader runs Python 3"


def _compiles(source: str) -> bool:
    try:
        parsed(source)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _print_call(tokens: list[tokenize.TokenInfo], source_lines: list[str]) -> str | None:
    """The ``print(...)`` call for one print statement's tokens (``print`` first), or None."""
    def text(a: tokenize.TokenInfo, b: tokenize.TokenInfo) -> str:
        if a.start[0] == b.end[0]:
            return source_lines[a.start[0] - 1][a.start[1]:b.end[1]]
        parts = [source_lines[a.start[0] - 1][a.start[1]:]]
        parts += source_lines[a.start[0]:b.end[0] - 1]
        parts.append(source_lines[b.end[0] - 1][:b.end[1]])
        return "".join(parts)

    rest = tokens[1:]
    if not rest:
        return "print()"
    if rest[0].type == tokenize.OP and rest[0].string in ("(", "=", ".", "[", ","):
        return None  # already a call, or not a statement
    target = None
    if rest[0].string == ">>":  # print >>stream, items
        comma = next((i for i, t in enumerate(rest) if t.string == "," and t.type == tokenize.OP), None)
        if comma is None:
            return None
        target = text(rest[1], rest[comma - 1])
        rest = rest[comma + 1:]
    end = ""
    if rest and rest[-1].type == tokenize.OP and rest[-1].string == ",":
        end, rest = ', end=" "', rest[:-1]
    items = text(rest[0], rest[-1]) if rest else ""
    extra = f", file={target}" if target else ""
    return f"print({items}{end}{extra})".replace("(, ", "(")


def run_as_python3(source: str) -> tuple[str, int] | None:
    """``source`` with its Python 2 print statements as ``print()`` calls, if that makes it compile.

    Returns the new text and the number of statements changed, or None when the file still
    does not compile (other Python 2 syntax) or has no print statement to change.
    """
    lines = source.splitlines(keepends=True)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    skip = (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)
    statements: list[list[tokenize.TokenInfo]] = []
    current: list[tokenize.TokenInfo] = []
    for token in tokens:
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or (token.type == tokenize.OP and token.string == ";"):
            if current:
                statements.append(current)
            current = []
        elif token.type not in skip:
            current.append(token)
    edits = []
    for statement in statements:
        if statement[0].type == tokenize.NAME and statement[0].string == "print":
            call = _print_call(statement, lines)
            if call is not None:
                edits.append((statement[0].start, statement[-1].end, call))
    if not edits:
        return None
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    text = source
    for (srow, scol), (erow, ecol), call in sorted(edits, reverse=True):
        text = text[: offsets[srow - 1] + scol] + call + text[offsets[erow - 1] + ecol:]
    return (text, len(edits)) if _compiles(text) else None


def python2_names(source: str) -> list[tuple[str, int]]:
    """Uses of :data:`PYTHON2_BUILTINS` that the module does not define itself: (name, first line)."""
    try:
        tree = parsed(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    defined: set[str] = set()
    loaded: dict[str, int] = {}
    for node in ast.walk(tree):  # one walk: what the module defines, and the builtins it reads
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                defined.add(node.id)
            elif node.id in PYTHON2_BUILTINS:
                loaded[node.id] = min(loaded.get(node.id, node.lineno), node.lineno)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update(a.asname or a.name for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
    used = {name: line for name, line in loaded.items() if name not in defined}
    return sorted(used.items(), key=lambda item: item[1])


def course_file(source: str, markers: Iterable[str]) -> str | None:
    """The first of ``markers`` found in ``source``, or None.

    A marker is a function name that only the course's own version of a file defines (found as
    a top-level ``def``), or a whole line that only it has (compared without extra spaces).
    """
    names = set(re.findall(r"^def\s+([A-Za-z_]\w*)", source, flags=re.M))
    lines = {" ".join(line.split()) for line in source.splitlines()}
    for marker in markers:
        if (marker.isidentifier() and marker in names) or (not marker.isidentifier() and marker in lines):
            return marker
    return None


@dataclass(frozen=True)
class SkippedImport:
    """An import statement left out because its module is not available."""

    line: int
    text: str
    module: str
    partial: bool = False  # only some names of ``import a, b`` were left out

    def note(self, name: str) -> str:
        """The report's line, e.g. ``linear_svm.py, line 5, `from x import y`: ...``."""
        if self.partial:
            return (f"{name}, line {self.line}, `{self.text}`: {self.module} is not available in the grader, so it "
                    "was left out of the line")
        return (f"{name}, line {self.line}, `{self.text}`: that module is not available in the grader, so the line "
                "was skipped")


def _guarded(tree: ast.Module) -> set[int]:
    """Ids of import nodes inside a ``try`` body: the student already handles their failure."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and node.handlers:
            for child in node.body:
                inside.update(id(n) for n in ast.walk(child) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return inside


def is_stub(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Is ``node``'s body (its docstring aside) a lone ``raise NotImplementedError``?"""
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc
    target = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(target, ast.Name) and target.id == "NotImplementedError"


def unwritten(source: str, name: str) -> bool:
    """Does ``source`` define the top-level function ``name`` as a stub (see :func:`is_stub`)?

    False when it does not parse or defines ``name`` otherwise (the last definition counts).
    """
    try:
        tree = parsed(source)
    except SyntaxError:
        return False
    found = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    return bool(found) and is_stub(found[-1])


def skip_unavailable_imports(source: str, available: Callable[[str], bool]) -> tuple[str, list[SkippedImport]]:
    """``source`` with the imports of unavailable modules replaced by ``pass``.

    An import counts when it is a statement of its own line (at module level or in a
    function body) and is not inside a ``try`` that handles its failure; of ``import a, b``
    only the unavailable names are left out.  Relative imports (``from .x import y``) are left
    to the importer.

    Parameters
    ----------
    source : str
        The module's or cell's text.
    available : callable
        ``available("package.module")`` is True when that module can be imported where the
        code runs.

    Returns
    -------
    source : str
        The text to run (unchanged when nothing was skipped).
    skipped : list of SkippedImport
        What was left out, in order.
    """
    if "import" not in source and source.isascii():  # (no import statement can be spelled without it)
        return source, []
    try:
        tree = parsed(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source, []
    guarded: set[int] | None = None  # (found only when some import is of an unavailable module)
    lines = source.splitlines(keepends=True)
    skipped: list[SkippedImport] = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level or not node.module or node.module == "__future__":
                continue
            keep: list[ast.alias] = [] if not available(node.module) else node.names
            missing = [node.module] if not keep else []
        else:
            keep = [alias for alias in node.names if available(alias.name)]
            missing = [alias.name for alias in node.names if not available(alias.name)]
        if not missing:
            continue
        if guarded is None:
            guarded = _guarded(tree)
        if id(node) in guarded:
            continue
        first, last = node.lineno, node.end_lineno or node.lineno
        text = "".join(lines[first - 1:last])
        # Only a statement that owns its lines: ``import a; x = 1`` is left alone.
        if text.strip() != ast.get_source_segment(source, node, padded=False):
            continue
        skipped.append(SkippedImport(first, " ".join(text.split()), missing[0], partial=bool(keep)))
        indent = lines[first - 1][: len(lines[first - 1]) - len(lines[first - 1].lstrip())]
        ending = "\n" if lines[last - 1].endswith("\n") else ""
        kept = ast.unparse(ast.Import(names=keep)) if keep else "pass"  # ``import tensorflow as tf, numpy``
        lines[first - 1] = f"{indent}{kept}{ending}"
        for i in range(first, last):
            lines[i] = "\n"
    skipped.sort(key=lambda s: s.line)
    return ("".join(lines) if skipped else source), skipped


def decode_module(data: bytes) -> tuple[str, bool]:
    """A module file's text as Python reads it (BOM, ``coding:`` line, Windows line endings).

    Returns the text and whether it decoded cleanly.
    """
    try:
        return importlib.util.decode_source(data), True
    except (UnicodeDecodeError, SyntaxError, LookupError):
        text = data.decode("utf-8", errors="replace")
        return text.replace("\r\n", "\n").replace("\r", "\n"), False


def find_modules(paths: Iterable[str], modules: Iterable[str]) -> dict[str, str]:
    """Module name -> the relative path of the file chosen for it (the shallowest of its name)."""
    paths = list(paths)
    chosen: dict[str, str] = {}
    for module in modules:
        candidates = sorted((rel for rel in paths if rel.rsplit("/", 1)[-1] == module + ".py"),
                            key=lambda r: (r.count("/"), r))
        if candidates:
            chosen[module] = candidates[0]
    return chosen


def module_homes(rels: Iterable[str], chosen: Mapping[str, str], homes_of: Mapping[str, str],
                 default_package: str) -> dict[str, str]:
    """The dotted name each module file is loaded as.

    An assignment module is loaded as its home (``homes_of[module]``, e.g.
    ``cs231n.classifiers.linear_svm``) wherever it sits in the submission; another file
    (``data_utils.py``, ...) as a sibling in the package of an assignment module of the same
    folder, else in ``default_package``.  Files whose name is not an identifier, or that
    repeat an assignment module's name, are left out.

    Parameters
    ----------
    rels : iterable of str
        Relative paths of the submission's ``.py`` files.
    chosen : mapping
        Module name -> relative path, from :func:`find_modules`.
    homes_of : mapping
        Module name -> its dotted home name.
    default_package : str
        The package of files with no assignment module beside them ("": the top level).
    """
    homes = {rel: homes_of[module] for module, rel in chosen.items()}
    package_of_dir = {os.path.dirname(rel): home.rpartition(".")[0] for rel, home in homes.items()}
    taken = {home.rpartition(".")[2] for home in homes.values()}
    for rel in sorted(rels, key=lambda r: (r.count("/"), r)):
        leaf = rel.rsplit("/", 1)[-1][:-3]
        if rel in homes or not leaf.isidentifier() or leaf in taken or leaf == "__init__":
            continue
        taken.add(leaf)
        package = package_of_dir.get(os.path.dirname(rel), default_package)
        homes[rel] = f"{package}.{leaf}" if package else leaf
    return homes
