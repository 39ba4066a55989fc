"""Imports deferred to first use, so a cold start loads only what its first call needs.

Every function of the service (each route, queue and schedule handler) imports ``app``, which
registers every Blueprint; a Blueprint's module imports the use cases its handlers call. Inside
``with imported_on_first_use():`` such an import binds the module's name at once but runs the module
(and so everything it imports: PynamoDB, botocore, pydantic, Jinja2...) on the first use of one
of its attributes, i.e. on the first call of a handler that needs it::

    with imported_on_first_use():
        from chalicelib.services.campaigns import campaigns, links

The import statements stay ordinary ones, so the import contracts (``.importlinter``) still see
every dependency. Only modules are deferred: ``from module import name`` reads ``name`` and so
runs the module at once. Only ``chalicelib`` modules not yet imported are deferred, and only
imports made by the thread inside the block. A deferred module runs once, under a lock, whichever
thread touches it first (``importlib.util.LazyLoader`` on Python 3.11 has no lock).
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
import threading
import types
from typing import Iterator

# Set on a module when it is created, before it runs: reading them does not run a deferred module
# (the import system reads __spec__ and __path__ of every module it meets in sys.modules).
_KNOWN_BEFORE_RUNNING = frozenset({"__name__", "__spec__", "__loader__", "__package__", "__path__", "__file__",
                                   "__cached__"})


@contextlib.contextmanager
def imported_on_first_use(prefix: str = "chalicelib.") -> Iterator[None]:
    """Modules under ``prefix`` first imported in this block run on first use (see module doc)."""
    finder = _FirstUseFinder(prefix, threading.get_ident())
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def is_waiting(module: types.ModuleType) -> bool:
    """True while ``module`` was imported in a ``imported_on_first_use`` block and has not run yet."""
    return type(module) is _WaitingModule


class _FirstUseFinder(importlib.abc.MetaPathFinder):
    def __init__(self, prefix: str, thread: int):
        self._prefix = prefix
        self._thread = thread

    def find_spec(self, name, path, target=None):
        if not name.startswith(self._prefix) or threading.get_ident() != self._thread:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or not isinstance(spec.loader, importlib.abc.Loader) or \
                not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _FirstUseLoader(spec.loader)
        return spec


class _FirstUseLoader(importlib.abc.Loader):
    """Creates the module as its own loader would; running it waits for the first attribute read."""

    def __init__(self, loader: importlib.abc.Loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        # From here on the module is its own loader's: a reload or a traceback sees the real one.
        module.__spec__.loader = module.__loader__ = self._loader
        module.__spec__.loader_state = {"lock": threading.RLock(), "running": False}
        module.__class__ = _WaitingModule


class _WaitingModule(types.ModuleType):
    """A module not run yet: the first read of an attribute runs it, then it is a plain module."""

    def __getattribute__(self, name: str):
        if name in _KNOWN_BEFORE_RUNNING:
            return types.ModuleType.__getattribute__(self, name)
        spec = types.ModuleType.__getattribute__(self, "__spec__")
        state = spec.loader_state
        with state["lock"]:
            # Reads while the module runs (its own __dict__, a circular import) are plain reads.
            if type(self) is _WaitingModule and not state["running"]:
                state["running"] = True
                try:
                    spec.loader.exec_module(self)
                except BaseException:
                    # As a failed import does: the next import runs the module afresh.
                    if sys.modules.get(spec.name) is self:
                        del sys.modules[spec.name]
                    raise
                finally:
                    state["running"] = False
                self.__class__ = types.ModuleType
        return types.ModuleType.__getattribute__(self, name)
