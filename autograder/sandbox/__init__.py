"""The trusted side of the boundary: the student process, how it is started, confined and talked to.

- :mod:`.limits`: what a submission may use;
- :mod:`.site`: the import world of the student process (what it can import, and nothing else);
- :mod:`.process`: :class:`~.process.StudentProcess`, one submission's sandboxed process.

The code that runs inside that process is in :mod:`autograder.harness`.
"""
