"""Reading a submitted path into memory, safely: a notebook, a folder or a zip of either.

One reader for the grader and the public self-check, with the same caps: a folder or a zip
holding more than :data:`MAX_FILES` files or :data:`MAX_TOTAL_BYTES` of notebooks and modules is
refused, and so are zip entries that point outside the archive or are symbolic links.  Only
``.ipynb`` and ``.py`` files are read; nothing is extracted to disk and nothing runs.

Standard library only.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

#: Caps on what is read from a submission (a folder or zip is refused when it exceeds them).
MAX_FILES = 2000
MAX_TOTAL_BYTES = 200 << 20
#: Folders that never hold a submission's code.
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git", "node_modules", "datasets"}


class SubmissionError(ValueError):
    """The input cannot be read at all (the message is one line)."""


def _wanted(rel: str) -> bool:
    parts = rel.split("/")
    if any(p in SKIP_DIRS or (p.startswith(".") and p not in (".", "..")) for p in parts[:-1]):
        return False
    return parts[-1].endswith((".ipynb", ".py")) and not parts[-1].startswith(".")


def collect_files(path: Path) -> dict[str, bytes]:
    """The .ipynb and .py files of ``path`` by relative path (a zip is read safely in memory)."""
    if not path.exists():
        raise SubmissionError(f"{path} does not exist")
    if path.is_dir():
        return _collect_dir(path)
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        return _collect_zip(path)
    if path.suffix in (".ipynb", ".py"):
        size = path.stat().st_size
        if size > MAX_TOTAL_BYTES:
            raise SubmissionError(f"{path.name} is too large ({size >> 20} MB)")
        return {path.name: path.read_bytes()}
    raise SubmissionError(f"{path.name} is not a notebook, a Python module, a directory or a zip")


def _collect_dir(root: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if not _wanted(rel) or full.is_symlink() or not full.is_file():
                continue
            size = full.stat().st_size
            total += size
            if len(files) >= MAX_FILES or total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{root.name} holds too many or too large files (limits: {MAX_FILES} files, "
                                      f"{MAX_TOTAL_BYTES >> 20} MB of notebooks and modules)")
            files[rel] = full.read_bytes()
    return files


def _collect_zip(path: Path) -> dict[str, bytes]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{path.name} is not a readable zip file ({exc})") from None
    files: dict[str, bytes] = {}
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES:
            raise SubmissionError(f"{path.name} has {len(infos)} entries (at most {MAX_FILES} allowed)")
        declared = 0
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p]
            if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                raise SubmissionError(f"{path.name} was refused: its entry {info.filename!r} points outside the "
                                      "archive (path traversal)")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise SubmissionError(f"{path.name} was refused: its entry {info.filename!r} is a symbolic link")
            declared += info.file_size
            if declared > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{path.name} was refused: it expands to more than {MAX_TOTAL_BYTES >> 20} MB "
                                      "(a zip bomb?)")
        total = 0
        for info in infos:
            rel = "/".join(p for p in info.filename.replace("\\", "/").split("/") if p)
            if info.is_dir() or not _wanted(rel):
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_TOTAL_BYTES - total + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
                raise SubmissionError(f"{path.name}: cannot extract {info.filename!r} ({exc})") from None
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{path.name} was refused: it expands to more than {MAX_TOTAL_BYTES >> 20} MB "
                                      "(a zip bomb?)")
            files[rel] = data
    return files
