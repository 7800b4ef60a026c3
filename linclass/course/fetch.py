"""`linclass data fetch cifar10`: the only code in the kit that downloads anything.

The tarball is streamed to a temporary file, its MD5 is checked against the published
checksum *before* anything is unpacked, and it is unpacked with tarfile's ``data`` filter
(no absolute paths, no ``..``, no links out of the target directory).
"""

from __future__ import annotations

import hashlib
import http.client
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from linclass.assignments.linear_classifiers.shipped.data import CIFAR10_DIRNAME, cifar10_available

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_TARBALL = "cifar-10-python.tar.gz"


class FetchError(Exception):
    """The download failed or did not match its checksum."""


def _download(url: str, dest: Path, timeout: float) -> str:
    """Stream ``url`` into ``dest`` with a progress bar; return the MD5 hex digest."""
    from tqdm import tqdm

    md5 = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=CIFAR10_TARBALL, leave=False,
                      disable=None) as bar:  # None: no bar when stderr is not a terminal (logs, CI)
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    md5.update(chunk)
                    bar.update(len(chunk))
    except (OSError, ValueError, http.client.HTTPException) as exc:  # network, bad URL, not HTTP
        raise FetchError(f"could not download {url}: {str(exc) or type(exc).__name__}") from None
    return md5.hexdigest()


def _extract(tarball: Path, target: Path) -> None:
    with tarfile.open(tarball, "r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            try:
                tar.extractall(target, filter="data")
            except tarfile.FilterError as exc:  # e.g. a "../" path or a link out of the target
                raise FetchError(f"refusing an unsafe archive member ({exc})") from None
        else:  # Python without the extraction filters: refuse unsafe members ourselves
            root = target.resolve()
            for member in tar.getmembers():
                dest = (target / member.name).resolve()
                if not (member.isfile() or member.isdir()) or root not in (dest, *dest.parents):
                    raise FetchError(f"refusing an unsafe archive member {member.name!r}")
            tar.extractall(target)


def fetch_cifar10(datasets_dir: str | Path = "datasets", url: str = CIFAR10_URL,
                  md5: str = CIFAR10_MD5, timeout: float = 60.0, force: bool = False) -> Path:
    """Download, verify and unpack CIFAR-10 into ``datasets_dir``.

    Parameters
    ----------
    datasets_dir : path
        Target directory; the batches end up in ``datasets_dir/cifar-10-batches-py``.
    url, md5 : str
        Source and expected checksum (overridable for mirrors and tests).
    timeout : float
        Socket timeout in seconds.
    force : bool
        Download again even when the batches are already present.

    Returns
    -------
    Path
        The ``cifar-10-batches-py`` directory.

    Raises
    ------
    FetchError
        The target directory is unusable, the download failed, the checksum did not match
        (nothing is unpacked), or the archive did not contain the CIFAR-10 batches.
    """
    datasets_dir = Path(datasets_dir)
    target = datasets_dir / CIFAR10_DIRNAME
    if cifar10_available(datasets_dir) and not force:
        return target
    try:
        datasets_dir.mkdir(parents=True, exist_ok=True)
        workspace = tempfile.TemporaryDirectory(dir=datasets_dir, prefix=".fetch-")
    except OSError as exc:  # e.g. the path is a file, or not writable
        raise FetchError(f"cannot write to the datasets directory {datasets_dir}: {exc.strerror or exc}") from None
    with workspace as tmp:
        tarball = Path(tmp) / CIFAR10_TARBALL
        digest = _download(url, tarball, timeout)
        if digest != md5:
            raise FetchError(f"checksum mismatch for {url}: got MD5 {digest}, expected {md5}; nothing was unpacked")
        unpacked = Path(tmp) / "unpacked"
        try:
            _extract(tarball, unpacked)
        except FetchError as exc:
            raise FetchError(f"{url}: {exc}; nothing was unpacked") from None
        except (tarfile.TarError, OSError) as exc:
            raise FetchError(f"{url}: not a valid tar.gz archive ({exc})") from None
        if not cifar10_available(unpacked):
            raise FetchError(f"{url}: the archive has no complete {CIFAR10_DIRNAME}/ directory")
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(unpacked / CIFAR10_DIRNAME), target)
    return target


def main(args) -> int:
    """`linclass data fetch cifar10`."""
    from linclass.errors import LinclassError

    try:
        target = fetch_cifar10(args.dir, url=args.url or CIFAR10_URL, force=args.force)
    except FetchError as exc:
        raise LinclassError(str(exc)) from None
    print(f"CIFAR-10 is ready in {target} (checksum verified)")
    return 0
