"""The static reading of student sources (linclass/student/sources.py): Python 2, stray imports,
course files, and the text each file runs as."""

from __future__ import annotations

import ast

import pytest
from kit import SPEC

from linclass.student.sources import (
    course_file,
    decode_module,
    python2_names,
    python2_problem,
    run_as_python3,
    skip_unavailable_imports,
)

AVAILABLE = {"numpy", "os", "math", "numpy.linalg", "pickle"}


def available(name: str) -> bool:
    return name in AVAILABLE


@pytest.mark.parametrize("code, kind, line", [
    ("print 'loss', loss", "print statement", 2),
    ("exec 'x = 1'", "exec statement", 2),
    ("try:\n    pass\nexcept ValueError, e:\n    pass", "except X, e", 4),
    ("x = 0777", "an octal literal like 0777", 2),
    ("if a <> b:\n    pass", "the <> operator", 2),
    ("raise ValueError, 'bad'", "raise E, message", 2),
])
def test_python2_code_is_named_by_what_makes_it_python2(code, kind, line):
    problem = python2_problem("softmax.py", f"import numpy as np\n{code}\n")
    assert problem == f"softmax.py is Python 2 code ({kind}, line {line}); the grader runs Python 3"


def test_python3_code_and_other_syntax_errors_are_not_called_python2():
    assert python2_problem("a.py", "print('x')\n") is None
    assert python2_problem("a.py", "def f(:\n    pass\n") is None


def test_print_statements_become_print_calls():
    source = ("def f(x):\n    print 'a', x\n    print\n    print x,\n    print >>sys.stderr, 'e'\n"
              "    print('kept')\n    print ('also', x)\n    return x\n")
    text, count = run_as_python3(source)
    assert count == 4
    assert text == ("def f(x):\n    print('a', x)\n    print()\n    print(x, end=\" \")\n"
                    "    print('e', file=sys.stderr)\n    print('kept')\n    print ('also', x)\n    return x\n")
    ast.parse(text)


def test_print_statements_are_not_rewritten_when_other_python2_remains():
    assert run_as_python3("print 'a'\ntry:\n    pass\nexcept ValueError, e:\n    pass\n") is None
    assert run_as_python3("x = 1\n") is None  # nothing to change


def test_an_unavailable_import_becomes_pass_and_keeps_the_line_numbers():
    source = "import numpy as np\nfrom sqlalchemy import true\n\n\ndef f():\n    import matplotlib.pyplot as plt\n" \
             "    return np.zeros(1)\n"
    text, skipped = skip_unavailable_imports(source, available)
    assert text.splitlines()[1] == "pass" and text.splitlines()[5] == "    pass"
    assert [(s.line, s.module) for s in skipped] == [(2, "sqlalchemy"), (6, "matplotlib.pyplot")]
    assert skipped[0].note("softmax.py") == ("softmax.py, line 2, `from sqlalchemy import true`: that module is not "
                                             "available in the grader, so the line was skipped")


def test_guarded_relative_and_future_imports_are_left_alone():
    source = ("from __future__ import print_function\nfrom .linear_svm import *\ntry:\n    import cPickle\n"
              "except ImportError:\n    import pickle as cPickle\nimport nosuch; x = 1\n")
    text, skipped = skip_unavailable_imports(source, available)
    assert text == source and skipped == []


def test_a_mixed_or_multiline_import_keeps_what_is_available():
    text, skipped = skip_unavailable_imports("import tensorflow as tf, numpy as np\nfrom torch import (\n    nn,\n"
                                             "    optim)\nx = 1\n", available)
    assert text == "import numpy as np\npass\n\n\nx = 1\n"
    assert [s.partial for s in skipped] == [True, False]
    assert "tensorflow is not available in the grader, so it was left out of the line" in skipped[0].note("a.py")


def test_python2_builtins_that_the_module_uses_are_found():
    assert python2_names("for i in xrange(3):\n    s = unicode(i)\n") == [("xrange", 1), ("unicode", 2)]
    assert python2_names("xrange = range\nfor i in xrange(3):\n    pass\n") == []
    assert python2_names("from past.builtins import xrange\nxrange(2)\n") == []


def test_the_courses_own_gradient_check_is_recognised_and_a_students_is_not():
    markers = SPEC.course_files["gradient_check"]
    shipped = "def eval_numerical_gradient(f, x):\n    pass\n\n\ndef eval_numerical_gradient_array(f, x, df):\n"
    assert course_file(shipped, markers) == "eval_numerical_gradient_array"
    assert course_file("def grad_check_sparse(f,  x, analytic_grad, num_checks):\n    print('numerical: %f')\n",
                       markers) == "def grad_check_sparse(f, x, analytic_grad, num_checks):"
    ours = ("def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None):\n"
            "    print('numerical: %f analytic: %f, relative error: %e')\n")
    assert course_file(ours, markers) is None


@pytest.mark.parametrize("data", [b"\xef\xbb\xbfx = 1\r\ny = 2\r\n", b"# -*- coding: latin-1 -*-\nx = '\xe9'\n"])
def test_module_text_is_decoded_as_python_reads_it(data):
    text, clean = decode_module(data)
    assert clean and "\r" not in text and not text.startswith("\ufeff")
    ast.parse(text)
