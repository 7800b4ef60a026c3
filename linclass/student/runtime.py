"""The student-side runtime: how a submission's code is imported and called.

Used in the grader's student process (loaded before any student code) and by the public
self-check in the student's own Python, so that both accept exactly the same code.

Imports
-------

Real course code (CS231n's, for one) imports its siblings in every way there is::

    from cs231n.classifiers.losses import *         # the course's own package tree
    from classifiers.losses import loss_vectorized
    from .losses import *                            # relative, inside the package
    import losses                                    # side by side

and students hand the files in flat (the files in one folder), as the whole course tree
(``assignment1/``), or as a mix of both.  :class:`SubmissionImporter` is an import finder
that makes every one of these forms resolve to the student's own file, loaded once:

- each submitted module has one *home* name (``cs231n.classifiers.losses``) under which it
  is executed; every other spelling (``losses``, ``classifiers.losses``, a relative
  import) is an alias of that one module object;
- the *alias packages* (``cs231n``, ``cs231n.classifiers``, ``classifiers``) are empty
  stand-in packages: a student's ``__init__.py`` (CS231n's imports every module of the
  course) never runs;
- a file that could not be loaded (a syntax error, Python 2 code) is given to the modules that
  import it as a stand-in: ``from losses import *`` then imports nothing and
  ``from losses import loss_naive`` gets a function that raises a clear error when it
  is called.  A bug in one file then costs points in that file's parts only.

It only finds the submission's own files: it never makes anything else importable, and a
submitted file named like a standard-library module is not picked up by bare name.

Calls
-----
:func:`adapt_seed`: course code often has no ``seed`` parameter (CS231n's training loop);
such code is called without it, after seeding numpy's global generator instead.

Standard library only (numpy is passed in where it is needed).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import sys
import types
from typing import Any, Callable, Mapping, Sequence

#: Marks the stand-in functions of a file that did not load.
UNAVAILABLE = "__linclass_unavailable__"

#: Python 2 builtins that old CS231n code uses as they are (``for i in xrange(n)``): every module
#: and notebook namespace the runtime loads starts with them (its own definitions win).
PYTHON2_BUILTINS: dict[str, Any] = {"xrange": range, "unicode": str, "basestring": str, "long": int}

#: Python 2 names that old CS231n code imports from the ``future`` package
#: (``from past.builtins import xrange``): provided here, so such code runs wherever it is checked.
SHIMS: dict[str, dict[str, Any]] = {
    "past": {},
    "past.builtins": {**PYTHON2_BUILTINS, "raw_input": input},
}


class _Shim(importlib.abc.Loader):
    """A module of :data:`SHIMS`."""

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        import functools

        module.__dict__.update(SHIMS[module.__name__])
        if module.__name__ == "past.builtins":
            module.reduce = functools.reduce
        if module.__name__ == "past":
            module.__path__ = []


class _StandInPackage(importlib.abc.Loader):
    """An empty package: the alias packages (``cs231n``, ...) never run a student ``__init__``."""

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__path__ = []


class _Alias(importlib.abc.Loader):
    """Another name of an already known module: importing it returns the home module."""

    def __init__(self, home: str) -> None:
        self.home = home

    def create_module(self, spec):
        return importlib.import_module(self.home)

    def exec_module(self, module):
        pass


class _Unloadable(importlib.abc.Loader):
    """A stand-in for a file that did not load; its names are functions that explain why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        reason = self.reason

        def __getattr__(name: str):
            if name.startswith("__"):
                raise AttributeError(name)

            def unavailable(*args, **kwargs):
                raise ImportError(f"{name} is not available: {reason}")

            unavailable.__name__ = name
            setattr(unavailable, UNAVAILABLE, True)
            return unavailable

        module.__getattr__ = __getattr__
        module.__all__ = []


class _SourceText(importlib.abc.Loader):
    """Runs a module's source text (the file's, unless a text is given); ``__file__`` and
    tracebacks name ``path``, and the namespace starts with :data:`PYTHON2_BUILTINS`."""

    def __init__(self, path: str, text: str | None = None) -> None:
        self.path, self.text = path, text

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        if self.text is None:
            with open(self.path, "rb") as fh:
                self.text = importlib.util.decode_source(fh.read())
        module.__file__ = self.path
        module.__dict__.update(PYTHON2_BUILTINS)
        exec(compile(self.text, self.path, "exec", dont_inherit=True), module.__dict__)  # noqa: S102


class SubmissionImporter(importlib.abc.MetaPathFinder):
    """Resolve the submission's module files under all the names real code uses.

    Parameters
    ----------
    files : mapping
        Home name -> absolute path of each module file to make importable
        (e.g. ``{"cs231n.classifiers.losses": "/sandbox/submission/losses.py"}``).
    packages : sequence of str
        The alias packages (``("cs231n", "cs231n.classifiers", "classifiers")``); a module
        is importable as ``<leaf>`` and as ``<alias>.<leaf>`` for each of them.
    unloadable : mapping, optional
        Home name -> why that file cannot be loaded (imports of it get a stand-in).
    sources : mapping, optional
        Home name -> the text to run instead of reading the file (e.g. with a stray import
        skipped); the file's path still names it in tracebacks.
    """

    def __init__(self, files: Mapping[str, str], packages: Sequence[str],
                 unloadable: Mapping[str, str] | None = None, sources: Mapping[str, str] | None = None) -> None:
        self.files = dict(files)
        self.sources = dict(sources or {})
        self.unloadable = dict(unloadable or {})
        self.packages = tuple(packages)
        self.leaves: dict[str, str] = {}  # leaf name -> home name (the first home wins)
        for home in [*self.files, *self.unloadable]:
            leaf = home.rpartition(".")[2]
            if leaf not in sys.stdlib_module_names and leaf not in sys.builtin_module_names:
                self.leaves.setdefault(leaf, home)
        self.failed: dict[str, str] = {}  # home name -> why it did not load (set by the caller)

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname in SHIMS:
            return importlib.machinery.ModuleSpec(fullname, _Shim(), is_package=fullname == "past")
        if fullname in self.packages:
            return importlib.machinery.ModuleSpec(fullname, _StandInPackage(), is_package=True)
        prefix, _, leaf = fullname.rpartition(".")
        home = self.leaves.get(leaf)
        if home is None or (prefix and prefix not in self.packages):
            return None
        reason = self.unloadable.get(home) or self.failed.get(home)
        if reason is not None:
            return importlib.machinery.ModuleSpec(fullname, _Unloadable(reason))
        if fullname != home:
            return importlib.machinery.ModuleSpec(fullname, _Alias(home))
        spec = importlib.machinery.ModuleSpec(home, _SourceText(self.files[home], self.sources.get(home)),
                                              origin=self.files[home])
        spec.has_location = True
        return spec

    def names(self, home: str) -> list[str]:
        """Every name under which ``home`` can be imported."""
        leaf = home.rpartition(".")[2]
        if self.leaves.get(leaf) != home:
            return [home]
        return list(dict.fromkeys([home, leaf, *(f"{p}.{leaf}" for p in self.packages)]))

    def load(self, home: str) -> types.ModuleType:
        """Import the module ``home``; on failure, later imports of it get a stand-in.

        Raises whatever the student's module raises while it runs.
        """
        try:
            return importlib.import_module(home)
        except BaseException as exc:
            for name in self.names(home):
                sys.modules.pop(name, None)
            self.failed[home] = f"{self.files[home].rpartition('/')[2]} did not load ({type(exc).__name__})"
            raise

    def install(self) -> SubmissionImporter:
        """Put this finder first on ``sys.meta_path``; returns self."""
        sys.meta_path.insert(0, self)
        return self

    def uninstall(self) -> None:
        """Remove this finder and every module it loaded from ``sys.modules``."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for home in [*self.files, *self.unloadable]:
            for name in self.names(home):
                sys.modules.pop(name, None)
        for name in [*self.packages, *SHIMS]:
            sys.modules.pop(name, None)


def importable_with(available: Callable[[str], bool], homes: Sequence[str],
                    packages: Sequence[str]) -> Callable[[str], bool]:
    """``available`` widened to what :class:`SubmissionImporter` adds: the submission's own
    modules (under every name they resolve by), the alias packages and the shims."""
    leaves = {home.rpartition(".")[2] for home in homes}
    packages = tuple(packages)

    def importable(name: str) -> bool:
        prefix, _, leaf = name.rpartition(".")
        if name in packages or name in SHIMS or (leaf in leaves and (not prefix or prefix in packages)):
            return True
        return name.split(".")[0] not in packages and available(name)

    return importable


@contextlib.contextmanager
def stand_ins(function: Callable, modules: Sequence[types.ModuleType], replacements: Mapping[str, Callable]):
    """Replace global names that ``function`` may call, for the duration of the block.

    Each name of ``replacements`` is set in ``function``'s own module (even where it is absent:
    a sibling file that did not load gave its ``import *`` nothing) and, where present, in
    ``modules``; everything is put back afterwards.  Used to observe which loss function a
    classifier's ``loss`` delegates to, independently of that loss function's own state.
    """
    own = getattr(function, "__globals__", None)
    absent = object()
    saved = []
    for namespace in [own, *(vars(m) for m in modules)]:
        if type(namespace) is not dict:
            continue
        for name, replacement in replacements.items():
            if name in namespace or namespace is own:
                saved.append((namespace, name, namespace.get(name, absent)))
                namespace[name] = replacement
    try:
        yield
    finally:
        for namespace, name, value in reversed(saved):
            if value is absent:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def is_unavailable_stand_in(value: object) -> bool:
    """Is ``value`` a stand-in function of a file that did not load?"""
    return bool(getattr(value, UNAVAILABLE, False)) if callable(value) else False


def adapt_seed(fn: Callable, kwargs: dict[str, Any], seed_global: Callable[[int | None], None]) -> dict[str, Any]:
    """The keyword arguments to call ``fn`` with, for code that may lack a ``seed`` parameter.

    When ``kwargs`` has a ``seed`` that ``fn`` does not accept (old CS231n code), it is
    removed and passed to ``seed_global`` (``numpy.random.seed``) instead, so the call is
    still reproducible.

    Parameters
    ----------
    fn : callable
        The student's function or bound method.
    kwargs : dict
        The keyword arguments meant for it.
    seed_global : callable
        Seeds the generator that code without a seed parameter draws from.
    """
    if "seed" not in kwargs:
        return kwargs
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return kwargs
    if "seed" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    kwargs = dict(kwargs)
    seed = kwargs.pop("seed")
    seed_global(None if seed is None else int(seed) % (2**32))
    return kwargs
