"""The zygote: a pre-started process that forks one fresh student process per request.

Trusted code only: it has imported numpy and the harness (``child.py --zygote``) and never
loads student code or reads a submission.  Each request is one student process to make.  The
zygote forks; the child drops every trace of the zygote (its socket, its signal set-up), takes
the descriptors that came with the request as its pipes and its stdout and stderr, starts a
new session, takes the submission's environment and working directory, and then becomes a
student process exactly as a cold one does (``child.become_student``: rlimits, the kernel's
layers, the audit hook, serve).  A hang, a crash or a hostile child cannot reach the zygote:
the child is confined before any student code runs.

The grader talks to it over a ``SOCK_SEQPACKET`` unix socket pair (no file name), one JSON
message per packet, descriptors passed with ``SCM_RIGHTS``:

``{"cfg": ..., "env": {...}, "cwd": "..."}`` + [req_r, rep_w, stdout_w, stderr_w]
    answered ``{"forked": pid}`` (or ``{"error": "..."}``);
later, unasked
    ``{"exited": pid, "status": wait_status, "cpu": seconds}`` when a child is reaped.

The zygote ends when the grader closes its end of the socket.
"""

import json
import os
import select
import signal
import socket

MAX_MESSAGE = 1 << 24  # a config with the whole load plan (the submission's sources)
FDS = 4


def serve(socket_fd, become_student, prepare=None):
    """Answer fork requests until the grader goes away; ``become_student(cfg)`` never returns.

    ``prepare(cfg)``, if given, runs here before each fork (trusted work that the children
    then share: loading the assignment's requests once).
    """
    sock = socket.socket(fileno=socket_fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    while True:
        try:
            ready = select.select([sock, wake_r], [], [])[0]
        except InterruptedError:
            continue
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
            _reap(sock)
        if sock not in ready:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, FDS)
        except InterruptedError:
            continue
        if not data:
            os._exit(0)  # the grader is gone
        try:
            request = json.loads(data)
            if len(fds) != FDS:
                raise ValueError(f"expected {FDS} descriptors, got {len(fds)}")
        except ValueError as exc:
            for fd in fds:
                os.close(fd)
            _send(sock, {"error": f"bad request: {exc}"})
            continue
        if prepare is not None and isinstance(request.get("cfg"), dict):
            prepare(request["cfg"])
        pid = os.fork()
        if pid == 0:
            _child(request, fds, sock, (wake_r, wake_w), become_student)
        for fd in fds:
            os.close(fd)
        _send(sock, {"forked": pid})


def _child(request, fds, sock, wake, become_student):
    """In the new child: leave the zygote behind, then become the student process."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sock.close()
        for fd in wake:
            os.close(fd)
        os.setsid()
        req_r, rep_w, out_w, err_w = fds
        null = os.open(os.devnull, os.O_RDONLY)
        for source, target in ((null, 0), (out_w, 1), (err_w, 2)):
            os.dup2(source, target)
        for fd in (null, out_w, err_w):
            if fd > 2:
                os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        import tempfile

        tempfile.tempdir = None  # (TMPDIR is the sandbox now)
        os.chdir(request["cwd"])
        cfg = request["cfg"]
        cfg["req_fd"], cfg["rep_fd"] = req_r, rep_w
        become_student(cfg)
    finally:
        os._exit(71)


def _reap(sock):
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, {"exited": pid, "status": status, "cpu": usage.ru_utime + usage.ru_stime})


def _send(sock, message):
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        os._exit(0)  # the grader is gone
