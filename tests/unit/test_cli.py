"""The ``linclass`` command line: help and data fetch, as a user runs them (subprocesses).

Expected failures must be one clear line on stderr and exit code 2, never a traceback
(DESIGN section 6).  ``linclass demo`` now builds the release and grades the example class
before the reference part (it rewrites examples/submissions/ada_complete/), so it is not run
from here; ``test_demo.py`` runs the reference part, ``run_demo``, in-process.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys

from cli_run import assert_one_line_error, run
from fake_cifar import write_cifar10, write_tarball

from linclass.course.fetch import CIFAR10_MD5


def test_help_lists_every_command():
    result = run("--help", timeout=30)
    assert result.returncode == 0 and result.stderr == ""
    for command in ("demo", "data", "release", "check", "grade", "merge", "bundle", "export"):
        assert command in result.stdout


def test_data_fetch_help():
    result = run("data", "--help", timeout=30)
    assert result.returncode == 0 and "--url" in result.stdout and "--dir" in result.stdout


def test_usage_errors_exit_2_without_traceback():
    result = run("data", "fetch", "mnist", timeout=30)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "invalid choice" in result.stderr


def test_data_fetch_checksum_mismatch_is_one_line(tmp_path, http_server):
    """The CLI always checks the official MD5, so a tiny tarball can only show the mismatch path."""
    url, www, requests = http_server
    source = tmp_path / "src" / "cifar-10-batches-py"
    write_cifar10(source, n_per_batch=1)
    path = write_tarball(www / "cifar-10-python.tar.gz", source)
    digest = hashlib.md5(path.read_bytes()).hexdigest()
    target = tmp_path / "datasets"
    result = run("data", "fetch", "cifar10", "--url", f"{url}/cifar-10-python.tar.gz", "--dir", str(target),
                 timeout=60)
    assert_one_line_error(result, "checksum mismatch", f"got MD5 {digest}", f"expected {CIFAR10_MD5}",
                          "nothing was unpacked")
    assert result.stdout == ""
    assert requests == ["/cifar-10-python.tar.gz"]
    assert list(target.iterdir()) == []


def test_data_fetch_unreachable_server_is_one_line(tmp_path):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run("data", "fetch", "cifar10", "--url", f"http://127.0.0.1:{port}/x.tar.gz", "--dir",
                 str(tmp_path / "d"), timeout=60)
    assert_one_line_error(result, "could not download", f"127.0.0.1:{port}")


def test_data_fetch_into_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run("data", "fetch", "cifar10", "--dir", str(blocker / "datasets"), "--url",
                 "http://127.0.0.1:9/never-requested.tar.gz", timeout=60)
    assert_one_line_error(result, "cannot write to the datasets directory", str(blocker))


def test_version():
    from linclass import __version__

    result = run("--version", timeout=30)
    assert result.returncode == 0 and result.stdout.strip() == f"linclass {__version__}"


def _subparsers(parser):
    import argparse

    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices


def test_every_positional_argument_has_help():
    import argparse

    from linclass.cli import build_parser

    missing = [f"{name} {a.dest}" for name, sub in _subparsers(build_parser()).items() for a in sub._actions
               if not a.option_strings and a.help in (None, "", argparse.SUPPRESS)]
    assert not missing, f"positional arguments without help: {missing}"


def test_grade_writes_to_build_grades_by_default():
    from linclass.cli import build_parser

    assert build_parser().parse_args(["grade", "submissions"]).out == "build/grades"
    result = run("grade", "--help", timeout=30)
    assert result.returncode == 0 and "build/grades" in result.stdout


def test_help_imports_no_numpy():
    code = "\n".join([
        "import sys",
        "from linclass.cli import main",
        "for argv in (['--help'], ['grade', '--help'], ['merge', '--help'], ['export', '--help']):",
        "    try:",
        "        main(argv)",
        "    except SystemExit:",
        "        pass",
        "print(sorted(m for m in ('numpy', 'matplotlib') if m in sys.modules))"])
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr
