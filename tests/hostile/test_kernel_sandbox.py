"""The kernel-sandbox red team: every attack of tests/hostile/kernel/ graded through `linclass grade`.

Each case is a hostile submission (its baseline plus one attack; see tests/hostile/kernel/build.py) that
goes for one of the seven escape classes of the first red-team round (the audit hook switched off,
unaudited native code, path checks sidestepped, classmates reachable, reply bombs, forged probe records,
survivors of the process sweep) or for a new route (exec of /bin/sh, io_uring, /proc of the grader,
links out of the sandbox, filling TMPDIR).  tests/support/redteam.py runs the grader exactly as a user
does, with short limits (call_seconds = 3, cpu_seconds_total = 30, memory_mb = 512), its sentinels,
TMPDIR and working directory under this test's tmp folder, loopback TCP/UDP/abstract-unix listeners, a
secret in the grader's environment and a child subreaper.  For every case, graded alone and in one
``--jobs 2`` batch with honest classmates, under ``--sandbox auto``, it asserts that no proof of an
escape is observed (tests/support/redteam.py: PROOFS):

- the score is no higher than the baseline's (graded alone the same way), and the honest classmates keep
  the score the honest classmate gets alone;
- no sentinel secret, grader secret or kit solution reaches any report (results.json, feedback.md,
  junit.xml, grader.log, the class reports), the sentinel victim is unchanged and no entry appears next
  to it;
- the listeners receive nothing; no process survives the grading; no grader process is stopped;
- the grader's peak memory stays under 1 GB and a student puts less than 256 MB on TMPDIR, which is
  empty afterwards.

A few deterministic cases also run under ``--sandbox minimal``, where the outcome must be the one their
case file documents (``[minimal] expect``).  A kit whose ``linclass grade`` has no ``--sandbox`` option is
graded without it (the runs are then today's grader).  Run against another checkout with
``LINCLASS_RT_KIT=/path/to/checkout``.  The run folders are under this test's tmp folder, which pytest
makes private to the user (0700): a grader running as root then cannot hand the student process a uid
of its own (results.json says "partial"); ``LINCLASS_RT_BASE=/some/0711/folder`` puts them there instead.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import pytest
import redteam

CASES = redteam.case_names()
MINIMAL = [n for n in CASES if redteam.load_case(n).minimal is not None]
#: The 20 attacks of the first red-team round (/work/redteam), ported to the current layout.
PORTED = ("hook_off_forkexec_closure", "hook_off_traceback", "hook_off_fspath_reentry", "hook_off_policy_globals",
          "hook_off_numpy_bytecode", "ext_alias_posixsubprocess", "fresh_builtin_posix", "subinterpreter_no_hook",
          "path_dirfd", "path_cwd_race", "deputy_symlink_restart", "path_fspath_two_faced", "classmate_tamper",
          "reply_bomb_json", "reply_bomb_blob", "forge_tune_closure", "forge_train_closure", "forge_reply_frame",
          "survivor_envwipe_fork", "survivor_report_forge")
GROUP = pytest.mark.xdist_group("kernel-sandbox")  # one worker where xdist honours it (see the fixture)


@pytest.fixture(scope="module")
def campaign(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> redteam.Campaign:
    """The runs of this module, graded once per session: under pytest-xdist the workers share them through a
    folder of the session's base temp (the tests of this module may land on any worker: with pytest 9 the
    xdist_group mark no longer keeps them together)."""
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    shared = tmp_path_factory.getbasetemp().parent / "redteam-shared" if worker else None
    base = tmp_path_factory.mktemp("redteam")
    if os.environ.get("LINCLASS_RT_BASE"):  # a folder other uids can enter: the grader can then use its own uid
        base = Path(tempfile.mkdtemp(prefix="redteam-", dir=os.environ["LINCLASS_RT_BASE"]))
        os.chmod(base, 0o711)
    return redteam.Campaign(redteam.kit_from(), base, workers=2 if worker else 3, shared=shared,
                            reverse=worker not in (None, "gw0"))


def _explain(case: redteam.Case, found: dict[str, str], run: redteam.Run) -> str:
    lines = [f"{case.name} (class {case.klass}, {redteam.CLASSES[case.klass]}): {case.title}",
             f"route: {case.route}", run.describe()]
    lines += [f"- {key}: {redteam.PROOFS[key]} -- {detail[:400]}" for key, detail in sorted(found.items())]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- the corpus


@GROUP
def test_corpus_covers_every_class_and_each_case_is_its_baseline_plus_marked_attacks():
    spec = importlib.util.spec_from_file_location("_kernel_build", redteam.CORPUS / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert not build.differences(), "run tests/hostile/kernel/build.py: " + "; ".join(build.differences())
    assert set(PORTED) <= set(CASES), set(PORTED) - set(CASES)
    cases = [redteam.load_case(n) for n in CASES]
    assert {c.klass for c in cases} == set(redteam.CLASSES)
    for case in cases:
        assert case.proves and set(case.proves) <= set(redteam.PROOFS), case.name
        assert set(case.minimal or ()) <= set(redteam.PROOFS), case.name
        base = redteam.baseline_sources(case.baseline)
        assert case.modules and set(case.modules) <= set(base), case.name
        for module, text in case.modules.items():
            assert redteam.RT_CONFIG.search(text), (case.name, module, "no RT-CONFIG line")
            assert redteam.strip_attack(text) == base[module], (case.name, module, "is not its baseline + blocks")
            assert redteam.BEGIN in text, (case.name, module)


# --------------------------------------------------------------------------------------------- the runs


@pytest.mark.slow
@GROUP
@pytest.mark.parametrize("name", CASES)
def test_attack_alone_is_contained(campaign, name):
    """One hostile submission graded on its own under --sandbox auto: no proof of an escape."""
    run = campaign.singles(CASES, "auto")[name]
    found = campaign.escapes(run, name, "auto")
    assert not found, _explain(redteam.load_case(name), found, run)


@pytest.mark.slow
@GROUP
@pytest.mark.parametrize("name", CASES)
def test_attack_in_a_batch_is_contained(campaign, name):
    """The same submission in one --jobs 2 class with every other attack and honest classmates."""
    run = campaign.batch(CASES, "auto")
    student = next(m.student for m in run.attacks if m.case.name == name)
    found = campaign.escapes(run, student, "auto")
    assert not found, _explain(redteam.load_case(name), found, run)


@pytest.mark.slow
@GROUP
def test_batch_grader_and_honest_classmates_are_unharmed(campaign):
    """The batch as a whole: every student has a report, no honest classmate loses points, and nothing that
    cannot be blamed on one submission happened (the grader's memory, a stopped worker, TMPDIR, ...)."""
    run = campaign.batch(CASES, "auto")
    problems = [f"{key}: {detail[:400]}" for key, detail in sorted(run.whole_proofs().items())]
    problems += list(campaign.harmed(run, "auto").values())
    problems += [f"{m.student}: no report" for m in run.members if run.results.get(m.student) is None]
    assert not problems, run.describe() + "\n- " + "\n- ".join(problems)


@pytest.mark.slow
@GROUP
@pytest.mark.parametrize("name", MINIMAL)
def test_minimal_level_is_the_documented_one(campaign, name):
    """--sandbox minimal (audit hook and rlimits only): exactly the outcome the case file documents."""
    case = redteam.load_case(name)
    run = campaign.singles(MINIMAL, "minimal")[name]
    seen = campaign.escapes(run, name, "minimal")
    assert set(seen) == set(case.minimal), (
        f"documented for --sandbox minimal: {sorted(case.minimal) or 'contained'} ({case.minimal_note})\n"
        + _explain(case, seen, run))


@pytest.mark.slow
@GROUP
def test_reports_state_the_sandbox_level(campaign):
    """`linclass grade --sandbox` exists, and every results.json says which level graded it."""
    assert campaign.kit.supports_sandbox, "linclass grade has no --sandbox option"
    runs = [*campaign.singles(CASES, "auto").values(), campaign.batch(CASES, "auto"),
            *campaign.singles(MINIMAL, "minimal").values()]
    problems = []
    for run in runs:
        for student, level in run.sandbox_levels().items():
            if run.results.get(student) is None:
                continue  # no report at all: the other tests say so
            if not isinstance(level, dict) or not isinstance(level.get("level"), str):
                problems.append(f"{run.label}/{student}: results.json has no sandbox level ({level!r})")
            elif run.mode == "minimal" and level["level"] != "minimal":
                problems.append(f"{run.label}/{student}: graded with --sandbox minimal, reported {level!r}")
    assert not problems, "\n".join(problems[:20])
