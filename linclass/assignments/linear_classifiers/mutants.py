"""One-bug submissions in the CS231n module layout, generated from the misconception catalog.

A mutant is the reference submission (the reference's module files) with exactly one
function or method replaced by a buggy version.  The buggy code is not hand-copied: for a
catalog entry with a variant, the replacement is a thin wrapper with the part's name and
signature around the catalog's parametrized implementation, whose source is appended to the
module (``inspect.getsource``), so mutants and diagnosis share one source of truth.  The
behavioural entries (no variant) are small edits of the reference function, listed in
:data:`EDITS`.  An edit matches the reference by its tokens, not its characters, so the
reference can be reformatted (line breaks, spacing, comments) without breaking it.

The files are standalone: they import numpy (and each other) only, never ``solutions``,
``autograder`` or ``linclass``, so they run in the sandbox like any student submission.  A
mutant of a naive loss loops over the examples like a naive solution would (its speed is then
comparable to the reference's naive version); a mutant of a vectorized loss has no loops.

``linear_classifier.py`` imports the loss functions with a relative import inside a package
and falls back to a plain import for module files side by side, so both ways of loading a
flat submission work.
"""

from __future__ import annotations

import ast
import functools
import inspect
import io
import re
import tokenize
from pathlib import Path

from linclass.assignment import Assignment, load_assignment

from . import misconceptions as catalog
from .misconceptions import LossVariant, Variant

_SAMPLE = "batch = rng.choice(num_train, size=batch_size, replace=True)"

#: Behavioural misconceptions as edits of the reference: id -> {part: [(old, new), ...]}.
#: Each ``old`` must occur exactly once in the reference function's tokens (see :func:`edit`).
EDITS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "loss_modifies_w": {
        "svm_loss_vectorized": [
            ("dW = X.T @ (dscores / num_train) + 2 * reg * W",
             "dW = W\n    dW *= 2 * reg\n    dW += X.T @ (dscores / num_train)"),
        ],
        "softmax_loss_vectorized": [
            ("dW = X.T @ (dscores / num_train) + 2 * reg * W",
             "dW = W\n    dW *= 2 * reg\n    dW += X.T @ (dscores / num_train)"),
        ],
    },
    "transposed_layout": {"svm_loss_vectorized": [
        ("    num_train = X.shape[0]\n    rows", "    W, X = W.T, X.T  # written for W (C, D) and X (D, N)\n"
         "    num_train = X.shape[0]\n    rows"),
        ("    return float(loss), dW", "    return float(loss), dW.T"),
    ]},
    "sgd_ascent": {"LinearClassifier.train": [
        ("self.W = self.W - learning_rate * grad", "self.W = self.W + learning_rate * grad"),
    ]},
    "sgd_reused_minibatch": {"LinearClassifier.train": [
        ("            " + _SAMPLE + "\n", ""),
        ("loss_history = []\n", "loss_history = []\n        " + _SAMPLE + "\n"),
    ]},
    "sgd_first_rows_only": {"LinearClassifier.train": [
        (_SAMPLE, "batch = np.arange(min(batch_size, num_train))"),
    ]},
    "sgd_reinitializes_w": {"LinearClassifier.train": [
        ("if self.W is None:\n            self.W = 0.001", "self.W = 0.001"),
    ]},
    "sgd_ignores_reg": {"LinearClassifier.train": [
        ("self.loss(X[batch], y[batch], reg)", "self.loss(X[batch], y[batch], 0.0)"),
    ]},
    "sgd_classes_from_unique": {"LinearClassifier.train": [
        ("num_classes = int(np.max(y)) + 1", "num_classes = len(np.unique(y))"),
    ]},
    "sgd_init_unscaled": {"LinearClassifier.train": [
        ("self.W = 0.001 * rng.standard_normal", "self.W = rng.standard_normal"),
    ]},
    "sgd_ignores_seed": {"LinearClassifier.train": [
        ("rng = np.random.default_rng(seed)", "rng = np.random.default_rng()"),
    ]},
    "sgd_history_missing": {"LinearClassifier.train": [
        ("return loss_history", "return None"),
    ]},
    "sgd_one_step_short": {"LinearClassifier.train": [
        ("for it in range(num_iters):", "for it in range(num_iters - 1):"),
    ]},
    "classifier_wrong_loss": {
        "LinearSVM.loss": [("return svm_loss_vectorized(", "return softmax_loss_vectorized(")],
        "Softmax.loss": [("return softmax_loss_vectorized(", "return svm_loss_vectorized(")],
    },
    "predict_wrong_axis": {"LinearClassifier.predict": [
        ("np.argmax(X @ self.W, axis=1)", "np.argmax(X @ self.W, axis=0)"),
    ]},
    "predict_float_labels": {"LinearClassifier.predict": [
        ("np.argmax(X @ self.W, axis=1)", "np.argmax(X @ self.W, axis=1).astype(np.float64)"),
    ]},
    "tune_selects_by_train": {"tune_hyperparameters": [
        ("best_model, best_val_accuracy = None, -1.0", "best_model, best_val_accuracy, best_train = None, -1.0, -1.0"),
        ("if val_accuracy > best_val_accuracy:\n                best_model, best_val_accuracy = model, val_accuracy",
         "if train_accuracy > best_train:\n"
         "                best_model, best_val_accuracy, best_train = model, val_accuracy, train_accuracy"),
    ]},
    "tune_returns_last_model": {"tune_hyperparameters": [
        ("if val_accuracy > best_val_accuracy:\n                best_model, best_val_accuracy = model, val_accuracy",
         "if val_accuracy > best_val_accuracy:\n                best_val_accuracy = val_accuracy\n"
         "            best_model = model"),
    ]},
    "tune_results_swapped": {"tune_hyperparameters": [
        ("            results[(lr, reg)] = (train_accuracy, val_accuracy)",
         "            results[(lr, reg)] = (val_accuracy, train_accuracy)"),
    ]},
    "tune_ignores_num_iters": {"tune_hyperparameters": [
        ("num_iters=num_iters, batch_size=batch_size, seed=seed", "seed=seed"),
    ]},
    "tune_reuses_model": {"tune_hyperparameters": [
        ("            model = model_cls()\n", ""),
        ("    results = {}\n", "    results = {}\n    model = model_cls()\n"),
    ]},
    "tune_ignores_hyperparameters": {"tune_hyperparameters": [
        ("learning_rate=lr, reg=reg,", ""),
    ]},
}

#: Misconceptions whose mutant replaces a part by another reference function under the part's
#: name: id -> {part: the reference function that stands in}.  A vectorized loss that is the
#: naive loop is correct in value and wrong in kind.
STAND_INS: dict[str, dict[str, str]] = {
    "vectorized_with_loops": {"svm_loss_vectorized": "svm_loss_naive",
                              "softmax_loss_vectorized": "softmax_loss_naive"},
}


def _mutant_list() -> list[tuple[str, str]]:
    pairs = []
    for m in catalog.CATALOG:
        if m.variant is not None:
            pairs += [(m.id, part) for part in m.parts]
        else:
            pairs += [(m.id, part) for part in {**EDITS, **STAND_INS}.get(m.id, {})]
    return pairs


#: Every (misconception id, part) pair a mutant can be generated for, in catalog order.
MUTANTS: list[tuple[str, str]] = _mutant_list()


# --------------------------------------------------------------------------------------------
# Reference sources.
# --------------------------------------------------------------------------------------------


@functools.cache
def _assignment() -> Assignment:
    return load_assignment(Path(__file__).resolve().parent)


_RELATIVE_IMPORT = re.compile(r"^from \.(\w+) import (.+)$", re.MULTILINE)


def _portable_imports(source: str) -> str:
    """Relative imports inside a package, with a plain-import fallback for side-by-side files."""
    return _RELATIVE_IMPORT.sub(
        lambda m: (f"try:  # inside a package\n    from .{m[1]} import {m[2]}\n"
                   f"except ImportError:  # module files side by side\n    from {m[1]} import {m[2]}"),
        source)


def reference_sources() -> dict[str, str]:
    """File name -> source text of the reference submission in the module layout."""
    assignment = _assignment()
    return {f"{module}.py": _portable_imports((assignment.reference_dir / f"{module}.py").read_text())
            for module in assignment.spec.modules}


def write_reference(dest: Path) -> Path:
    """Write the correct module-layout submission into ``dest`` (created if needed); return it."""
    return _write(reference_sources(), Path(dest))


# --------------------------------------------------------------------------------------------
# Mutants.
# --------------------------------------------------------------------------------------------


def _definition(tree: ast.Module, part: str) -> ast.FunctionDef:
    """The ``def`` of a part: a top-level function, or ``Class.method``."""
    names = part.split(".")
    body = tree.body
    for depth, name in enumerate(names):
        kinds = (ast.FunctionDef,) if depth == len(names) - 1 else (ast.ClassDef,)
        node = next((n for n in body if isinstance(n, kinds) and n.name == name), None)
        if node is None:
            raise KeyError(f"no definition of {part} in the reference")
        body = node.body
    return node


def _span(tree: ast.Module, part: str) -> tuple[int, int]:
    """The line range (0-based start, end) of a part's definition, decorators included."""
    node = _definition(tree, part)
    return min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1, node.end_lineno


def _options(options: tuple[tuple[str, object], ...]) -> str:
    return "".join(f", {name}={value!r}" for name, value in options)


_LOSS_VECTORIZED = '''\
def {name}(W, X, y, reg):
    """One-bug mutant `{id}`: {title}."""
    row_losses, dscores = {core}(X @ W, y{core_options})
    return _finish(W, row_losses, X.T @ dscores, reg{finish_options})
'''

_LOSS_NAIVE = '''\
def {name}(W, X, y, reg):
    """One-bug mutant `{id}`: {title}.

    Loops over the examples like a naive solution.
    """
    num_train, num_classes = X.shape[0], W.shape[1]
    scores = np.zeros((num_train, num_classes))
    for i in range(num_train):
        scores[i] = X[i] @ W
    row_losses, dscores = {core}(scores, y{core_options})
    dW = np.zeros(W.shape)
    for i in range(num_train):
        for j in range(num_classes):
            dW[:, j] += dscores[i, j] * X[i]
    return _finish(W, row_losses, dW, reg{finish_options})
'''


def _replacement(m: catalog.Misconception, part: str, node: ast.FunctionDef) -> tuple[str, list]:
    """Source of the buggy wrapper for ``part`` and the catalog helpers it calls."""
    variant = m.variant
    if isinstance(variant, LossVariant):
        template = _LOSS_NAIVE if part.endswith("_naive") else _LOSS_VECTORIZED
        source = template.format(name=node.name, id=m.id, title=m.title, core=variant.core.__name__,
                                 core_options=_options(variant.core_options),
                                 finish_options=_options(variant.finish_options))
        return source, [variant.core, catalog._finish]
    if isinstance(variant, Variant):
        names = [a.arg for a in node.args.args]
        call = ", ".join(f"{n}={n}" for n in names)
        source = (f"def {node.name}({ast.unparse(node.args)}):\n"
                  f'    """One-bug mutant `{m.id}`: {m.title}."""\n'
                  f"    return {variant.func.__name__}({call}{_options(variant.options)})\n")
        return source, [variant.func]
    raise ValueError(f"{m.id} has no variant to build a mutant from")


_LAYOUT = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER}


def _tokens(code: str) -> list[tuple[str, int, int]]:
    """(text, start, end) of each significant token of ``code``, as offsets into it.

    A fragment that stops inside a bracket (``"return f("``) keeps the tokens read so far.
    """
    starts = [0]
    for line in code.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    found = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type not in _LAYOUT:
                found.append((tok.string, starts[tok.start[0] - 1] + tok.start[1], starts[tok.end[0] - 1] + tok.end[1]))
    except (tokenize.TokenError, IndentationError):
        pass
    return found


def edit(source: str, old: str, new: str) -> str:
    """``source`` with the one token sequence of ``old`` replaced by ``new``.

    ``old`` and ``new`` are written against the reference as it reads: the whitespace that both
    begin (or end) with is layout, not part of the change.  Removing whole lines removes them.

    Raises
    ------
    ValueError
        ``old`` does not occur exactly once.
    """
    words, have = [t[0] for t in _tokens(old)], _tokens(source)
    hits = [i for i in range(len(have) - len(words) + 1) if [t[0] for t in have[i:i + len(words)]] == words]
    if not words or len(hits) != 1:
        raise ValueError(f"the edit {old!r} occurs {len(hits)} times in the reference, not once")
    start, end = have[hits[0]][1], have[hits[0] + len(words) - 1][2]
    lead, trail = old[:len(old) - len(old.lstrip())], old[len(old.rstrip()):]
    core = new[len(lead):] if new.startswith(lead) else new
    core = core[:len(core) - len(trail)] if trail and core.endswith(trail) else core
    if not core.strip():
        line_start, line_end = source.rfind("\n", 0, start) + 1, source.find("\n", end)
        line_end = len(source) if line_end < 0 else line_end + 1
        if not source[line_start:start].strip() and not source[end:line_end].strip():
            return source[:line_start] + source[line_end:]
    return source[:start] + core + source[end:]


def _edited(misconception_id: str, part: str, segment: str) -> str:
    for old, new in EDITS[misconception_id][part]:
        try:
            segment = edit(segment, old, new)
        except ValueError as exc:
            raise ValueError(f"{misconception_id}, {part}: {exc}") from None
    return segment


def mutant_sources(misconception_id: str, part: str) -> dict[str, str]:
    """File name -> source text of the one-bug submission for (misconception, part)."""
    if (misconception_id, part) not in MUTANTS:
        raise KeyError(f"no mutant for ({misconception_id!r}, {part!r})")
    m = catalog.by_id(misconception_id)
    filename = f"{_assignment().spec.part(part).module}.py"
    sources = reference_sources()
    text = sources[filename]
    node = _definition(ast.parse(text), part)
    lines = text.splitlines(keepends=True)
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
    segment = "".join(lines[start:node.end_lineno])
    if m.id in STAND_INS:
        stand_in = STAND_INS[m.id][part]
        source = "".join(lines[_span(ast.parse(text), stand_in)[0]:_span(ast.parse(text), stand_in)[1]])
        new, helpers = re.sub(rf"\bdef {stand_in}\(", f"def {node.name}(", source, count=1), []
    elif m.variant is None:
        new, helpers = _edited(m.id, part, segment), []
    else:
        new, helpers = _replacement(m, part, node)
        new = "".join(" " * node.col_offset + line if line.strip() else line for line in new.splitlines(True))
    text = "".join(lines[:start]) + new + "".join(lines[node.end_lineno:])
    if helpers:
        text = text.rstrip("\n") + "\n\n\n# Helpers of the one-bug mutant (from the misconception catalog).\n"
        text += "\n\n".join(inspect.getsource(h) for h in helpers)
    sources[filename] = text
    return sources


def write_mutant(misconception_id: str, part: str, dest: Path) -> Path:
    """Write the one-bug module-layout submission for (misconception, part) into ``dest``; return it."""
    return _write(mutant_sources(misconception_id, part), Path(dest))


def _write(sources: dict[str, str], dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        (dest / name).write_text(text)
    return dest
