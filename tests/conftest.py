"""Shared fixtures for the kit's own tests (keep this small and generic)."""

from __future__ import annotations

import http.server
import threading
from functools import partial

import numpy as np
import pytest

from linclass.assignments.linear_classifiers.shipped.data import Dataset, get_data


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded generator: tests are reproducible and independent of their order."""
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def digits() -> Dataset:
    """The embedded digits with the default splits (loaded once per test process)."""
    return get_data("digits")


class _RecordingHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def http_server(tmp_path):
    """A static HTTP server on 127.0.0.1 (ephemeral port, background thread) serving
    ``tmp_path / "www"``.  Yields (base_url, www_dir, requests); ``requests`` records every
    requested path.  Shut down (and joined) at teardown."""
    www = tmp_path / "www"
    www.mkdir()
    requests: list[str] = []
    handler = type("Handler", (_RecordingHandler,), {"requests": requests})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", www, requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
