"""Restore the real CS231n submissions pinned in ``manifest.json`` from fetched git mirrors.

Nothing of the students' code is kept in this repository: each entry of the manifest names a
public repository, a commit and the git blob of each file, and this script reads those blobs
from a local mirror (``fetch github:owner/name`` puts one under ``/work/.mirror/owner+name/``),
checks their hashes and writes them out as a student would hand them in::

    python tests/realcode/restore.py --dest /tmp/subs --layout flat

Layouts: ``flat`` (the three files in ``DEST/<id>/``), ``tree`` (every ``.py`` file of the
assignment folder in ``DEST/<id>/assignment1/``), ``zip-flat`` / ``zip-tree`` (``DEST/<id>.zip``
of either), and the flat variants ``crlf`` (Windows line endings), ``tabs`` (leading
indentation as tabs) and ``bom`` (a UTF-8 byte order mark).

The exit status is the number of entries that could not be restored (0 when all were);
the last line printed says how many were.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tokenize
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
LAYOUTS = ("flat", "tree", "zip-flat", "zip-tree", "crlf", "tabs", "bom")
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


class RestoreError(Exception):
    """One entry cannot be restored (the message is one line)."""


def blob_sha(data: bytes) -> str:
    """The git blob id of ``data``.

    Parameters
    ----------
    data : bytes
        File content.

    Returns
    -------
    str
        40 hex digits, as ``git hash-object`` prints them.
    """
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def find_git_dir(mirrors: Path, repo: str) -> Path | None:
    """The git directory of the fetched mirror of ``repo``, if there is one.

    ``fetch`` writes ``owner+name/repo`` (a bare repository) or ``owner+name/repo/.git``;
    the directory name is matched without regard to case, and a few other shapes
    (``owner+name`` itself, ``owner+name/repo.git``) are accepted too.

    Parameters
    ----------
    mirrors : Path
        The folder that holds the mirrors.
    repo : str
        ``owner/name``.

    Returns
    -------
    Path or None
        A directory with ``HEAD`` and ``objects``, or None when the mirror is absent.
    """
    if not mirrors.is_dir():
        return None
    wanted = repo.replace("/", "+", 1).lower()
    for top in sorted(mirrors.iterdir()):
        if top.name.lower() != wanted or not top.is_dir():
            continue
        for candidate in (top / "repo" / ".git", top / "repo", top / "repo.git", top / ".git", top):
            if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
                return candidate
    return None


def git(git_dir: Path, *args: str) -> bytes:
    """Run a read-only git command in ``git_dir`` and return its standard output.

    Raises
    ------
    RestoreError
        When git fails.
    """
    proc = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True)
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise RestoreError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return proc.stdout


def read_blob(git_dir: Path, sha: str, label: str) -> bytes:
    """The content of blob ``sha``, after checking that it hashes to ``sha``."""
    data = git(git_dir, "cat-file", "blob", sha)
    if blob_sha(data) != sha:
        raise RestoreError(f"{label}: blob {sha} does not match its content")
    return data


def tree_files(git_dir: Path, entry: dict) -> dict[str, bytes]:
    """Every ``.py`` file under the entry's root at its commit, by path relative to the root."""
    root = entry["root"].strip("/")
    listing = git(git_dir, "ls-tree", "-r", "-z", entry["commit"], "--", root + "/" if root else ".")
    out: dict[str, bytes] = {}
    for record in listing.decode("utf-8", errors="surrogateescape").split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind != "blob" or mode not in ("100644", "100755") or not path.endswith(".py"):
            continue
        rel = path[len(root) + 1:] if root else path
        out[rel] = read_blob(git_dir, sha, path)
    for name, pinned in entry["files"].items():
        rel = pinned["path"][len(root) + 1:] if root else pinned["path"]
        if blob_sha(out.get(rel, b"")) != pinned["blob"]:
            raise RestoreError(f"{name}: the tree at {entry['commit'][:10]} does not hold the pinned blob")
    return out


def to_crlf(data: bytes) -> bytes:
    """``data`` with Windows line endings."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def add_bom(data: bytes) -> bytes:
    """``data`` with a UTF-8 byte order mark at the start."""
    return data if data.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + data


def _structure(text: str) -> list[tuple[int, str]]:
    """The token stream of ``text`` with indentation reduced to INDENT / DEDENT marks."""
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [(t.type, "" if t.type in (tokenize.INDENT, tokenize.DEDENT) else t.string) for t in tokens]


def _compiles(text: str) -> bool:
    try:
        compile(text, "<submission>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def _same_program(original: str, converted: str) -> bool:
    """Does ``converted`` tokenize like ``original`` and compile whenever ``original`` does?"""
    try:
        same = _structure(converted) == _structure(original)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False
    return same and (_compiles(converted) or not _compiles(original))


def _block_levels(tokens: list[tokenize.TokenInfo]) -> dict[int, tuple[int, int]]:
    """Line number -> (block depth, indentation width) of the statement that line belongs to.

    Every line of a logical line (its continuation lines too) gets the depth and width of
    the statement that starts it; lines inside multi-line strings get none.
    """
    levels: dict[int, tuple[int, int]] = {}
    stack = [0]
    current = (0, 0)
    at_start = True
    skip = {tokenize.NL, tokenize.COMMENT, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER}
    for tok in tokens:
        if tok.type == tokenize.INDENT:
            stack.append(len(tok.string))
        elif tok.type == tokenize.DEDENT:
            stack.pop()
        elif tok.type not in skip and at_start:
            current = (len(stack) - 1, stack[-1])
            levels[tok.start[0]] = current
            at_start = False
        if tok.type == tokenize.NEWLINE:
            at_start = True
        for line in range(tok.start[0], tok.end[0] + 1):
            if tok.type == tokenize.STRING and line > tok.start[0]:
                levels[line] = (-1, 0)  # inside a string: leave alone
            else:
                levels.setdefault(line, current)
    return levels


def to_tabs(data: bytes) -> tuple[bytes, str | None]:
    """``data`` with each line's leading indentation turned into one tab per block level.

    A statement nested k blocks deep starts with k tabs, whatever widths its blocks used;
    a continuation line or comment keeps its extra spaces beyond its statement's own
    indentation; lines inside multi-line strings are left alone.  The result is kept only
    when it tokenizes to the same program (and compiles whenever the original compiles).

    Parameters
    ----------
    data : bytes
        The file, UTF-8.

    Returns
    -------
    tuple of (bytes, str or None)
        The converted file and None, or the original file and why it was left alone.
    """
    text = data.decode("utf-8")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        return data, f"not tokenizable ({exc})"
    if any("\t" in t.string for t in tokens if t.type == tokenize.INDENT):
        return data, "already indented with tabs"
    levels = _block_levels(tokens)
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        depth, base = levels.get(number, (0, 0))
        width = len(line) - len(line.lstrip(" "))
        if depth < 0 or width < base or not line.strip():
            continue
        lines[number - 1] = "\t" * depth + " " * (width - base) + line[width:]
    result = "".join(lines)
    if not _same_program(text, result):
        return data, "the tab-indented version would not compile; left with spaces"
    return result.encode("utf-8"), None


def write_zip(path: Path, files: dict[str, bytes]) -> None:
    """A deterministic zip of ``files`` (relative path -> content)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in sorted(files):
            info = zipfile.ZipInfo(rel, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[rel])


def submission_files(git_dir: Path, entry: dict, layout: str) -> tuple[dict[str, bytes], list[str]]:
    """The files of one entry in ``layout`` (relative path -> content) and notes on them."""
    notes: list[str] = []
    if layout in ("tree", "zip-tree"):
        return {"assignment1/" + rel: data for rel, data in tree_files(git_dir, entry).items()}, notes
    files = {name: read_blob(git_dir, pinned["blob"], pinned["path"]) for name, pinned in entry["files"].items()}
    if layout == "crlf":
        files = {name: to_crlf(data) for name, data in files.items()}
    elif layout == "bom":
        files = {name: add_bom(data) for name, data in files.items()}
    elif layout == "tabs":
        for name, data in files.items():
            files[name], why = to_tabs(data)
            if why:
                notes.append(f"{name}: {why}")
    return files, notes


def restore(entry: dict, mirrors: Path, dest: Path, layout: str) -> list[str]:
    """Write one entry into ``dest`` and return notes.

    Raises
    ------
    RestoreError
        When the mirror is missing or a blob cannot be read or verified.
    """
    git_dir = find_git_dir(mirrors, entry["repo"])
    if git_dir is None:
        raise RestoreError(f"{entry['repo']}: not fetched; run fetch github:{entry['repo']}")
    files, notes = submission_files(git_dir, entry, layout)
    if layout.startswith("zip-"):
        write_zip(dest / f"{entry['id']}.zip", files)
        return notes
    for rel, data in files.items():
        target = dest / entry["id"] / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return notes


def load_manifest(path: Path = MANIFEST, only: str | None = None) -> list[dict]:
    """The manifest's entries, or those whose ids are listed in ``only`` (comma-separated)."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not only:
        return entries
    wanted = [i.strip() for i in only.split(",") if i.strip()]
    unknown = sorted(set(wanted) - {e["id"] for e in entries})
    if unknown:
        raise SystemExit(f"unknown id(s): {', '.join(unknown)}")
    return [e for e in entries if e["id"] in wanted]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the number of entries not restored."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", required=True, type=Path, help="folder to write the submissions into")
    parser.add_argument("--mirrors", type=Path, default=Path(os.environ.get("LINCLASS_MIRRORS", "/work/.mirror")),
                        help="folder holding the fetched mirrors (default /work/.mirror)")
    parser.add_argument("--layout", choices=LAYOUTS, default="flat")
    parser.add_argument("--only", help="comma-separated entry ids")
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    entries = load_manifest(args.manifest, args.only)
    args.dest.mkdir(parents=True, exist_ok=True)
    restored = 0
    for entry in entries:
        try:
            notes = restore(entry, args.mirrors, args.dest, args.layout)
        except RestoreError as exc:
            print(exc)
            continue
        restored += 1
        for note in notes:
            print(f"{entry['id']}: {note}")
    print(f"restored {restored} of {len(entries)} ({args.layout}) into {args.dest}")
    return min(len(entries) - restored, 255)


if __name__ == "__main__":
    sys.exit(main())
