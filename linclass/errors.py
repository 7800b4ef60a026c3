"""The kit's own error type: caught by the CLI and shown as one line, never a traceback."""


class LinclassError(Exception):
    """An expected failure with a message meant for the person at the terminal."""
