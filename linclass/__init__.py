"""linclass: the linear-classifiers assignment kit (release, self-check, autograder)."""

__version__ = "0.1.0"
