"""armdbg's plugin API: the one module a plugin imports.

A plugin is a file ``NAME.py`` (or a package ``NAME/__init__.py``) with a ``register``
function; armdbg calls it once with a :class:`PluginAPI` bound to the plugin's name::

    from armdbg.api import Context, PluginAPI

    def register(api: PluginAPI) -> None:
        @api.command("hello", usage="hello [NAME]")
        def cmd_hello(ctx: Context, args: str) -> None:
            \"\"\"Say hello.\"\"\"
            api.print(f"hello, {args.strip() or 'world'}")

Everything registered through ``api`` (commands, settings, kprobes and kretprobes,
event handlers, SVC handlers, memory-write hooks, context sections) belongs to the
plugin: ``plugin unload NAME`` removes all of it, ``plugin reload NAME`` runs the file
again.  Every callback runs guarded: an exception is reported in one line, the plugin
is disabled, and the program being debugged is left exactly as it was -- a handler's
register and memory changes (through ``regs`` or :meth:`PluginAPI.write_memory`) take
effect only when it returns normally.

docs/plugins.md walks through writing one; the bundled plugins in ``plugins/`` are
complete examples.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from armdbg.commands import registry as _registry
from armdbg.commands.context import Context
from armdbg.commands.registry import ArgParser, CommandFunc, CommandSet, RepeatPolicy
from armdbg.errors import ArmdbgError, MemoryAccessError, UsageError
from armdbg.isa import itstate
from armdbg.isa.conditions import condition_name, condition_passed
from armdbg.isa.disasm import Instruction, decode_many
from armdbg.kprobes import opt_arm
from armdbg.kprobes.core import Kprobe
from armdbg.kprobes.kretprobe import Kretprobe, KretprobeInstance
from armdbg.kprobes.regs import UREGS, PtRegs
from armdbg.machine.machine import Machine, MemoryAccess
from armdbg.machine.stops import StopEvent, StopReason
from armdbg.machine.symbols import Symbol
from armdbg.plugins import Guard, PluginError, StagedRegs, Transaction
from armdbg.settings import Setting

if TYPE_CHECKING:
    from armdbg.commands.dispatch import Dispatcher
    from armdbg.kprobes.system import KprobeSystem
    from armdbg.session import Session

__all__ = [
    "API_VERSION",
    "EVENTS",
    "ArgParser",
    "ArmdbgError",
    "Context",
    "Instruction",
    "Kprobe",
    "Kretprobe",
    "KretprobeInstance",
    "PluginAPI",
    "ProbeStatus",
    "PtRegs",
    "Setting",
    "StopEvent",
    "StopReason",
    "Symbol",
    "UsageError",
    "condition_name",
    "condition_passed",
    "itstate",
]

API_VERSION = 1

#: The events :meth:`PluginAPI.on` knows, with the arguments their handlers get.
EVENTS: dict[str, str] = {
    "stop": "handler(event: StopEvent) -- the program stopped (after the stop is shown)",
    "breakpoint-hit": "handler(event: StopEvent) -- a stop at a gdb breakpoint",
    "exit": "handler(code: int) -- the program exited",
    "reload": "handler() -- the program starts again from a fresh image (run, start)",
    "probe-hit": "handler(probe: Kprobe, path: str) -- a kprobe was hit; path is "
                 "'breakpoint' or 'jump' (jump: only probes with a pre_handler)",
    "probe-optimized": "handler(probe: Kprobe, trampoline: int) -- a jump replaced the "
                       "breakpoint",
    "probe-unoptimized": "handler(probe: Kprobe) -- the breakpoint is back",
    "svc": "handler(number: int, regs: PtRegs) -> bool -- same as svc_handler()",
    "memory-write": "handler(address, size, value, pc) -- use on_memory_write(start, end, "
                    "handler)",
}

# What a plugin's handlers look like (documentation; any callable of that shape works).
PreHandler = Callable[[Kprobe, PtRegs], Any]
PostHandler = Callable[[Kprobe, PtRegs, int], Any]
RetHandler = Callable[[KretprobeInstance, PtRegs], Any]
SvcHandler = Callable[[int, PtRegs], bool]
MemoryWriteHandler = Callable[[int, int, int, int], None]
AroundHandler = Callable[[Kprobe, PtRegs, Callable[[], Any]], Any]


@dataclass(frozen=True)
class ProbeStatus:
    """Where a kprobe's hits go now, and what each path costs in emulated instructions.

    The instruction counts come from the code of each path, not from counting:
    ``breakpoint_instructions`` is the trap word plus the single-stepped original
    instruction; ``jump_instructions`` is the branch, the optprobe trampoline up to its
    register restore, armdbg's one-instruction callback stub, and the original
    instruction (executed in the trampoline and branched back from, or single-stepped).
    """

    optimized: bool                 # a branch to the trampoline is in place
    queued: str | None              # "optimize"/"unoptimize" while the optimizer waits
    trampoline: int | None          # its address, once prepared
    direct_exec: bool | None        # the original instruction runs in the trampoline
    breakpoint_instructions: int
    jump_instructions: int | None   # None: the probe cannot be optimized (Thumb, ...)


def _jump_path_length(direct_exec: bool) -> int:
    # b <trampoline>; template words up to and including the blx (TMPL 0..11); the stub's
    # bx lr; TMPL 12 up to the ldmia (restore_begin); then the original instruction and
    # the branch back (direct execution) or the single-stepped original instruction.
    before_restore = opt_arm.TMPL_RESTORE_BEGIN + 1
    return 1 + before_restore + 1 + (2 if direct_exec else 1)


def _name_of(func: object) -> str:
    name = getattr(func, "__name__", None)
    return name if isinstance(name, str) and name else type(func).__name__


def _doc_of(func: object) -> str | None:
    """The docstring if it is text; a plugin's odd callable must not break help."""
    try:
        doc = func.__doc__
    except Exception:
        return None
    return doc if isinstance(doc, str) else None


class PluginAPI:
    """What a plugin gets in ``register(api)``: its way into armdbg.

    All methods may also be used later (from the plugin's commands and handlers) while
    the plugin is loaded; after ``plugin unload`` they raise :class:`ArmdbgError`.
    """

    #: The argument parser option-style commands declare (``api.ArgParser("prog")``).
    ArgParser = ArgParser

    def __init__(self, name: str, session: Session, dispatcher: Dispatcher, *,
                 report: Callable[[str], None]) -> None:
        self.name = name
        self._session = session
        self._dispatcher = dispatcher
        self._guard = Guard(name, report)
        self._cleanups: list[Callable[[], None]] = []
        self._probes: list[Kprobe] = []
        self._retprobes: list[Kretprobe] = []
        self._owned: set[str] = set()     # "commands", "settings": removed by owner
        self._closed = False
        self._guard.on_fault.append(self._disable_probes)

    # ------------------------------------------------------------------ state

    @property
    def faulted(self) -> str | None:
        """Why the plugin was disabled (its first error), or None while it works."""
        return self._guard.faulted

    def _check_open(self) -> None:
        if self._closed:
            raise ArmdbgError(f"plugin {self.name} is unloaded")

    def _context(self) -> Context:
        session = self._session
        return Context(session, session.out, self._dispatcher)

    def _system(self) -> KprobeSystem:
        system: KprobeSystem = self._session.extensions["kprobes"]
        return system

    @property
    def _machine(self) -> Machine:
        return self._session.machine

    def _commit(self, transaction: Transaction) -> None:
        if transaction.regs is not None:
            transaction.regs.commit()
        machine = self._machine
        for name, value in transaction.registers.items():
            machine.write_register(name, value)
        for address, data in transaction.memory:
            self._session.write_memory(address, data)

    def _guarded(self, what: str, func: Callable[..., Any], *args: Any,
                 regs: StagedRegs | None = None) -> tuple[bool, Any]:
        return self._guard.run(what, func, args, Transaction(regs=regs), self._commit)

    # ------------------------------------------------------------------ commands

    def command(self, name: str, *, category: str = "plugins", aliases: Iterable[str] = (),
                usage: str = "", parser: _registry.ArgParser | None = None,
                repeat: bool | RepeatPolicy = False, complete: Iterable[str] = (),
                ) -> Callable[[CommandFunc], CommandFunc]:
        """Declare a command, exactly as built-in commands are declared.

        Decorates ``def cmd(ctx: Context, args) -> None``: ``args`` is the raw argument
        text, or an ``argparse.Namespace`` when ``parser`` (an :attr:`ArgParser`) is
        given.  The docstring's first line is the summary ``help`` lists, the rest is
        ``help NAME``.  ``name`` may have several words to add a subcommand
        (``"info hello"``); ``aliases`` are other names at the same level; ``complete``
        names completion kinds (``location``, ``expression``, ``register``, ``file``,
        ``setting``, ``command``).  ``repeat=True`` repeats the command on an empty line.
        Write output with ``ctx.out.line(text)``; raise :class:`UsageError` (or any
        :class:`ArmdbgError`) for bad input: that is one error line, not a plugin fault.
        """
        self._check_open()
        if parser is not None and not isinstance(parser, _registry.ArgParser):
            raise TypeError("parser must be an api.ArgParser")
        kinds = tuple(complete)
        if not all(isinstance(kind, str) for kind in kinds):
            raise TypeError("complete must name completion kinds (strings)")
        registry = self._dispatcher.registry

        def declare(func: CommandFunc) -> CommandFunc:
            self._check_open()
            policy = repeat if not callable(repeat) else self._repeat_policy(name, repeat)
            declared = CommandSet(owner=self.name)
            declared.command(name, category=category, aliases=aliases, parser=parser,
                             usage=usage, repeat=policy, complete=kinds)(
                self._command_wrapper(name, func))
            registry.add(declared.specs[0])
            self._own("commands", lambda: registry.remove_owner(self.name))
            return func

        return declare

    def _command_wrapper(self, name: str, func: CommandFunc) -> CommandFunc:
        guard = self._guard

        def run(ctx: Context, args: Any) -> None:
            if guard.faulted is not None:
                raise guard.disabled_error()
            try:
                func(ctx, args)
            except ArmdbgError:
                raise  # the user's mistake, reported like any command's
            except Exception as err:
                raise PluginError(guard.fault(f"command {name}", err)) from None

        run.__doc__ = _doc_of(func)
        run.__name__ = _name_of(func)
        return run

    def _repeat_policy(self, name: str, policy: RepeatPolicy) -> RepeatPolicy:
        def repeat(ctx: Context, args: str) -> str | None:
            ok, line = self._guarded(f"repeat policy of {name}", policy, ctx, args)
            return line if ok and isinstance(line, str) else None

        return repeat

    def _own(self, kind: str, remove: Callable[[], None]) -> None:
        if kind not in self._owned:
            self._owned.add(kind)
            self._cleanups.append(remove)

    # ------------------------------------------------------------------ settings

    def setting(self, name: str, kind: str, default: Any, doc: str, *,
                choices: Iterable[str] = (),
                on_change: Callable[[Any], None] | None = None) -> Setting:
        """Declare a setting that ``set NAME VALUE`` and ``show NAME`` know.

        ``kind`` is "bool", "int", "uint" (0 shows as unlimited), "str" or "enum" (with
        ``choices``); ``doc`` reads as gdb's: "Number of arguments shown" gives "Number
        of arguments shown is 4.".  Read the value as ``setting.value`` (the returned
        object) whenever it is needed: the user may change it at any time.
        ``on_change(value)`` is called after each ``set``.
        """
        self._check_open()
        settings = self._session.settings
        changed = None
        if on_change is not None:
            def changed(value: Any) -> None:
                self._guarded(f"on_change of setting {name}", on_change, value)
        declared = settings.declare(name, kind, default, doc, choices=tuple(choices),
                                    on_change=changed, owner=self.name)
        self._own("settings", lambda: settings.remove_owner(self.name))
        return declared

    # ------------------------------------------------------------------ kprobes

    def kprobe(self, location: str, pre_handler: PreHandler | None = None,
               post_handler: PostHandler | None = None, *, name: str = "") -> Kprobe:
        """Register a kprobe at ``location`` (``SYM``, ``SYM+OFF`` or ``*ADDR``, as the
        ``kprobe`` command takes it) and return it (``.id``, ``.name``, ``.nhit``...).

        ``pre_handler(probe, regs)`` runs before the probed instruction; ``regs`` is the
        pt_regs view (``regs.ARM_r0`` .. ``regs.ARM_pc``, ``ARM_cpsr``, ``ARM_ORIG_r0``)
        and may be written.  Return 0 (or None) to go on; a non-zero return means the
        handler changed ``regs.ARM_pc`` and the probed instruction is skipped, as in the
        kernel.  ``post_handler(probe, regs, flags)`` runs after the instruction (a
        probe with one is never optimized).  Registration errors (``EINVAL``,
        ``EILSEQ``...) raise :class:`ArmdbgError`.
        """
        from armdbg.commands.kprobes import _new_probe  # the kprobe command's own parsing

        self._check_open()
        probe = _new_probe(self._context(), location)
        probe.name = name
        probe.owner = self.name
        if pre_handler is not None:
            probe.pre_handler = self._probe_handler(pre_handler)
        if post_handler is not None:
            probe.post_handler = self._probe_handler(post_handler)
        manager = self._system().kprobes
        manager.register(probe)
        self._probes.append(probe)
        self._cleanups.append(lambda: manager.unregister(probe)
                              if probe in manager.probes else None)
        return probe

    def kretprobe(self, function: str, handler: RetHandler | None = None,
                  entry_handler: RetHandler | None = None, *, maxactive: int = 0,
                  name: str = "") -> Kretprobe:
        """Register a kretprobe on ``function``'s entry (``SYM`` or ``*ADDR``).

        ``entry_handler(instance, regs)`` runs at entry (``instance.data`` is a dict kept
        until the return; a non-zero return declines this call); ``handler(instance,
        regs)`` runs when the function returns, with the return value in
        ``regs.ARM_r0`` and ``instance.ret_addr`` where it returns to.  ``maxactive``
        bounds the calls in flight (default 10); more are counted as missed.
        """
        from armdbg.commands.evaluation import parse_location

        self._check_open()
        location = parse_location(self._context(), function)
        rp = Kretprobe(addr=location.address | int(location.thumb), maxactive=maxactive,
                       name=name, owner=self.name)
        if handler is not None:
            rp.handler = self._probe_handler(handler)
        if entry_handler is not None:
            rp.entry_handler = self._probe_handler(entry_handler)
        manager = self._system().kretprobes
        manager.register(rp)
        self._retprobes.append(rp)
        self._cleanups.append(lambda: manager.unregister(rp)
                              if rp in manager.retprobes else None)
        return rp

    def unregister(self, probe: Kprobe | Kretprobe) -> None:
        """Unregister a kprobe or kretprobe this plugin registered."""
        self._check_open()
        system = self._system()
        if isinstance(probe, Kretprobe) and probe in self._retprobes:
            if probe in system.kretprobes.retprobes:
                system.kretprobes.unregister(probe)
            self._retprobes.remove(probe)
        elif isinstance(probe, Kprobe) and probe in self._probes:
            if probe in system.kprobes.probes:
                system.kprobes.unregister(probe)
            self._probes.remove(probe)
        else:
            raise ArmdbgError(f"plugin {self.name} did not register {probe!r:.60}")

    def probe(self, key: str | int) -> Kprobe:
        """Any registered kprobe, by number or name (``info kprobes`` shows both)."""
        self._check_open()
        return self._system().kprobes.find(key)

    def probe_status(self, probe: Kprobe) -> ProbeStatus:
        """Whether ``probe`` is optimized, and what a hit costs on each path."""
        system = self._system()
        site = system.kprobes.sites.get(probe.addr if probe.addr is not None else -1)
        state = system.optimizer.states.get(site.address) if site is not None else None
        trampoline = state.trampoline if state is not None else None
        return ProbeStatus(
            optimized=bool(state and state.jumping),
            queued=state.queued if state is not None else None,
            trampoline=trampoline.address if trampoline is not None else None,
            direct_exec=trampoline.direct_exec if trampoline is not None else None,
            breakpoint_instructions=2,
            jump_instructions=(_jump_path_length(trampoline.direct_exec)
                               if trampoline is not None else None))

    def wrap_pre_handler(self, probe: Kprobe, around: AroundHandler) -> Callable[[], None]:
        """Run ``around(probe, regs, call_original)`` on each hit of any kprobe instead
        of its pre_handler; ``call_original()`` runs the probe's own pre_handler (on
        the real registers) and returns its result, which ``around`` should return.

        For measuring or filtering another probe's hits.  Returns a function that
        removes the wrapper (unloading the plugin does too).  If ``around`` fails, the
        plugin is disabled and the probe's own handler keeps running unwrapped.
        """
        from armdbg.plugins import ForeignError

        self._check_open()
        original = probe.pre_handler
        guard = self._guard
        active = [True]
        what = f"handler {_name_of(around)}"

        def run_original(p: Kprobe, regs: PtRegs) -> Any:
            return original(p, regs) if original is not None else 0

        def pre(p: Kprobe, regs: PtRegs) -> Any:
            if not active[0] or guard.faulted is not None:
                return run_original(p, regs)
            original_result: list[Any] = []

            def call_original() -> Any:
                try:
                    result = run_original(p, regs)
                except Exception as err:  # not the plugin's bug: it goes to the probe
                    raise ForeignError(err) from err
                original_result.append(result)
                return result

            view = StagedRegs(regs)
            ok, result = self._guarded(what, around, p, view, call_original, regs=view)
            if not ok:
                # The wrapper failed: the probe's own handler still has its say, once.
                return original_result[0] if original_result else run_original(p, regs)
            return result

        probe.pre_handler = pre

        def remove() -> None:
            active[0] = False
            if probe.pre_handler is pre:
                probe.pre_handler = original

        self._cleanups.append(remove)
        return remove

    def _probe_handler(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """A handler the engine calls as ``func(probe_or_instance, regs, *rest)``."""
        what = f"handler {_name_of(func)}"

        def handler(first: Any, regs: PtRegs, *rest: Any) -> Any:
            view = StagedRegs(regs)
            ok, result = self._guarded(what, func, first, view, *rest, regs=view)
            return result if ok else 0

        return handler

    def _disable_probes(self) -> None:
        """On a fault: the engine stops calling into the plugin at all (and ``info
        kprobes`` says why); a kretprobe no longer diverts returns."""
        reason = f"plugin {self.name} is disabled"
        for probe in self._probes:
            probe.faulted = probe.faulted or reason
        for rp in self._retprobes:
            rp.faulted = rp.faulted or reason
            if rp.kp is not None:
                rp.kp.faulted = rp.kp.faulted or reason

    # ------------------------------------------------------------------ events

    def on(self, event: str, handler: Callable[..., Any]) -> Callable[[], None]:
        """Call ``handler`` on ``event`` (see :data:`EVENTS` for the names and the
        arguments each handler gets); returns a function that unsubscribes it."""
        self._check_open()
        if event == "svc":
            return self.svc_handler(handler)
        if event == "memory-write":
            raise TypeError("memory-write needs a range: api.on_memory_write(start, end, "
                            "handler)")
        what = f"{event} handler {_name_of(handler)}"

        def call(*args: Any) -> None:
            self._guarded(what, handler, *args)

        def on_stop(ctx: Any = None, event: StopEvent | None = None, **_: Any) -> None:
            if event is not None:
                call(event)

        def on_breakpoint(ctx: Any = None, event: StopEvent | None = None, **_: Any) -> None:
            if event is not None and event.reason is StopReason.BREAKPOINT:
                call(event)

        def on_exit(ctx: Any = None, event: StopEvent | None = None, **_: Any) -> None:
            if event is not None and event.reason is StopReason.EXITED:
                call(event.exit_code or 0)

        def on_reload(**_: Any) -> None:
            call()

        def on_hit(probe: Kprobe, path: str, **_: Any) -> None:
            call(probe, path)

        def on_optimized(probe: Kprobe, trampoline: int, **_: Any) -> None:
            call(probe, trampoline)

        def on_unoptimized(probe: Kprobe, **_: Any) -> None:
            call(probe)

        adapters: dict[str, tuple[str, Callable[..., None]]] = {
            "stop": ("stop", on_stop),
            "breakpoint-hit": ("stop", on_breakpoint),
            "exit": ("stop", on_exit),
            "reload": ("program-reloaded", on_reload),
            "probe-hit": ("kprobe-hit", on_hit),
            "probe-optimized": ("kprobe-optimized", on_optimized),
            "probe-unoptimized": ("kprobe-unoptimized", on_unoptimized),
        }
        if event not in adapters:
            raise ValueError(f"unknown event {event!r}; events: {', '.join(EVENTS)}")
        bus_event, adapter = adapters[event]
        unsubscribe = self._session.events.subscribe(bus_event, adapter)
        self._cleanups.append(unsubscribe)
        return unsubscribe

    def svc_handler(self, handler: SvcHandler) -> Callable[[], None]:
        """Handle SVCs that semihosting did not take: ``handler(number, regs)`` returns
        True when it handled the call (results go in ``regs.ARM_r0``), False to pass it
        on (nobody handling it stops the program with SIGSYS).  ``number`` is the SVC's
        immediate; Linux's EABI puts the system call number in ``regs.ARM_r7``.  It may
        call :meth:`request_exit`.  Returns a function that removes the handler.
        """
        self._check_open()
        machine = self._machine
        what = f"svc handler {_name_of(handler)}"

        def on_svc(machine: Machine, number: int) -> StopEvent | bool:
            if self._guard.faulted is not None:
                return False
            regs = PtRegs.capture(machine)
            view = StagedRegs(regs)
            transaction = Transaction(regs=view, svc=True)
            ok, result = self._guard.run(what, handler, (number, view), transaction,
                                        self._commit)
            if not ok:
                return False
            regs.apply(machine)
            if transaction.exit_code is not None:
                code = transaction.exit_code
                return StopEvent(StopReason.EXITED, machine.pc, machine.thumb, exit_code=code,
                                 description=f"The program exited with code {code}.")
            return bool(result)

        machine.svc_handlers.append(on_svc)

        def remove() -> None:
            if on_svc in machine.svc_handlers:
                machine.svc_handlers.remove(on_svc)

        self._cleanups.append(remove)
        return remove

    def request_exit(self, code: int) -> None:
        """From an svc handler: the program exits with ``code`` once the handler returns
        (it stops as after semihosting's exit; ``run`` starts it again)."""
        transaction = self._guard.transaction
        if transaction is None or not transaction.svc:
            raise ArmdbgError("request_exit() works only inside an svc handler")
        transaction.exit_code = int(code)

    def on_memory_write(self, start: int, end: int,
                        handler: MemoryWriteHandler) -> Callable[[], None]:
        """Call ``handler(address, size, value, pc)`` before each write by the program
        that touches [start, end); ``value`` is what it is about to store.  Returns a
        function that removes the hook.  (Host writes -- semihosting, other handlers --
        are not seen.)"""
        self._check_open()
        if end <= start:
            raise ValueError("on_memory_write needs start < end")
        machine = self._machine
        what = f"memory-write handler {_name_of(handler)}"

        def hook(_machine: Machine, access: MemoryAccess) -> None:
            if access.write:
                self._guarded(what, handler, access.address, access.size, access.value,
                              access.pc)

        handle = machine.add_memory_hook(start, end, hook, writes=True)
        removed = [False]

        def remove() -> None:
            if not removed[0]:
                removed[0] = True
                machine.remove_memory_hook(handle)

        self._cleanups.append(remove)
        return remove

    def on_unload(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` when the plugin is unloaded or reloaded (before armdbg
        removes what the plugin registered)."""
        self._check_open()
        self._cleanups.append(callback)

    # ------------------------------------------------------------------ context display

    def context_section(self, name: str, render: Callable[[], list[str]]
                        ) -> Callable[[], None]:
        """Add a section to the context display shown at each stop: ``render()``
        returns its lines (none: the section is left out this time).  Plugin sections
        come after regs, code and stack unless ``set context-sections`` names them;
        ``context NAME`` shows one.  Returns a function that removes the section."""
        from armdbg.commands import context_view

        self._check_open()

        def lines() -> list[str]:
            return [str(line) for line in render()]

        def renderer(_session: Session) -> tuple[str, list[list[tuple[str, str]]]] | None:
            ok, result = self._guarded(f"context section {name}", lines)
            if not ok or not result:
                return None  # disabled, or nothing to show this time
            return name, [[("", line)] for line in result]

        context_view.add_section(self._session, name, renderer)

        def remove() -> None:
            if context_view.plugin_sections(self._session).get(name) is renderer:
                context_view.remove_section(self._session, name)

        self._cleanups.append(remove)
        return remove

    # ------------------------------------------------------------------ the machine

    def read_register(self, name: str) -> int:
        """A register (``r0``..``r12``, ``sp``, ``lr``, ``pc``, ``cpsr``, ``fp``...).
        Inside a probe or SVC handler: the probed context's value (the pt_regs)."""
        canon = self._register(name)
        transaction = self._guard.transaction
        if transaction is not None:
            if transaction.regs is not None:
                return transaction.regs.get(canon)
            if canon in transaction.registers:
                return transaction.registers[canon]
        return self._machine.read_register(canon)

    def write_register(self, name: str, value: int) -> None:
        """Set a register; inside a handler the change waits for its normal return."""
        canon = self._register(name)
        transaction = self._guard.transaction
        if transaction is None:
            self._machine.write_register(canon, value)
        elif transaction.regs is not None:
            transaction.regs[UREGS.index(canon)] = value
        else:
            transaction.registers[canon] = value & 0xFFFFFFFF

    @staticmethod
    def _register(name: str) -> str:
        canon = Machine.canonical_register(name)
        if canon is None:
            raise ArmdbgError(f"Invalid register `{name}'")
        return canon

    def read_memory(self, address: int, size: int) -> bytes:
        """Memory as the program sees it (armdbg's breakpoint words hidden); raises
        :class:`ArmdbgError` ("Cannot access memory at address 0x...")."""
        data = self._session.read_memory(address, size)
        transaction = self._guard.transaction
        return transaction.overlay(address, data) if transaction is not None else data

    def write_memory(self, address: int, data: bytes) -> None:
        """Write memory; inside a handler the write waits for its normal return (an
        unmapped address raises at once)."""
        data = bytes(data)
        transaction = self._guard.transaction
        if transaction is None:
            self._session.write_memory(address, data)
            return
        self._machine.read_memory(address, len(data))  # unmapped: raise now, in the handler
        transaction.memory.append((address, data))

    def read_u32(self, address: int) -> int:
        """A little-endian word (a convenience over :meth:`read_memory`)."""
        return int.from_bytes(self.read_memory(address, 4), "little")

    def disassemble(self, address: int, count: int = 1,
                    thumb: bool | None = None) -> list[Instruction]:
        """Up to ``count`` instructions from ``address`` (ARM or Thumb as the program's
        symbols say, else the CPU's current state), stopping at unreadable memory."""
        if thumb is None:
            known = self._session.symbols.is_thumb_code(address)
            thumb = known if known is not None else self._machine.thumb
        size = count * 4
        while size > 0:
            try:
                data = self.read_memory(address, size)
                break
            except MemoryAccessError:
                size -= 2
        else:
            raise MemoryAccessError(address)
        return decode_many(data, address, thumb, count=count)

    def evaluate(self, expression: str) -> int:
        """A gdb expression's value as an integer or address (``main+4``, ``$sp+8``,
        ``*(int *)&result``); bad input raises :class:`ArmdbgError` with gdb's words."""
        from armdbg.commands.evaluation import evaluate_int

        return evaluate_int(self._context(), expression)

    # ------------------------------------------------------------------ symbols and output

    def symbol(self, name: str) -> Symbol | None:
        """The program's symbol ``name`` (``.address``, ``.size``, ``.thumb``, ``.kind``)."""
        return self._session.symbols.lookup(name)

    def symbol_at(self, address: int) -> Symbol | None:
        """The symbol ``address`` belongs to (as ``info symbol`` finds it)."""
        return self._session.symbols.containing(address)

    def symbolize(self, address: int) -> str | None:
        """``name`` or ``name+offset`` (decimal, as gdb shows in ``<...>``), or None."""
        return self._session.symbolize(address)

    def functions(self, pattern: str = "*") -> list[Symbol]:
        """Function symbols whose name matches the shell-style ``pattern``, by address
        (one per address)."""
        seen: set[int] = set()
        found = []
        for symbol in self._session.symbols.functions():
            if symbol.address not in seen and fnmatch.fnmatchcase(symbol.name, pattern):
                seen.add(symbol.address)
                found.append(symbol)
        return found

    def print(self, text: str = "", end: str = "\n") -> None:
        """Write to the session's output (never use Python's ``print``)."""
        self._session.out.write(f"{text}{end}")

    # ------------------------------------------------------------------ unloading

    def _close(self) -> None:
        """Take away everything the plugin registered (newest first)."""
        if self._closed:
            return
        for cleanup in reversed(self._cleanups):
            try:
                cleanup()
            except Exception as err:  # one plugin's unload bug must not stop the rest
                self._guard.report(f"[plugin {self.name}] error in unload: "
                                  f"{type(err).__name__}: {err}")
        self._cleanups.clear()
        self._closed = True
