"""linclass/course/fetch.py against a local HTTP server on 127.0.0.1 serving tarballs the tests make."""

from __future__ import annotations

import hashlib
import re
import socket
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
from fake_cifar import write_cifar10, write_tarball

from linclass.assignments.linear_classifiers.shipped.data import get_data
from linclass.course.fetch import CIFAR10_DIRNAME, FetchError, fetch_cifar10


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def tarball(tmp_path, http_server):
    """A tiny CIFAR-10 tarball in the real layout (cifar-10-batches-py/...), being served."""
    _, www, _ = http_server
    source = tmp_path / "src" / CIFAR10_DIRNAME
    written = write_cifar10(source, n_per_batch=3)
    path = write_tarball(www / "cifar-10-python.tar.gz", source)
    return path, written


def test_success_then_get_data_works(tmp_path, http_server, tarball):
    url, _, requests = http_server
    path, written = tarball
    datasets = tmp_path / "datasets"
    target = fetch_cifar10(datasets, url=f"{url}/cifar-10-python.tar.gz", md5=md5_of(path), timeout=5)
    assert target == datasets / CIFAR10_DIRNAME
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["batches.meta", "readme.html", "test_batch", *(f"data_batch_{b}" for b in range(1, 6))])
    assert [p.name for p in datasets.iterdir()] == [CIFAR10_DIRNAME]  # no temporary files left behind
    data = get_data("cifar10", datasets_dir=datasets, num_val=3, num_test=3, num_dev=2)
    assert data.X_train.shape == (12, 3073) and data.source == "cifar10"
    np.testing.assert_array_equal(data.y_test, written["test_batch"][1])
    assert requests == ["/cifar-10-python.tar.gz"]


def test_present_data_is_not_downloaded_again_unless_forced(tmp_path, http_server, tarball):
    url, _, requests = http_server
    path, _ = tarball
    kwargs = {"url": f"{url}/cifar-10-python.tar.gz", "md5": md5_of(path), "timeout": 5}
    fetch_cifar10(tmp_path / "d", **kwargs)
    fetch_cifar10(tmp_path / "d", **kwargs)
    assert len(requests) == 1
    fetch_cifar10(tmp_path / "d", force=True, **kwargs)
    assert len(requests) == 2


def test_wrong_checksum_fails_clearly_and_unpacks_nothing(tmp_path, http_server, tarball):
    url, _, _ = http_server
    datasets = tmp_path / "datasets"
    with pytest.raises(FetchError, match=r"checksum mismatch for http://127\.0\.0\.1:\d+/cifar-10-python\.tar\.gz: "
                                         r"got MD5 [0-9a-f]{32}, expected 0{32}; nothing was unpacked"):
        fetch_cifar10(datasets, url=f"{url}/cifar-10-python.tar.gz", md5="0" * 32, timeout=5)
    assert list(datasets.iterdir()) == []  # not the batches, not the tarball, no temporary directory


@pytest.mark.parametrize("member", ["../evil.txt", f"{CIFAR10_DIRNAME}/../../evil.txt", "link"])
def test_path_traversal_member_is_refused(tmp_path, http_server, member):
    """A member that would land outside the target (a ../ path, or a link to /etc) is refused."""
    url, www, _ = http_server
    source = tmp_path / "src" / CIFAR10_DIRNAME
    write_cifar10(source, n_per_batch=1)
    path = www / "evil.tar.gz"
    if member == "link":
        with tarfile.open(path, "w:gz") as tar:
            tar.add(source, arcname=CIFAR10_DIRNAME)
            info = tarfile.TarInfo(f"{CIFAR10_DIRNAME}/passwd")
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    else:
        write_tarball(path, source, extra={member: b"owned\n"})
    datasets = tmp_path / "deep" / "datasets"
    with pytest.raises(FetchError, match=r"evil\.tar\.gz: refusing an unsafe archive member .*nothing was unpacked"):
        fetch_cifar10(datasets, url=f"{url}/evil.tar.gz", md5=md5_of(path), timeout=5)
    assert list(datasets.iterdir()) == []
    assert not (tmp_path / "deep" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()


def test_archive_without_the_batches_is_refused(tmp_path, http_server):
    url, www, _ = http_server
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("hello")
    path = write_tarball(www / "other.tar.gz", tmp_path / "other", arcname="something-else")
    with pytest.raises(FetchError, match=r"no complete cifar-10-batches-py/ directory"):
        fetch_cifar10(tmp_path / "d", url=f"{url}/other.tar.gz", md5=md5_of(path), timeout=5)
    assert list((tmp_path / "d").iterdir()) == []


def test_not_a_tarball_is_refused(tmp_path, http_server):
    url, www, _ = http_server
    (www / "junk.tar.gz").write_bytes(b"this is not gzip data")
    with pytest.raises(FetchError, match="not a valid tar.gz archive"):
        fetch_cifar10(tmp_path / "d", url=f"{url}/junk.tar.gz", md5=md5_of(www / "junk.tar.gz"), timeout=5)


def test_missing_file_on_server_is_a_download_error(tmp_path, http_server):
    url, _, _ = http_server
    with pytest.raises(FetchError, match=r"could not download http://127\.0\.0\.1:\d+/nothing\.tar\.gz: .*404"):
        fetch_cifar10(tmp_path / "d", url=f"{url}/nothing.tar.gz", timeout=5)


@pytest.mark.parametrize("where", ["is-a-file", "under-a-file"])
def test_unusable_datasets_directory_is_a_fetch_error(tmp_path, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory")
    target = blocker if where == "is-a-file" else blocker / "datasets"
    with pytest.raises(FetchError, match=rf"cannot write to the datasets directory {target}"):
        fetch_cifar10(target, url="http://127.0.0.1:9/never-requested.tar.gz", timeout=5)


@pytest.fixture
def not_http_server():
    """A TCP server on 127.0.0.1 that answers every connection with a line that is not HTTP."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(5)

    def serve():
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            conn.sendall(b"SSH-2.0-definitely-not-http\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
        thread.join(timeout=5)


@pytest.mark.parametrize("url", ["notaurl", "http://127.0.0.1:99999/x.tar.gz", "NOT_HTTP"])
def test_bad_url_or_server_is_a_download_error(tmp_path, url, request):
    """A malformed URL, an impossible port, or a server that does not speak HTTP."""
    if url == "NOT_HTTP":
        url = request.getfixturevalue("not_http_server") + "/x.tar.gz"
    with pytest.raises(FetchError, match=rf"could not download {re.escape(url)}: \S"):
        fetch_cifar10(tmp_path / "d", url=url, timeout=5)
    assert list((tmp_path / "d").iterdir()) == []
