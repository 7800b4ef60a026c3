"""The grading config and the grading suite describe the same checks, both ways."""

from __future__ import annotations

import ast

import pytest
from kit import ASSIGNMENT, DEFAULT_CONFIG, PARTS_BY_NAME

from autograder.config import load_config, tomllib
from autograder.sandbox.limits import Limits
from linclass.errors import LinclassError

SUITE = ASSIGNMENT.suite_dir


def suite_checks() -> set[str]:
    """Every "<part>::<check>" the suite defines, read from its source (nothing is run)."""
    found = set()
    for path in SUITE.glob("test_*.py"):
        tree = ast.parse(path.read_text())
        constants = {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                     for t in node.targets if isinstance(t, ast.Name) and _literal(node.value)}
        for node in tree.body:
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "parametrize":
                    parts = _evaluate(deco.args[1], constants)
                    found |= {f"{p}::{node.name.removeprefix('test_')}" for p in parts}
    return found


def _literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except ValueError:
        return False


def _evaluate(node: ast.AST, constants: dict):
    if isinstance(node, ast.Name):
        if node.id in constants:
            return constants[node.id]
        return getattr(ASSIGNMENT.module("reference"), node.id)
    if isinstance(node, ast.BinOp):
        return tuple(_evaluate(node.left, constants)) + tuple(_evaluate(node.right, constants))
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_evaluate(e, constants) for e in node.elts)
    return ast.literal_eval(node)


def test_every_check_has_points_and_every_point_a_check():
    config = load_config(ASSIGNMENT)
    checks = suite_checks()
    assert checks, "no checks found in the grading suite"
    assert checks - set(config.points) == set(), "checks without points in grading.toml"
    assert set(config.points) - checks == set(), "points in grading.toml for checks the suite does not have"


def test_every_check_belongs_to_a_part():
    assert {c.split("::")[0] for c in suite_checks()} <= set(PARTS_BY_NAME)


def test_every_part_is_graded():
    assert {c.split("::")[0] for c in suite_checks()} == set(PARTS_BY_NAME)


def test_total_is_100_points():
    assert sum(load_config(ASSIGNMENT).points.values()) == 100


def test_thresholds_are_stated():
    thresholds = load_config(ASSIGNMENT).thresholds
    assert {"train_val_accuracy", "tune_val_accuracy", "vectorized_min_speedup"} <= set(thresholds)


def test_broken_config_is_one_clear_error(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[points\n")
    with pytest.raises(LinclassError, match="not valid TOML"):
        load_config(ASSIGNMENT, bad)
    with pytest.raises(LinclassError, match="not found"):
        load_config(ASSIGNMENT, tmp_path / "nope.toml")


def test_missing_points_for_a_check_is_reported():
    with pytest.raises(LinclassError, match="no points for check 'svm_loss_naive::nonexistent'"):
        load_config(ASSIGNMENT, DEFAULT_CONFIG).points_for("svm_loss_naive", "nonexistent")


@pytest.mark.parametrize("text, message", [
    ("[limit]\ncall_seconds = 1\n", "unknown table \\[limit\\]"),
    ("[limits]\ncall_second = 1\n", "unknown key 'call_second' in \\[limits\\]"),
    ("[limits]\nmemory_mb = -1\n", "\\[limits\\] memory_mb must be a number >= 0"),
    ("[thresholds]\ntrain_accuracy = 0.5\n", "unknown key 'train_accuracy' in \\[thresholds\\]"),
    ("[conventions]\nregularization = 'double'\n", "regularization must be one of full, half"),
    ("[course]\nseed = 1\n", "unknown key 'seed' in \\[course\\]"),
    ("[points]\n'svm_loss::values' = 1\n", "is not '<part>::<check>'"),
])
def test_an_unknown_or_wrong_setting_is_named(tmp_path, text, message):
    """A course's config is validated when it loads: a typo is never silently dropped."""
    path = tmp_path / "grading.toml"
    path.write_text(text)
    with pytest.raises(LinclassError, match=message):
        load_config(ASSIGNMENT, path)


def test_a_course_file_changes_only_what_it_names(tmp_path):
    path = tmp_path / "grading.toml"
    path.write_text("[limits]\ncall_seconds = 3\n[conventions]\nregularization = 'half'\n")
    config, default = load_config(ASSIGNMENT, path), load_config(ASSIGNMENT)
    assert config.limits == Limits(call_seconds=3.0)
    assert config.conventions == {"regularization": "half"}
    assert (config.points, config.thresholds, config.written) == (default.points, default.thresholds, default.written)


def test_the_limit_defaults_are_written_once():
    """The assignment's file sets no limit: the defaults are Limits' own."""
    assert load_config(ASSIGNMENT).limits == Limits()
    assert "limits" not in tomllib.loads(DEFAULT_CONFIG.read_text())
