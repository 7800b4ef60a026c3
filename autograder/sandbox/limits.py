"""What one submission's student process may use: the single definition of the limits and their defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Limits of one submission's student process (the grading config's ``[limits]`` overrides them).

    Attributes
    ----------
    call_seconds : float
        Wall clock per call into student code (and per loaded unit).
    cpu_seconds_total : float
        CPU budget of the whole submission, all restarts of its process together.
    memory_mb : int
        Address space of the student process (``RLIMIT_AS``).
    output_bytes : int
        stdout / stderr kept per call; the rest is drained and dropped.
    file_bytes : int
        Largest file the student process may write, in its own sandbox (``RLIMIT_FSIZE``).
    processes : int
        Extra processes the student code may start (0: none).
    sandbox_mb : int
        Room for what the student's code writes: its sandbox folder is a private tmpfs of this
        size (where the kernel allows a mount namespace).
    worker_memory_mb : int
        Memory of each batch worker, the grader's own process (cgroup v2 ``memory.max`` or
        ``RLIMIT_AS``): the backstop behind the per-reply budgets.
    """

    call_seconds: float = 20.0
    cpu_seconds_total: float = 120.0
    memory_mb: int = 1024
    output_bytes: int = 64_000
    file_bytes: int = 16 << 20
    processes: int = 0
    sandbox_mb: int = 64
    worker_memory_mb: int = 4096
