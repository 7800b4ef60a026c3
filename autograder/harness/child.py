"""The student process's entry point: set up, then serve the grader's requests.

UNTRUSTED side.  Started by :class:`autograder.sandbox.process.StudentProcess` as::

    python -I -S -B /abs/path/autograder/harness/child.py CONFIG_JSON

It never imports the kit's packages: its sibling modules (``wire``, ``policy``, ``server``,
``runtime``, ``confine``) and the assignment's ``harness_ops.py`` are loaded by file path under
private names, and they use numpy and the standard library only.  Order of events: apply the
rlimits; import numpy (with ``ctypes`` kept out) and everything the harness needs; let the
kernel confine the process (:mod:`confine`: uid, namespaces, Landlock, seccomp; the student's
code then runs as PID 2 of its own PID namespace); install the audit-hook policy
(:class:`~server.Server` does, before it serves); then serve requests, the first reply saying
which kernel layers hold.  The student's code is loaded by ``load_step`` requests (one module
import or one notebook cell each, so that a hang costs only that unit), after all of this.

Requests and replies are frames of :mod:`wire` on two dedicated pipes (the descriptors are in
the config); stdout and stderr are the student's, captured by the parent.  The requests are
listed in :mod:`server`.
"""

import sys


def _bootstrap():
    import json
    import os
    import resource

    cfg = json.loads(sys.argv[1])
    # 1. Limits first (soft == hard, so they cannot be raised again).
    for name, (soft, hard) in cfg["rlimits"].items():
        limit = getattr(resource, name)
        current = resource.getrlimit(limit)[1]
        if current != resource.RLIM_INFINITY:
            soft, hard = min(soft, current), min(hard, current)
        resource.setrlimit(limit, (soft, hard))
    sys.dont_write_bytecode = True
    # 2. numpy, without ctypes (which would give student code raw memory access).
    sys.modules["ctypes"] = None
    sys.path.extend(cfg["site_packages"])
    import numpy

    del sys.modules["ctypes"]
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))

    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, os.path.join(here, path))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    modules = {name: load(f"_linclass_{name}", f"{name}.py") for name in ("wire", "policy", "runtime", "server")}
    ops = load("_linclass_ops", cfg["ops_module"]) if cfg["ops_module"] else None  # the assignment's requests
    # 3. The kernel's layers, before any student code (and ctypes out of reach again after them).
    confine = load("_linclass_confine", "confine.py")
    try:
        cfg["sandbox_report"] = confine.confine(cfg["confine"])
    except confine.ConfinementError as exc:
        sys.stderr.write(f"linclass: the student process could not be confined: {exc}\n")
        os._exit(70)
    confine.forget_ctypes()
    return cfg, modules, ops, numpy


def main():
    cfg, modules, ops, np = _bootstrap()
    server = modules["server"].Server(cfg, modules["wire"], modules["policy"], modules["runtime"], ops, np)
    server.serve()


if __name__ == "__main__":
    main()
