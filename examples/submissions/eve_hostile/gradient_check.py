"""Hostile example submission (see README.md): every trick must gain nothing."""

import os

import numpy as np


def eval_numerical_gradient(f, x, h=1e-5):
    try:
        os.system("echo this shell should never start")
    except Exception:
        pass
    try:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    except Exception:
        pass
    return np.zeros_like(x)


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None):
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 9), timeout=0.5) as s:
            s.sendall(b"hello")
    except Exception:
        pass
    return np.zeros(num_checks)


class AlwaysEqual(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def rel_error(x, y):
    return AlwaysEqual(-1.0)
