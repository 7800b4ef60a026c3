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
    return 0


if __name__ == "__main__":
    sys.exit(main())
