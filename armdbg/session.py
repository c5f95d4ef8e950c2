"""A debugging session: one machine, the loaded program, settings, and shared state.

Commands reach everything through the session they are given; nothing lives in module
globals, so tests (and plugins) can run several sessions side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from armdbg.errors import ArmdbgError
from armdbg.events import EventBus
from armdbg.machine.layout import STACK, STACK_TOP
from armdbg.machine.loaders import Program, demo_program, install
from armdbg.machine.machine import Machine
from armdbg.machine.semihosting import Semihosting
from armdbg.machine.symbols import SymbolTable
from armdbg.output import Output
from armdbg.settings import Settings


class ProgramState:
    LOADED = "loaded"      # image in memory, PC at the entry point: ready, like gdb's starti
    STOPPED = "stopped"    # started and stopped somewhere
    EXITED = "exited"      # the program exited; `run` starts it again


class Session:
    def __init__(self, out: Output | None = None, cwd: Path | None = None) -> None:
        self.out = out or Output()
        self.cwd = cwd or Path.cwd()
        self.events = EventBus()
        self.settings = Settings()
        self._declare_settings()
        self.machine = Machine()
        self.program: Program | None = None
        self.program_args: list[str] = []
        self.state = ProgramState.LOADED
        self.exit_code: int | None = None
        self._interactive = False
        # gdb convenience variables ($_, $__, $bpnum, $_exitcode, user $foo), as
        # armdbg.expr Values.
        self.convenience: dict[str, Any] = {}
        # Per-feature state that command families keep on the session (breakpoints,
        # displays, user definitions...), keyed by the family's name.
        self.extensions: dict[str, Any] = {}
        self._install_semihosting()

    # ------------------------------------------------------------------ settings

    def _declare_settings(self) -> None:
        declare = self.settings.declare
        declare("debug", "bool", False, "Showing Python tracebacks of armdbg's own errors")
        declare("confirm", "bool", False, "Whether to confirm potentially dangerous operations")
        declare("pagination", "bool", False, "State of pagination")
        declare("height", "uint", 0, "Number of lines in a page for armdbg output")
        declare("width", "uint", 80, "Number of characters armdbg thinks are in a line")
        declare("color", "enum", "auto", "Colouring of output (auto: when on a terminal)",
                choices=("auto", "on", "off"))
        declare("context", "bool", True, "Showing the context (registers, code, stack) on stop")
        declare("context-sections", "str", "regs code stack",
                "Sections of the context display, in order")
        declare("print elements", "uint", 200, "Limit on string chars or array elements to print")
        declare("history size", "uint", 1000, "The size of the command history")
        declare("listsize", "uint", 10, "Number of instructions `disassemble' shows around PC")

    # ------------------------------------------------------------------ program

    @property
    def symbols(self) -> SymbolTable:
        return self.program.symbols if self.program is not None else SymbolTable()

    def _install_semihosting(self) -> None:
        self.semihosting = Semihosting(console=_Console(self), cwd=self.cwd,
                                       cmdline=self._cmdline())
        self.semihosting.install(self.machine)

    def _cmdline(self) -> str:
        name = self.program.name if self.program is not None else "demo"
        return " ".join([name, *self.program_args])

    def load(self, program: Program) -> None:
        """Make ``program`` the session's program and put it in a fresh machine state."""
        self.program = program
        self.reload()
        self.events.publish("program-loaded", program=program)

    def load_demo(self) -> None:
        self.load(demo_program())

    def reload(self) -> None:
        """A fresh copy of the program, as at the start of gdb's ``run``.

        Memory regions armdbg created for a previous image are dropped, segments are
        written again, the CPU is reset, and trap words (breakpoints, probes) that the
        image overwrote are put back by their owners through the "program-reloaded"
        event.
        """
        if self.program is None:
            raise ArmdbgError("No program loaded.")
        machine = self.machine
        for site in machine.traps.sites():
            machine.remove_trap(site.address)
        for region in list(machine.regions):
            if region.purpose == "loaded image":
                machine.unmap_region(region.name)
        heap_base, heap_limit = install(machine, self.program)
        if self.semihosting is not None:
            self.semihosting.reset()
            self.semihosting.cmdline = self._cmdline()
            self.semihosting.set_heap_info(heap_base, heap_limit, STACK_TOP, STACK.start)
        self.state = ProgramState.LOADED
        self.exit_code = None
        self.events.publish("program-reloaded", program=self.program)

    @property
    def interactive(self) -> bool:
        """Whether a person is at a prompt (the REPL sets it); clocks may follow."""
        return self._interactive

    @interactive.setter
    def interactive(self, value: bool) -> None:
        self._interactive = value
        self.events.publish("interactive", value=value)

    # ------------------------------------------------------------------ helpers

    def code_note(self, address: int) -> str | None:
        """What disassembly should say about an address besides its instruction (a
        kprobe sits there ...): each feature registers a function in
        ``extensions["code-notes"]``."""
        notes = [note for annotate in self.extensions.get("code-notes", ())
                 if (note := annotate(address))]
        return "; ".join(notes) if notes else None

    def notify(self, text: str) -> None:
        """News that did not come from a command (a probe got optimized): above the
        prompt when a REPL listens, else in the output stream."""
        if self.events.has_subscribers("notify"):
            self.events.publish("notify", text=text)
        else:
            self.out.line(text)

    def symbolize(self, address: int) -> str | None:
        return self.symbols.symbolize(address)

    def describe_address(self, address: int) -> str:
        """``0x80008030 <do_something+4>`` (or just the hex), as gdb shows addresses."""
        name = self.symbolize(address)
        return f"{address:#x} <{name}>" if name else f"{address:#x}"

    def read_memory(self, address: int, size: int) -> bytes:
        """Memory as the program sees it minus armdbg's own breakpoint words."""
        return self.machine.read_memory(address, size, shadow=True)

    def write_memory(self, address: int, data: bytes) -> None:
        """Write as the user means it: under a gdb breakpoint word the write lands in the
        breakpoint's saved original, and the breakpoint stays inserted."""
        machine = self.machine
        machine.write_memory(address, data)
        end = address + len(data)
        for site in machine.traps.sites():
            if not (site.shadowed and site.inserted):
                continue
            lo, hi = max(site.address, address), min(site.address + len(site.word), end)
            if lo >= hi:
                continue
            original = bytearray(site.original)
            original[lo - site.address:hi - site.address] = data[lo - address:hi - address]
            site.original = bytes(original)
            machine.write_memory(site.address, site.word)


class _Console:
    """The program's console: output goes to the session's current Output."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.input: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.session.out.write(data.decode("utf-8", errors="replace"))
        self.session.events.publish("console-output", data=data)

    def read(self, size: int) -> bytes:
        if not self.input:
            return b""
        chunk = self.input.pop(0)
        if len(chunk) > size:
            self.input.insert(0, chunk[size:])
            chunk = chunk[:size]
        return chunk
