"""Tiny CIFAR-10 files in the exact format of the official python batches (for tests).

The official ``cifar-10-batches-py`` files are Python 2 pickles (protocol 2): dicts whose
keys and strings are Python 2 ``str`` objects, so Python 3 reads them back as ``bytes``
with ``encoding="bytes"`` (hence ``b'data'``), and whose ``data`` is a uint8 numpy array
of shape (n, 3072), each row channel-major (1024 red, 1024 green, 1024 blue values, each
plane row-major 32 x 32).  Python 3's own protocol-2 pickler writes ``bytes`` through
``_codecs.encode``, which the real files never contain, so :func:`py2_pickle` writes
strings the way Python 2 did (``SHORT_BINSTRING`` / ``BINSTRING``) and names the numpy
reconstructor ``numpy.core.multiarray`` as numpy 1.x did.
"""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
BATCH_FILES = tuple(f"data_batch_{b}" for b in range(1, 6)) + ("test_batch",)


class _Py2Pickler(pickle._Pickler):  # the pure-Python pickler: its dispatch table can be extended
    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_string(self, obj):
        data = obj if isinstance(obj, bytes) else obj.encode("latin-1")
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[bytes] = save_py2_string
    dispatch[str] = save_py2_string


def py2_pickle(obj) -> bytes:
    """``obj`` pickled as Python 2's ``cPickle.dump(obj, f, 2)`` would have written it."""
    buffer = io.BytesIO()
    _Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def images_to_rows(images: np.ndarray) -> np.ndarray:
    """(n, 32, 32, 3) images -> the file's (n, 3072) channel-major rows."""
    return images.transpose(0, 3, 1, 2).reshape(len(images), -1)


def batch_dict(images: np.ndarray, labels, label: str = "training batch 1 of 5") -> dict:
    """A batch dict with the real keys (written as Python 2 strings, read back as bytes)."""
    return {"batch_label": label, "labels": [int(v) for v in labels],
            "data": images_to_rows(np.asarray(images, dtype=np.uint8)),
            "filenames": [f"img_{i:05d}.png" for i in range(len(labels))]}


def write_batch(path: Path, images: np.ndarray, labels, label: str = "training batch 1 of 5") -> Path:
    path = Path(path)
    path.write_bytes(py2_pickle(batch_dict(images, labels, label)))
    return path


def write_meta(path: Path, n_per_batch: int) -> Path:
    path = Path(path)
    path.write_bytes(py2_pickle({"num_cases_per_batch": n_per_batch, "label_names": list(CLASSES), "num_vis": 3072}))
    return path


def write_cifar10(root: Path, n_per_batch: int = 4, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Write a complete tiny ``cifar-10-batches-py`` directory at ``root``.

    Returns
    -------
    dict
        File name -> (images (n, 32, 32, 3) uint8, labels (n,) int64) as written.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for i, name in enumerate(BATCH_FILES):
        images = rng.integers(0, 256, size=(n_per_batch, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n_per_batch)
        label = "testing batch 1 of 1" if name == "test_batch" else f"training batch {i + 1} of 5"
        write_batch(root / name, images, labels, label)
        written[name] = (images, labels.astype(np.int64))
    write_meta(root / "batches.meta", n_per_batch)
    (root / "readme.html").write_text("<html>tiny test copy of CIFAR-10</html>\n")
    return written


def write_tarball(path: Path, source_dir: Path, arcname: str = "cifar-10-batches-py",
                  extra: dict[str, bytes] | None = None) -> Path:
    """Pack ``source_dir`` as ``arcname/`` into a .tar.gz, plus ``extra`` raw members (name -> bytes)."""
    with tarfile.open(path, "w:gz") as tar:
        tar.add(source_dir, arcname=arcname)
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return Path(path)
