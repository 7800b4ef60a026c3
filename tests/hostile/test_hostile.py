"""The hostile corpus (tests/hostile/) through `linclass grade`, singly and in one batch.

Each case is the reference (or a stated baseline) plus one attack; see tests/hostile_corpus.py.
For every case and run this asserts that:

- the grader finishes, exits 0 and writes a report, within a time bound;
- the score is no higher than the same submission without the attack (graded the same way),
  the parts the attack hits lose points and every other part scores exactly as before;
- the report says what happened, in plain words (phrases from case.toml);
- nothing is left behind: no process (a subreaper records and kills anything the run leaves:
  tests/support/hostile_reaper.py), no new or changed file outside the report directory (snapshots of
  the submission, its parent, the grader's working directory, the report directory's siblings,
  the temp directory given to the grader, and /tmp's top level for the corpus' file names),
  and the grader's own output (another student's earlier report) untouched.

The runs use short limits (a course config with call_seconds = 3,
cpu_seconds_total = 30, memory_mb = 512, file_bytes = 1 MB).  Timing checks
("faster than naive") are compared only for the cases that attack them: the reference's
speed-up is close to the threshold on a loaded machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile_corpus import ROOT, Case, attack_blocks, case_names, load_case, materialize, strip_attack, write_submission

from kit import PARTS_BY_NAME, REFERENCE_DIR

LINCLASS = Path(sys.executable).with_name("linclass")
REAPER = ROOT / "tests" / "support" / "hostile_reaper.py"
LIMITS = {"call_seconds": "3.0", "cpu_seconds_total": "30.0", "memory_mb": "512", "file_bytes": "1048576"}
SINGLE_SECONDS = 120  # one submission, whatever it does (the budget is 30 s of CPU plus 3 s per timed-out call)
BATCH_SECONDS = 900
REPORT_FILES = {"results.json", "junit.xml", "feedback.md", "grader.log", "submission.json"}
CLASS_FILES = {"grades.csv", "grades_nbgrader.csv", "checks.csv", "summary.md", "score_histogram.png", "not_graded.csv"}
TMP_NAMES = re.compile(r"^(results\.json|junit\.xml|feedback\.md|grades\.csv)$|linclass-hostile")
TIMING_CHECK = "faster than naive"
PREVIOUS = {"score": 7.0, "max_score": 100.0, "output": "an earlier report", "tests": []}

#: The issue's list: every item must be covered by at least one case.
ISSUE_ITEMS = (
    "monkeypatching numpy.allclose / numpy.testing / math.isclose",
    "sys.exit(0) at import",
    "os._exit(0) inside a call",
    "an infinite loop",
    "one huge allocation (memory limit, not the machine)",
    "ignoring SIGTERM",
    "a child process started in a new session that outlives its parent",
    "fake test-runner output and a fake score JSON",
    "200 MB of output",
    "writing results.json into cwd, .. and any output directory found in the environment",
    "importing or reading the reference solutions by path or by module name",
    "returning a pickle payload that would run code if unpickled",
    "objects whose comparisons lie (float or ndarray subclass with __eq__ always True or __sub__ returning 0)",
    "hard-coding the slide answers",
    "faking the clock to look vectorized",
    "calling input()",
    "an exception whose __str__ raises",
    "returning the wrong types (a list, a 3-tuple, None, a string, NaN, complex, object arrays)",
    "deleting a canary file next to the submission",
)

CASES = case_names()


# --------------------------------------------------------------------------- fast checks of the corpus


def test_corpus_covers_the_issue_and_each_case_is_one_marked_attack():
    cases = [load_case(n) for n in CASES]
    assert len(cases) >= 20
    assert set(ISSUE_ITEMS) <= {c.item for c in cases}, set(ISSUE_ITEMS) - {c.item for c in cases}
    by_baseline: dict[str, dict] = {}
    for case in cases:
        assert case.modules, case.name
        assert all(attack_blocks(text) for text in case.modules.values()), case.name
        stripped = case.baseline_modules()
        if case.baseline == "reference":
            for module, text in stripped.items():
                assert text == (REFERENCE_DIR / f"{module}.py").read_text(), (case.name, module)
        else:
            assert case.baseline_note, f"{case.name}: a non-reference baseline needs a baseline_note"
            assert by_baseline.setdefault(case.baseline, stripped) == stripped, f"{case.name}: baseline differs"
        for part in (*case.lose, *case.may_lose, *case.report_by_part):
            assert part in PARTS_BY_NAME, (case.name, part)


def test_strip_attack_restores_replaced_lines_and_rejects_broken_markers():
    text = "a\n    # >>> attack\n    x = 1\n    # ||| baseline\n    # y = 2\n    # <<< attack\nb\n"
    assert strip_attack(text) == "a\n    y = 2\nb\n"
    with pytest.raises(ValueError):
        strip_attack("# >>> attack\nx\n")
    with pytest.raises(ValueError):
        strip_attack("# <<< attack\n")


# --------------------------------------------------------------------------- running the grader


@dataclass
class Run:
    """One `linclass grade` run and what it left behind."""

    returncode: int | None
    timed_out: bool
    seconds: float
    output: str
    leftover_processes: list
    changed_files: list[str]
    tmpdir_left: list[str]
    tmp_escapes: list[str]
    out: Path

    def results(self, student: str) -> dict:
        return json.loads((self.out / student / "results.json").read_text())


def _config(path: Path) -> Path:
    """A course config with the short limits (everything else is the assignment's)."""
    path.write_text("[limits]\n" + "".join(f"{key} = {value}\n" for key, value in LIMITS.items()))
    return path


def _snapshot(root: Path) -> dict[str, str]:
    """relative path -> content digest (or a type tag) of everything under ``root``."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                found[rel] = f"special {os.lstat(path).st_mode:o}"
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest() + f" {os.stat(path).st_mode:o}"
    return found


def _tmp_names() -> set[str]:
    try:
        return {n for n in os.listdir("/tmp") if TMP_NAMES.search(n)}
    except OSError:
        return set()


def _allowed(rel: str, students: set[str], batch: bool) -> bool:
    """The grader's own writes: the report directories, and in a batch the class reports."""
    parts = Path(rel).parts
    if parts[:2] != ("run", "out") or len(parts) < 3:
        return False
    if len(parts) == 3:
        return parts[2] in students or (batch and parts[2] in CLASS_FILES)
    return len(parts) == 4 and parts[2] in students and parts[3] in REPORT_FILES


def grade(work: Path, paths: list[Path], config: Path, students: set[str], jobs: int = 1,
          timeout: float = SINGLE_SECONDS) -> Run:
    """Run `linclass grade` on ``paths`` (under the subreaper) with cwd work/run and --out work/run/out."""
    run_dir, tmpdir = work / "run", work / "tmp"
    (run_dir / "out" / "zz_previous").mkdir(parents=True, exist_ok=True)
    (run_dir / "out" / "zz_previous" / "results.json").write_text(json.dumps(PREVIOUS))
    (run_dir / "linclass-canary.txt").write_text("canary\n")
    tmpdir.mkdir(exist_ok=True)
    before, tmp_before = _snapshot(work), _tmp_names()
    report = work / "reaper.json"
    env = dict(os.environ, TMPDIR=str(tmpdir), OUTPUT_DIR=str(run_dir / "out"), RESULTS_DIR=str(run_dir / "out"))
    command = [sys.executable, str(REAPER), str(report), str(timeout), "--", str(LINCLASS), "grade",
               *map(str, paths), "--out", "out", "--config", str(config), "--jobs", str(jobs)]
    proc = subprocess.run(command, cwd=run_dir, env=env, capture_output=True, text=True, timeout=timeout + 60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    reaped = json.loads(report.read_text())
    report.unlink()
    after = _snapshot(work)
    batch = jobs > 1 or len(paths) > 1
    changed = sorted(rel for rel in set(before) | set(after)
                     if before.get(rel) != after.get(rel) and not _allowed(rel, students, batch)
                     and Path(rel).parts[0] != "tmp")
    tmp_left = sorted(str(p.relative_to(tmpdir)) for p in tmpdir.iterdir())
    return Run(reaped["returncode"], reaped["timed_out"], reaped["seconds"], proc.stdout + proc.stderr,
               reaped["leftovers"], changed, tmp_left, sorted(_tmp_names() - tmp_before), run_dir / "out")


# --------------------------------------------------------------------------- baselines


_BASELINES: dict[str, dict] = {}
_LOCK = threading.Lock()


def _digest(modules: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(modules.items())).encode()).hexdigest()[:12]


def baseline_results(case: Case, tmp_path_factory: pytest.TempPathFactory, config: Path) -> dict:
    """results.json of the case without its attack (graded once per distinct baseline and test process)."""
    modules = case.baseline_modules()
    key = _digest(modules)
    with _LOCK:
        if key not in _BASELINES:
            work = tmp_path_factory.mktemp(f"baseline-{case.baseline}")
            sub = write_submission(work / "sub" / case.baseline, modules)
            run = grade(work, [sub], config, {case.baseline})
            assert run.returncode == 0, run.output[-2000:]
            _BASELINES[key] = run.results(case.baseline)
        return _BASELINES[key]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _config(tmp_path_factory.mktemp("config") / "config.toml")


# --------------------------------------------------------------------------- verdicts


def _by_part(results: dict, timing: bool) -> dict[str, float]:
    scores: dict[str, float] = {}
    for test in results["tests"]:
        if TIMING_CHECK in test["name"] and not timing:
            continue
        part = test["name"].split(":")[0]
        scores[part] = scores.get(part, 0.0) + test["score"]
    return scores


def _text(results: dict, parts=None) -> str:
    tests = [t for t in results["tests"] if parts is None or t["name"].split(":")[0] in parts]
    return "\n".join([results.get("output", "")] + [t["output"] for t in tests]).lower()


def check_case(case: Case, results: dict, baseline: dict) -> list[str]:
    """What is wrong with the attacked submission's results, compared with its baseline's."""
    problems = []
    mine, base = _by_part(results, case.timing), _by_part(baseline, case.timing)
    if sum(mine.values()) > sum(base.values()) + 1e-9:
        gained = {p: f"{base.get(p, 0):g} -> {s:g}" for p, s in mine.items() if s > base.get(p, 0) + 1e-9}
        problems.append(f"the attack gained points: {sum(base.values()):g} -> {sum(mine.values()):g} ({gained})")
    for part, score in mine.items():
        if part in case.lose:
            if not score < base.get(part, 0) - 1e-9 and base.get(part, 0) > 0:
                problems.append(f"{part} should lose points ({base[part]:g} -> {score:g})")
        elif part not in case.may_lose and abs(score - base.get(part, 0)) > 1e-9:
            problems.append(f"{part} changed although the attack is not in it ({base.get(part, 0):g} -> {score:g})")
    lost_parts = set(case.lose) | set(case.may_lose) or None
    for phrase in case.report:
        if phrase.lower() not in _text(results, lost_parts) and phrase.lower() not in _text(results):
            problems.append(f"the report does not say {phrase!r}")
    for part, phrase in case.report_by_part.items():
        if phrase.lower() not in _text(results, {part}):
            problems.append(f"the report of {part} does not say {phrase!r}")
    if "internal error" in _text(results):
        problems.append("an internal grader error was reported")
    if abs(results["score"] - sum(t["score"] for t in results["tests"])) > 1e-6:
        problems.append("results.json's score is not the sum of its tests")
    return problems


def check_clean(run: Run, case: Case | None = None) -> list[str]:
    problems = []
    if run.timed_out or run.returncode != 0:
        problems.append(f"the grader did not finish cleanly (exit {run.returncode}, timed out {run.timed_out})")
    if "Traceback" in run.output:
        problems.append("the grader printed a traceback")
    if "linclass-hostile" in run.output or "54 passed" in run.output:
        problems.append("the student's output reached the grader's own stdout/stderr")
    if run.leftover_processes:
        problems.append(f"processes left running: {run.leftover_processes}")
    if run.changed_files:
        problems.append(f"files created or changed outside the report directories: {run.changed_files}")
    if run.tmpdir_left:
        problems.append(f"left in the grader's temp directory: {run.tmpdir_left}")
    if run.tmp_escapes:
        for name in run.tmp_escapes:  # our own attack's files: remove them, then fail
            path = Path("/tmp") / name
            if path.is_dir() and not path.is_symlink():
                path.rmdir() if not any(path.iterdir()) else None
            elif path.exists():
                path.unlink()
        problems.append(f"new entries in /tmp: {run.tmp_escapes}")
    if case is not None and case.marker and Path(case.marker).exists():
        Path(case.marker).rmdir()
        problems.append(f"{case.marker} appeared: the grader ran the student's pickle payload")
    return problems


def check_report_dir(run: Run, student: str) -> list[str]:
    problems = []
    folder = run.out / student
    extra = {p.name for p in folder.iterdir()} - REPORT_FILES
    if extra:
        problems.append(f"unexpected files in the report directory: {sorted(extra)}")
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    if size > 2 << 20:
        problems.append(f"the report directory holds {size} bytes")
    for path in folder.iterdir():
        if path.is_file() and b"linclass-hostile-forged" in path.read_bytes():
            problems.append(f"{path.name} holds the student's forged report")
    return problems


# --------------------------------------------------------------------------- the tests


def _group(name: str) -> pytest.MarkDecorator:
    """Cases on the reference in one xdist group, the others in another: each baseline is graded once."""
    return pytest.mark.xdist_group("hostile-reference" if load_case(name).baseline == "reference" else "hostile-stubs")


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(n, marks=_group(n)) for n in CASES])
def test_hostile_submission_alone(name, tmp_path, tmp_path_factory, config):
    """One hostile submission, graded on its own."""
    case = load_case(name)
    baseline = baseline_results(case, tmp_path_factory, config)
    sub = materialize(case, tmp_path / "sub" / name)
    (sub / "linclass-canary.txt").write_text("canary\n")
    (sub.parent / "linclass-canary.txt").write_text("canary\n")
    run = grade(tmp_path, [sub], config, {name})
    problems = check_clean(run, case)
    if run.returncode == 0 and (run.out / name / "results.json").exists():
        problems += check_report_dir(run, name) + check_case(case, run.results(name), baseline)
    else:
        problems.append(f"no report was written: {run.output[-1500:]}")
    if run.seconds > SINGLE_SECONDS:
        problems.append(f"took {run.seconds:.0f} s")
    assert not problems, f"{name} ({case.title}):\n- " + "\n- ".join(problems)


@pytest.mark.slow
@pytest.mark.xdist_group("hostile-batch")
def test_hostile_corpus_in_one_batch(tmp_path, config):
    """Every hostile submission and every baseline in one class folder, graded with --jobs 2."""
    cases = [load_case(n) for n in CASES]
    klass = tmp_path / "class"
    baselines: dict[str, str] = {}
    for case in cases:
        sub = materialize(case, klass / case.name)
        (sub / "linclass-canary.txt").write_text("canary\n")
        baselines.setdefault(_digest(case.baseline_modules()), f"baseline-{case.baseline}")
        if not (klass / baselines[_digest(case.baseline_modules())]).exists():
            materialize(case, klass / f"baseline-{case.baseline}", attacked=False)
    (tmp_path / "linclass-canary.txt").write_text("canary\n")
    students = {p.name for p in klass.iterdir()}
    run = grade(tmp_path, [klass], config, students, jobs=2, timeout=BATCH_SECONDS)
    problems = check_clean(run)
    for case in cases:
        if case.marker and Path(case.marker).exists():
            Path(case.marker).rmdir()
            problems.append(f"{case.marker} appeared")
    for student in sorted(students):
        if not (run.out / student / "results.json").exists():
            problems.append(f"{student}: no report")
            continue
        problems += [f"{student}: {p}" for p in check_report_dir(run, student)]
    for case in cases:
        base = run.out / baselines[_digest(case.baseline_modules())] / "results.json"
        if (run.out / case.name / "results.json").exists() and base.exists():
            problems += [f"{case.name}: {p}" for p in check_case(case, run.results(case.name),
                                                                  json.loads(base.read_text()))]
    grades = (run.out / "grades.csv").read_text() if (run.out / "grades.csv").exists() else ""
    problems += [f"{s}: missing from grades.csv" for s in students if f"\n{s}," not in grades]
    assert not problems, "batch:\n- " + "\n- ".join(problems)


@pytest.mark.slow
@pytest.mark.xdist_group("hostile-batch")
def test_a_submission_named_like_a_class_report_does_not_break_the_batch(tmp_path, config):
    """The student id comes from the file name: a folder named grades.csv must not stop the class reports."""
    klass = tmp_path / "class"
    for name in ("grades.csv", "summary.md"):
        write_submission(klass / name, {})
    run = grade(tmp_path, [klass], config, {"grades.csv", "summary.md"}, jobs=2, timeout=BATCH_SECONDS)
    assert run.returncode == 0 and "Traceback" not in run.output, run.output[-1500:]
    assert (run.out / "grades.csv").is_file(), "grades.csv is not the class report"
