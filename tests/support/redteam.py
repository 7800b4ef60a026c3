"""The kernel-sandbox red team: grade the corpus of tests/hostile/kernel/ through the CLI and collect proofs.

Every run is ``linclass grade PATHS --out DIR --config CFG --jobs N [--sandbox MODE]`` exactly as a user
types it (``--sandbox`` is left out when the kit's ``linclass grade --help`` does not offer it), under a
child subreaper (``redteam_reaper.py``) that samples the process tree.  Each run gets its own folder
under a per-test tmp folder::

    <run>/cwd/        the grader's working directory (unique: attacks signal only this grader)
    <run>/tmp/        its TMPDIR (the sandboxes live here)
    <run>/sentinel/<student>/   secret.txt (0600, random content) and victim.txt, one folder per attack
    <run>/subs/       the submissions (a class folder for a batch)
    <run>/out/        the reports
    <run>/dummy-*/    a harmless process per attack that may signal one

plus a loopback TCP and UDP listener and an abstract unix socket listener started for the run, and
a secret in the grader's own environment (``LINCLASS_RT_GRADER_SECRET``).  The attacks' ``RT = {...}
# RT-CONFIG`` lines are rewritten with these paths, ports and names (see tests/hostile/kernel/_snippets.py
for the guard every destructive action checks).  The proofs (:data:`PROOFS`) are what a run is judged
by; any proof observed for an attack is an escape.

From the command line, to record what a kit lets through (the BEFORE table)::

    .venv/bin/python tests/support/redteam.py [--kit CHECKOUT] [--only a,b] [--markdown FILE]

``--kit`` (or the environment variable ``LINCLASS_RT_KIT``) is a checkout to grade with: its own
``.venv/bin/linclass`` if it has one, else this interpreter's ``linclass`` with the checkout first on
``PYTHONPATH`` (the driver prints which ``linclass`` and ``autograder`` are imported).
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hostile_corpus import ALT, BEGIN, END, strip_attack  # noqa: F401 - one reader of the attack markers

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = ROOT / "tests" / "hostile" / "kernel"
REAPER = HERE / "redteam_reaper.py"
#: The short limits of every run (a course config passed with --config).
LIMITS = {"call_seconds": 3, "cpu_seconds_total": 30, "memory_mb": 512}
GRADER_MEMORY_MB = 1024  # the grader's peak above this is an attack (the honest grader stays near 150 MB)
TMPDIR_LIMIT_MB = 256  # a student putting more than this on the grader's TMPDIR disk is an attack
FILL_MB = 600  # what tmpdir_fill tries to write
GRACE = 0.6  # seconds survivors get after the grader exits
SINGLE_TIMEOUT = 150.0
BATCH_TIMEOUT = 480.0
SECRET_ENV = "LINCLASS_RT_GRADER_SECRET"
TIMING_CHECK = "faster than naive"  # CPU-time checks: too noisy on a loaded machine to compare scores by
REPORT_FILES = ("results.json", "feedback.md", "junit.xml", "grader.log")  # at least; every file there is read
TIMEOUT = re.compile(r"time limit of [\d.]+ s exceeded")
RT_CONFIG = re.compile(r"^RT = \{.*\}  # RT-CONFIG.*$", re.MULTILINE)

#: Every proof of an escape, and what observes it.
PROOFS = {
    "secret_in_report": "the sentinel secret (a 0600 file outside the sandbox) is in a report file",
    "grader_secret_in_report": "the secret of the grader's environment (/proc/<grader>/environ) is in a report",
    "solution_in_report": "the sha256 of a kit solutions/ file is in a report",
    "classmate_secret_in_report": "an honest classmate's private token is in another student's report",
    "victim_changed": "the sentinel victim.txt changed",
    "new_file": "a new entry appeared in the sentinel folder",
    "listener_tcp": "the loopback TCP listener received a message",
    "listener_udp": "the loopback UDP listener received a datagram",
    "listener_unix": "the abstract unix socket listener received a message",
    "dummy_signaled": "the run's dummy process got SIGUSR1",
    "grader_stopped": "a grader process was seen stopped (SIGSTOP from a student)",
    "survivor": "a process of the run was still alive after the grader exited (and the grace period)",
    "grader_memory": f"the grader's peak resident memory went above {GRADER_MEMORY_MB} MB",
    "grader_failed": "the grader exited non-zero, timed out or wrote no report",
    "internal_error": "a report says the grader hit an internal error on this submission",
    "score_gain": "the attack scored more than its baseline (same submission without the attack)",
    "classmate_harmed": "an honest classmate scored less in the batch than when graded alone",
    "tmpdir_usage": f"more than {TMPDIR_LIMIT_MB} MB were allocated under the grader's TMPDIR",
    "tmpdir_left": "the grader's TMPDIR was not empty after grading",
}
CLASSES = {1: "the audit hook switched off", 2: "unaudited native code", 3: "path checks sidestepped",
           4: "classmates reachable in a batch", 5: "reply bombs", 6: "forged probe records",
           7: "survivors of the process sweep"}


# --------------------------------------------------------------------------------------------- the corpus


@dataclasses.dataclass(frozen=True)
class Case:
    """One attack of the corpus (``tests/hostile/kernel/<name>/``)."""

    name: str
    klass: int
    title: str
    route: str
    proves: tuple[str, ...]
    baseline: str
    modules: dict[str, str]  # file name -> attacked source
    baseline_note: str = ""
    needs_batch: bool = False
    minimal: tuple[str, ...] | None = None  # proofs documented for --sandbox minimal (None: not a demo)
    minimal_note: str = ""


def case_names() -> list[str]:
    """Every case of the corpus, sorted."""
    return sorted(p.name for p in CORPUS.iterdir() if (p / "case.toml").is_file())


@functools.cache
def load_case(name: str) -> Case:
    """Read ``tests/hostile/kernel/<name>/``.

    Parameters
    ----------
    name : str
        The case folder's name.

    Returns
    -------
    Case
    """
    folder = CORPUS / name
    meta = tomllib.loads((folder / "case.toml").read_text())
    minimal = meta.get("minimal")
    return Case(name=name, klass=int(meta["class"]), title=meta["title"], route=meta["route"],
                proves=tuple(meta["proves"]), baseline=meta["baseline"],
                modules={p.name: p.read_text() for p in sorted(folder.glob("*.py"))},
                baseline_note=meta.get("baseline_note", ""), needs_batch=bool(meta.get("needs_batch", False)),
                minimal=tuple(minimal["expect"]) if minimal else None,
                minimal_note=minimal.get("note", "") if minimal else "")


@functools.cache
def _baseline_sources(baseline: str) -> tuple[tuple[str, str], ...]:
    from linclass.assignments.linear_classifiers.mutants import mutant_sources, reference_sources

    if baseline == "reference":
        return tuple(reference_sources().items())
    kind, _, rest = baseline.partition(":")
    misconception, _, part = rest.partition(":")
    if kind != "mutant" or not part:
        raise ValueError(f"unknown baseline {baseline!r}")
    return tuple(mutant_sources(misconception, part).items())


def baseline_sources(baseline: str) -> dict[str, str]:
    """File name -> source of a baseline submission.

    Parameters
    ----------
    baseline : str
        ``"reference"`` or ``"mutant:<misconception id>:<part>"``.

    Returns
    -------
    dict
    """
    return dict(_baseline_sources(baseline))


def with_rt(text: str, rt: dict) -> str:
    """``text`` with its RT-CONFIG line(s) set to ``rt``.

    Parameters
    ----------
    text : str
        An attacked module.
    rt : dict
        The run's configuration of the attack (plain str/int/bool values).

    Returns
    -------
    str
    """
    return RT_CONFIG.sub(lambda _m: f"RT = {rt!r}  # RT-CONFIG (set by tests/support/redteam.py)", text)


# --------------------------------------------------------------------------------------------- the kit


@dataclasses.dataclass
class Kit:
    """The grader under test: a checkout and the ``linclass`` command that runs its code.

    Attributes
    ----------
    root : Path
        The checkout (its ``solutions/`` are the files attacks try to read).
    linclass : Path
        The console script.
    env : dict
        Extra environment of every run (``PYTHONPATH`` for a checkout without a venv).
    """

    root: Path
    linclass: Path
    env: dict

    @functools.cached_property
    def supports_sandbox(self) -> bool:
        """Does ``linclass grade`` offer ``--sandbox``?"""
        out = subprocess.run([str(self.linclass), "grade", "--help"], capture_output=True, text=True,
                             env=self.environ(), timeout=120, check=False)
        return "--sandbox" in out.stdout

    @functools.cached_property
    def commit(self) -> str:
        """The checkout's commit (with a ``+dirty`` mark), or ``unknown``."""
        try:
            head = subprocess.run(["git", "-C", str(self.root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                  text=True, timeout=30, check=False).stdout.strip()
            dirty = subprocess.run(["git", "-C", str(self.root), "status", "--porcelain", "--", "autograder",
                                    "linclass", "solutions"], capture_output=True, text=True, timeout=30,
                                   check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return "unknown"
        return (head or "unknown") + ("+dirty" if dirty.strip() else "")

    @functools.cached_property
    def imports(self) -> str:
        """Where the grader's ``linclass`` and ``autograder`` packages are imported from."""
        code = "import autograder, linclass; print(linclass.__file__, autograder.__file__)"
        python = self.linclass.with_name("python")
        out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=self.environ(),
                             timeout=120, cwd="/", check=False)
        return (out.stdout or out.stderr).strip()

    @property
    def solutions(self) -> Path:
        return self.root / "solutions" / "linear_classifiers"

    def environ(self, **extra: str) -> dict:
        """The environment of a run."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LINCLASS_RT_KIT")}
        env.update(self.env)
        env.update(extra)
        return env

    def flag(self, mode: str | None) -> list[str]:
        """The ``--sandbox`` arguments for ``mode`` (none when the kit has no such option)."""
        return ["--sandbox", mode] if mode and self.supports_sandbox else []


def kit_from(path: str | Path | None = None) -> Kit:
    """The kit to grade with: ``path`` (or ``$LINCLASS_RT_KIT``), else this repository.

    Parameters
    ----------
    path : path, optional
        A checkout.  With its own ``.venv/bin/linclass`` that one runs; otherwise this
        interpreter's ``linclass`` with the checkout first on ``PYTHONPATH``.

    Returns
    -------
    Kit
    """
    path = path or os.environ.get("LINCLASS_RT_KIT")
    here = Path(sys.executable).with_name("linclass")
    if not path:
        return Kit(ROOT, here, {})
    root = Path(path).resolve()
    own = root / ".venv" / "bin" / "linclass"
    if own.exists():
        return Kit(root, own, {})
    return Kit(root, here, {"PYTHONPATH": str(root)})


# --------------------------------------------------------------------------------------------- a run's world


class Listeners:
    """A loopback TCP listener, a UDP socket and an abstract unix socket listener; they record what arrives."""

    def __init__(self) -> None:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(64)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix_name = f"linclass-redteam-{secrets.token_hex(8)}"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.unix_name)
        self.unix.listen(64)
        self.received: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, args=(s, k), daemon=True)
                         for s, k in ((self.tcp, "tcp"), (self.unix, "unix"))]
        self._threads.append(threading.Thread(target=self._datagrams, daemon=True))
        for sock in (self.tcp, self.udp, self.unix):
            sock.settimeout(0.1)
        for t in self._threads:
            t.start()

    @property
    def ports(self) -> tuple[int, int]:
        return self.tcp.getsockname()[1], self.udp.getsockname()[1]

    def _note(self, kind: str, data: bytes) -> None:
        with self._lock:
            self.received.append((kind, data))

    def _accept(self, sock: socket.socket, kind: str) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(1.0)
            data = b""
            try:
                while len(data) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            conn.close()
            self._note(kind, data or b"(connected, nothing sent)")

    def _datagrams(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.udp.recvfrom(65536)
            except (TimeoutError, OSError):
                continue
            self._note("udp", data)

    def stop(self) -> list[tuple[str, bytes]]:
        """Stop listening; what arrived."""
        time.sleep(0.1)
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()
        with self._lock:
            return list(self.received)


DUMMY = r"""
import signal, sys, time
log = sys.argv[1]
def note(sig, frame):
    with open(log, "a") as fh:
        fh.write("%s %f\n" % (signal.Signals(sig).name, time.time()))
signal.signal(signal.SIGUSR1, note)
while True:
    time.sleep(1)
"""


class Dummy:
    """A harmless process an attack may signal (in its own folder: attacks check its cwd first)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        self.folder, self.log = folder, folder / "signals.log"
        self.log.write_text("")
        self.proc = subprocess.Popen([sys.executable, "-c", DUMMY, str(self.log)], cwd=folder,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> bool:
        """Kill it; was it signalled?"""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        return "SIGUSR1" in self.log.read_text()


@dataclasses.dataclass
class Member:
    """One submission of a run: an attack (``case``), a plain ``baseline``, or an honest classmate (``token``)."""

    student: str
    case: Case | None = None
    token: str = ""
    baseline: str = ""
    paired_with: str = ""  # an honest classmate graded right after this attack (class 4)

    def to_json(self) -> dict:
        return {"student": self.student, "case": self.case.name if self.case else None, "token": self.token,
                "baseline": self.baseline, "paired_with": self.paired_with}

    @classmethod
    def from_json(cls, data: dict) -> Member:
        case = load_case(data["case"]) if data["case"] else None
        return cls(data["student"], case, data["token"], data["baseline"], data["paired_with"])


def honest_sources(token: str) -> dict[str, str]:
    """The reference submission, each module carrying the classmate's private token in a comment."""
    return {name: text.rstrip("\n") + f"\n# classmate-token: {token}\n"
            for name, text in baseline_sources("reference").items()}


def unlock_tree(root: Path) -> None:
    """Clear the immutable/append-only flags an attack may have set under ``root`` (the run's own folder).

    Parameters
    ----------
    root : Path
        A folder of this test run; nothing outside it is touched and links are never followed.
    """
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                flags = struct.unpack("i", fcntl.ioctl(fd, 0x80086601, bytes(8))[:4])[0]
                if flags & 0x30:
                    fcntl.ioctl(fd, 0x40086602, struct.pack("i", flags & ~0x30) + bytes(4))
            except OSError:
                pass
            finally:
                os.close(fd)
        for name in dirnames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                try:
                    os.chmod(path, 0o700)
                except OSError:
                    pass


def _entries(folder: Path) -> dict[str, str]:
    """name -> digest or type of each entry of the sentinel folder (never opening anything special)."""
    found = {}
    for entry in os.scandir(folder):
        st = entry.stat(follow_symlinks=False)
        if entry.is_file(follow_symlinks=False):
            found[entry.name] = hashlib.sha256(Path(entry.path).read_bytes()).hexdigest()
        else:
            found[entry.name] = f"special {st.st_mode:o}"
    return found


def _owner_of_text(text: str, names: list[str]) -> str | None:
    """The case name a piece of evidence names (``... <name> <tag>`` or ``-<name>-``), if any."""
    for name in sorted(names, key=len, reverse=True):
        if re.search(rf"(^|[\s\-]){re.escape(name)}([\s\-]|$)", text):
            return name
    return None


@dataclasses.dataclass
class Run:
    """One ``linclass grade`` invocation and everything observed around it."""

    label: str
    mode: str | None
    args: list[str]
    jobs: int
    work: Path
    members: list[Member]
    reaper: dict = dataclasses.field(default_factory=dict)
    output: str = ""
    results: dict = dataclasses.field(default_factory=dict)  # student -> results.json (or None)
    texts: dict = dataclasses.field(default_factory=dict)  # student -> its report files, concatenated
    class_text: str = ""
    grader_secret: str = ""
    sentinels: dict = dataclasses.field(default_factory=dict)  # attack student -> {secret, victim, victim_now, new}
    messages: list = dataclasses.field(default_factory=list)  # (kind, text) received by the listeners
    signaled: dict = dataclasses.field(default_factory=dict)  # student -> its dummy got SIGUSR1
    tmp_left: list = dataclasses.field(default_factory=list)  # (entry, case name it belongs to or None)
    solution_digests: dict = dataclasses.field(default_factory=dict)

    @property
    def attacks(self) -> list[Member]:
        return [m for m in self.members if m.case is not None]

    def member(self, student: str) -> Member:
        return next(m for m in self.members if m.student == student)

    def score(self, student: str, timing: bool = False, forgive_timeouts: bool = False) -> float | None:
        """The student's score, or None without a report.

        Parameters
        ----------
        student : str
            Its id in this run.
        timing : bool
            Count the CPU-time checks ("faster than naive"), left out by default: too noisy to compare by.
        forgive_timeouts : bool
            Count a check that failed on a time limit as passed: used for the scores an attack is compared
            with (its baseline, an honest classmate), so that a loaded machine never looks like an escape.
        """
        data = self.results.get(student)
        if not isinstance(data, dict):
            return None
        total = 0.0
        for t in data.get("tests", []):
            if timing or TIMING_CHECK not in t["name"]:
                timed_out = forgive_timeouts and TIMEOUT.search(str(t.get("output", "")))
                total += float(t["max_score"] if timed_out else t["score"])
        return total

    def timeouts(self, student: str) -> list[str]:
        """The checks of ``student`` that failed on a time limit."""
        data = self.results.get(student)
        tests = data.get("tests", []) if isinstance(data, dict) else []
        return [t["name"] for t in tests if t["score"] < t["max_score"] and TIMEOUT.search(str(t.get("output", "")))]

    def _names(self) -> list[str]:
        return [m.case.name for m in self.attacks]

    def _owned(self) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
        """(proofs attributable to an attack's student, proofs of the run as a whole)."""
        per: dict[str, dict[str, str]] = {m.student: {} for m in self.members}
        whole: dict[str, str] = {}
        names = self._names()
        by_case = {m.case.name: m.student for m in self.attacks}
        single = self.attacks[0].student if len(self.attacks) == 1 and len(self.members) == 1 else None

        def put(key: str, owner_case: str | None, detail: str) -> None:
            student = by_case.get(owner_case) if owner_case else single
            target = per[student] if student else whole
            target[key] = (target[key] + "; " + detail) if key in target else detail

        r = self.reaper
        if r.get("timed_out") or r.get("returncode") != 0:
            whole["grader_failed"] = f"exit {r.get('returncode')}, timed out {r.get('timed_out')}: {self.output[-300:]}"
        everywhere = {**self.texts, "the class reports": self.class_text}
        for student, sentinel in self.sentinels.items():
            where = [who for who, text in everywhere.items() if sentinel["secret"] in text]
            if where:
                per[student]["secret_in_report"] = "its sentinel secret is in the reports of " + ", ".join(where)
            if sentinel["victim_now"] != sentinel["victim"]:
                now = sentinel["victim_now"]
                per[student]["victim_changed"] = "victim.txt is now " + ("missing" if now is None else repr(now[:80]))
            if sentinel["new"]:
                per[student]["new_file"] = "new in its sentinel folder: " + ", ".join(sentinel["new"])
        for m in self.members:
            text = self.texts.get(m.student, "")
            if self.results.get(m.student) is None:
                per[m.student]["grader_failed"] = "no results.json"
            if self.grader_secret in text:
                per[m.student]["grader_secret_in_report"] = f"in the reports of {m.student}"
            leaked = [name for digest, name in self.solution_digests.items() if digest in text]
            if leaked:
                per[m.student]["solution_in_report"] = "sha256 of solutions/" + ", ".join(leaked)
            tokens = [o.token for o in self.members if o.token and o is not m and o.token in text]
            if tokens:
                per[m.student]["classmate_secret_in_report"] = f"{len(tokens)} classmate token(s) in its reports"
            data = self.results.get(m.student)
            if isinstance(data, dict) and "internal error" in json.dumps(data).lower():
                per[m.student]["internal_error"] = "a check of it hit an internal error of the grader"
        if self.grader_secret in self.class_text:
            whole["grader_secret_in_report"] = "in the class reports"
        for kind, text in self.messages:
            put(f"listener_{kind}", _owner_of_text(text, names), f"{kind} listener got {text.strip()[:80]!r}")
        for student, hit in self.signaled.items():
            if hit:
                per[student]["dummy_signaled"] = "its dummy got SIGUSR1"
        for event in r.get("stopped") or []:
            put("grader_stopped", event.get("owner"), f"grader pid {event['pid']} stopped ({event['cmd'][:60]})")
        for left in r.get("leftovers") or []:
            tagged = " ".join(left.get("tags") or [left["cmdline"]]).replace("redteam-survivor-", " ")
            owner = _owner_of_text(tagged, names)
            put("survivor", owner, f"pid {left['pid']}: {left['cmdline'][:80]}")
        for pid, peak in (r.get("peaks") or {}).items():
            if peak["kb"] > GRADER_MEMORY_MB * 1024:
                put("grader_memory", peak.get("owner"), f"grader pid {pid} peaked at {peak['kb'] // 1024} MB")
        if r.get("tmp_peak_bytes", 0) > TMPDIR_LIMIT_MB << 20:
            put("tmpdir_usage", r.get("tmp_owner"), f"{r['tmp_peak_bytes'] >> 20} MB under TMPDIR")
        for entry, owner in self.tmp_left:
            put("tmpdir_left", owner, f"left in TMPDIR: {entry}")
        return per, whole

    def proofs(self, student: str) -> dict[str, str]:
        """Proofs observed for ``student`` (with the whole run's, when it is the only submission)."""
        per, whole = self._owned()
        found = dict(per.get(student, {}))
        if len(self.members) == 1:
            found.update(whole)
        return found

    def whole_proofs(self) -> dict[str, str]:
        """Proofs of the run that no single submission can be blamed for (a batch's grader, TMPDIR, ...)."""
        return self._owned()[1]

    def to_json(self) -> dict:
        data = dataclasses.asdict(dataclasses.replace(self, members=[]))
        data.update(work=str(self.work), members=[m.to_json() for m in self.members])
        return data

    @classmethod
    def from_json(cls, data: dict) -> Run:
        data = dict(data, work=Path(data["work"]), members=[Member.from_json(m) for m in data["members"]])
        data["messages"] = [tuple(m) for m in data["messages"]]
        data["tmp_left"] = [tuple(t) for t in data["tmp_left"]]
        return cls(**data)

    def sandbox_levels(self) -> dict[str, object]:
        """student -> the "sandbox" object of its results.json (None when absent)."""
        return {s: (d.get("sandbox") if isinstance(d, dict) else None) for s, d in self.results.items()}

    def describe(self) -> str:
        r = self.reaper
        return (f"{self.label}: {' '.join(self.args)} -> exit {r.get('returncode')} in {r.get('seconds', 0):.1f} s, "
                f"grader peak {r.get('grader_peak_kb', 0) // 1024} MB, "
                f"TMPDIR peak {r.get('tmp_peak_bytes', 0) >> 20} MB")


# --------------------------------------------------------------------------------------------- grading


class Campaign:
    """Runs of the corpus against one kit, cached: baselines, singles, batches, per sandbox mode.

    Parameters
    ----------
    kit : Kit
        The grader under test.
    base : Path
        A per-test tmp folder; every run gets its own sub-folder here.
    workers : int
        Runs graded at the same time (each its own ``linclass`` process).
    shared : Path, optional
        A folder shared by several test processes (pytest-xdist workers): each run is graded once, by
        whichever process needs it first (a file lock per run), and the others read its result.
    reverse : bool
        Grade lists of attacks from the end (a second worker then meets the first in the middle).
    """

    def __init__(self, kit: Kit, base: Path, workers: int = 2, shared: Path | None = None,
                 reverse: bool = False) -> None:
        self.kit = kit
        self.base = Path(base)
        self.workers = workers
        self.shared = Path(shared) if shared else None
        self.reverse = reverse
        self._lock = threading.Lock()
        self._count = 0
        self._cache: dict[tuple, Run] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self.honest_token = "honest-" + secrets.token_hex(12)
        self.seconds: dict[str, float] = {}

    # ------------------------------------------------------------------ one run
    def _folder(self, label: str) -> Path:
        with self._lock:
            self._count += 1
            return self.base / f"{self._count:03d}-{label}"

    def grade(self, label: str, members: list[Member], mode: str | None, jobs: int = 1) -> Run:
        """Grade ``members`` in one ``linclass grade`` run (a class folder when there are several).

        Parameters
        ----------
        label : str
            A name for the run's folder.
        members : list of Member
            The submissions.
        mode : str or None
            ``--sandbox`` mode (left out when the kit has no such option, or when None).
        jobs : int
            ``--jobs``.

        Returns
        -------
        Run
        """
        work = self._folder(label)
        cwd, tmp, subs, out = (work / n for n in ("cwd", "tmp", "subs", "out"))
        for d in (cwd, tmp, subs):
            d.mkdir(parents=True)
        sentinels: dict[str, dict] = {}
        grader_secret = "rt-grader-" + secrets.token_hex(16)
        (work / "config.toml").write_text("[limits]\n" + "".join(f"{k} = {v}\n" for k, v in LIMITS.items()))
        listeners = Listeners()
        tcp, udp = listeners.ports
        dummies: dict[str, Dummy] = {}
        tag = secrets.token_hex(6)
        batch = len(members) > 1
        folder = subs / "class" if batch else subs
        for m in members:
            dest = folder / m.student
            dest.mkdir(parents=True)
            if m.baseline:
                sources = baseline_sources(m.baseline)
            elif m.case is None:
                sources = honest_sources(m.token)
            else:
                sentinel = work / "sentinel" / m.student
                sentinel.mkdir(parents=True)
                secret, victim = "rt-secret-" + secrets.token_hex(16), "rt-victim-" + secrets.token_hex(16) + "\n"
                (sentinel / "secret.txt").write_text(secret + "\n")
                os.chmod(sentinel / "secret.txt", 0o600)
                (sentinel / "victim.txt").write_text(victim)
                sentinels[m.student] = {"folder": sentinel, "secret": secret, "victim": victim,
                                        "before": _entries(sentinel)}
                dummy = 0, ""
                if "dummy_signaled" in m.case.proves:
                    d = dummies[m.student] = Dummy(work / f"dummy-{m.student}")
                    dummy = d.proc.pid, str(d.folder)
                rt = {"name": m.case.name, "root": str(work), "tag": tag, "sentinel": str(sentinel),
                      "solutions": str(self.kit.solutions), "tcp": tcp, "udp": udp, "unix": listeners.unix_name,
                      "dummy": dummy[0], "dummy_cwd": dummy[1], "grader_cwd": str(cwd), "tmp": str(tmp),
                      "batch": batch, "fill_mb": FILL_MB, "linger": 1.8}
                sources = baseline_sources(m.case.baseline)
                sources.update({n: with_rt(t, rt) for n, t in m.case.modules.items()})
            for name, text in sources.items():
                (dest / name).write_text(text)
        args = ["grade", str(folder if batch else folder / members[0].student), "--out", str(out), "--config",
                str(work / "config.toml"), "--jobs", str(jobs), *self.kit.flag(mode)]
        report = work / "reaper.json"
        timeout = BATCH_TIMEOUT if batch else SINGLE_TIMEOUT
        command = [sys.executable, str(REAPER), str(report), str(timeout), str(GRACE), str(tmp), "--",
                   str(self.kit.linclass), *args]
        proc = subprocess.run(command, cwd=cwd, env=self.kit.environ(TMPDIR=str(tmp), **{SECRET_ENV: grader_secret}),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout + 120,
                              check=False)
        reaped = json.loads(report.read_text()) if report.exists() else {"returncode": None, "timed_out": True}
        run = Run(label, mode, ["linclass", *args[:1], *(["CLASS"] if batch else ["SUBMISSION"]), *args[2:]], jobs,
                  work, members, reaped, proc.stdout + proc.stderr, grader_secret=grader_secret)
        run.messages = [(kind, data.decode(errors="replace")) for kind, data in listeners.stop()]
        run.signaled = {s: d.stop() for s, d in dummies.items()}
        run.solution_digests = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name
                                for p in sorted(self.kit.solutions.glob("*.py"))}
        for m in members:
            folder_out = out / m.student
            texts = []  # every file of its report folder (REPORT_FILES and whatever else the grader writes there)
            for path in sorted(folder_out.iterdir()) if folder_out.is_dir() else []:
                try:
                    texts.append(path.read_text(errors="replace"))
                except OSError:
                    pass
            run.texts[m.student] = "\n".join(texts)
            try:
                run.results[m.student] = json.loads((folder_out / "results.json").read_text())
            except (OSError, ValueError):
                run.results[m.student] = None
        if out.is_dir():
            run.class_text = "\n".join(p.read_text(errors="replace") for p in out.iterdir() if p.is_file())
        for student, sentinel in sentinels.items():
            victim_path = sentinel["folder"] / "victim.txt"
            after = _entries(sentinel["folder"])
            new = sorted(set(after) - set(sentinel["before"]))
            if after.get("secret.txt") != sentinel["before"]["secret.txt"]:
                new.append("secret.txt (changed)")
            run.sentinels[student] = {"secret": sentinel["secret"], "victim": sentinel["victim"], "new": new,
                                      "victim_now": victim_path.read_text(errors="replace") if victim_path.is_file()
                                      and not victim_path.is_symlink() else None}
        unlock_tree(work)
        names = [m.case.name for m in run.attacks]
        for entry in sorted(tmp.iterdir()):
            owner = None
            for path in entry.rglob("*.py") if entry.is_dir() and not entry.is_symlink() else []:
                try:
                    owner = _owner_of_text(" ".join(re.findall(r"'name': '([\w-]+)'", path.read_text())), names)
                except OSError:
                    continue
                if owner:
                    break
            run.tmp_left.append((entry.name, owner))
        shutil.rmtree(tmp, ignore_errors=True)
        return run

    # ------------------------------------------------------------------ cached runs
    def _cached(self, key: tuple, make) -> Run:
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                start = time.monotonic()
                self._cache[key] = make() if self.shared is None else self._shared(key, make)
                self.seconds[" ".join(map(str, key))] = time.monotonic() - start
            return self._cache[key]

    def _shared(self, key: tuple, make) -> Run:
        """The run ``key`` graded by this process or read from the one that graded it first."""
        digest = hashlib.sha256(json.dumps([str(self.kit.root), *map(str, key)]).encode()).hexdigest()[:20]
        self.shared.mkdir(parents=True, exist_ok=True)
        path = self.shared / f"run-{digest}.json"
        with open(self.shared / f"run-{digest}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if path.exists():
                    return Run.from_json(json.loads(path.read_text()))
                run = make()
                tmp = path.with_suffix(".part")
                tmp.write_text(json.dumps(run.to_json()))
                tmp.replace(path)
                return run
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _mode_key(self, mode: str | None) -> tuple:
        return tuple(self.kit.flag(mode))

    def baseline(self, baseline: str, mode: str | None) -> Run:
        """The baseline submission graded alone (``reference`` is the honest classmate alone).

        Parameters
        ----------
        baseline : str
            A case's ``baseline``.
        mode : str or None
            ``--sandbox`` mode.

        Returns
        -------
        Run
        """
        def make() -> Run:
            if baseline == "reference":
                return self.grade("honest-alone", [Member("honest", token=self.honest_token)], mode)
            return self.grade("baseline", [Member("baseline_" + baseline.split(":")[1], baseline=baseline)], mode)

        return self._cached(("baseline", baseline, *self._mode_key(mode)), make)

    def baseline_score(self, baseline: str, mode: str | None) -> float | None:
        """The baseline's score, a check it lost on a time limit counted as passed (see :meth:`Run.score`)."""
        run = self.baseline(baseline, mode)
        return run.score(run.members[0].student, forgive_timeouts=True)

    def single(self, name: str, mode: str | None) -> Run:
        """One attack graded alone."""
        case = load_case(name)
        return self._cached(("single", name, *self._mode_key(mode)),
                            lambda: self.grade(name, [Member(name, case=case)], mode))

    def singles(self, names: list[str], mode: str | None) -> dict[str, Run]:
        """Every attack of ``names`` graded alone (and their baselines), ``workers`` at a time."""
        baselines = sorted({load_case(n).baseline for n in names} | {"reference"}, reverse=self.reverse)
        order = names[::-1] if self.reverse else list(names)
        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(lambda b: self.baseline(b, mode), baselines))
            runs = dict(zip(order, pool.map(lambda n: self.single(n, mode), order)))
        return {n: runs[n] for n in names}

    def batch_members(self, names: list[str]) -> list[Member]:
        """The batch's class: every attack, honest classmates first, last and right after each class-4 attack."""
        def honest() -> Member:
            return Member(f"{len(members):02d}_honest", token="honest-" + secrets.token_hex(12))

        members: list[Member] = []
        members.append(honest())
        for name in names:
            case = load_case(name)
            members.append(Member(f"{len(members):02d}_{name}", case=case))
            if case.needs_batch:
                members[-1].paired_with = f"{len(members):02d}_honest"
                members.append(honest())
        members.append(honest())
        return members

    def batch(self, names: list[str], mode: str | None) -> Run:
        """All attacks of ``names`` and honest classmates in one class folder, graded with ``--jobs 2``."""
        with ThreadPoolExecutor(self.workers) as pool:  # the baselines the verdicts compare with
            list(pool.map(lambda b: self.baseline(b, mode), sorted({load_case(n).baseline for n in names}
                                                                  | {"reference"})))
        return self._cached(("batch", tuple(names), *self._mode_key(mode)),
                            lambda: self.grade("batch", self.batch_members(names), mode, jobs=2))

    # ------------------------------------------------------------------ verdicts
    def escapes(self, run: Run, student: str, mode: str | None) -> dict[str, str]:
        """The proofs observed for one attack of ``run`` (its score compared with its baseline's).

        Parameters
        ----------
        run : Run
            A single or a batch run.
        student : str
            The attack's student id in that run.
        mode : str or None
            The run's sandbox mode (the baseline is graded the same way).

        Returns
        -------
        dict
            proof -> what was observed.
        """
        member = run.member(student)
        found = run.proofs(student)
        base = self.baseline_score(member.case.baseline, mode)
        mine = run.score(student)
        if mine is not None and base is not None and mine > base + 1e-9:
            found["score_gain"] = f"scored {mine:g} (without the timing checks) vs {base:g} for its baseline"
        if member.paired_with:
            harmed = self.harmed(run, mode, [member.paired_with])
            if harmed:
                found["classmate_harmed"] = harmed[member.paired_with]
        return found

    def harmed(self, run: Run, mode: str | None, students: list[str] | None = None) -> dict[str, str]:
        """Honest classmates of ``run`` that scored less than the honest classmate graded alone."""
        alone = self.baseline_score("reference", mode)
        out = {}
        for m in run.members:
            if m.case is None and not m.baseline and (students is None or m.student in students):
                got = run.score(m.student, forgive_timeouts=True)  # a loaded machine is not an attack
                if got is None or alone is None or got < alone - 1e-9:
                    out[m.student] = f"honest classmate {m.student} scored {got} in the batch, {alone} alone"
        return out


# --------------------------------------------------------------------------------------------- BEFORE table


def table(campaign: Campaign, names: list[str], mode: str | None, batch: Run | None,
          minimal: dict[str, Run] | None = None) -> list[str]:
    """Markdown rows: per case, escaped/contained alone and in the batch, and the proofs observed."""
    rows = ["| Case | Class | Alone | Batch (--jobs 2) | Minimal demo |", "|---|---|---|---|---|"]
    for name in names:
        case = load_case(name)
        alone = campaign.escapes(campaign.single(name, mode), name, mode)
        cells = [_cell(alone)]
        if batch is not None:
            student = next(m.student for m in batch.attacks if m.case.name == name)
            cells.append(_cell(campaign.escapes(batch, student, mode)))
        else:
            cells.append("not run")
        if minimal and name in minimal:
            seen = set(campaign.escapes(minimal[name], name, "minimal"))
            expect = set(case.minimal or ())
            cells.append(("as documented" if seen == expect else f"DIFFERS from {sorted(expect)}") + ": "
                         + (", ".join(sorted(seen)) or "contained"))
        else:
            cells.append("")
        rows.append(f"| `{name}` | {case.klass} | " + " | ".join(cells) + " |")
    return rows


def _cell(found: dict[str, str]) -> str:
    return ("**escaped**: " + ", ".join(sorted(found))) if found else "contained"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade the kernel-sandbox corpus and print what escapes.")
    parser.add_argument("--kit", default=None, help="a checkout to grade with (default: $LINCLASS_RT_KIT or this repo)")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--mode", default="auto", help="--sandbox mode of the runs (ignored by a kit without it)")
    parser.add_argument("--no-batch", action="store_true")
    parser.add_argument("--work", default=None, help="folder for the runs (default: a fresh one under /tmp)")
    parser.add_argument("--markdown", default=None, help="also write the table here")
    parser.add_argument("-v", "--verbose", action="store_true", help="every proof's detail")
    args = parser.parse_args(argv)
    kit = kit_from(args.kit)
    names = [n for n in args.only.split(",") if n] or case_names()
    work = Path(args.work) if args.work else Path(os.environ.get("TMPDIR", "/tmp")) / f"linclass-redteam-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    print(f"kit {kit.root} at {kit.commit}; linclass {kit.linclass}; imports {kit.imports}; "
          f"--sandbox offered: {kit.supports_sandbox}", flush=True)
    campaign = Campaign(kit, work)
    start = time.monotonic()
    campaign.singles(names, args.mode)
    batch = None if args.no_batch else campaign.batch(names, args.mode)
    demos = [n for n in names if load_case(n).minimal is not None]
    minimal = campaign.singles(demos, "minimal") if demos else {}
    rows = table(campaign, names, args.mode, batch, minimal)
    lines = [*rows, ""]
    if batch is not None:
        lines.append(f"Batch as a whole: {_cell(batch.whole_proofs())}; honest classmates: "
                     f"{campaign.harmed(batch, args.mode) or 'all kept their score'}")
        lines.append(batch.describe())
    lines.append(f"{len(names)} cases in {time.monotonic() - start:.0f} s")
    if args.verbose:
        for name in names:
            for key, detail in campaign.escapes(campaign.single(name, args.mode), name, args.mode).items():
                lines.append(f"    {name} alone {key}: {detail[:300]}")
            if batch is not None:
                student = next(m.student for m in batch.attacks if m.case.name == name)
                for key, detail in campaign.escapes(batch, student, args.mode).items():
                    lines.append(f"    {name} batch {key}: {detail[:300]}")
    print("\n".join(lines))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
