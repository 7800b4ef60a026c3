"""The hostile-submission corpus (``tests/hostile/<case>/``): reading it and turning it into submissions.

Each case directory holds a ``case.toml`` and the CS231n module(s) carrying its attack.  A
module of a case is the reference module (``solutions/<module>.py``), or a stated baseline
such as "the SVM functions raise NotImplementedError", plus the attack, which sits between
marker lines::

    # >>> attack
    ...attack code...
    # ||| baseline          (optional: commented-out baseline lines the attack replaced)
    # ...
    # <<< attack

so that :func:`strip_attack` gives back the same submission without the attack, the one
whose score the attacked submission may not exceed.  :func:`materialize` builds a complete
module-layout submission (the five reference modules, overlaid with the case's modules) in
a directory of your choice; by hand::

    .venv/bin/python tests/hostile_corpus.py exit_at_import /tmp/sub/exit_at_import
    .venv/bin/linclass grade /tmp/sub/exit_at_import --out /tmp/reports

``case.toml`` keys: ``title``, ``item`` (the issue's list item it covers), ``baseline``
("reference" or a baseline name shared by the cases with the same stripped modules),
``baseline_note``, ``lose`` (parts that must score below the baseline: the attack costs
them), ``may_lose`` (parts that may), ``report`` (phrases the report must contain),
``report_by_part`` (phrase per part), ``marker`` (a path the attack must never create),
``timing`` (the attack targets the speed check, whose result is otherwise too noisy to compare).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from kit import MODULES, REFERENCE_DIR, ROOT

CORPUS = ROOT / "tests" / "hostile"
REFERENCE = REFERENCE_DIR

BEGIN, ALT, END = "# >>> attack", "# ||| baseline", "# <<< attack"


@dataclass(frozen=True)
class Case:
    """One hostile submission of the corpus."""

    name: str
    title: str
    item: str
    baseline: str
    modules: dict[str, str]  # module name -> attacked source
    baseline_note: str = ""
    lose: tuple[str, ...] = ()
    may_lose: tuple[str, ...] = ()
    report: tuple[str, ...] = ()
    report_by_part: dict[str, str] = field(default_factory=dict)
    marker: str | None = None
    timing: bool = False  # the attack targets the speed check: compare the timing checks too

    def baseline_modules(self) -> dict[str, str]:
        """The same modules without the attack."""
        return {m: strip_attack(text) for m, text in self.modules.items()}


def strip_attack(text: str) -> str:
    """Remove the attack blocks; restore the commented-out baseline lines they replaced."""
    out: list[str] = []
    state = "plain"
    for line in text.splitlines(keepends=True):
        mark = line.strip()
        if mark == BEGIN:
            if state != "plain":
                raise ValueError("nested attack block")
            state = "attack"
        elif mark == ALT:
            if state != "attack":
                raise ValueError("baseline marker outside an attack block")
            state = "baseline"
        elif mark == END:
            if state == "plain":
                raise ValueError("unopened attack block")
            state = "plain"
        elif state == "plain":
            out.append(line)
        elif state == "baseline":
            indent = line[: len(line) - len(line.lstrip())]
            body = line.lstrip()
            if not body.startswith("#"):
                raise ValueError(f"baseline lines must be commented out: {line!r}")
            out.append(indent + body[1:].removeprefix(" "))
    if state != "plain":
        raise ValueError("unclosed attack block")
    return "".join(out)


def attack_blocks(text: str) -> int:
    """How many attack blocks a module has."""
    return sum(line.strip() == BEGIN for line in text.splitlines())


def case_names() -> list[str]:
    """Every case of the corpus, sorted."""
    return sorted(p.name for p in CORPUS.iterdir() if (p / "case.toml").is_file())


def load_case(name: str) -> Case:
    """Read ``tests/hostile/<name>/``."""
    folder = CORPUS / name
    meta = tomllib.loads((folder / "case.toml").read_text())
    modules = {p.stem: p.read_text() for p in sorted(folder.glob("*.py"))}
    return Case(name=name, title=meta["title"], item=meta["item"], baseline=meta["baseline"], modules=modules,
                baseline_note=meta.get("baseline_note", ""), lose=tuple(meta.get("lose", ())),
                may_lose=tuple(meta.get("may_lose", ())), report=tuple(meta.get("report", ())),
                report_by_part=dict(meta.get("report_by_part", {})), marker=meta.get("marker"),
                timing=bool(meta.get("timing", False)))


def write_submission(dest: Path, modules: dict[str, str]) -> Path:
    """The five reference modules in ``dest``, with ``modules`` (name -> source) written over them."""
    dest.mkdir(parents=True, exist_ok=True)
    for module in MODULES:
        shutil.copyfile(REFERENCE / f"{module}.py", dest / f"{module}.py")
    shutil.copyfile(REFERENCE / "__init__.py", dest / "__init__.py")
    for module, text in modules.items():
        (dest / f"{module}.py").write_text(text)
    return dest


def materialize(case: Case, dest: Path, attacked: bool = True) -> Path:
    """The case as a complete module-layout submission in ``dest`` (without its attack if not ``attacked``)."""
    return write_submission(dest, case.modules if attacked else case.baseline_modules())


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in case_names():
        sys.exit(f"usage: {sys.argv[0]} CASE DEST   (CASE one of: {', '.join(case_names())})")
    print(materialize(load_case(sys.argv[1]), Path(sys.argv[2])))
