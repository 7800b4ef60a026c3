"""The trusted helper processes' exchange (autograder/helper_process.py): an answer is the
first line a helper prints, and no helper can keep the grader waiting past its timeout."""

from __future__ import annotations

import subprocess
import sys
import time

from autograder import helper_process


def _helper(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], bufsize=0, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def test_the_answer_is_the_first_line_and_the_helper_is_not_waited_for():
    process = _helper("import sys, time; order = sys.stdin.readline(); print(order.strip().upper(), flush=True); "
                      "print('later'); time.sleep(60)")
    start = time.monotonic()
    assert helper_process.answer(process, "ok\n", timeout=30) == "OK"
    assert time.monotonic() - start < 20  # (not the helper's 60 s after its answer)
    assert process.returncode is not None  # killed and reaped


def test_a_silent_helper_answers_none_at_its_timeout():
    process = _helper("import time; time.sleep(60)")
    start = time.monotonic()
    assert helper_process.answer(process, timeout=0.5) is None
    assert time.monotonic() - start < 20
    assert process.returncode is not None


def test_a_helper_that_never_reads_its_order_cannot_block_the_grader():
    process = _helper("import time; time.sleep(60)")  # a pipe holds 64 KB: 4 MB can never be written
    start = time.monotonic()
    assert helper_process.answer(process, "x" * (4 << 20), timeout=0.5) is None
    assert time.monotonic() - start < 20


def test_a_helper_that_ends_without_a_line_answers_none():
    assert helper_process.answer(_helper("import sys; sys.stdout.write('half a line'); sys.exit(1)")) is None
    assert helper_process.answer(None) is None
