"""The student process's entry point: set up, then serve the grader's requests.

UNTRUSTED side.  Started by the grader (:mod:`autograder.sandbox.spawn`) in one of two ways::

    python -I -S -B /abs/path/autograder/harness/child.py CONFIG_JSON          # one student process
    python -I -S -B /abs/path/autograder/harness/child.py --zygote ZYGOTE_JSON # a zygote (zygote.py)

The zygote is trusted: it imports numpy and the harness, never sees student code, and forks a
fresh student process for each request, which then does exactly what a cold one does.

It never imports the kit's packages: its sibling modules (``wire``, ``policy``, ``server``,
``runtime``, ``confine``) and the assignment's ``harness_ops.py`` are loaded by file path under
private names, and they use numpy and the standard library only.  Order of events: import
numpy (with ``ctypes`` kept out) and everything the harness needs; apply the rlimits; let the
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


def _prepare(site_packages):
    """What every student process needs, once per interpreter: numpy (without ``ctypes``,
    which would give student code raw memory access) and the harness's own modules."""
    import gc
    import importlib.util
    import os

    sys.dont_write_bytecode = True
    sys.modules["ctypes"] = None
    sys.path.extend(site_packages)
    import numpy

    del sys.modules["ctypes"]
    here = os.path.dirname(os.path.abspath(__file__))

    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, os.path.join(here, path))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    modules = {name: load(f"_linclass_{name}", f"{name}.py") for name in ("wire", "policy", "runtime", "server",
                                                                             "zygote")}
    # What is loaded so far lives as long as the process: out of the cyclic collector's sight, so
    # that no collection in a forked student process walks (and copies) the zygote's whole heap.
    # The bootstrap's tools are loaded after it, so that become_student's collection frees them.
    gc.freeze()
    modules["confine"] = load("_linclass_confine", "confine.py")
    modules["load"] = load
    return numpy, modules


def become_student(cfg, numpy, modules, ops=None):
    """Turn this process into one submission's student process; never returns.

    The submission's limits (soft == hard, so they cannot be raised again), the assignment's
    requests (``ops``, when the zygote has loaded them already), then the kernel's layers,
    before any student code (and ``ctypes`` out of reach again after them); then serve the grader.
    """
    import gc
    import os
    import resource

    for name, (soft, hard) in cfg["rlimits"].items():
        limit = getattr(resource, name)
        current = resource.getrlimit(limit)[1]
        if current != resource.RLIM_INFINITY:
            soft, hard = min(soft, current), min(hard, current)
        resource.setrlimit(limit, (soft, hard))
    if ops is None and cfg["ops_module"]:
        ops = modules["load"]("_linclass_ops", cfg["ops_module"])
    # The bootstrap's own tools leave this process's reach before any student code: the dict is
    # shared with the frames below this one (main, the zygote's loop), so it is emptied of them.
    confine = modules.pop("confine")
    for name in ("load", "zygote"):
        modules.pop(name, None)
    try:
        cfg["sandbox_report"] = confine.confine(cfg["confine"])
    except confine.ConfinementError as exc:
        sys.stderr.write(f"linclass: the student process could not be confined: {exc}\n")
        os._exit(70)
    forget = confine.forget_ctypes
    del confine
    forget()  # ctypes and confine out of sys.modules ...
    del forget
    gc.collect()  # ... and no longer held by anything (a module's functions and globals make a cycle)
    server = modules["server"].Server(cfg, modules["wire"], modules["policy"], modules["runtime"], ops, numpy)
    server.serve()
    os._exit(0)


def main():
    import json

    if sys.argv[1] == "--zygote":  # a pre-started process that forks one student process per request
        zcfg = json.loads(sys.argv[2])
        numpy, modules = _prepare(zcfg["site_packages"])
        loaded_ops = {}  # ops module path -> module: the assignments' requests, loaded once, here

        def prepare(cfg):  # in the zygote, before it forks
            path = cfg.get("ops_module")
            if path and path not in loaded_ops:
                try:
                    loaded_ops[path] = modules["load"]("_linclass_ops", path)
                except Exception:  # noqa: BLE001 - the child loads it itself, and says why it cannot
                    return

        modules["zygote"].serve(zcfg["socket_fd"],
                                lambda cfg: become_student(cfg, numpy, modules, loaded_ops.get(cfg.get("ops_module"))),
                                prepare)
    else:  # one student process, started cold
        cfg = json.loads(sys.argv[1])
        numpy, modules = _prepare(cfg["site_packages"])
        become_student(cfg, numpy, modules)


if __name__ == "__main__":
    main()
