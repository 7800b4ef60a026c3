"""Reference implementations of the linear-classifier assignment.

These modules are the single source of truth for the correct behaviour: the source
notebooks' solution cells are checked against them (``tests/unit/test_single_source.py``),
and the autograder compares every student reply with them.  They never reach a
student release.
"""
