"""The student process's request loop: load the student's code, call it, reply.

UNTRUSTED side.  Everything here runs in the same process as the student's code, so nothing
this module reports is believed by the grader where a forgery could raise a score: the trusted
side checks every value it gets back (see ``autograder/SECURITY.md``).

Generic requests (``op``) and the value of a successful reply
------------------------------------------------------------
``load_step`` {index, step}
    Import one module (``{"kind": "module", "home", "module", "file"}``) or run one notebook
    cell (``{"kind": "cell", "name", "source"}``) of the load plan.
``report`` {failed, plan}
    ``{symbol or part name: "ok" | error}`` for every part.
``call`` {target, args, kwargs, repeat}
    ``target(*args, **kwargs)``; ``value`` is its return value, or with ``repeat`` > 1 the
    list of the values of that many calls on the very same argument objects (a function that
    changes its inputs then shows it in its own results).
``call_many`` {target, arglists}
    One reply frame per argument tuple, in order.
``method`` {cls, method, args, kwargs, set, get}
    ``obj = cls()``, then ``obj.<name> = value`` for each item of ``set``, then
    ``obj.method(*args, **kwargs)``; value ``{"result": ..., <name>: obj.<name> for name in get}``.

Any other ``op`` is one of the assignment's requests: its ``harness_ops.py`` (loaded by path,
numpy and the standard library only) maps names to functions ``op(server, request) -> reply``
in ``OPS``, and callable-argument kinds to builders ``(server, spec) -> function`` in
``CALLABLES``.  They use the *ops API* of :class:`Server`: :meth:`~Server.require`,
:meth:`~Server.guard`, :meth:`~Server.invoke`, :meth:`~Server.attribute`,
:meth:`~Server.error`, :class:`Failure`, and the attributes ``np``, ``modules``, ``runtime``
and ``safe`` (numpy functions bound before any student code ran).

While it serves an assignment's request, the student process may ask the grader a question
(:meth:`Server.ask`: a ``{"ok": true, "query": ...}`` frame, answered by a ``{"answer": ...}`` frame), so
that what only the grader may hold stays there.

Every reply of a call carries ``ok``, ``value`` or ``error`` ({kind, message, detail}),
``inputs_changed`` (for each positional argument: was it an ndarray whose bytes, shape or
dtype changed during the call), ``inputs_after`` (the changed arrays, None elsewhere),
``violations`` (policy messages) and ``child_seconds`` (measured here, so never used to grade).
"""

import linecache
import os
import sys
import time
import traceback
import typing

#: Names that annotations in notebook cells use without importing them.
_TYPING_NAMES = ("Any", "Callable", "Dict", "Iterable", "List", "Optional", "Sequence", "Tuple", "Union")


class Failure(Exception):
    """A call that did not produce a value; carries the error dict for the reply."""

    def __init__(self, error):
        super().__init__(error["message"])
        self.error = error


class Server:
    """Serves the grader's requests in the student process.

    Parameters
    ----------
    cfg : dict
        The process's configuration (pipes, sandbox, parts, import table, policy settings).
    wire, policy, runtime, ops : module
        The harness's own modules and the assignment's ops, loaded by the bootstrap.
    np : module
        numpy.
    """

    def __init__(self, cfg, wire, policy, runtime, ops, np):
        self.cfg = cfg
        self.wire = wire
        self.runtime = runtime
        self.np = np
        self.ops = getattr(ops, "OPS", {})
        self.callables = getattr(ops, "CALLABLES", {})
        self.req_fd = cfg["req_fd"]
        self.rep_fd = cfg["rep_fd"]
        self.sandbox = cfg["sandbox"]
        self.package = cfg["package"]  # the sandbox folder that holds a module submission's files
        self.memory_mb = cfg["memory_mb"]
        self.limits = wire.FrameLimits()
        self.plan = {}  # index -> load step, as received
        self.parts = cfg["parts"]  # [{name, module, cell, symbol}]
        self.kind = cfg["kind"]
        self.modules = {}  # module name -> the student's module object
        self.step_status = {}  # index -> None (ok) or error dict
        # Bound before any student code runs: the ops decide with these, not with whatever the
        # student may later assign to numpy's attributes.
        self.safe = {"asarray": np.asarray, "array_equal": np.array_equal, "array": np.array,
                     "ndarray": np.ndarray, "seed": np.random.seed, "perf": time.perf_counter}
        self._stdout, self._stderr = sys.stdout, sys.stderr
        self.ns = {"np": np, "numpy": np, "__name__": "__main__", "__builtins__": __builtins__}
        # Annotations in solution cells are evaluated at definition time: the usual typing
        # names are there even when the notebook's setup cell is not run.
        self.ns.update({name: getattr(typing, name) for name in _TYPING_NAMES})
        self.ns.update(runtime.PYTHON2_BUILTINS)
        table = cfg["imports"]
        self.importer = runtime.SubmissionImporter(table["files"], table["packages"], table["unloadable"]).install()
        os.chdir(self.sandbox)
        self.violations = policy.install(
            sandbox_dir=self.sandbox,
            read_dirs=cfg["read_dirs"],
            deny_dirs=cfg["deny_dirs"],
            exempt_files=cfg["exempt_files"],
            allow_processes=cfg["allow_processes"],
        )
        self.Violation = policy.PolicyViolation

    # ----------------------------------------------------------------- plumbing
    def serve(self):
        """Answer requests until the grader closes the request pipe."""
        self._send({"ok": True, "value": {"ready": True, "sandbox": self.cfg.get("sandbox_report", {})}})
        while True:
            try:
                frame = self.wire.read_frame(self.req_fd, self.limits)
            except Exception:  # noqa: BLE001 - the pipe is broken: nothing to serve
                os._exit(3)
            if frame is None:
                os._exit(0)
            request = self.wire.decode(*frame).value
            op = str(request.get("op"))
            if op == "call_many":
                self.op_call_many(request)
                continue
            handler = getattr(self, "op_" + op, None)
            if handler is None and op in self.ops:
                handler = self._assignment_op(op)
            try:
                reply = handler(request) if handler else {"ok": False, "error": self.error(
                    "protocol", f"unknown request {op!r}")}
            except Failure as exc:
                reply = {"ok": False, "error": exc.error}
            self._send(reply)

    def _assignment_op(self, op):
        return lambda request: self.ops[op](self, request)

    def ask(self, question):
        """Ask the grader mid-request (ops API): send ``{"ok": True, "query": question}``, return its answer.

        What a probe must not hold (the values the grader designed, say) stays in the grader and
        comes one answer at a time, to the probe's own code path.  Raises :class:`Failure` when
        no answer comes.
        """
        self._flush()
        self.wire.write_all(self.rep_fd, self.wire.encode({"ok": True, "query": question}, self.limits))
        try:
            frame = self.wire.read_frame(self.req_fd, self.limits)
            answer = self.wire.decode(*frame).value if frame is not None else None
        except Exception:  # noqa: BLE001 - the pipe is broken
            answer = None
        if type(answer) is not dict or "answer" not in answer:
            raise Failure(self.error("protocol", "the grader's answer to the probe did not come"))
        return answer["answer"]

    def _send(self, reply):
        self._flush()
        try:
            data = self.wire.encode(reply, self.limits)
        except MemoryError:
            data = self.wire.encode({"ok": False, "error": self.error(
                "memory", f"memory limit of {self.memory_mb} MB exceeded while sending the result")})
        self.wire.write_all(self.rep_fd, data)

    def _flush(self):
        for stream in (sys.stdout, sys.stderr, self._stdout, self._stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - the student may have replaced or closed it
                pass

    # ----------------------------------------------------------------- errors (ops API)
    @staticmethod
    def error(kind, message, detail=""):
        """An error dict of a reply."""
        return {"kind": kind, "message": message, "detail": detail}

    def _student_traceback(self, exc):
        """The traceback of ``exc`` restricted to the student's own frames, with the student's paths."""
        try:
            frames = traceback.StackSummary.extract(traceback.walk_tb(exc.__traceback__), lookup_lines=False)
            kept = [f for f in frames if self._is_student_file(f.filename)]
            for f in kept:
                f._line = linecache.getline(f.filename, f.lineno).strip() if f.lineno else ""
                f.filename = self._display(f.filename)
            lines = traceback.format_list(kept)
            text = "Traceback (most recent call last):\n" + "".join(lines) if lines else ""
            return (text + self._describe(exc))[-4000:]
        except BaseException:  # noqa: BLE001
            return self._describe(exc)

    def _is_student_file(self, filename):
        return filename.startswith(self.sandbox + os.sep) or filename.startswith("<cell ")

    def _describe(self, exc):
        name = self.wire.type_name(exc).rpartition(".")[2]
        if isinstance(exc, SyntaxError):
            try:
                where = f" ({self._display(exc.filename)}, line {exc.lineno})" if exc.lineno else ""
                return f"{name}: {self.wire.safe_str(exc.msg, 500)}{where}"
            except BaseException:  # noqa: BLE001
                pass
        message = self.wire.safe_str(exc, 1000)
        return f"{name}: {message}" if message else name

    def _display(self, filename):
        filename = str(filename)
        if filename.startswith(self.sandbox + os.sep):
            return filename[len(self.sandbox) + 1:].removeprefix(self.package + os.sep)
        if filename.startswith("<cell ") and filename.endswith(">"):
            return "cell " + filename[6:-1]
        return filename

    def _error_from(self, exc, what):
        """The error dict for an exception raised by student code during ``what``."""
        if isinstance(exc, SystemExit):
            code = exc.code
            code = 0 if code is None else (code if type(code) is int else 1)
            return self.error("exit", f"your code exited the process (exit code {code}) {what}")
        if isinstance(exc, MemoryError):
            where = "in " + what[len("during "):] if what.startswith("during ") else what
            return self.error("memory", f"memory limit of {self.memory_mb} MB exceeded {where}",
                              self._student_traceback(exc))
        if isinstance(exc, self.Violation):
            return self.error("forbidden", f"your code tried something not allowed {what}: "
                              f"{self.wire.safe_str(exc, 500)}", self._student_traceback(exc))
        if isinstance(exc, RecursionError):
            return self.error("exception", f"RecursionError: maximum recursion depth exceeded {what}",
                              self._student_traceback(exc))
        return self.error("exception", self._describe(exc), self._student_traceback(exc))

    # ----------------------------------------------------------------- running student code (ops API)
    def guard(self, fn, what, *args, **kwargs):
        """``fn(*args, **kwargs)``, student code: any failure becomes :class:`Failure` with the reply's error."""
        del self.violations[:]
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - anything the student raises
            error = self._error_from(exc, what)
            if self.violations and error["kind"] != "exit":
                error = self.error("forbidden", f"your code tried something not allowed {what}: "
                                   f"{self.violations[0]}", error.get("detail", ""))
            raise Failure(error) from None
        finally:
            self._flush()
        if self.violations:
            raise Failure(self.error("forbidden", f"your code tried something not allowed {what}: "
                                     f"{self.violations[0]}"))
        return result

    def attribute(self, obj, name):
        """``getattr(obj, name)`` of a student object, or None if that fails."""
        try:
            return self.guard(getattr, "", obj, name, None)
        except Failure:
            return None

    def require(self, symbol):
        """The student's function or class ``symbol`` (a :class:`Failure` when it is missing)."""
        found = self._lookup(symbol)
        if found is None:
            raise Failure(self.error("missing", f"{symbol} was not found in your submission"))
        return found

    def _lookup(self, symbol):
        if self.kind == "notebook":
            value = self.ns.get(symbol)
            return value if callable(value) else None
        order = [p["module"] for p in self.parts if p["symbol"] == symbol] + list(self.modules)
        for name in order:
            mod = self.modules.get(name)
            value = getattr(mod, symbol, None) if mod is not None else None
            if callable(value) and not self.runtime.is_unavailable_stand_in(value):
                return value
        return None

    def _arguments(self, args, kwargs):
        def build(value):
            if type(value) is dict and "__callable__" in value:
                kind = value["__callable__"]
                if kind not in self.callables:
                    raise Failure(self.error("protocol", f"unknown callable spec {kind!r}"))
                return self.callables[kind](self, value)
            return value

        return [build(a) for a in args], {k: build(v) for k, v in kwargs.items()}

    def invoke(self, fn, args, kwargs, what, repeat=1):
        """Call student code; the reply fields for the outcome (see the module docstring)."""
        args, kwargs = self._arguments(args, kwargs)
        kwargs = self.runtime.adapt_seed(fn, kwargs, self.safe["seed"])
        ndarray, perf = self.safe["ndarray"], self.safe["perf"]
        snapshots = [(a.shape, a.dtype.str, a.tobytes()) if type(a) is ndarray else None for a in args]
        start = perf()
        reply = {}
        try:
            values = [self.guard(fn, what, *args, **kwargs) for _ in range(max(1, int(repeat)))]
            reply["value"] = values if repeat > 1 else values[0]
            reply["ok"] = True
        except Failure as exc:
            reply["ok"] = False
            reply["error"] = exc.error
        reply["child_seconds"] = perf() - start
        # Arrays that did not change are not sent back (the parent still has them).
        changed = [snap is not None and (type(a) is not ndarray or (a.shape, a.dtype.str) != snap[:2]
                                         or a.tobytes() != snap[2]) for a, snap in zip(args, snapshots)]
        reply["inputs_after"] = [a if c else None for a, c in zip(args, changed)]
        reply["inputs_changed"] = changed
        reply["violations"] = list(self.violations)
        return reply

    # ----------------------------------------------------------------- loading
    def op_load_step(self, request):
        index = request["index"]
        step = self.plan[index] = request["step"]
        try:
            if step["kind"] == "cell":
                self.guard(self._exec_cell, f"while running cell {step['name']}", step)
            else:
                self.modules[step["module"]] = self.guard(self.importer.load, f"while loading {step['file']}",
                                                          step["home"])
        except Failure as exc:
            self.step_status[index] = exc.error
            raise
        return {"ok": True, "value": None}

    def _exec_cell(self, step):
        filename = f"<cell {step['name']}>"
        source = step["source"]
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = compile(source, filename, "exec", dont_inherit=True)
        exec(code, self.ns)  # noqa: S102 - student code, inside the sandbox

    def op_report(self, request):
        failed = request.get("failed", {})
        plan = request.get("plan", [])
        report = {}
        for part in self.parts:
            symbol = part["symbol"]
            found = self._lookup(symbol)
            step = self._step_of(plan, part)
            if found is not None:
                status = "ok"
                if part["name"] != symbol:
                    attr = part["name"].partition(".")[2]
                    if not hasattr(found, attr):
                        status = self.error("missing", f"{part['name']} was not found in your submission")
                report.setdefault(symbol, "ok")
                report[part["name"]] = status
                continue
            if step is None:
                where = f"module {part['module']}.py" if self.kind == "modules" else f"cell {part['cell']}"
                status = self.error("missing", f"{symbol} was not found in your submission (no {where})")
            elif step in failed:
                status = failed[step]
            elif self.step_status.get(step):
                status = self.step_status[step]
            else:
                status = self.error("missing", f"{symbol} was not found in your submission")
            report[symbol] = status
            report[part["name"]] = status
        return {"ok": True, "value": report}

    @staticmethod
    def _step_of(plan, part):
        for i, step in enumerate(plan):
            if step["kind"] == "cell" and step["name"] == part["cell"]:
                return i
            if step["kind"] == "module" and step["module"] == part["module"]:
                return i
        return None

    # ----------------------------------------------------------------- calls
    def op_call(self, request):
        target = request["target"]
        fn = self.require(target)
        return self.invoke(fn, request.get("args", []), request.get("kwargs", {}), f"during {target}",
                           repeat=request.get("repeat", 1))

    def op_call_many(self, request):
        target = request["target"]
        for arglist in request["arglists"]:
            try:
                fn = self.require(target)
                reply = self.invoke(fn, list(arglist), {}, f"during {target}")
            except Failure as exc:
                reply = {"ok": False, "error": exc.error}
            self._send(reply)

    def op_method(self, request):
        cls_name, method = request["cls"], request["method"]
        cls = self.require(cls_name)
        what = f"during {cls_name}.{method}"
        obj = self.guard(cls, f"while creating {cls_name}()")
        for name, value in (request.get("set") or {}).items():
            self.guard(setattr, what, obj, name, value)
        bound = self.guard(getattr, what, obj, method)
        reply = self.invoke(bound, request.get("args", []), request.get("kwargs", {}), what)
        if reply["ok"]:
            reply["value"] = {"result": reply["value"], **{name: self.attribute(obj, name)
                                                          for name in request.get("get") or ()}}
        return reply
