"""The grading checks of the linear-classifiers assignment, run by the engine's plugin."""

pytest_plugins = ["autograder.plugin"]
