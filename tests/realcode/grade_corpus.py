"""Grade the real CS231n submissions of ``manifest.json`` and list every part that lost points.

Restores the corpus (``restore.py``) into a temporary folder, runs ``linclass grade`` of a
kit on it, and prints one row per (entry, part) that did not get full marks, followed by
each failing check of that part with the first line of its output::

    python tests/realcode/grade_corpus.py --layout flat --kit /path/to/frozen/kit --out build/realcode

Checks that fail only because the student does not write that module (CS231n ships
``gradient_check.py``; ``tuning.py`` is not a CS231n file) are left out.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import restore

REPO = Path(__file__).resolve().parents[2]
#: The check scores of the last triaged run, per layout (``--record``): a change of grade on real
#: code is found by ``--expect`` and then triaged, never absorbed silently.
EXPECTED = Path(__file__).with_name("expected_scores.json")
MISSING = re.compile(r"\(no module (\S+?)\.py\)")


def lost_points(results: dict, handed_in: set[str]) -> dict[str, list]:
    """Points lost per part (tag), leaving out checks of modules the student does not hand in.

    Parameters
    ----------
    results : dict
        A Gradescope ``results.json``.
    handed_in : set of str
        Module file names the entry has (``linear_svm.py``, ...).

    Returns
    -------
    dict
        part -> [points lost, points possible, [(failing check, first line of its output), ...]].
    """
    parts: dict[str, list] = {}
    for test in results.get("tests", []):
        output = test.get("output") or ""
        missing = MISSING.search(output)
        if missing and missing.group(1) + ".py" not in handed_in:
            continue
        for tag in test.get("tags") or ["(untagged)"]:
            row = parts.setdefault(tag, [0.0, 0.0, []])
            row[1] += test["max_score"]
            lost = test["max_score"] - test["score"]
            if lost > 1e-9:
                row[0] += lost
                row[2].append((test["name"], output.strip().splitlines()[0] if output.strip() else "(no output)"))
    return {tag: row for tag, row in parts.items() if row[0] > 1e-9}


def run_grader(kit: Path, paths: list[Path], out: Path, jobs: int) -> None:
    """``linclass grade`` of ``kit`` on ``paths``, reports in ``out``."""
    linclass = kit / ".venv" / "bin" / "linclass"
    if not linclass.exists():
        raise SystemExit(f"{linclass} not found: run `make demo` in {kit} first")
    cmd = [str(linclass), "grade", *map(str, paths), "--out", str(out), "--jobs", str(jobs), "--force"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"linclass grade failed ({proc.returncode}):\n{proc.stderr[-2000:]}")


def report(entries: list[dict], out: Path) -> tuple[list[str], dict[str, float]]:
    """The table rows of lost points, and each entry's total score."""
    rows = [f"{'entry':58} {'part':26} lost/max", "    failing check: first line of its output"]
    totals: dict[str, float] = {}
    for entry in entries:
        path = out / entry["id"] / "results.json"
        if not path.exists():
            rows.append(f"{entry['id']:58} {'(not graded)':26}")
            continue
        results = json.loads(path.read_text(encoding="utf-8"))
        totals[entry["id"]] = results.get("score", 0.0)
        for tag, (lost, possible, failing) in sorted(lost_points(results, set(entry["files"])).items()):
            rows.append(f"{entry['id']:58} {tag:26} {lost:4g}/{possible:g}")
            rows.extend(f"    {name}: {line[:160]}" for name, line in failing)
    return rows, totals


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns 0 when grading ran."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kit", type=Path, default=REPO, help="the linclass checkout to grade with (its .venv)")
    parser.add_argument("--layout", choices=restore.LAYOUTS, default="flat")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--out", type=Path, help="report folder (default: a temporary one, kept)")
    parser.add_argument("--only", help="comma-separated entry ids")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--expect", type=Path, nargs="?", const=EXPECTED,
                        help="exit 3 when any check scores otherwise than recorded in this file "
                        f"(given alone: {EXPECTED.relative_to(REPO)})")
    parser.add_argument("--record", type=Path, nargs="?", const=EXPECTED,
                        help="write the graded entries' check scores into this file (the same default)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix=f"realcode-{args.layout}-"))
    out.mkdir(parents=True, exist_ok=True)
    entries = restore.load_manifest(only=args.only)
    with tempfile.TemporaryDirectory(prefix="realcode-subs-") as tmp:
        dest = Path(tmp)
        restored = []
        for entry in entries:
            try:
                for note in restore.restore(entry, args.mirrors, dest, args.layout):
                    print(f"{entry['id']}: {note}")
            except restore.RestoreError as exc:
                print(exc)
                continue
            restored.append(entry)
        if not restored:
            print("nothing restored")
            return 1
        suffix = ".zip" if args.layout.startswith("zip-") else ""
        run_grader(args.kit, [dest / f"{e['id']}{suffix}" for e in restored], out, args.jobs)
    rows, totals = report(restored, out)
    print(f"layout {args.layout}: {len(restored)} of {len(entries)} entries graded by {args.kit}; reports in {out}")
    print("\n".join(rows))
    print(f"\n{'entry':58} score")
    for entry_id, score in totals.items():
        print(f"{entry_id:58} {score:g}")
    scores = check_scores(restored, out)
    code = 0
    if args.expect:  # (read before any --record rewrites the file)
        expected = unpacked(json.loads(args.expect.read_text()).get(args.layout))
        ids = [e["id"] for e in (restored if args.only else entries)]  # an entry not restored is a change too
        changes = compare({i: expected.get(i, {}) for i in ids}, scores)
        print(f"\n{len(changes)} check score(s) differ from {args.expect} ({args.layout})")
        print("\n".join(changes))
        code = 3 if changes else 0
    if args.record:
        recorded = json.loads(args.record.read_text()) if args.record.exists() else {}
        table = {**unpacked(recorded.get(args.layout)), **scores}  # (entries not graded now keep their record)
        recorded[args.layout] = packed(table)
        args.record.write_text(json.dumps(recorded, indent=0, sort_keys=True) + "\n")
        print(f"recorded {len(scores)} entries' check scores ({args.layout}) in {args.record}")
    return code


def packed(scores: dict[str, dict[str, float]]) -> dict:
    """``scores`` as one list of check names and, per entry, its scores in that order (None: no such check)."""
    names = sorted({name for checks in scores.values() for name in checks})
    return {"checks": names, "scores": {e: [checks.get(n) for n in names] for e, checks in scores.items()}}


def unpacked(table: dict | None) -> dict[str, dict[str, float]]:
    """The inverse of :func:`packed` ({} for no table)."""
    if not table:
        return {}
    names = table["checks"]
    return {e: {n: v for n, v in zip(names, values) if v is not None} for e, values in table["scores"].items()}


def check_scores(entries: list[dict], out: Path) -> dict[str, dict[str, float]]:
    """{entry id: {check name: score}} of every graded entry (our grades, never the entries' code)."""
    scores = {}
    for entry in entries:
        path = out / entry["id"] / "results.json"
        if path.exists():
            scores[entry["id"]] = {t["name"]: t["score"] for t in json.loads(path.read_text())["tests"]}
    return scores


def compare(expected: dict, scores: dict) -> list[str]:
    """One line per check whose score differs from ``expected`` (or is missing on either side)."""
    lines = []
    for entry_id in sorted(set(expected) | set(scores)):
        want, got = expected.get(entry_id, {}), scores.get(entry_id, {})
        for name in sorted(set(want) | set(got)):
            if want.get(name) != got.get(name):
                lines.append(f"  {entry_id}: {name}: recorded {want.get(name)}, now {got.get(name)}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
