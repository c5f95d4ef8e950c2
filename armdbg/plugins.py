"""Plugins: finding them, loading and unloading them, and keeping their bugs contained.

A plugin is a Python file ``NAME.py`` or a package ``NAME/__init__.py`` that defines
``register(api)``; ``api`` is an :class:`armdbg.api.PluginAPI`, and everything the plugin
registers through it is recorded against its name, so that ``plugin unload NAME`` takes
all of it away again.  A module-level ``AUTOLOAD = False`` keeps a plugin from loading at
startup (it is still listed, and ``plugin load NAME`` or ``--plugin NAME`` loads it).

Sources, searched in this order (the first plugin of a name wins; a later one of the
same name is reported as a one-line conflict and left alone):

1. ``bundled``: the ``plugins/`` directory next to the ``armdbg`` package (a checkout);
2. ``plugin-dir``: each ``--plugin-dir DIR``, in command-line order;
3. ``user``: ``$XDG_CONFIG_HOME/armdbg/plugins`` (default ``~/.config/armdbg/plugins``);
4. ``entry-point``: installed distributions' entry points in the group
   ``armdbg.plugins`` (the value is a module, or ``module:register``).

The last two are the user's own setup, so ``--nx`` leaves them out (as it leaves out
``~/.armdbgrc``): a session started with ``--nx`` sees only what its command line names.

Files are imported under a fresh module name each time (``spec_from_file_location``),
so ``plugin reload NAME`` runs the file as it is now, without restarting.

Isolation (:class:`Guard`): every callback a plugin hands to armdbg runs through its
guard.  An exception is reported in one line naming the plugin and the error, the
plugin is marked faulted, and from then on all its handlers are no-ops.  A handler's
changes to registers and memory are staged and take effect only when it returns
normally, so a handler that fails half-way leaves the probed program exactly as it was.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import itertools
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import armdbg
from armdbg.errors import ArmdbgError
from armdbg.kprobes.regs import _ALIASES as REGISTER_FIELDS
from armdbg.kprobes.regs import UREGS, PtRegs

if TYPE_CHECKING:
    from armdbg.api import PluginAPI
    from armdbg.commands.dispatch import Dispatcher
    from armdbg.session import Session

ENTRY_POINT_GROUP = "armdbg.plugins"
SOURCES = ("bundled", "plugin-dir", "user", "entry-point")

_module_numbers = itertools.count(1)


class PluginError(ArmdbgError):
    """A plugin could not be loaded, or one of its commands failed: one line."""


# --------------------------------------------------------------------------- discovery


def bundled_dir() -> Path:
    """``plugins/`` next to the ``armdbg`` package (exists in a source checkout)."""
    return Path(armdbg.__file__).resolve().parent.parent / "plugins"


def user_dir(environ: dict[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/armdbg/plugins``, else ``~/.config/armdbg/plugins``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "armdbg" / "plugins"


@dataclass(frozen=True)
class Candidate:
    """A plugin found in one source, not necessarily loaded."""

    name: str
    source: str                       # one of SOURCES
    location: str                     # the directory, or the distribution's name
    path: Path | None = None          # NAME.py or NAME/__init__.py
    entry_point: EntryPoint | None = None

    @property
    def where(self) -> str:
        """Where it was found, for messages: a path or ``entry point NAME (DIST)``."""
        if self.path is not None:
            return str(self.path)
        return f"entry point {self.name} ({self.location})"

    def _tree(self) -> ast.Module | None:
        if self.path is None:
            return None
        try:
            return ast.parse(self.path.read_text(encoding="utf-8"), str(self.path))
        except (OSError, SyntaxError, ValueError):
            return None

    def static_info(self) -> tuple[bool, str]:
        """(AUTOLOAD, the docstring's first line), read without running the file.

        A file that does not parse says "autoload": loading it is what reports the error.
        Entry points cannot be read without importing them: they autoload, and their
        description is known once loaded.
        """
        tree = self._tree()
        if tree is None:
            return True, ""
        autoload = True
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and any(isinstance(t, ast.Name) and t.id == "AUTOLOAD"
                            for t in node.targets)):
                autoload = bool(node.value.value)
        doc = ast.get_docstring(tree) or ""
        return autoload, doc.strip().splitlines()[0] if doc.strip() else ""


def _scan_dir(directory: Path, source: str) -> list[Candidate]:
    if not directory.is_dir():
        return []
    found = []
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith(("_", ".")):
            continue
        if entry.is_file() and entry.suffix == ".py" and entry.stem.isidentifier():
            found.append(Candidate(entry.stem, source, str(directory), entry))
        elif entry.is_dir() and entry.name.isidentifier() and (entry / "__init__.py").is_file():
            found.append(Candidate(entry.name, source, str(directory), entry / "__init__.py"))
    return found


def _scan_entry_points() -> list[Candidate]:
    found = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist.name if getattr(ep, "dist", None) is not None else "?"  # type: ignore[union-attr]
        found.append(Candidate(ep.name, "entry-point", dist, entry_point=ep))
    return found


def discover(dirs: Iterable[str | Path] = (), *, user: bool = True,
             bundled: Path | None = None) -> tuple[dict[str, Candidate], list[str]]:
    """Every plugin the sources offer, first of a name winning, and the conflict lines."""
    candidates = _scan_dir(bundled or bundled_dir(), "bundled")
    for directory in dirs:
        candidates += _scan_dir(Path(directory).expanduser(), "plugin-dir")
    if user:
        candidates += _scan_dir(user_dir(), "user")
        candidates += _scan_entry_points()
    chosen: dict[str, Candidate] = {}
    conflicts = []
    for candidate in candidates:
        first = chosen.get(candidate.name)
        if first is None:
            chosen[candidate.name] = candidate
        elif first.where != candidate.where:
            conflicts.append(f"[plugin {candidate.name}] also found at {candidate.where}; "
                             f"using the {first.source} one at {first.where}")
    return chosen, conflicts


# --------------------------------------------------------------------------- importing


def import_candidate(candidate: Candidate) -> tuple[ModuleType | None, Callable[..., Any], str]:
    """Run the plugin's code afresh: (module, its register function, the module name).

    Raises whatever the import raises; a missing ``register`` is a PluginError.
    """
    if candidate.entry_point is not None:
        return _import_entry_point(candidate.entry_point)
    assert candidate.path is not None
    module_name = f"_armdbg_plugin_{candidate.name}_{next(_module_numbers)}"
    package = candidate.path.name == "__init__.py"
    spec = importlib.util.spec_from_file_location(
        module_name, candidate.path,
        submodule_search_locations=[str(candidate.path.parent)] if package else None)
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot import {candidate.path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # relative imports of a package need it there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        forget_module(module_name)
        raise
    register = getattr(module, "register", None)
    if not callable(register):
        forget_module(module_name)
        raise PluginError("it defines no register(api) function")
    return module, register, module_name


def _import_entry_point(ep: EntryPoint) -> tuple[ModuleType | None, Callable[..., Any], str]:
    module_name = ep.value.partition(":")[0].strip()
    # A reload must run the code again: drop what an earlier load imported.
    forget_module(module_name)
    importlib.invalidate_caches()
    loaded = ep.load()
    if isinstance(loaded, ModuleType):
        register = getattr(loaded, "register", None)
        if not callable(register):
            raise PluginError("its entry point module defines no register(api) function")
        return loaded, register, module_name
    if not callable(loaded):
        raise PluginError(f"entry point {ep.value} is neither a module nor callable")
    return sys.modules.get(module_name), loaded, module_name


def forget_module(module_name: str) -> None:
    for name in [n for n in sys.modules if n == module_name
                 or n.startswith(module_name + ".")]:
        del sys.modules[name]


# --------------------------------------------------------------------------- isolation


def error_text(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


class ForeignError(Exception):
    """An exception raised by code that is not the plugin's (an original handler it
    wraps): it goes on to its own owner instead of faulting the plugin."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class StagedRegs(PtRegs):
    """A handler's pt_regs: reads fall through to the engine's view, writes stay here
    until :meth:`commit`, which runs only when the handler returned normally.

    Reading nothing costs nothing (an optimized probe's frame is not even loaded).
    """

    __slots__ = ("_base",)
    _base: PtRegs

    def __init__(self, base: PtRegs) -> None:
        super().__init__({}, base.orig_r0)
        object.__setattr__(self, "_base", base)

    def __getattr__(self, name: str) -> int:
        if name == "ARM_ORIG_r0":
            return self.orig_r0
        key = REGISTER_FIELDS.get(name)
        if key is None:
            raise AttributeError(name)
        return self.get(key)

    def __getitem__(self, index: int) -> int:
        if index == 17:
            return self.orig_r0
        return self.get(UREGS[index])

    def get(self, name: str) -> int:
        name = {"fp": "r11", "ip": "r12"}.get(name, name)
        if name == "ORIG_r0":
            return self.orig_r0
        if name in self._values:
            return self._values[name]
        return self._base.get(name)

    def regs_return_value(self) -> int:
        return self.get("r0")

    def commit(self) -> None:
        base = self._base
        for key in self._changed:
            base[UREGS.index(key)] = self._values[key]
        if self.orig_r0 != base.orig_r0:
            base.orig_r0 = self.orig_r0
        self._changed.clear()

    def __repr__(self) -> str:
        return "<pt_regs " + " ".join(f"{k}={self.get(k):#x}" for k in UREGS) + ">"


@dataclass
class Transaction:
    """What a handler changed, applied only if it returns normally."""

    regs: StagedRegs | None = None   # the handler's pt_regs view, if it has one
    memory: list[tuple[int, bytes]] = field(default_factory=list)
    registers: dict[str, int] = field(default_factory=dict)
    exit_code: int | None = None
    svc: bool = False                # inside an svc handler: request_exit is allowed

    def overlay(self, address: int, data: bytes) -> bytes:
        """``data`` read at ``address`` as the staged writes will leave it."""
        out = bytearray(data)
        end = address + len(data)
        for start, chunk in self.memory:
            lo, hi = max(start, address), min(start + len(chunk), end)
            if lo < hi:
                out[lo - address:hi - address] = chunk[lo - start:hi - start]
        return bytes(out)


class Guard:
    """One plugin's isolation: its callbacks run here, and its first bug disables it."""

    def __init__(self, name: str, report: Callable[[str], None]) -> None:
        self.name = name
        self.report = report
        self.faulted: str | None = None
        self.transaction: Transaction | None = None
        self.on_fault: list[Callable[[], None]] = []

    def fault(self, what: str, err: BaseException) -> str:
        """Mark the plugin faulted (once) and return the line that says so."""
        if self.faulted is None:
            self.faulted = f"{what}: {error_text(err)}"
            for hook in self.on_fault:
                try:
                    hook()
                except Exception:  # bookkeeping only; the fault is what matters
                    pass
        return (f"[plugin {self.name}] error in {what}: {error_text(err)}; "
                "its handlers are disabled")

    def run(self, what: str, func: Callable[..., Any], args: tuple[Any, ...],
            transaction: Transaction, commit: Callable[[Transaction], None]
            ) -> tuple[bool, Any]:
        """Call a handler; (True, its result) if it returned, (False, None) otherwise.

        A faulted plugin's handlers are not called at all.  ``commit`` applies the
        staged changes after a normal return; on an exception they are dropped.
        """
        if self.faulted is not None:
            return False, None
        outer, self.transaction = self.transaction, transaction
        try:
            result = func(*args)
        except ForeignError as foreign:
            raise foreign.error from None
        except Exception as err:  # the plugin's bug: contained here
            self.report(self.fault(what, err))
            return False, None
        finally:
            self.transaction = outer
        commit(transaction)
        return True, result

    def disabled_error(self) -> PluginError:
        return PluginError(f"[plugin {self.name}] is disabled after an error "
                           f"({self.faulted}); \"plugin reload {self.name}\" loads it again")


# --------------------------------------------------------------------------- the manager


@dataclass
class Loaded:
    name: str
    candidate: Candidate
    module: ModuleType | None
    module_name: str
    api: PluginAPI

    @property
    def faulted(self) -> str | None:
        return self.api.faulted

    @property
    def summary(self) -> str:
        doc = getattr(self.module, "__doc__", None) if self.module is not None else None
        text = doc.strip() if isinstance(doc, str) else ""
        return text.splitlines()[0] if text else ""


@dataclass(frozen=True)
class Row:
    """One line of ``plugin list``."""

    name: str
    state: str        # "loaded", "faulted", "not loaded", "failed"
    source: str
    summary: str
    detail: str = ""  # the fault or the load error


class PluginManager:
    """The plugins of one session (kept in ``session.extensions["plugins"]``)."""

    def __init__(self, session: Session, dispatcher: Dispatcher, *,
                 dirs: Iterable[str | Path] = (), user: bool = True,
                 bundled: Path | None = None) -> None:
        self.session = session
        self.dispatcher = dispatcher
        # Absolute now: a later "cd" must not change where --plugin-dir points.
        self.dirs = [Path(d).expanduser().resolve() for d in dirs]
        self.user = user
        self.bundled = bundled
        self.loaded: dict[str, Loaded] = {}
        self.failed: dict[str, str] = {}       # name -> the last load error line
        self._reported: set[str] = set()       # conflict lines already shown
        session.extensions["plugins"] = self

    # ------------------------------------------------------------------ discovery

    def discover(self) -> tuple[dict[str, Candidate], list[str]]:
        """Candidates, and the conflict lines not reported before."""
        found, conflicts = discover(self.dirs, user=self.user, bundled=self.bundled)
        fresh = [c for c in conflicts if c not in self._reported]
        self._reported.update(fresh)
        return found, fresh

    def candidate(self, name: str) -> Candidate:
        found, conflicts = self.discover()
        for line in conflicts:
            self.session.out.line(line)
        if name not in found:
            raise PluginError(f'No plugin "{name}".  Try "plugin list".')
        return found[name]

    def autoload(self, extra: Iterable[str] = ()) -> list[str]:
        """Load every plugin that autoloads, then the ``extra`` names; the one-line
        reports of conflicts and failures (the caller prints them)."""
        found, lines = self.discover()
        names = [n for n, c in found.items() if c.static_info()[0]]
        for name in extra:
            if name not in found:
                lines.append(f'[plugin {name}] not found (--plugin {name}); '
                             f'"plugin list" shows what is available')
            elif name not in names:
                names.append(name)
        for name in names:
            if name in self.loaded:
                continue
            try:
                self._load(found[name])
            except PluginError as err:
                lines.append(str(err))
        return lines

    # ------------------------------------------------------------------ load / unload

    def load(self, name: str) -> Loaded:
        if name in self.loaded:
            raise PluginError(f'Plugin {name} is already loaded (use "plugin reload {name}").')
        return self._load(self.candidate(name))

    def _load(self, candidate: Candidate) -> Loaded:
        from armdbg.api import PluginAPI

        name = candidate.name
        try:
            module, register, module_name = import_candidate(candidate)
        except PluginError as err:
            raise self._failed(name, f"[plugin {name}] cannot be loaded: {err}") from None
        except (Exception, SystemExit) as err:
            raise self._failed(name, f"[plugin {name}] error in import: {error_text(err)}; "
                                     "not loaded") from None
        api = PluginAPI(name, self.session, self.dispatcher, report=self.session.out.line)
        try:
            register(api)
        except (Exception, SystemExit) as err:
            api._close()
            if candidate.entry_point is None:
                forget_module(module_name)
            raise self._failed(name, f"[plugin {name}] error in register(): "
                                     f"{error_text(err)}; not loaded") from None
        self.failed.pop(name, None)
        loaded = Loaded(name, candidate, module, module_name, api)
        self.loaded[name] = loaded
        return loaded

    def _failed(self, name: str, line: str) -> PluginError:
        self.failed[name] = line
        return PluginError(line)

    def unload(self, name: str) -> Loaded:
        loaded = self.loaded.pop(name, None)
        if loaded is None:
            raise PluginError(f"Plugin {name} is not loaded.")
        loaded.api._close()
        if loaded.candidate.entry_point is None:
            forget_module(loaded.module_name)
        return loaded

    def reload(self, name: str) -> Loaded:
        """Unload (if loaded), then load from the source as it is now."""
        if name in self.loaded:
            self.unload(name)
        return self._load(self.candidate(name))

    def unload_all(self) -> None:
        for name in list(self.loaded)[::-1]:
            self.unload(name)

    # ------------------------------------------------------------------ listing

    def rows(self) -> list[Row]:
        found, conflicts = self.discover()
        for line in conflicts:
            self.session.out.line(line)
        rows = []
        for name in sorted(set(found) | set(self.loaded)):
            loaded = self.loaded.get(name)
            if loaded is not None:
                faulted = loaded.faulted
                rows.append(Row(name, "faulted" if faulted else "loaded",
                                loaded.candidate.source, loaded.summary, faulted or ""))
                continue
            candidate = found[name]
            autoload, summary = candidate.static_info()
            if name in self.failed:
                detail = self.failed[name].removeprefix(f"[plugin {name}] ")
                rows.append(Row(name, "failed", candidate.source, summary, detail))
            else:
                note = "" if autoload else "AUTOLOAD = False"
                rows.append(Row(name, "not loaded", candidate.source, summary, note))
        return rows
