"""The reports of one graded submission (DESIGN section 5).

- ``results.json``: Gradescope's autograder format (score, max_score, execution_time,
  output, tests[] with name, score, max_score, status, output, visibility, tags).
- ``junit.xml``: one testcase per check, for CI.
- ``feedback.md``: the student's view: points per part, then what failed and why, with the
  diagnosed misconceptions and their hints.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, Sequence

from .verdicts import not_attempted
from .written import TAG, Totals, total_text, written_record


def _order(grading) -> dict[str, int]:
    """Part name -> its place in the assignment (the order students meet the parts)."""
    return {name: i for i, name in enumerate(grading.assignment.spec.part_names)}


def test_name(outcome) -> str:
    """The test's display name, e.g. ``loss_naive: matches reference`` (part: check)."""
    return f"{outcome.part}: {outcome.check.replace('_', ' ')}"


def _misconception_text(outcome) -> str:
    if not outcome.misconceptions:
        return ""
    lines = ["", "Likely misconception" + ("s:" if len(outcome.misconceptions) > 1 else ":")]
    for m in outcome.misconceptions:
        lines.append(f"- {m.title}. Hint: {m.hint}")
    return "\n".join(lines)


def test_output(outcome) -> str:
    """The feedback text of one test (what happened, plus the diagnosis when there is one)."""
    return (outcome.output + _misconception_text(outcome)).strip()


def notes(grading) -> list[str]:
    """Submission-level notes: loading problems and tampering, in plain words."""
    submission = grading.submission
    found = [*map(str, submission.problems), *map(str, submission.tamper), *map(str, submission.notes),
             *getattr(grading, "notes", [])]
    if grading.internal_errors:
        found.append(f"{len(grading.internal_errors)} check(s) hit an internal grader error; they are marked failed.")
    return found


def part_totals(outcomes: Iterable, order: dict[str, int]) -> OrderedDict:
    """Points and maximum per part (slide checks count towards the part they call)."""
    totals: OrderedDict[str, list[float]] = OrderedDict()
    for o in sorted(outcomes, key=lambda o: order.get(o.part, len(order))):
        entry = totals.setdefault(o.part, [0.0, 0.0])
        entry[0] += o.score
        entry[1] += o.max_score
    return totals


def totals(grading, outcomes: Sequence) -> Totals:
    """The autograded points of ``outcomes`` and the written answers still to be graded."""
    record = written_record(grading.config.written)
    return Totals(sum(o.score for o in outcomes), sum(o.max_score for o in outcomes),
                  record.get("max_score", 0.0), record.get("questions", 0))


def results_json(grading, outcomes: Sequence, execution_time: float) -> dict:
    """The Gradescope ``results.json`` document.

    ``score`` and ``max_score`` are the tests' sums (the autograded checks, until
    ``linclass merge-manual`` adds the written answers as tests); the written answers still to
    be graded are described in ``extra_data["written"]`` (:mod:`autograder.written`).
    Each test is tagged with its part, then with its report tag when it has one (``slides``).
    """
    order = _order(grading)
    total = totals(grading, outcomes)
    header = [f"Student {grading.student_id}: {total_text(total)}."] + notes(grading)
    record = written_record(grading.config.written)
    return {
        "score": round(total.score, 4),
        "max_score": round(total.autograded_max, 4),
        "sandbox": grading.sandbox,
        "execution_time": round(execution_time, 3),
        "output": "\n".join(header),
        **({"extra_data": {TAG: record}} if record else {}),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": test_name(o),
                "score": round(o.score, 4),
                "max_score": round(o.max_score, 4),
                "status": o.status,
                "output": test_output(o),
                "visibility": "visible",
                "tags": list(dict.fromkeys([o.part, o.tag])),
                **({"extra_data": {"misconceptions": [m.id for m in o.misconceptions],
                                   "misconception_titles": [m.title for m in o.misconceptions]}}
                   if o.misconceptions else {}),
            }
            for o in sorted(outcomes, key=lambda o: (order.get(o.part, len(order)), o.tag != o.part))
        ],
    }


def junit_xml(grading, outcomes: Sequence, execution_time: float) -> bytes:
    """A JUnit XML document with one testcase per check."""
    failures = sum(o.status != "passed" for o in outcomes)
    suite = ET.Element("testsuite", name=f"linclass.{grading.student_id}", tests=str(len(outcomes)),
                       failures=str(failures), errors="0", time=f"{execution_time:.3f}")
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="score", value=f"{sum(o.score for o in outcomes):g}")
    ET.SubElement(props, "property", name="max_score", value=f"{sum(o.max_score for o in outcomes):g}")
    for o in outcomes:
        case = ET.SubElement(suite, "testcase", classname=o.part, name=o.check)
        if o.status != "passed":
            failure = ET.SubElement(case, "failure", message=o.output.splitlines()[0][:200] if o.output else "failed")
            failure.text = test_output(o)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)


def whole_part_reasons(outcomes: Iterable, order: dict[str, int]) -> OrderedDict:
    """Part -> (the one reason, its misconceptions) when it has nothing to fix check by check, else None.

    A part is said in one line when every failed check of it failed for the part as a whole
    (missing, its file did not load, ...), met the skeleton's ``raise NotImplementedError``
    in the part's own function ("not attempted (raises NotImplementedError)"), or got the same
    error from every call whatever its input (it exited, a forbidden operation, the same
    exception): the reason is said once.
    """
    failed: OrderedDict[str, list] = OrderedDict()
    for o in sorted(outcomes, key=lambda o: order.get(o.part, len(order))):
        failed.setdefault(o.part, [])
        if o.status != "passed":
            failed[o.part].append(o)
    reasons: OrderedDict[str, tuple[str, list] | None] = OrderedDict()
    for part, outs in failed.items():
        function = part.rpartition(".")[2]
        if outs and all(not_attempted(o.output) == function for o in outs):
            reasons[part] = ("not attempted (raises NotImplementedError)", [])
        elif outs and all(o.whole_part for o in outs) and len({o.output for o in outs}) == 1:
            reasons[part] = (outs[0].output, outs[0].misconceptions)
        elif len(outs) > 1 and not any(o.misconceptions for o in outs) and len({_error_of(o) for o in outs}) == 1:
            reasons[part] = (_error_of(outs[0]), [])  # the same error whatever the input: said once
        else:
            reasons[part] = None
    return reasons


def _error_of(outcome) -> str:
    """What a failed check's output says after the call it describes (``<what>: <error>``)."""
    return outcome.output.partition(": ")[2].strip() or outcome.output


def score_line(total: Totals) -> str:
    """The first line of feedback.md (``linclass merge-manual`` rewrites it with the TA's points)."""
    return f"**Score: {total_text(total)}**"


def written_rows(total: Totals) -> list[str]:
    """The written answers' row of feedback.md's table (none when the assignment has none)."""
    if not total.written_max:
        return []
    if total.pending:
        return [f"| {WRITTEN_ROW} | {total.written_max:g} points, to be graded by your instructor |"]
    return [f"| {WRITTEN_ROW} | {total.written:g} / {total.written_max:g} |"]


#: The first cell of the written answers' row in feedback.md.
WRITTEN_ROW = "written answers"


def feedback_md(grading, outcomes: Sequence) -> str:
    """The student's feedback in Markdown.

    A part that is missing, did not load or is not attempted is one line with its reason;
    the other failures are one section per check, with the diagnosed misconceptions.
    """
    lines = [f"# Feedback for {grading.student_id}", "", score_line(totals(grading, outcomes)), ""]
    for note in notes(grading):
        lines.append(f"> {note}")
    order = _order(grading)
    parts = part_totals(outcomes, order)
    lines += ["", "| part | points |", "|---|---|"]
    for part, (got, most) in parts.items():
        mark = "✅" if got == most else ("⚠️" if got else "❌")
        lines.append(f"| {part} | {got:g} / {most:g} {mark} |")
    lines += written_rows(totals(grading, outcomes))
    failed = [o for o in outcomes if o.status != "passed"]
    if failed:
        lines += ["", "## What to fix", ""]
        reasons = whole_part_reasons(outcomes, order)
        hinted: set[str] = set()
        for part, reason in reasons.items():
            if reason is not None:
                got, most = parts[part]
                text = reason[0].replace("\n", "\n  ")  # a multi-line reason stays inside its list item
                lines.append(f"- **{part}** ({got:g} / {most:g}): {text}")
                for m in reason[1]:
                    lines.append(f"  **Likely misconception: {m.title}.**" + ("" if m.id in hinted else f" {m.hint}"))
                    hinted.add(m.id)
        if any(r is not None for r in reasons.values()):
            lines.append("")
        said: set[tuple[str, str]] = set()
        for o in sorted(failed, key=lambda o: order.get(o.part, len(order))):
            if reasons.get(o.part) is not None:
                continue
            if o.whole_part:  # one entry per part and reason, not one per check
                if (o.part, o.output) in said:
                    continue
                said.add((o.part, o.output))
                got, most = parts[o.part]
                lines.append(f"### {o.part} ({got:g} / {most:g})")
            else:
                lines.append(f"### {test_name(o)} (0 / {o.max_score:g})")
            lines.append("")
            lines.append(o.output)
            for m in o.misconceptions:  # the hint once; later checks only name the misconception
                lines += ["", f"**Likely misconception: {m.title}.**" + ("" if m.id in hinted else f" {m.hint}")]
                hinted.add(m.id)
            lines.append("")
    else:
        lines += ["", "Every check passed."]
    return "\n".join(lines) + "\n"


def _umask() -> int:
    """The process's umask, read without changing it where /proc allows (022 otherwise)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a report is never half-written.

    The file gets the mode of any file the grader creates (0644 under the usual umask, like
    grader.log), not mkstemp's private 0600: the course's group reads the reports.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.fchmod(fd, 0o666 & ~_umask())
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_reports(out_dir: Path, grading, outcomes: Sequence, execution_time: float) -> dict:
    """Write results.json, junit.xml and feedback.md into ``out_dir``; return the results dict."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results = results_json(grading, outcomes, execution_time)
    if grading.internal_errors:
        atomic_write(out_dir / "grader-errors.log", "\n\n".join(grading.internal_errors).encode())
    atomic_write(out_dir / "junit.xml", junit_xml(grading, outcomes, execution_time))
    atomic_write(out_dir / "feedback.md", feedback_md(grading, outcomes).encode())
    atomic_write(out_dir / "results.json", json.dumps(results, indent=2).encode())  # last: marks completion
    return results
