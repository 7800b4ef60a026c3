"""`linclass release [ASSIGNMENT]`: build the student release with real nbgrader, then verify it.

Steps (all in a temporary copy of the course, with a temporary gradebook, so nothing but
the release is written to the repository):

1. copy the source notebooks (the course's own ``source/<assignment>/`` if it has one, else the
   assignment's), with the files every release ships refreshed from the kit (the assignment's
   shipped files and the student side of ``linclass``); checkpoints and caches are skipped;
2. ``nbgrader validate`` every source notebook (every test cell must pass with the solutions);
3. ``nbgrader generate_assignment`` (solutions and hidden tests stripped, checksums added);
4. copy the result to ``<course>/release/<assignment>/``, verify it with
   :func:`linclass.course.leakcheck.check_release`, and write ``<course>/release/<assignment>.zip``
   (sorted entries, fixed timestamps: the same source gives a byte-identical zip).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from linclass.assignment import DEFAULT_ASSIGNMENT, Assignment, load_assignment
from linclass.errors import LinclassError

from .leakcheck import check_release

SKIP_NAMES = {".ipynb_checkpoints", "__pycache__", ".DS_Store", "gradebook.db"}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class ReleaseResult:
    """What ``build_release`` produced."""

    release_dir: Path
    zip_path: Path
    files: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    validated: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=1)
def alembic_head() -> str:
    """The gradebook schema revision, read in-process (what ``alembic heads`` prints)."""
    import nbgrader
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
    return ScriptDirectory.from_config(cfg).get_current_head()


@contextlib.contextmanager
def nbgrader_env():
    """Run nbgrader in this process without its ``alembic heads`` subprocess.

    A new gradebook makes nbgrader shell out to ``alembic heads`` (1 to 9 s here, and it needs
    the venv on PATH); we give it the same revision, read in-process.  The venv's scripts folder
    is also put on PATH for anything else nbgrader may start.
    """
    import nbgrader.api

    old_path, old_fn = os.environ.get("PATH", ""), nbgrader.api.get_alembic_version
    bindir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bindir + os.pathsep + old_path if bindir not in old_path.split(os.pathsep) else old_path
    nbgrader.api.get_alembic_version = alembic_head
    try:
        yield
    finally:
        os.environ["PATH"] = old_path
        nbgrader.api.get_alembic_version = old_fn


def course_config(course: Path, root: Path):
    """The course's ``nbgrader_config.py`` with the root and the gradebook moved to ``root``."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (course / "nbgrader_config.py").is_file():
        config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config())
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    return config


def copy_tree(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` following symlinks, without checkpoints, caches or gradebooks."""
    shutil.copytree(src, dst, symlinks=False, ignore=lambda d, names: [n for n in names if n in SKIP_NAMES
                                                                      or n.endswith(".pyc")])


def copy_course(course: str | Path, dst: str | Path, assignment: str = DEFAULT_ASSIGNMENT) -> Path:
    """A self-contained copy of a course (its config and one assignment's source) at ``dst``."""
    course, dst = Path(course), Path(dst)
    copy_tree(course / "source" / assignment, dst / "source" / assignment)
    if (course / "nbgrader_config.py").is_file():
        shutil.copyfile(course / "nbgrader_config.py", dst / "nbgrader_config.py")
    return dst


def default_course(assignment: Assignment) -> Path:
    """Where a release goes by default: the nbgrader course that holds the assignment's source
    (``<course>/source/<name>/``), or ``build/`` inside the assignment package otherwise."""
    source = assignment.source_dir
    if source.name == assignment.name and source.parent.name == "source":
        return source.parents[1]
    return assignment.root / "build"


def release_source(assignment: Assignment, course: Path) -> Path:
    """The source notebooks to release: the course's own ``source/<name>/`` when it has one (an
    instructor's edited copy), else the assignment's."""
    own = course / "source" / assignment.name
    return own if any(own.glob("*.ipynb")) else assignment.source_dir


def stage_source(assignment: Assignment, source: Path, dst: Path) -> None:
    """Copy ``source`` to ``dst`` with the files every release ships (the assignment's shipped
    files and the student side of the kit) refreshed from the kit itself."""
    from .notebook_builder import support_files

    copy_tree(source, dst)
    for name, target in support_files(assignment).items():
        path = dst / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            copy_tree(target, path)
        else:
            shutil.copyfile(target, path)


#: Kernel arguments for validation: no kernel log below errors.  ipykernel warns on every start
#: that its local TCP transport is not encrypted; the release's short-lived kernels talk over
#: loopback only, and the warning would bury the release's own report.
QUIET_KERNEL = "--IPKernelApp.log_level=ERROR"


def quiet_kernels(config) -> None:
    """Add :data:`QUIET_KERNEL` to the arguments nbgrader's Execute preprocessor gives kernels
    (after the course's own ones)."""
    current = list(config.Execute.extra_arguments) if "extra_arguments" in config.Execute else []
    if QUIET_KERNEL not in current:
        config.Execute.extra_arguments = [*current, QUIET_KERNEL]


def _validate_one(course: str, root: str, notebook: str) -> dict:
    """Run nbgrader's validator on one notebook (in a worker process), its kernel quiet."""
    from nbgrader.validator import Validator

    config = course_config(Path(course), Path(root))
    quiet_kernels(config)
    validator = Validator(config=config)
    return validator.validate(notebook)


def validate_source(course: Path, root: Path, notebooks: list[Path]) -> list[str]:
    """``nbgrader validate`` each source notebook in parallel; return the problems found."""
    problems = []
    with ProcessPoolExecutor(max_workers=min(len(notebooks), 3)) as pool:
        futures = {nb.name: pool.submit(_validate_one, str(course), str(root), str(nb)) for nb in notebooks}
        for name, fut in futures.items():
            result = fut.result()
            for kind in ("type_changed", "changed", "failed"):
                for cell in result.get(kind, []):
                    detail = cell.get("raw_error", "").strip().split("\n")[-1] if kind == "failed" else ""
                    first = cell.get("source", "").split("\n")[0][:80]
                    problems.append(f"{name}: {kind} cell '{first}' {detail}".rstrip())
    return problems


def write_zip(release_dir: Path, zip_path: Path) -> int:
    """A reproducible zip of ``release_dir`` (entries under its name); return the number of files."""
    files = sorted(p for p in release_dir.rglob("*") if p.is_file())
    tmp = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(f"{release_dir.name}/{path.relative_to(release_dir).as_posix()}", ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    tmp.replace(zip_path)
    return len(files)


def build_release(assignment: Assignment, course: str | Path | None = None, validate: bool = True,
                  log: Callable[[str], None] = print) -> ReleaseResult:
    """Build, verify and zip the release of ``assignment``; raise LinclassError on any problem.

    Parameters
    ----------
    assignment : Assignment
        What to release.
    course : path, optional
        The nbgrader course root: its ``nbgrader_config.py`` is used, its ``source/<name>/`` (if
        any) is released, and the release is written to its ``release/``.  Default:
        :func:`default_course`.
    validate : bool
        Run ``nbgrader validate`` on the source first.
    log : callable
        Receives one line per step.
    """
    from nbgrader.apps import NbGraderAPI

    name = assignment.name
    course = Path(course).resolve() if course is not None else default_course(assignment)
    source = release_source(assignment, course)
    if not any(source.glob("*.ipynb")):
        raise LinclassError(f"no notebooks in {source} (build them with python -m linclass.course.notebook_builder "
                            f"--assignment {name})")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="linclass-release-") as tmp:
        root = Path(tmp)
        staged = root / "source" / name
        stage_source(assignment, source, staged)
        tmp_notebooks = sorted(staged.glob("*.ipynb"))
        validated = []
        if validate:
            t = time.perf_counter()
            problems = validate_source(course, root, tmp_notebooks)
            timings["validate"] = time.perf_counter() - t
            if problems:
                raise LinclassError("nbgrader validate failed on the source:\n  " + "\n  ".join(problems))
            validated = [nb.name for nb in tmp_notebooks]
            log(f"  nbgrader validate: {len(validated)} source notebooks pass all their tests "
                f"({timings['validate']:.1f} s)")

        t = time.perf_counter()
        with nbgrader_env():
            api = NbGraderAPI(config=course_config(course, root))
            result = api.generate_assignment(name, force=True, create=True)
        timings["generate"] = time.perf_counter() - t
        if not result.get("success"):
            detail = (result.get("error") or result.get("log") or "").strip().split("\n")[-1]
            raise LinclassError(f"nbgrader generate_assignment failed: {detail}")
        built = root / "release" / name

        release_dir = course / "release" / name
        if release_dir.exists():
            shutil.rmtree(release_dir)
        release_dir.parent.mkdir(parents=True, exist_ok=True)
        copy_tree(built, release_dir)

    zip_path = course / "release" / f"{name}.zip"
    t = time.perf_counter()
    findings = check_release(release_dir, assignment, source)
    timings["leakcheck"] = time.perf_counter() - t
    if findings:
        shutil.rmtree(release_dir)
        zip_path.unlink(missing_ok=True)
        raise LinclassError(f"the release leaks or is broken ({len(findings)} findings); it was deleted:\n  "
                            + "\n  ".join(map(str, findings[:40])))
    write_zip(release_dir, zip_path)
    timings["total"] = time.perf_counter() - start
    files = sorted(p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*") if p.is_file())
    return ReleaseResult(release_dir, zip_path, files, timings, validated)


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def fill_release(release_dir: str | Path, source_dir: str | Path, out_dir: str | Path,
                 mutate: Callable[[str, str], str] | None = None, answer: str = "An answer.") -> Path:
    """A copy of a release with every solution cell filled from the source, as a student would.

    Code solution cells get the source cell without its solution markers; manually graded
    answers get ``answer``.  ``mutate(grade_id, code)`` may change a cell (to plant a bug).
    """
    from .notebook_builder import strip_markers

    release_dir, out_dir = Path(release_dir), Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(release_dir, out_dir)
    for nb_path in sorted(out_dir.glob("*.ipynb")):
        src_nb = json.loads((Path(source_dir) / nb_path.name).read_text(encoding="utf-8"))
        solutions = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) if isinstance(c["source"], list)
                     else c["source"] for c in src_nb["cells"]
                     if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if not meta.get("solution"):
                continue
            gid = meta["grade_id"]
            if cell["cell_type"] == "code":
                code = strip_markers(solutions[gid])
                cell["source"] = mutate(gid, code) if mutate else code
            else:
                cell["source"] = answer
        nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out_dir


def main(args) -> int:
    """`linclass release [ASSIGNMENT] [--course DIR]`."""
    assignment = load_assignment(getattr(args, "assignment", None))
    course = Path(args.course).resolve() if getattr(args, "course", None) else default_course(assignment)
    print(f"linclass release: {assignment.name} (course {_show(course)})")
    res = build_release(assignment, course)
    print(f"  nbgrader generate_assignment -> {_show(res.release_dir)}/ ({res.timings['generate']:.1f} s)")
    for name in res.files:
        print(f"    {name}")
    print("  leak check passed: no solution or hidden-test text, no reference function bodies, no model answers, "
          "nothing of the grading side; every student function raises NotImplementedError")
    print(f"  zip: {_show(res.zip_path)} ({res.zip_path.stat().st_size / 1024:.0f} kB)")
    print(f"  done in {res.timings['total']:.1f} s")
    return 0
