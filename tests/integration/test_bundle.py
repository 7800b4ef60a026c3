"""`linclass bundle`: the Gradescope autograder zip and the student-repository workflow.

The Gradescope zip is extracted into a temporary ``/autograder`` and its own
``run_autograder`` is run with the roots pointed there; ``results.json`` is validated against
Gradescope's documented format (gradescope/autograder_samples, docs/specs.md: "Output
format", "Test case status", "Output String Formatting"), written below as a JSON Schema.
The workflow's own ``run:`` steps are executed locally with the variables GitHub sets.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from kit import ASSIGNMENT, ROOT

from linclass.assignments.linear_classifiers.mutants import write_mutant, write_reference
from linclass.course.bundle import (
    GITHUB_WORKFLOW,
    _submission_target,
    build_gradescope_zip,
    failure_results,
    github_workflow,
    pinned_requirements,
    write_github_workflow,
)

VENV_BIN = Path(sys.executable).parent

_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
_FORMAT = {"enum": ["text", "simple_format", "html", "md", "ansi"]}
#: Gradescope's results.json, as documented in autograder_samples docs/specs.md.
GRADESCOPE_SCHEMA = {
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": _FORMAT,
        "test_output_format": _FORMAT,
        "test_name_format": _FORMAT,
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "properties": {
                "score": {"type": "number"},
                "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string"},
                "name_format": _FORMAT,
                "number": {"type": "string"},
                "output": {"type": "string"},
                "output_format": _FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": _VISIBILITY,
                "extra_data": {"type": "object"},
            },
            "additionalProperties": False,
        }},
        "leaderboard": {"type": "array"},
    },
    "additionalProperties": False,
    # "score: optional, but required if not on each test case"
    "anyOf": [{"required": ["score"]},
              {"required": ["tests"], "properties": {"tests": {"items": {"required": ["score"]}}}}],
}


#: linclass's own results.json: Gradescope's format plus a top-level max_score (DESIGN section 5).
LINCLASS_SCHEMA = {**GRADESCOPE_SCHEMA, "required": ["score", "max_score", "sandbox", "tests"],
                   "properties": {**GRADESCOPE_SCHEMA["properties"], "max_score": {"type": "number"},
                                  "sandbox": {"type": "object", "required": ["level"]}}}


def validate_gradescope(results: dict, schema: dict = GRADESCOPE_SCHEMA) -> None:
    """Raise if ``results`` is not a valid Gradescope results.json (schema + the spec's arithmetic)."""
    jsonschema.validate(results, schema)
    for test in results.get("tests", []):
        if "max_score" in test:
            assert 0 <= test["score"] <= test["max_score"], test["name"]
    if results.get("tests") and "max_score" in results:
        assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


def test_the_schema_rejects_malformed_results():
    validate_gradescope({"score": 1.0, "tests": [{"name": "a", "score": 1, "max_score": 1, "status": "passed"}]})
    for bad in ({"tests": [{"name": "no score anywhere"}]}, {"score": "10"}, {"score": 1, "visibility": "public"},
                {"score": 1, "tests": [{"score": 1, "status": "ok"}]}, {"score": 1, "grade": 1}):
        with pytest.raises(jsonschema.ValidationError):
            validate_gradescope(bad)


@pytest.fixture(scope="module")
def gradescope(tmp_path_factory):
    """The zip, extracted as Gradescope does: /autograder/source, run_autograder copied to /autograder."""
    root = tmp_path_factory.mktemp("autograder")
    zip_path = build_gradescope_zip(root / "linclass_autograder.zip", ASSIGNMENT)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    return {"root": root, "zip": zip_path, "modes": modes}


def run_autograder(root: Path, submission: Path, results: Path) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(root), "LINCLASS_AUTOGRADER_ROOT": str(root),
           "LINCLASS_SUBMISSION_DIR": str(submission), "LINCLASS_RESULTS_DIR": str(results),
           "LINCLASS_PYTHON": sys.executable}
    return subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def test_zip_has_the_grader_the_reference_and_pins(gradescope):
    names = set(gradescope["modes"])
    assert {"setup.sh", "run_autograder", "requirements.txt"} <= names
    assert gradescope["modes"]["run_autograder"] & 0o111 and gradescope["modes"]["setup.sh"] & 0o111
    package = "linclass/assignments/linear_classifiers/"
    for needed in ("autograder/run.py", "autograder/sandbox/process.py", "autograder/harness/child.py",
                   "autograder/harness/runtime.py", package + "grading.toml", package + "suite/conftest.py",
                   package + "shipped/data.py", "solutions/linear_classifiers/linear_svm.py",
                   "solutions/linear_classifiers/softmax.py", "assignments/source/linear_classifiers/svm.ipynb"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith("tests/")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # symlinked support modules are stored as files
    assert "assignments/source/linear_classifiers/data.py" in names
    pins = (gradescope["root"] / "source" / "requirements.txt").read_text().split()
    assert pins == pinned_requirements() and all("==" in p for p in pins)
    assert {p.split("==")[0].lower() for p in pins} >= {"numpy", "scikit-learn", "pytest", "nbformat"}
    # the same tree gives the same zip
    again = build_gradescope_zip(gradescope["root"] / "again.zip", ASSIGNMENT)
    assert again.read_bytes() == gradescope["zip"].read_bytes()


def test_bundle_modules_shadow_any_installed_copy(gradescope):
    source = gradescope["root"] / "source"
    out = subprocess.run([sys.executable, "-c", "import autograder, linclass, solutions.linear_classifiers as s; "
                          "print(autograder.__file__, linclass.__file__, s.__file__)"],
                         cwd=source, env={"PYTHONPATH": str(source), "PATH": os.environ["PATH"]},
                         capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).is_relative_to(source) for p in out), out


@pytest.mark.slow
def test_run_autograder_grades_a_submission_into_valid_results(gradescope, tmp_path):
    submission = write_mutant("softmax_no_max_shift", "softmax_loss_vectorized", tmp_path / "submission")
    proc = run_autograder(gradescope["root"], submission, tmp_path / "results")
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    validate_gradescope(results)
    assert 0 < results["score"] < sum(t["max_score"] for t in results["tests"]) == 100
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and all(t["tags"][0] == "softmax_loss_vectorized" for t in failed)
    assert any("softmax_no_max_shift" in t.get("extra_data", {}).get("misconceptions", []) for t in failed)
    assert results["extra_data"]["sandbox"]["level"] in ("full", "partial", "minimal")
    assert "Score" in proc.stdout  # the feedback goes to Gradescope's instructor-only stdout log
    # nothing written next to the submission or into the autograder source
    assert sorted(p.name for p in submission.iterdir()) == sorted(p.name for p in write_reference(tmp_path / "r")
                                                                   .iterdir())


@pytest.mark.slow
def test_run_autograder_accepts_a_single_uploaded_zip(gradescope, tmp_path):
    module_dir = write_reference(tmp_path / "modules")
    submission = tmp_path / "submission"
    submission.mkdir()
    with zipfile.ZipFile(submission / "hw1.zip", "w") as zf:
        for f in sorted(module_dir.iterdir()):
            zf.write(f, f"hw1/{f.name}")
    assert _submission_target(submission) == submission / "hw1.zip"
    proc = run_autograder(gradescope["root"], submission, tmp_path / "results")
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    validate_gradescope(results)
    assert sum(t["max_score"] for t in results["tests"]) == 100
    timed = "faster than naive"  # parent-measured wall time: may flip on a loaded machine
    assert all(t["status"] == "passed" for t in results["tests"] if timed not in t["name"])


def test_run_autograder_writes_a_notice_when_it_cannot_grade(gradescope, tmp_path):
    proc = run_autograder(gradescope["root"], tmp_path / "no-such-submission", tmp_path / "results")
    assert proc.returncode == 1
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    validate_gradescope(results)
    assert results["score"] == 0 and "could not grade" in results["output"]
    assert "Traceback" not in proc.stderr
    validate_gradescope(failure_results("x"))


# ------------------------------------------------------------------ GitHub Actions


def workflow_steps(path: Path) -> dict[str, dict]:
    doc = yaml.safe_load(path.read_text())
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as True
    assert "push" in on
    steps = doc["jobs"]["grade"]["steps"]
    return {s.get("id") or s.get("uses", "").split("@")[0]: s for s in steps}


def run_step(step: dict, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """Run a workflow step's `run:` script as the runner would (bash -e), with its `env:`."""
    step_env = {k: v for k, v in (step.get("env") or {}).items() if "${{" not in str(v)}
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=cwd, env={**env, **step_env},
                          capture_output=True, text=True, timeout=300)


def test_workflow_shape(tmp_path):
    path = write_github_workflow(tmp_path / "linclass.yml", ASSIGNMENT)
    assert path.read_text() == github_workflow(ASSIGNMENT) == GITHUB_WORKFLOW.replace("{assignment}", ASSIGNMENT.name)
    steps = workflow_steps(path)
    assert {"actions/checkout", "actions/setup-python", "install", "grade", "actions/upload-artifact"} <= set(steps)
    assert "secrets.LINCLASS_GRADER" in steps["install"]["env"]["LINCLASS_GRADER"]
    upload = steps["actions/upload-artifact"]
    assert "always()" in upload["if"] and "linclass-reports" in upload["with"]["path"]
    assert "linclass grade" in steps["grade"]["run"] and "--assignment linear_classifiers" in steps["grade"]["run"]


def test_workflow_install_step_fails_without_the_grader_secret(tmp_path):
    steps = workflow_steps(write_github_workflow(tmp_path / "wf.yml", ASSIGNMENT))
    proc = run_step(steps["install"], {"PATH": os.environ["PATH"]}, tmp_path)
    assert proc.returncode == 1 and "::error::" in proc.stdout and "LINCLASS_GRADER" in proc.stdout


@pytest.mark.slow
def test_workflow_grade_step_runs_locally_and_reports(tmp_path):
    """The `grade` step, run as GitHub would, on a student repository of notebooks."""
    steps = workflow_steps(write_github_workflow(tmp_path / "wf.yml", ASSIGNMENT))
    repo = tmp_path / "student-repo"
    shutil.copytree(ROOT / "examples" / "submissions" / "ada_complete", repo)
    (repo / "README.md").write_text("my linear classifiers\n")
    reports, summary = tmp_path / "runner-temp" / "linclass-reports", tmp_path / "summary.md"
    env = {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path),
           "GITHUB_WORKSPACE": str(repo), "GITHUB_STEP_SUMMARY": str(summary), "REPORTS": str(reports)}
    proc = run_step(steps["grade"], env, repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = sorted(reports.glob("*/results.json"))
    assert len(results) == 1
    validate_gradescope(json.loads(results[0].read_text()), LINCLASS_SCHEMA)
    assert "::notice title=linclass score::" in proc.stdout
    assert summary.read_text().startswith("# Feedback for")
    # the step fails only when grading cannot run
    broken = run_step(steps["grade"], {**env, "GITHUB_WORKSPACE": str(tmp_path / "missing")}, repo)
    assert broken.returncode != 0
