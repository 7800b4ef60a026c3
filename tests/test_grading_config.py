"""The grading config and the grading suite describe the same checks, both ways."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from autograder.config import DEFAULT_CONFIG, load_config
from linclass.assignment import PARTS_BY_NAME
from linclass.errors import LinclassError

SUITE = Path(__file__).resolve().parents[1] / "autograder" / "suite"


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
        from autograder import reference

        return getattr(reference, node.id)
    if isinstance(node, ast.BinOp):
        return tuple(_evaluate(node.left, constants)) + tuple(_evaluate(node.right, constants))
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_evaluate(e, constants) for e in node.elts)
    return ast.literal_eval(node)


def test_every_check_has_points_and_every_point_a_check():
    config = load_config()
    checks = suite_checks()
    assert checks, "no checks found in the grading suite"
    assert checks - set(config.points) == set(), "checks without points in config.toml"
    assert set(config.points) - checks == set(), "points in config.toml for checks the suite does not have"


def test_every_check_belongs_to_a_part():
    assert {c.split("::")[0] for c in suite_checks()} <= set(PARTS_BY_NAME)


def test_every_part_is_graded():
    assert {c.split("::")[0] for c in suite_checks()} == set(PARTS_BY_NAME)


def test_total_is_100_points():
    assert sum(load_config().points.values()) == 100


def test_thresholds_are_stated():
    thresholds = load_config().thresholds
    assert {"train_val_accuracy", "tune_val_accuracy", "vectorized_min_speedup"} <= set(thresholds)


def test_broken_config_is_one_clear_error(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[points\n")
    with pytest.raises(LinclassError, match="not valid TOML"):
        load_config(bad)
    bad.write_text("[limits]\ncall_seconds = 1\n")
    with pytest.raises(LinclassError, match="missing the \\[points\\] table"):
        load_config(bad)
    with pytest.raises(LinclassError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_missing_points_for_a_check_is_reported():
    with pytest.raises(LinclassError, match="no points for check 'svm_loss_naive::nonexistent'"):
        load_config(DEFAULT_CONFIG).points_for("svm_loss_naive", "nonexistent")
