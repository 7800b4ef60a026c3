"""Build the kernel-sandbox red-team corpus: tests/hostile/kernel/<case>/ from the attack library.

    .venv/bin/python tests/hostile/kernel/build.py           # (re)write every case folder
    .venv/bin/python tests/hostile/kernel/build.py --check   # exit 1 if a folder is not what it would write

Each case folder holds ``case.toml`` and the attacked CS231n module(s): the case's baseline module (the
reference, ``linclass.assignments.linear_classifiers.mutants.reference_sources()``, or a one-bug mutant
``mutant_sources(id, part)``) with the attack between ``# >>> attack`` and ``# <<< attack`` marker lines,
so that removing the blocks gives the baseline back exactly (``tests/support/redteam.py`` checks it).
The attack code itself lives in ``_attacks_a.py``, ``_attacks_b.py`` and ``_snippets.py``.

``case.toml`` keys: ``title``, ``class`` (1-7, the classes of /work/redteam/REPORT.md), ``route`` (one
line), ``proves`` (the proofs the attack goes for; any proof observed in a run is an escape),
``baseline`` ("reference" or "mutant:<misconception id>:<part>"), ``baseline_note``, ``needs_batch``
(its escape needs a classmate graded alongside), ``modules``, and an optional ``[minimal]`` table:
``expect`` (the proofs documented for ``--sandbox minimal``) and ``note``.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import shutil
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _library() -> dict:
    """The attack library: _attacks_a.py and _attacks_b.py (which import _snippets.py) next to this file."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    return {**importlib.import_module("_attacks_a").ATTACKS, **importlib.import_module("_attacks_b").ATTACKS}


ATTACKS = _library()
BEGIN, END = "# >>> attack", "# <<< attack"
RT_NOTE = "# RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)"


def baseline_sources(baseline: str) -> dict[str, str]:
    """File name -> source of a case's baseline submission."""
    from linclass.assignments.linear_classifiers.mutants import mutant_sources, reference_sources

    if baseline == "reference":
        return reference_sources()
    kind, _, rest = baseline.partition(":")
    misconception, _, part = rest.partition(":")
    if kind != "mutant" or not part:
        raise ValueError(f"unknown baseline {baseline!r}")
    return mutant_sources(misconception, part)


def rt_line(name: str) -> str:
    """The default RT-CONFIG line of a case (graded by hand: not armed)."""
    rt = {"name": name, "root": "", "tag": "manual", "sentinel": "", "solutions": "", "tcp": 0, "udp": 0,
          "unix": "", "dummy": 0, "dummy_cwd": "", "grader_cwd": "", "tmp": "", "batch": False, "fill_mb": 0}
    return f"RT = {rt!r}  {RT_NOTE}\n"


def _definition(tree: ast.Module, qualname: str) -> tuple[ast.stmt, ast.FunctionDef]:
    """(top-level node holding it, the def) of a function or ``Class.method``."""
    head, _, method = qualname.partition(".")
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == head:
            if not method:
                return node, node
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef) and sub.name == method:
                    return node, sub
    raise KeyError(qualname)


def _after_imports(tree: ast.Module) -> int:
    """0-based line index just after the leading docstring / imports (try/except imports included)."""
    end = 0
    for i, node in enumerate(tree.body):
        is_doc = i == 0 and isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant)
        is_import = isinstance(node, (ast.Import, ast.ImportFrom)) or (
            isinstance(node, ast.Try) and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in node.body))
        if not (is_doc or is_import):
            break
        end = node.end_lineno
    return end


def _block(code: str, indent: str) -> list[str]:
    lines = [indent + BEGIN + "\n"]
    for line in code.splitlines(keepends=True):
        lines.append(indent + line if line.strip() else "\n")
    if lines[-1] != "\n" and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines.append(indent + END + "\n")
    return lines


def _position(text: str, lines: list[str], tree: ast.Module, where: str) -> tuple[int, str]:
    """(0-based line index to insert at, indentation) for a ``where`` of the attack library."""
    if where == "top":
        return _after_imports(tree), ""
    kind, _, rest = where.partition(":")
    qualname, _, needle = rest.partition(":")
    outer, fn = _definition(tree, qualname)
    if kind == "before":
        first = min([outer.lineno, *(d.lineno for d in getattr(outer, "decorator_list", []))])
        return first - 1, ""
    body = fn.body
    if kind == "start":
        has_doc = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        stmt = body[1] if has_doc else body[0]
        return stmt.lineno - 1, " " * stmt.col_offset
    if kind == "end":
        stmt = body[-1]
        if not isinstance(stmt, ast.Return):
            raise ValueError(f"{qualname} does not end with a return")
        return stmt.lineno - 1, " " * stmt.col_offset
    if kind == "after":  # after the first statement of the body (not the docstring) on a line holding needle
        for node in sorted((n for n in ast.walk(fn) if isinstance(n, ast.stmt) and n is not fn
                            and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))),
                           key=lambda n: n.lineno):
            if needle in lines[node.lineno - 1]:
                return node.end_lineno, " " * node.col_offset
        raise ValueError(f"{needle!r} not in {qualname}")
    raise ValueError(f"unknown position {where!r}")


def _header(name: str) -> str:
    """The comment that opens a case's first block: what it is, in words."""
    spec = ATTACKS[name]
    lines = [f"RED TEAM attack {name} (class {spec['klass']}; see tests/hostile/kernel/{name}/case.toml)"]
    lines += textwrap.wrap(spec["title"], 100)
    lines += textwrap.wrap("route: " + spec["route"], 100, subsequent_indent="  ")
    return "".join(f"# {line}\n" for line in lines)


def attacked_module(name: str, text: str, blocks: list[tuple[str, str]]) -> str:
    """``text`` with the case's blocks inserted; the first module-level block starts with the RT line."""
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    blocks = list(blocks)
    if not any(where == "top" for where, _ in blocks):
        blocks.insert(0, ("top", ""))
    placed, seen_top = [], False
    for order, (where, code) in enumerate(blocks):
        if where == "top" and not seen_top:
            code, seen_top = "\n" + _header(name) + rt_line(name) + code, True
        if where.startswith("before:"):
            code = code.rstrip("\n") + "\n\n\n"
        index, indent = _position(text, lines, tree, where)
        placed.append((index, order, _block(code, indent)))
    for index, _order, block in sorted(placed, key=lambda p: (p[0], p[1]), reverse=True):
        lines[index:index] = block
    out = "".join(lines)
    compile(out, f"{name}.py", "exec")
    return out


def case_files(name: str) -> dict[str, str]:
    """File name -> content of the case folder ``name``."""
    spec = ATTACKS[name]
    base = baseline_sources(spec.get("baseline", "reference"))
    files = {module: attacked_module(name, base[module], blocks) for module, blocks in spec["blocks"].items()}
    meta = [f"title = {json.dumps(spec['title'])}", f"class = {spec['klass']}", f"route = {json.dumps(spec['route'])}",
            "proves = [" + ", ".join(json.dumps(p) for p in spec["proves"]) + "]",
            f"baseline = {json.dumps(spec.get('baseline', 'reference'))}",
            f"baseline_note = {json.dumps(spec.get('baseline_note', ''))}",
            f"needs_batch = {'true' if spec.get('needs_batch') else 'false'}",
            "modules = [" + ", ".join(json.dumps(m) for m in sorted(spec["blocks"])) + "]"]
    if "minimal" in spec:
        meta += ["", "[minimal]", "expect = [" + ", ".join(json.dumps(p) for p in spec["minimal"]["expect"]) + "]",
                 f"note = {json.dumps(spec['minimal']['note'])}"]
    head = "# Generated by tests/hostile/kernel/build.py from its attack library.\n"
    head += ("# proves: the proofs this attack goes for (tests/support/redteam.py PROOFS); a run in which any\n"
             "# proof of any kind is observed for it is an escape.\n")
    files["case.toml"] = head + "\n".join(meta) + "\n"
    return files


def differences() -> list[str]:
    """Case folders that differ from what :func:`case_files` writes."""
    problems = []
    for name in sorted(ATTACKS):
        folder = HERE / name
        want = case_files(name)
        have = {p.name: p.read_text() for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}
        if have != want:
            problems.append(f"{name}: {sorted(set(have) ^ set(want)) or 'content differs'}")
    stale = {p.name for p in HERE.iterdir() if (p / "case.toml").is_file()} - set(ATTACKS)
    problems += [f"{n}: no longer in the attack library" for n in sorted(stale)]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args()
    if args.check:
        problems = differences()
        print("\n".join(problems) or "the corpus is up to date")
        return 1 if problems else 0
    for name in sorted(ATTACKS):
        folder = HERE / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        for fname, text in case_files(name).items():
            (folder / fname).write_text(text)
        print("wrote", folder.relative_to(HERE.parents[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
