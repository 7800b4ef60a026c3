"""The sandboxed student process: the reference works; hostile code gains nothing and leaves nothing."""

from __future__ import annotations

import shutil
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from kit import ASSIGNMENT, with_source
from kit import REFERENCE_DIR as SOLUTIONS

from autograder.harness import wire
from autograder.sandbox.process import Limits, StudentProcess, running_with_marker
from autograder.submission import load_submission
from solutions.linear_classifiers.linear_svm import svm_loss_vectorized

FAST = Limits(call_seconds=5.0, cpu_seconds_total=60.0, memory_mb=1024)


def make_student(tmp_path: Path, files: dict[str, str], name: str = "student") -> Path:
    root = tmp_path / name
    root.mkdir()
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return root


def start(tmp_path: Path, files: dict[str, str], limits: Limits = FAST) -> StudentProcess:
    return StudentProcess(load_submission(make_student(tmp_path, files), ASSIGNMENT), ASSIGNMENT, limits)


def finish(sp: StudentProcess) -> None:
    """Close, then: nothing of this sandbox runs and its directory is gone."""
    sandbox = sp.dir
    sp.close()
    assert sp.leftovers() == []
    assert not sandbox.exists()


@pytest.fixture
def reference(tmp_path):
    root = tmp_path / "reference"
    shutil.copytree(SOLUTIONS, root, ignore=shutil.ignore_patterns("__pycache__"))
    sp = StudentProcess(load_submission(root, ASSIGNMENT), ASSIGNMENT, FAST)
    yield sp
    finish(sp)


def small_problem(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((5, 3)), rng.standard_normal((8, 5)), rng.integers(0, 3, 8)


# ------------------------------------------------------------------ the reference


def test_reference_loads_and_answers(reference):
    assert all(status == "ok" for status in reference.load_report.values())
    W, X, y = small_problem()
    result = reference.call("svm_loss_vectorized", W, X, y, 0.1)
    assert result.ok and result.error is None
    loss, dW = result.value
    ref_loss, ref_dW = svm_loss_vectorized(W, X, y, 0.1)
    assert loss == pytest.approx(ref_loss) and np.allclose(dW, ref_dW)
    assert [a is None for a in result.inputs_after] == [False, False, False, True]
    assert np.array_equal(result.inputs_after[0], W)


def test_reference_call_many_method_and_callables(reference):
    W, X, y = small_problem()
    many = reference.call_many("svm_loss_naive", [(W, X, y, 0.0), (W, X, y, 1.0)])
    assert [r.ok for r in many] == [True, True] and many[1].value[0] > many[0].value[0]
    method = reference.method("LinearSVM", "predict", X, set={"W": W}, get=("W",))
    assert np.array_equal(method.value["result"], np.argmax(X @ W, axis=1))
    assert np.array_equal(method.value["W"], W)
    spec = {"__callable__": "elementwise", "a": np.ones(3), "b": np.zeros(3)}
    grad = reference.call("eval_numerical_gradient", spec, np.array([1.0, 2.0, 3.0]))
    assert np.allclose(grad.value, [2.0, 4.0, 6.0])
    loss_spec = {"__callable__": "student_loss", "target": "svm_loss_vectorized", "X": X, "y": y, "reg": 0.1}
    num = reference.call("eval_numerical_gradient", loss_spec, W.copy())
    assert np.allclose(num.value, svm_loss_vectorized(W, X, y, 0.1)[1], atol=1e-6)


def test_reference_probes(reference):
    """The assignment's requests (its harness_ops.py), served in the student process."""
    W, X, y = small_problem()
    fields = {"X": X, "y": y, "W0": None, "record": True,
              "kwargs": {"learning_rate": 0.1, "reg": 0.0, "num_iters": 3, "batch_size": 4, "seed": 0}}
    trace = reference.request("probe_train", "LinearClassifier.train", fields, args=[X, y]).value
    assert len(trace["W_seen"]) == 3 and len(trace["history"]) == 3
    assert all(len(b) == 4 and (b >= 0).all() for b in trace["batches"])
    assert trace["regs"] == [0.0, 0.0, 0.0] and trace["W_final"].shape == (X.shape[1], 3)
    unknown = reference.request("no_such_request", "LinearClassifier.train", {})
    assert not unknown.ok and unknown.error.kind == "protocol"


# ------------------------------------------------------------------ failures of student code

LOOP = "def rel_error(x, y):\n    while True:\n        pass\n"


def test_exception_is_reported_with_student_frames_only(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": """
        def helper(x):
            raise ValueError("shapes (3,4) and (5,3) not aligned")
        def rel_error(x, y):
            return helper(x)
    """})
    result = sp.call("rel_error", np.ones(2), np.ones(2))
    assert not result.ok and result.error.kind == "exception"
    assert result.error.message == "ValueError: shapes (3,4) and (5,3) not aligned"
    assert "gradient_check.py" in result.error.detail and "child.py" not in result.error.detail
    assert sp.call("svm_loss_naive").error.kind == "missing"
    finish(sp)


def test_exception_whose_str_raises(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": """
        class Nasty(Exception):
            def __str__(self):
                raise RuntimeError("gotcha")
        def rel_error(x, y):
            raise Nasty()
    """})
    result = sp.call("rel_error", 1.0, 2.0)
    assert result.error.kind == "exception" and "Nasty" in result.error.message
    assert "could not be shown" in result.error.message
    finish(sp)


def test_exit_at_import_and_os_exit_in_a_call(tmp_path):
    sp = start(tmp_path, {
        "linear_svm.py": "import sys\nsys.exit(0)\n",
        "gradient_check.py": "import os\ndef rel_error(x, y):\n    os._exit(0)\ndef other(x):\n    return 2 * x\n",
    })
    report = sp.load_report
    assert report["svm_loss_naive"].kind == "exit" and "exit code 0" in report["svm_loss_naive"].message
    assert report["rel_error"] == "ok"
    result = sp.call("rel_error", 1.0, 2.0)
    assert result.error.kind == "exit"
    assert result.error.message == "your code exited the process (exit code 0) during rel_error"
    assert sp.call("other", 3).value == 6  # restarted transparently
    assert sp.restarts == 1
    finish(sp)


@pytest.mark.slow
def test_infinite_loop_ignoring_sigterm_is_killed(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                          + LOOP + "def ok():\n    return 1\n"}, Limits(call_seconds=1.5))
    t0 = time.perf_counter()
    result = sp.call("rel_error", 1.0, 2.0)
    assert time.perf_counter() - t0 < 5
    assert result.error.kind == "timeout"
    assert result.error.message == "time limit of 1.5 s exceeded in rel_error"
    assert sp.call("ok").value == 1
    finish(sp)


@pytest.mark.slow
def test_hang_at_import_costs_only_that_module(tmp_path):
    sp = start(tmp_path, {"linear_svm.py": "while True:\n    pass\n",
                          "gradient_check.py": "def rel_error(x, y):\n    return 0.0\n"}, Limits(call_seconds=1.0))
    assert sp.load_report["svm_loss_naive"].kind == "timeout"
    assert "while loading linear_svm.py" in sp.load_report["svm_loss_naive"].message
    assert sp.call("rel_error", 1, 2).value == 0.0
    finish(sp)


@pytest.mark.slow
def test_cpu_budget_is_shared_by_restarts(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": LOOP}, Limits(call_seconds=30, cpu_seconds_total=2))
    result = sp.call("rel_error", 1, 2)
    assert result.error.kind == "budget", result.error
    assert sp.call("rel_error", 1, 2).error.kind == "budget"
    finish(sp)


def test_huge_allocation_hits_the_memory_limit(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": """
        import numpy as np
        def rel_error(x, y):
            return np.ones((100_000, 100_000)).sum()
        def fine():
            return 1
    """}, Limits(call_seconds=5, memory_mb=512))
    result = sp.call("rel_error", 1, 2)
    assert result.error.kind == "memory"
    assert result.error.message == "memory limit of 512 MB exceeded in rel_error"
    assert sp.call("fine").value == 1
    finish(sp)


@pytest.mark.slow
def test_setsid_grandchild_is_swept(tmp_path):
    # processes=1 lets the child fork at all; the grandchild leaves the process group.
    sp = start(tmp_path, {"gradient_check.py": """
        import os, time
        def rel_error(x, y):
            pid = os.fork()
            if pid == 0:
                os.setsid()
                time.sleep(30)
                os._exit(0)
            return pid
    """}, Limits(call_seconds=5, processes=1))
    assert isinstance(sp.call("rel_error", 1, 2).value, int)
    left = sp.leftovers()  # (pids as the grader sees them: inside a PID namespace they are others)
    assert len(left) == 1
    sp._kill()  # what a timeout does
    assert sp.leftovers() == []
    finish(sp)
    assert not set(left) & set(running_with_marker())


@pytest.mark.slow
def test_200_mb_of_prints_are_drained_and_truncated(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": """
        import sys
        def rel_error(x, y):
            line = "x" * 999 + "\\n"
            for _ in range(200_000):
                sys.stdout.write(line)
            return 0.5
    """}, Limits(call_seconds=60, output_bytes=1000))
    result = sp.call("rel_error", 1, 2)
    assert result.ok and result.value == 0.5
    assert result.stdout.startswith("x" * 999) and "bytes of output were dropped" in result.stdout
    assert len(result.stdout) < 2000
    finish(sp)


def test_input_is_refused_plainly(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": "def rel_error(x, y):\n    return input('answer? ')\n"})
    result = sp.call("rel_error", 1, 2)
    assert result.error.kind == "forbidden" and "input()" in result.error.message
    finish(sp)


# ------------------------------------------------------------------ the policy


def test_writing_outside_the_sandbox_is_refused(tmp_path):
    outside = tmp_path / "results.json"
    sp = start(tmp_path, {"gradient_check.py": f"""
        import os
        def write_here():
            with open("results.json", "w") as fh:
                fh.write("{{}}")
            return os.path.exists("results.json")
        def write_outside():
            with open({str(outside)!r}, "w") as fh:
                fh.write('{{"score": 100}}')
        def write_parent():
            open("../results.json", "w").write("x")
        def remove_outside():
            os.remove({str(outside.parent / 'student' / 'gradient_check.py')!r})
        def sneaky():
            try:
                open({str(outside)!r}, "w")
            except PermissionError:
                pass
            return "fine"
    """})
    assert sp.call("write_here").value is True
    for name in ("write_outside", "write_parent", "remove_outside", "sneaky"):
        result = sp.call(name)
        assert result.error.kind == "forbidden", (name, result.error)
        assert "not allowed during grading" in result.error.message
    assert "writing " + str(outside) in sp.call("write_outside").error.message
    assert not outside.exists() and not (sp.dir.parent / "results.json").exists()
    assert (tmp_path / "student" / "gradient_check.py").exists()
    finish(sp)


def test_reading_the_solutions_is_refused(tmp_path):
    target = SOLUTIONS / "linear_svm.py"
    sp = start(tmp_path, {"gradient_check.py": f"""
        import importlib, os, sys
        def by_path():
            return open({str(target)!r}).read()
        def by_relative_path_with_patched_cwd():
            relative = os.path.relpath({str(target)!r}, os.getcwd())  # from the sandbox, wherever it is
            os.getcwd = lambda: {str(SOLUTIONS)!r}
            os.path.realpath = lambda p, **k: "/tmp/x"
            return open(relative).read()
        def by_import():
            sys.path.append({str(SOLUTIONS.parent)!r})
            import solutions.linear_classifiers.linear_svm
            return 1
        def by_listing():
            return os.listdir({str(SOLUTIONS)!r})
        def by_proc_parent():
            return open(f"/proc/{{os.getppid()}}/cwd/solutions/linear_svm.py").read()
    """})
    for name in ("by_path", "by_import", "by_listing", "by_proc_parent", "by_relative_path_with_patched_cwd"):
        result = sp.call(name)
        assert result.error is not None and result.error.kind == "forbidden", (name, result)
        assert "def svm_loss" not in (result.error.detail + result.stdout)
    assert "reading " + str(target) in sp.call("by_path").error.message
    assert "importing solutions" in sp.call("by_import").error.message
    finish(sp)


def test_processes_signals_and_network_are_refused(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": """
        import os, signal
        def system():
            return os.system("true")
        def fork():
            return os.fork()
        def popen():
            import subprocess
            return subprocess.run(["true"])
        def kill_parent():
            os.kill(os.getppid(), signal.SIGKILL)
        def pidfd():
            return signal.pidfd_send_signal(os.pidfd_open(os.getppid()), signal.SIGKILL)
        def network():
            import socket
            return socket.create_connection(("example.com", 80))
        def use_ctypes():
            import ctypes
            return 1
    """})
    for name in ("system", "fork", "popen", "kill_parent", "network", "use_ctypes"):
        result = sp.call(name)
        assert result.error.kind == "forbidden", (name, result.error)
    assert sp.call("pidfd").error.kind == "exception"  # the functions are gone
    finish(sp)


# ------------------------------------------------------------------ what comes back


def test_wrong_return_types_arrive_as_plain_data(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": """
        import numpy as np, pickle
        class Boom:
            def __reduce__(self):
                return (print, ("PWNED",))
        class LyingFloat(float):
            def __eq__(self, other):
                return True
        class LyingArray(np.ndarray):
            def __eq__(self, other):
                return True
            def __sub__(self, other):
                return np.zeros(self.shape)
        def as_list():
            return [1.0, [2.0]]
        def three():
            return (1.0, np.ones(2), 3)
        def none():
            return None
        def text():
            return "loss"
        def nan():
            return float("nan")
        def cplx():
            return 1 + 2j
        def objects():
            return np.array([Boom()], dtype=object)
        def payload():
            return pickle.dumps(Boom())
        def lying():
            return LyingFloat(1.0), np.arange(3.0).view(LyingArray)
        def generator():
            return (i for i in range(3))
    """})
    assert sp.call("as_list").value == [1.0, [2.0]]
    three = sp.call("three").value
    assert type(three) is tuple and len(three) == 3
    assert sp.call("none").value is None and sp.call("text").value == "loss"
    assert np.isnan(sp.call("nan").value) and sp.call("cplx").value == 1 + 2j
    for name in ("objects", "payload", "generator"):
        assert isinstance(sp.call(name).value, wire.Unsupported)
    assert "PWNED" not in sp.call("payload").stdout
    lying = sp.call("lying")
    value, arr = lying.value
    assert type(value) is float and value != 2.0
    assert type(arr) is np.ndarray and not np.array_equal(arr, np.zeros(3))
    assert len(lying.notes) == 2
    finish(sp)


def test_old_cs231n_layout_with_python2_shims(tmp_path):
    root = make_student(tmp_path, {
        "cs231n/__init__.py": "",
        "cs231n/classifiers/__init__.py": "from cs231n.classifiers.k_nearest_neighbor import *\n",
        "cs231n/classifiers/linear_svm.py": (SOLUTIONS / "linear_svm.py").read_text()
        .replace("from __future__ import annotations", "from builtins import range\nfrom past.builtins import xrange"),
        "cs231n/classifiers/linear_classifier.py": (SOLUTIONS / "linear_classifier.py").read_text()
        .replace("from .linear_svm import", "from cs231n.classifiers.linear_svm import")
        .replace("from .softmax import softmax_loss_vectorized", "softmax_loss_vectorized = None"),
        "cs231n/gradient_check.py": (SOLUTIONS / "gradient_check.py").read_text(),
    }, name="assignment1")
    sp = StudentProcess(load_submission(root, ASSIGNMENT), ASSIGNMENT, FAST)
    report = sp.load_report
    assert report["svm_loss_naive"] == "ok" and report["LinearSVM"] == "ok" and report["rel_error"] == "ok"
    assert report["softmax_loss_naive"].kind == "missing"
    W, X, y = small_problem()
    assert sp.method("LinearSVM", "loss", X, y, 0.1, set={"W": W}).ok
    finish(sp)


def test_cpu_seconds_count_the_student_process_cpu_not_the_wall_clock(tmp_path):
    """A call that sleeps costs no CPU; one that computes costs its CPU, whatever the wall clock."""
    sp = start(tmp_path, {"gradient_check.py": """
        import time
        def rel_error(x, y):
            time.sleep(0.3)
            return 0.0
        def busy():
            t = time.process_time()
            while time.process_time() - t < 0.2:
                pass
            return 1
    """})
    asleep = sp.call("rel_error", 1, 2)
    assert asleep.ok and asleep.seconds >= 0.3 and asleep.cpu_seconds < 0.1
    busy = sp.call("busy")
    assert busy.ok and 0.19 <= busy.cpu_seconds < busy.seconds + 0.05
    finish(sp)


def test_garbage_on_the_reply_pipe_is_a_protocol_error(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": """
        import os
        def rel_error(x, y):
            for fd in range(3, 64):  # the reply pipe is one of them
                try:
                    os.write(fd, b"LCW1 this is not a frame")
                except OSError:
                    pass
            return 0.0
        def fine():
            return 1
    """})
    result = sp.call("rel_error", 1, 2)
    assert result.error.kind == "protocol" and "rel_error" in result.error.message
    assert sp.call("fine").value == 1
    finish(sp)


def test_notebook_cells_share_one_namespace(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    for gid, src in (("helpers", "def twice(v: Sequence) -> list:\n    return [2 * x for x in v]\n"),
                     ("rel_error", "def rel_error(x, y):\n    return twice([x])[0] + y\n"),
                     ("svm_loss_naive", "def svm_loss_naive(W, X, y, reg)\n    pass\n")):
        meta = {"nbgrader": {"grade_id": gid, "solution": True, "grade": False, "locked": False}}
        nb.cells.append(nbformat.v4.new_code_cell(src, metadata=meta))
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    sp = StudentProcess(load_submission(path, with_source(tmp_path / "no-source")), ASSIGNMENT, FAST)
    assert sp.load_report["rel_error"] == "ok"
    assert sp.load_report["svm_loss_naive"].kind == "exception"
    assert "SyntaxError" in sp.load_report["svm_loss_naive"].message
    assert "cell svm_loss_naive" in sp.load_report["svm_loss_naive"].message
    assert sp.call("rel_error", 1.5, 1.0).value == 4.0
    finish(sp)


def test_numpy_and_its_lazy_imports_work_under_the_policy(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": """
        import numpy as np
        def rel_error(x, y):
            import numpy.testing, subprocess, random, fractions
            numpy.testing.assert_allclose(x, y)
            rng = np.random.default_rng(0)
            a = rng.standard_normal((4, 4))
            return float(np.linalg.inv(a).sum() + np.fft.fft(a).real.sum() + np.einsum("ij->", a))
        def spawn():
            import subprocess, _posixsubprocess
            try:
                _posixsubprocess.fork_exec()
            except PermissionError:
                pass
            return subprocess.run(["true"])
    """})
    result = sp.call("rel_error", np.ones(2), np.ones(2))
    assert result.ok, result.error
    spawn = sp.call("spawn")
    assert spawn.error.kind == "forbidden" and "fork_exec" in spawn.error.message
    finish(sp)


def test_mutated_inputs_come_back(tmp_path):
    sp = start(tmp_path, {"gradient_check.py": """
        def rel_error(x, y):
            x[0] = 99.0
            y.shape = (2, 1)
            return 0.0
    """})
    x, y, z = np.zeros(2), np.ones(2), np.arange(3)
    result = sp.call("rel_error", x, y)
    after_x, after_y = result.inputs_after
    assert after_x[0] == 99.0 and x[0] == 0.0 and after_y.shape == (2, 1)
    assert sp.call("rel_error", x, y).inputs_after[0] is not x
    many = sp.call_many("rel_error", [(x, y), (z, y)])
    assert [r.inputs_after[0][0] for r in many] == [99.0, 99.0]
    finish(sp)
