"""Verify a student release: nothing of the solutions, the hidden tests or the model answers leaks.

Checks (each finding names the file and what leaked):

* nbgrader markers (solution, hidden-test and mark-scheme delimiters) anywhere in any file;
* the **reference function bodies** (the assignment's reference folder): any code line of the release that,
  normalized (comments and whitespace removed), equals a line of a reference body, and any
  function whose AST (docstring aside) equals a reference function;
* lines of the source notebooks' hidden tests, and the text of the manually graded model answers;
* files that must never ship: copies of the reference or of the assignment's grading side (its
  suite, harness requests, catalog of bugs), ``.ipynb_checkpoints``, ``__pycache__``,
  gradebooks, symlinks;
* every student function (a function whose body is a solution region in the source) must be
  a stub that raises ``NotImplementedError``, and every solution cell must be present;
* release notebooks carry no outputs.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from linclass.assignment import Assignment
from linclass.student.sources import is_stub

BEGIN, END = "BEGIN " + "SOLUTION", "END " + "SOLUTION"
MARKERS = (BEGIN, END, "BEGIN " + "HIDDEN TESTS", "END " + "HIDDEN TESTS",
           "BEGIN " + "MARK SCHEME", "END " + "MARK SCHEME")
FORBIDDEN_PARTS = (".ipynb_checkpoints", "__pycache__", "solutions", ".git")
FORBIDDEN_SUFFIXES = (".pyc", ".db", ".sqlite")
MIN_LINE = 12  # normalized characters: shorter lines ("loss = 0.0") are too generic to mean a leak
TEXT_SUFFIXES = (".py", ".ipynb", ".md", ".txt", ".cfg", ".toml", ".json", ".yml", ".yaml", ".sh", ".html")


@dataclass(frozen=True)
class Finding:
    """One leak or defect of the release."""

    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


# ----------------------------------------------------------------------------- normalizing
_COMMENT = re.compile(r"""^((?:[^#'"]|'[^']*'|"[^"]*")*)#.*$""")


def normalize_line(line: str) -> str:
    """A code line without its comment and without any whitespace."""
    m = _COMMENT.match(line)
    if m:
        line = m.group(1)
    return re.sub(r"\s+", "", line)


def _strip_docstring(node: ast.AST) -> ast.AST:
    node = ast.parse(ast.unparse(node)).body[0]  # a copy
    for sub in ast.walk(node):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub.body and \
                isinstance(sub.body[0], ast.Expr) and isinstance(getattr(sub.body[0], "value", None), ast.Constant) \
                and isinstance(sub.body[0].value.value, str):
            sub.body = sub.body[1:] or [ast.Pass()]
    return node


def function_fingerprint(node: ast.FunctionDef) -> str:
    """The AST dump of a function without docstrings (what "the same code" means here)."""
    return ast.dump(_strip_docstring(node), include_attributes=False)


def _functions(tree: ast.AST) -> Iterator[tuple[str, ast.FunctionDef]]:
    """(qualified name, node) of every function and method."""
    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield prefix + child.name, child
                yield from walk(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, prefix + child.name + ".")
    yield from walk(tree, "")


def _body_lines(source: str, node: ast.FunctionDef) -> list[str]:
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    if not body:
        return []
    lines = source.split("\n")[body[0].lineno - 1:body[-1].end_lineno]
    return [n for n in (normalize_line(x) for x in lines) if len(n) >= MIN_LINE]


# ------------------------------------------------------------------------------- reference
@dataclass
class Reference:
    """What must not leak: reference lines and function fingerprints, hidden-test lines, model answers."""

    lines: dict[str, str]  # normalized line -> where it comes from
    fingerprints: dict[str, str]  # AST fingerprint -> qualified name
    private_files: dict[bytes, str]  # content of a file that must not ship -> where it is
    hidden_lines: dict[str, str]
    answers: dict[str, str]  # normalized answer text chunk -> grade_id
    stubbed: dict[str, set[str]]  # notebook -> {"grade_id:qualname"} that must raise NotImplementedError
    solution_cells: dict[str, set[str]]  # notebook -> grade_ids of solution cells


def _code_cells(nb_path: Path) -> list[dict]:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return nb.get("cells", [])


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _parse(source: str) -> ast.AST | None:
    lines = [line if not line.lstrip().startswith(("%", "!")) else "" for line in source.split("\n")]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _visible_lines(source: str) -> set[str]:
    """Normalized lines of a cell outside its solution and hidden-test regions."""
    out, hidden = set(), False
    for line in source.split("\n"):
        if BEGIN in line or MARKERS[2] in line:
            hidden = True
        elif END in line or MARKERS[3] in line:
            hidden = False
        elif not hidden:
            out.add(normalize_line(line))
    return out


def private_files(assignment: Assignment) -> list[Path]:
    """The assignment's files that only the grader may see: its reference and its grading side
    (everything in its package that no release ships; its source notebooks are checked by content)."""
    from .notebook_builder import support_files

    public = {p.resolve() for p in support_files(assignment).values()}
    public |= {p.resolve() for target in public if target.is_dir() for p in target.rglob("*")}
    skip = (assignment.source_dir, assignment.root / "build")
    found = sorted(assignment.reference_dir.rglob("*.py"))
    found += [p for p in sorted(assignment.root.rglob("*")) if p.is_file() and p.suffix in TEXT_SUFFIXES
              and "__pycache__" not in p.parts and not any(p.is_relative_to(d) for d in skip)
              and p.resolve() not in public]
    return found


def load_reference(assignment: Assignment, source_dir: Path | None = None) -> Reference:
    """Collect everything that must not appear in a release of ``assignment`` built from
    ``source_dir`` (default: the assignment's source notebooks)."""
    ref = Reference({}, {}, {}, {}, {}, {}, {})
    for path in private_files(assignment):
        if data := path.read_bytes().strip():
            ref.private_files.setdefault(data, _where(path, assignment))
    for path in sorted(assignment.reference_dir.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = f"{assignment.reference_dir.name}/{path.relative_to(assignment.reference_dir).as_posix()}"
        for qualname, node in _functions(ast.parse(text)):
            for line in _body_lines(text, node):
                ref.lines.setdefault(line, f"{where}:{qualname}")
            if len(node.body) > 1 or ast.get_docstring(node) is None:
                ref.fingerprints[function_fingerprint(node)] = f"{where}:{qualname}"
    source_dir = assignment.source_dir if source_dir is None else source_dir
    for nb_path in sorted(source_dir.glob("*.ipynb")):
        stubbed, cells = set(), set()
        for cell in _code_cells(nb_path):
            meta, src = _meta(cell), _src(cell)
            if meta.get("solution") and cell.get("cell_type") == "markdown":
                for chunk in re.split(r"(?<=[.!?])\s+", src):
                    norm = re.sub(r"\s+", " ", chunk).strip()
                    if len(norm) >= 30:
                        ref.answers[norm] = meta.get("grade_id", "?")
            if cell.get("cell_type") != "code":
                continue
            if meta.get("solution"):
                cells.add(meta.get("grade_id"))
                tree = _parse(src)
                marked = [i + 1 for i, line in enumerate(src.split("\n")) if BEGIN in line]
                for qualname, node in _functions(tree) if tree else ():
                    if any(node.lineno <= m <= node.end_lineno for m in marked) and not any(
                            isinstance(c, ast.FunctionDef) and c.lineno <= m <= c.end_lineno
                            for c in ast.walk(node) if c is not node for m in marked):
                        stubbed.add(f"{meta.get('grade_id')}:{qualname}")
            if meta.get("grade"):
                inside = False
                for line in src.split("\n"):
                    if MARKERS[2] in line:
                        inside = True
                    elif MARKERS[3] in line:
                        inside = False
                    elif inside:
                        n = normalize_line(line)
                        if len(n) >= MIN_LINE:
                            ref.hidden_lines.setdefault(n, f"{nb_path.name}:{meta.get('grade_id')}")
        ref.stubbed[nb_path.name] = stubbed
        ref.solution_cells[nb_path.name] = cells
    # A line that the source also shows outside hidden tests and solutions is public anyway.
    public = set()
    for nb_path in sorted(source_dir.glob("*.ipynb")):
        for cell in _code_cells(nb_path):
            if cell.get("cell_type") == "code":
                public.update(_visible_lines(_src(cell)))
    for line in public:
        ref.hidden_lines.pop(line, None)
        ref.lines.pop(line, None)
    # Functions the source shows whole (e.g. LinearClassifier.__init__) are given code, not solutions.
    for nb_path in sorted(source_dir.glob("*.ipynb")):
        for cell in _code_cells(nb_path):
            src = _src(cell)
            tree = _parse(src) if cell.get("cell_type") == "code" else None
            marked = [i + 1 for i, line in enumerate(src.split("\n")) if BEGIN in line]
            for _, node in _functions(tree) if tree else ():
                if not any(node.lineno <= m <= node.end_lineno for m in marked):
                    ref.fingerprints.pop(function_fingerprint(node), None)
    return ref


def _where(path: Path, assignment: Assignment) -> str:
    if path.is_relative_to(assignment.reference_dir):
        return f"the reference's {path.relative_to(assignment.reference_dir).as_posix()}"
    return f"{assignment.name}/{path.relative_to(assignment.root).as_posix()}"


# ------------------------------------------------------------------------------- checking
def _check_code(rel: str, code: str, ref: Reference, findings: list[Finding]) -> None:
    for lineno, line in enumerate(code.split("\n"), 1):
        n = normalize_line(line)
        if len(n) < MIN_LINE:
            continue
        if n in ref.lines:
            findings.append(Finding(rel, f"line {lineno} is a line of the reference {ref.lines[n]}: {line.strip()}"))
        elif n in ref.hidden_lines:
            findings.append(Finding(rel, f"line {lineno} is from the hidden tests of {ref.hidden_lines[n]}"))
    tree = _parse(code)
    for qualname, node in _functions(tree) if tree else ():
        fp = function_fingerprint(node)
        if fp in ref.fingerprints:
            findings.append(Finding(rel, f"{qualname} is the reference implementation {ref.fingerprints[fp]}"))


def _check_text(rel: str, text: str, ref: Reference, findings: list[Finding]) -> None:
    for marker in MARKERS:
        if marker in text:
            findings.append(Finding(rel, f"contains the nbgrader marker '{marker}'"))
    flat = re.sub(r"\s+", " ", text)
    for answer, grade_id in ref.answers.items():
        if answer in flat:
            findings.append(Finding(rel, f"contains the model answer of {grade_id}"))


def _check_notebook(path: Path, rel: str, ref: Reference, findings: list[Finding]) -> None:
    try:
        cells = _code_cells(path)
    except (OSError, ValueError) as exc:
        findings.append(Finding(rel, f"not a readable notebook ({exc})"))
        return
    seen, stub_ok = set(), set()
    for i, cell in enumerate(cells):
        src, meta = _src(cell), _meta(cell)
        _check_text(f"{rel} cell {i}", src, ref, findings)
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            findings.append(Finding(f"{rel} cell {i}", "has outputs (a release must be cleared)"))
        _check_code(f"{rel} cell {i}", src, ref, findings)
        if meta.get("solution"):
            seen.add(meta.get("grade_id"))
            tree = _parse(src)
            for qualname, node in _functions(tree) if tree else ():
                if is_stub(node):
                    stub_ok.add(f"{meta.get('grade_id')}:{qualname}")
    for missing in sorted(ref.solution_cells.get(path.name, set()) - seen):
        findings.append(Finding(rel, f"the solution cell '{missing}' is missing"))
    for key in sorted(ref.stubbed.get(path.name, set()) - stub_ok):
        cell, qualname = key.split(":", 1)
        findings.append(Finding(rel, f"{qualname} (cell '{cell}') does not just raise NotImplementedError"))


def check_release(release_dir: str | Path, assignment: Assignment,
                  source_dir: str | Path | None = None) -> list[Finding]:
    """Every leak or defect of the release at ``release_dir`` (empty when it is clean).

    Parameters
    ----------
    release_dir : path
        The generated release of one assignment.
    assignment : Assignment
        The assignment (its reference and grading side must not leak).
    source_dir : path, optional
        The source the release was built from (hidden tests, model answers, the list of student
        functions); default: the assignment's source notebooks.
    """
    release_dir = Path(release_dir)
    ref = load_reference(assignment, Path(source_dir) if source_dir else None)
    findings: list[Finding] = []
    if not release_dir.is_dir():
        return [Finding(str(release_dir), "release directory does not exist")]
    for nb_name in sorted(ref.solution_cells):
        if not (release_dir / nb_name).is_file():
            findings.append(Finding(nb_name, "notebook missing from the release"))
    for path in sorted(release_dir.rglob("*")):
        rel = path.relative_to(release_dir).as_posix()
        if path.is_symlink():
            findings.append(Finding(rel, "is a symlink (a release must hold real files)"))
            continue
        if any(part in FORBIDDEN_PARTS for part in path.relative_to(release_dir).parts):
            findings.append(Finding(rel, "must not be in a release"))
            continue
        if path.is_dir():
            continue
        if path.suffix in FORBIDDEN_SUFFIXES:
            findings.append(Finding(rel, "must not be in a release"))
            continue
        data = path.read_bytes()
        if data.strip() in ref.private_files:
            findings.append(Finding(rel, f"is a copy of {ref.private_files[data.strip()]}, which only the grader "
                                         "may see"))
            continue
        if path.suffix == ".ipynb":
            _check_notebook(path, rel, ref, findings)
        elif path.suffix in TEXT_SUFFIXES:
            text = data.decode("utf-8", errors="replace")
            _check_text(rel, text, ref, findings)
            if path.suffix == ".py":
                _check_code(rel, text, ref, findings)
    return findings
