"""The reference implementations of the linear-classifiers assignment (never shipped to students)."""
