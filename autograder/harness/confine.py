"""The kernel's confinement of the student process: applied once, before any student code runs.

UNTRUSTED side (it runs in the student process), but only ever in the bootstrap: by the time a
student's module is imported, every layer here is in force and none can be undone from inside.
The audit-hook policy (:mod:`policy`) stays on top of it, for friendly messages.  Layers, in
the order they are applied, each one detected and reported (never silently skipped):

identity
    When the grader runs as root: one unprivileged uid and gid per submission (chosen by the
    grader, which owns the sandbox folder for it), no supplementary groups.  So
    ``RLIMIT_NPROC`` binds and no two sandboxes can read each other, whatever else fails.
    Only done when every directory the process reads is reachable by another uid.
namespaces
    ``unshare`` of a user, network, IPC, UTS and PID namespace: no network at all (not even
    loopback), no System V IPC with a classmate, and a PID namespace whose init (a trusted
    waiter, never student code) takes down everything left in it when it ends.  The student's
    code runs as PID 2, so signals behave as in any process.
capabilities and no_new_privs
    The capabilities the new user namespace grants are dropped; ``PR_SET_NO_NEW_PRIVS`` makes
    the process unable to gain privileges (and allows the two filters below).
Landlock
    Files: read (and map) only the Python standard library, the allowed packages (numpy), the
    harness's own files and the sandbox; write, create and remove only inside the sandbox,
    whatever path, descriptor or link is used (the kernel resolves it).  Where the ABI has
    them, TCP bind and connect are denied, and signals and abstract unix sockets are scoped to
    the process's own domain.
seccomp
    A filter that denies what a grading process never needs: ``execve``, process creation
    beyond threads (unless the course allows processes), ``ptrace`` and cross-process memory,
    sockets, mounts and namespaces, ``bpf``, ``io_uring``, keyrings, kernel modules, device
    nodes, file handles, identity changes, and signals to any process but its own.  Denied
    calls fail with ``EPERM`` (a clear Python error), the wrong architecture kills.

Implemented as raw system calls through ``ctypes`` (the library is removed again before any
student code runs): no binary to ship, microseconds per start, and the same code after the
fork of a pre-started process.  See ``autograder/SECURITY.md`` for why this was chosen over
libseccomp bindings or bubblewrap.
"""

import ctypes
import errno
import os
import platform
import signal
import struct
import sys

# ----------------------------------------------------------------------------- system calls
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
CLONE_THREAD = 0x00010000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_DUMPABLE = 1, 38, 22, 24, 4
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
SECCOMP_MODE_FILTER = 2
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446  # every arch
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

# Landlock rights, by the ABI version that introduced them.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK, FS_MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FS_RIGHTS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
READ_RIGHTS = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR

# seccomp BPF
BPF_LD_W_ABS, BPF_JMP_JEQ_K, BPF_JMP_JSET_K, BPF_JMP_JGE_K, BPF_RET_K = 0x20, 0x15, 0x45, 0x35, 0x06
RET_ALLOW, RET_KILL_PROCESS = 0x7FFF0000, 0x80000000
AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

#: x86_64 numbers of the system calls the filter denies (other architectures: no filter, and
#: the report says so).
DENIED_X86_64 = {
    "execve": 59, "execveat": 322, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
    "kcmp": 312, "pidfd_open": 434, "pidfd_getfd": 438, "pidfd_send_signal": 424, "process_madvise": 440,
    "socket": 41, "socketpair": 53, "connect": 42, "bind": 49, "listen": 50, "accept": 43, "accept4": 288,
    "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308,
    "move_mount": 429, "open_tree": 428, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 250, "add_key": 248, "request_key": 249,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320,
    "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163, "quotactl": 179, "quotactl_fd": 443,
    "mknod": 133, "mknodat": 259, "open_by_handle_at": 304, "name_to_handle_at": 303, "personality": 135,
    "iopl": 172, "ioperm": 173, "modify_ldt": 154, "syslog": 103, "uselib": 134, "lookup_dcookie": 212,
    "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305, "sethostname": 170,
    "setdomainname": 171, "vhangup": 153, "move_pages": 279, "migrate_pages": 256, "setuid": 105,
    "setgid": 106, "setreuid": 113, "setregid": 114, "setresuid": 117, "setresgid": 119, "setgroups": 116,
    "setfsuid": 122, "setfsgid": 123, "capset": 126, "tkill": 200, "fanotify_init": 300,
}
#: Process creation (denied unless the course allows processes; threads always pass).
FORKS_X86_64 = {"fork": 57, "vfork": 58}
CLONE_X86_64, CLONE3_X86_64 = 56, 435
#: Signal senders: allowed only towards the process itself (first argument = its own pid).
SIGNALS_X86_64 = {"kill": 62, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297}
PRLIMIT64_X86_64 = 302  # allowed for the process itself only (pid 0)
#: fcntl commands that would make the kernel signal another process (F_SETOWN, F_SETSIG, F_SETOWN_EX).
FCNTL_X86_64, FCNTL_SIGNALLING = 72, (8, 10, 15)


class ConfinementError(Exception):
    """A layer that was asked for could not be applied (the grader is told, never the student)."""


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return libc


def _check(result, what):
    if result < 0:
        err = ctypes.get_errno()
        raise ConfinementError(f"{what}: {os.strerror(err)} (errno {err})")
    return result


# ----------------------------------------------------------------------------- identity
def reachable(paths):
    """The first directory on the way to one of ``paths`` that another uid could not search
    (None when all of them can be reached).  Used by the grader before it picks a uid."""
    for path in paths:
        parts = os.path.realpath(path).split("/")
        for i in range(2, len(parts) + 1):
            directory = "/".join(parts[:i]) or "/"
            try:
                mode = os.stat(directory).st_mode
            except OSError:
                return directory
            if not mode & 0o001:
                return directory
    return None


def drop_identity(uid, gid):
    """Become ``uid``:``gid`` with no supplementary groups (irreversible)."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        raise ConfinementError("the uid could not be changed")


# ----------------------------------------------------------------------------- namespaces
def enter_namespaces(libc):
    """New user, mount, network, IPC, UTS and PID namespaces; then fork twice so that the
    caller's code goes on as PID 2 of the PID namespace, under a trusted init (PID 1).

    The original process and the init only wait (they close every descriptor, so the grader
    sees the student process's pipes close when it ends) and pass its exit status on.
    Returns in the student process only.
    """
    uid, gid = os.geteuid(), os.getegid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID),
           "unshare")
    # The same ids inside (files it creates must belong to a mapped id); one id each, no groups.
    # (A process that changed its uid is not "dumpable", and its /proc files are not its own.)
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    try:
        for name, text in (("uid_map", f"{uid} {uid} 1"), ("setgroups", "deny"), ("gid_map", f"{gid} {gid} 1")):
            fd = os.open(f"/proc/self/{name}", os.O_WRONLY)
            try:
                os.write(fd, text.encode())
            finally:
                os.close(fd)
    finally:
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    status_r, status_w = os.pipe()
    init = os.fork()
    if init:  # the original process: outside the PID namespace
        os.close(status_w)
        _relay(init, status_r)
    libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
    os.close(status_r)
    worker = os.fork()
    if worker:  # PID 1: reap everything, report the worker's status, then end the namespace
        _init_loop(worker, status_w)
    libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
    os.close(status_w)


def _close_all(keep=()):
    for fd in range(0, 1024):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _relay(pid, status_r):
    """The original process: wait for the namespace's init, then end as the worker ended.

    (It imports nothing from here on: its descriptors, the way to the standard library among
    them, are closed.)"""
    _close_all(keep=(status_r,))
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    data = b""
    try:
        data = os.read(status_r, 4)
    except OSError:
        pass
    status = struct.unpack("=i", data)[0] if len(data) == 4 else 1 << 8
    try:
        if os.WIFSIGNALED(status):  # die of the same signal, so that the grader reads the same status
            sig = os.WTERMSIG(status)
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
            os.kill(os.getpid(), sig)
    finally:
        os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _init_loop(worker, status_w):
    """PID 1 of the namespace: reap every process; when the worker ends, pass its status on."""
    _close_all(keep=(status_w,))
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
        if pid == worker:
            try:
                os.write(status_w, struct.pack("=i", status))
            except OSError:
                pass
            os._exit(0)  # the kernel ends everything else in the namespace with it


def private_sandbox(libc, path, size_bytes):
    """Put a tmpfs of ``size_bytes`` over the sandbox folder ``path`` (in this process's own mount
    namespace), with the files the grader wrote there copied in: what the student's code writes
    is bounded in size and vanishes with the namespace."""
    files, folders = {}, []
    for root, dirs, names in os.walk(path):
        rel = os.path.relpath(root, path)
        folders += [os.path.normpath(os.path.join(rel, d)) for d in dirs]
        for name in names:
            with open(os.path.join(root, name), "rb") as fh:
                files[os.path.normpath(os.path.join(rel, name))] = fh.read()
    _check(libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None), "mount --make-rprivate /")
    options = f"size={size_bytes},mode=0700".encode()
    _check(libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC),
                      options), "mount tmpfs")
    for folder in folders:
        os.makedirs(os.path.join(path, folder), mode=0o700, exist_ok=True)
    for rel, data in files.items():
        fd = os.open(os.path.join(path, rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def drop_capabilities(libc):
    """No capabilities, even in the process's own user namespace, and no way to regain any."""
    header = struct.pack("=Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = bytes(24)  # two zeroed {effective, permitted, inheritable}
    _check(libc.syscall(126 if platform.machine() == "x86_64" else 91, ctypes.c_char_p(header),
                        ctypes.c_char_p(data)), "capset")


# ----------------------------------------------------------------------------- Landlock
def landlock_abi(libc):
    """The kernel's Landlock ABI version, or 0 when it has none (or it is disabled)."""
    result = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                          ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(0, result)


def open_paths(read, write):
    """``(fd, is_folder, writable)`` of every path that exists, opened now (``O_PATH``): the
    Landlock rules are made from these descriptors after the process has become another uid,
    which may no longer reach the paths by name."""
    opened = []
    for paths, writable in ((read, False), (write, True)):
        for path in paths:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # (a folder that does not exist grants nothing)
            opened.append((fd, os.path.isdir(path), writable))
    return opened


def apply_landlock(libc, abi, opened):
    """Restrict this process to the files and folders of ``opened`` (:func:`open_paths`): read
    only, or read and write; deny TCP, and scope signals and abstract unix sockets, where
    ``abi`` allows.  Closes the descriptors; returns the network and signal layers it added."""
    fs = FS_RIGHTS[min(abi, 5)]
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("=QQQ", fs, net, scoped)[: 8 if abi < 4 else 16 if abi < 6 else 24]
    rights = {(True, False): READ_RIGHTS, (False, False): FS_EXECUTE | FS_READ_FILE, (True, True): fs,
              (False, True): FS_READ_FILE | FS_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0)}
    try:
        ruleset = _check(libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.c_char_p(attr),
                                      ctypes.c_size_t(len(attr)), ctypes.c_uint32(0)), "landlock_create_ruleset")
        try:
            for fd, is_folder, writable in opened:
                rule = struct.pack("=Qi", rights[is_folder, writable], fd)
                _check(libc.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset),
                                    ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.c_char_p(rule),
                                    ctypes.c_uint32(0)), "landlock_add_rule")
            _check(libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)),
                   "landlock_restrict_self")
        finally:
            os.close(ruleset)
    finally:
        for fd, _, _ in opened:
            os.close(fd)
    return (["landlock"] if net else []), (["landlock"] if scoped else [])


# ----------------------------------------------------------------------------- reaching the interpreter
def reroute(folders):
    """Keep ``folders`` importable after the process becomes a uid that cannot reach them.

    Each folder that another uid cannot reach by name (the interpreter under a ``/root`` of mode
    0700, say) is opened now and reached from then on through ``/proc/self/fd/<fd>``, a path
    the kernel resolves without searching the folder's parents: ``sys.path``, every loaded
    package's ``__path__`` and the import caches are rewritten.  ``folders`` maps the name a
    folder is imported by to the folder itself (a link in the private site folder -> its
    package).  Returns the names rerouted.
    """
    aliases = {}
    for name, target in folders.items():
        if reachable([target]) is None:
            continue
        try:
            fd = os.open(target, os.O_PATH | os.O_DIRECTORY)  # kept open: it is the way in
        except OSError:
            continue
        aliases[name.rstrip("/")] = f"/proc/self/fd/{fd}"

    def swap(path):
        if not isinstance(path, str):
            return path
        for name, alias in aliases.items():
            if path == name or path.startswith(name + "/"):
                return alias + path[len(name):]
        return path

    if aliases:
        import importlib

        sys.path[:] = [swap(p) for p in sys.path]
        for module in list(sys.modules.values()):
            found = getattr(module, "__path__", None)
            if isinstance(found, list):
                found[:] = [swap(p) for p in found]
            spec = getattr(module, "__spec__", None)
            locations = getattr(spec, "submodule_search_locations", None)
            if isinstance(locations, list):
                locations[:] = [swap(p) for p in locations]
        sys.path_importer_cache.clear()
        importlib.invalidate_caches()
    return sorted(aliases)


# ----------------------------------------------------------------------------- seccomp
def _stmt(code, k):
    return struct.pack("=HBBI", code, 0, 0, k)


def _jump(code, k, jt, jf):
    return struct.pack("=HBBI", code, jt, jf, k)


def seccomp_program(pid, allow_processes):
    """The BPF program (bytes) of the filter for a process whose own pid is ``pid``."""
    deny = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO
    prog = [_stmt(BPF_LD_W_ABS, 4),  # arch
            _jump(BPF_JMP_JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
            _stmt(BPF_RET_K, RET_KILL_PROCESS),
            _stmt(BPF_LD_W_ABS, 0),  # nr
            _jump(BPF_JMP_JGE_K, X32_SYSCALL_BIT, 0, 1),
            _stmt(BPF_RET_K, deny)]
    numbers = sorted(DENIED_X86_64.values()) + ([] if allow_processes else sorted(FORKS_X86_64.values()))
    for nr in numbers:
        prog += [_jump(BPF_JMP_JEQ_K, nr, 0, 1), _stmt(BPF_RET_K, deny)]
    # clone3 hides its flags in memory: ENOSYS makes the C library fall back to clone.
    prog += [_jump(BPF_JMP_JEQ_K, CLONE3_X86_64, 0, 1), _stmt(BPF_RET_K, 0x00050000 | errno.ENOSYS)]
    if not allow_processes:  # clone: threads only (CLONE_THREAD in the low word of the flags)
        prog += [_jump(BPF_JMP_JEQ_K, CLONE_X86_64, 0, 4), _stmt(BPF_LD_W_ABS, 16),
                 _jump(BPF_JMP_JSET_K, CLONE_THREAD, 1, 0), _stmt(BPF_RET_K, deny), _stmt(BPF_RET_K, RET_ALLOW)]
    # Signals: the first argument must be the process's own pid (all 64 bits).
    for nr in sorted(SIGNALS_X86_64.values()):
        prog += [_jump(BPF_JMP_JEQ_K, nr, 0, 6), _stmt(BPF_LD_W_ABS, 16), _jump(BPF_JMP_JEQ_K, pid, 0, 3),
                 _stmt(BPF_LD_W_ABS, 20), _jump(BPF_JMP_JEQ_K, 0, 0, 1), _stmt(BPF_RET_K, RET_ALLOW),
                 _stmt(BPF_RET_K, deny)]
    # prlimit64: only on itself (pid 0).
    prog += [_jump(BPF_JMP_JEQ_K, PRLIMIT64_X86_64, 0, 6), _stmt(BPF_LD_W_ABS, 16), _jump(BPF_JMP_JEQ_K, 0, 0, 3),
             _stmt(BPF_LD_W_ABS, 20), _jump(BPF_JMP_JEQ_K, 0, 0, 1), _stmt(BPF_RET_K, RET_ALLOW),
             _stmt(BPF_RET_K, deny)]
    # fcntl: not the commands that direct SIGIO/SIGURG at a process of its choosing.
    prog += [_jump(BPF_JMP_JEQ_K, FCNTL_X86_64, 0, 6), _stmt(BPF_LD_W_ABS, 24),
             _jump(BPF_JMP_JEQ_K, FCNTL_SIGNALLING[0], 2, 0), _jump(BPF_JMP_JEQ_K, FCNTL_SIGNALLING[1], 1, 0),
             _jump(BPF_JMP_JEQ_K, FCNTL_SIGNALLING[2], 0, 1), _stmt(BPF_RET_K, deny), _stmt(BPF_RET_K, RET_ALLOW)]
    prog.append(_stmt(BPF_RET_K, RET_ALLOW))
    return b"".join(prog)


def apply_seccomp(libc, allow_processes):
    """Install the filter (this process and every thread and child it makes)."""
    program = seccomp_program(os.getpid(), allow_processes)
    count = len(program) // 8
    buffer = ctypes.create_string_buffer(program, len(program))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(count, ctypes.addressof(buffer))
    _check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "seccomp")


# ----------------------------------------------------------------------------- all of it
def _single_threaded():
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def confine(cfg):
    """Apply every layer ``cfg`` asks for; returns what is in force.

    ``cfg``: ``{"enabled": bool, "uid": int|None, "gid": int|None, "read": [paths],
    "write": [paths], "imports_from": {name: folder}, "allow_processes": bool}``.  The report maps each concern
    (``filesystem``, ``network``, ``processes``, ``signals``, ``syscalls``) to the kernel layers
    that hold it (the audit hook is always there too), and says who the process runs as and
    why any layer is missing.  A layer that fails is reported, and the process goes on with
    the layers that hold: the grader decides from the report (``--sandbox strict`` refuses).
    """
    report = {"filesystem": [], "network": [], "processes": [], "signals": [], "syscalls": [],
              "identity": "the grader's", "notes": []}
    if not cfg.get("enabled"):
        report["notes"].append("kernel layers off (--sandbox minimal)")
        return report
    if platform.system() != "Linux":
        report["notes"].append(f"no kernel layers on {platform.system()}")
        return report
    libc = _libc()
    if not _single_threaded():
        raise ConfinementError("the student process has more than one thread before confinement")
    read, write = list(cfg.get("read", ())), list(cfg.get("write", ()))
    opened = open_paths(read, write)  # while every path can still be reached by name
    if cfg.get("uid") is not None:  # (the grader gives one only when the sandbox can be reached by it)
        rerouted = reroute(cfg.get("imports_from", {}))
        drop_identity(cfg["uid"], cfg["gid"])
        report["identity"] = "uid of its own (one per submission)"
        if rerouted:
            report["notes"].append(f"reached through descriptors: {', '.join(rerouted)}")
    elif os.geteuid() != 0:
        report["identity"] = f"uid {os.geteuid()} (the grader's, unprivileged)"
    else:
        report["identity"] = "root"
        report["notes"].append(cfg.get("no_uid", "no separate uid"))
    try:
        enter_namespaces(libc)
        for key in ("network", "processes", "signals"):
            report[key].append("namespace")
    except (ConfinementError, OSError) as exc:
        report["notes"].append(f"no namespaces ({exc})")
    if report["processes"] and cfg.get("sandbox") and cfg.get("sandbox_bytes"):
        try:
            private_sandbox(libc, cfg["sandbox"], int(cfg["sandbox_bytes"]))
            report["filesystem"].append(f"tmpfs sandbox ({int(cfg['sandbox_bytes']) >> 20} MB)")
            for index, (fd, is_folder, writable) in enumerate(opened):  # the sandbox rule: on the tmpfs now
                if writable and is_folder:
                    os.close(fd)
                    opened[index] = (os.open(cfg["sandbox"], os.O_PATH | os.O_CLOEXEC), True, True)
        except (ConfinementError, OSError) as exc:
            report["notes"].append(f"no private sandbox ({exc})")
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        report["notes"].append("no_new_privs could not be set")
    if report["processes"]:
        try:
            drop_capabilities(libc)
        except ConfinementError as exc:
            report["notes"].append(f"capabilities kept ({exc})")
    abi = landlock_abi(libc)
    if abi:
        try:
            network, signals = apply_landlock(libc, abi, opened)
            report["filesystem"].append(f"landlock ABI {abi}")
            report["network"] += network
            report["signals"] += signals
        except ConfinementError as exc:
            report["notes"].append(f"no landlock ({exc})")
    else:
        for fd, _, _ in opened:
            os.close(fd)
        report["notes"].append("no landlock in this kernel")
    if platform.machine() == "x86_64":
        try:
            apply_seccomp(libc, bool(cfg.get("allow_processes")))
            for key in ("network", "processes", "signals", "syscalls"):
                report[key].append("seccomp")
        except ConfinementError as exc:
            report["notes"].append(f"no seccomp ({exc})")
    else:
        report["notes"].append(f"no seccomp filter for {platform.machine()}")
    return report


def forget_ctypes():
    """Take ``ctypes`` (and this module) out of the process's modules; the caller then drops its
    own references and runs a collection (``child.become_student``), which frees them.

    Hygiene, not a boundary: the policy refuses to import ``ctypes`` again, but the classes of the
    never-unloaded ``_ctypes`` extension stay reachable through ``object.__subclasses__()``
    (``SECURITY.md`` section 3); student code that reaches raw memory that way can switch off the
    audit hook, never the layers above (the red-team case ``hook_off_ctypes_subclasses``).
    """
    for name in [n for n in sys.modules if n in ("ctypes", "_ctypes", __name__) or n.startswith("ctypes.")]:
        del sys.modules[name]
