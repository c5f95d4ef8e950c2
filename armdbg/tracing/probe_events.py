"""kprobe events (kernel/trace/trace_kprobe.c): definitions made real.

Each event owns a kprobe (or kretprobe) registered in the machine's one kprobes
registry -- so it shows in ``info kprobes`` and gets optimized like any other -- and
disabled until the event is enabled, as in the kernel.  A hit records a trace event in
the ring buffer.  Arguments that only read registers are formatted when the trace is
read, from the registers saved at the hit, so recording stays cheap; arguments that
read memory are fetched at the hit (memory may change afterwards).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from armdbg.errors import ArmdbgError
from armdbg.kprobes.core import Kprobe, KprobeError
from armdbg.kprobes.kretprobe import Kretprobe
from armdbg.kprobes.regs import PtRegs
from armdbg.tracing.buffer import RECORD_OVERHEAD, TraceBuffer, TraceRecord
from armdbg.tracing.definitions import DeleteRequest, ProbeDefinition, parse_definition
from armdbg.tracing.errors import ErrorLog, ProbeDefinitionError
from armdbg.tracing.fetchargs import Op

if TYPE_CHECKING:
    from armdbg.kprobes.system import KprobeSystem
    from armdbg.machine.machine import Machine
    from armdbg.machine.symbols import SymbolTable

_MEMORY_OPS = {Op.STACK, Op.STACKP, Op.DEREF, Op.UDEREF, Op.ST_MEM, Op.ST_UMEM, Op.ST_STRING,
               Op.ST_USTRING, Op.ST_SYMSTR, Op.NOP_SYMBOL, Op.COMM}


class TracingError(ArmdbgError):
    """A write to a tracefs file failed: errno name plus the kernel's message."""

    def __init__(self, err: int, message: str = "") -> None:
        text = f"write error: {errno_text(err)}"
        super().__init__(f"{text}: {message}" if message else text)
        self.errno = err


def errno_text(err: int) -> str:
    import os

    return os.strerror(err)


class SymbolsForDefinitions:
    """armdbg.tracing.definitions.SymbolLookup over a SymbolTable."""

    def __init__(self, symbols: SymbolTable) -> None:
        self.symbols = symbols

    def lookup(self, name: str) -> Sequence[int]:
        return [s.address for s in self.symbols.lookup_all(name)]

    def is_function_entry(self, address: int) -> bool:
        symbol = self.symbols.containing(address)
        return symbol is not None and symbol.address == address


@dataclass(eq=False)
class ProbeEvent:
    """One event (``GROUP/EVENT``) and its probe."""

    definition: ProbeDefinition
    manager: ProbeEvents
    probe: Kprobe | None = None
    retprobe: Kretprobe | None = None
    enabled: bool = False
    id: int = 0
    deferred: bool = True            # arguments formatted when read, from saved registers
    registers: tuple[str, ...] = ()  # the registers the arguments read (when deferred)
    record_size: int = 0

    def __post_init__(self) -> None:
        definition = self.definition
        code = [insn for arg in definition.args for insn in arg.code]
        self.deferred = not any(insn.op in _MEMORY_OPS for insn in code)
        self.registers = tuple(dict.fromkeys(insn.name for insn in code if insn.op is Op.REG))
        self.record_size = (RECORD_OVERHEAD + 4 * len(definition.args)
                            + (4 if definition.is_return else 0))

    @property
    def name(self) -> str:
        return self.definition.event

    @property
    def group(self) -> str:
        return self.definition.group

    @property
    def kprobe(self) -> Kprobe:
        probe = self.retprobe.kp if self.retprobe is not None else self.probe
        assert probe is not None
        return probe

    @property
    def hits(self) -> int:
        return self.kprobe.nhit

    @property
    def missed(self) -> int:
        missed = self.kprobe.nmissed
        if self.retprobe is not None:
            missed += self.retprobe.nmissed
        return missed

    def format_from_registers(self, record: TraceRecord) -> str:
        env = self.manager.env_factory(PtRegs(record.regs or {}), record.retval)
        return self.definition.event_text(env, ret_ip=record.ret_ip)


class ProbeEvents:
    """The kprobe_events registry, trace buffer and error_log of one machine."""

    def __init__(self, system: KprobeSystem, machine: Machine,
                 symbols: Callable[[], SymbolTable],
                 env_factory: Callable[[PtRegs, int | None], Any],
                 comm: Callable[[], str]) -> None:
        self.system = system
        self.machine = machine
        self._symbols = symbols
        self.env_factory = env_factory
        self.comm = comm
        self.events: list[ProbeEvent] = []
        self.buffer = TraceBuffer()
        self.error_log = ErrorLog()
        self._next_id = 1500  # event ids, like the kernel's dynamic ones

    # ------------------------------------------------------------------ lookup

    def find(self, name: str, group: str | None = None) -> ProbeEvent | None:
        for event in self.events:
            if event.name == name and (group is None or event.group == group):
                return event
        return None

    def groups(self) -> list[str]:
        return sorted({e.group for e in self.events})

    # ------------------------------------------------------------------ kprobe_events

    def write(self, text: str, *, truncate: bool) -> None:
        """A write to kprobe_events; ``truncate`` is ``>`` (O_TRUNC): delete all first."""
        from armdbg.tracing.definitions import split_commands

        if truncate:
            self.delete_all()
        for line in split_commands(text):
            self.command(line)

    def command(self, line: str) -> ProbeEvent | None:
        try:
            parsed = parse_definition(line, SymbolsForDefinitions(self._symbols()))
        except ProbeDefinitionError as err:
            self.error_log.extend(err.log, self.machine.clock.now)
            raise TracingError(err.errno, str(err)) from None
        if parsed is None:
            return None
        if isinstance(parsed, DeleteRequest):
            self.delete(parsed)
            return None
        return self.create(parsed)

    def create(self, definition: ProbeDefinition) -> ProbeEvent:
        if self.find(definition.event, definition.group) is not None or \
                self.find(definition.event) is not None:
            self._fail(definition.registration_error("EVENT_EXIST"))
        event = ProbeEvent(definition, self, id=self._next_id)
        try:
            self._register(event)
        except KprobeError as err:
            kind = "BAD_INSN_BNDRY" if err.errno == "EILSEQ" else "FAIL_REG_PROBE"
            self._fail(definition.registration_error(kind, getattr(errno, err.errno,
                                                                   errno.EINVAL)),
                       detail=err.why)
        self._next_id += 1
        self.events.append(event)
        return event

    def _fail(self, error: ProbeDefinitionError, detail: str = "") -> None:
        self.error_log.extend(error.log, self.machine.clock.now)
        message = str(error)
        raise TracingError(error.errno, f"{message} ({detail})" if detail else message)

    def _register(self, event: ProbeEvent) -> None:
        definition = event.definition
        kprobes = self.system.kprobes
        if definition.is_return:
            rp = Kretprobe(addr=definition.address, maxactive=definition.maxactive,
                           name=definition.event,
                           handler=lambda inst, regs: self._hit(event, regs, inst.ret_addr),
                           owner="tracing")
            self.system.kretprobes.register(rp)
            event.retprobe = rp
            kprobes.disable(event.kprobe)
        else:
            thumb = self._symbols().is_thumb_code(definition.address)
            probe = Kprobe(addr=definition.address | int(bool(thumb)), name=definition.event,
                           pre_handler=lambda p, regs: self._hit(event, regs, None),
                           disabled=True, owner="tracing")
            kprobes.register(probe)
            event.probe = probe

    def delete(self, request: DeleteRequest) -> None:
        event = self.find(request.event, request.group)
        if event is None or (request.args and not request.matches(event.definition)):
            raise TracingError(errno.ENOENT)
        if event.enabled:
            raise TracingError(errno.EBUSY)
        self._unregister(event)

    def delete_all(self) -> None:
        if any(e.enabled for e in self.events):
            raise TracingError(errno.EBUSY)
        for event in list(self.events):
            self._unregister(event)

    def _unregister(self, event: ProbeEvent) -> None:
        if event.retprobe is not None:
            self.system.kretprobes.unregister(event.retprobe)
        elif event.probe is not None:
            self.system.kprobes.unregister(event.probe)
        self.events.remove(event)

    def read(self) -> str:
        return "".join(e.definition.text + "\n" for e in self.events)

    # ------------------------------------------------------------------ enabling

    def set_enabled(self, event: ProbeEvent, on: bool) -> None:
        if event.enabled == on:
            return
        event.enabled = on
        if on:
            self.system.kprobes.enable(event.kprobe)
        else:
            self.system.kprobes.disable(event.kprobe)

    # ------------------------------------------------------------------ hits

    def recorder(self, line: str) -> Callable[[Kprobe, PtRegs], int]:
        """A pre_handler that records events of definition ``line`` without registering
        a probe of its own (``kprobes bench`` measures the recording cost with it)."""
        parsed = parse_definition(line, SymbolsForDefinitions(self._symbols()))
        if not isinstance(parsed, ProbeDefinition):
            raise ArmdbgError(f"not a probe definition: {line}")
        event = ProbeEvent(parsed, self)
        return lambda probe, regs: self._hit(event, regs, None)

    def _hit(self, event: ProbeEvent, regs: PtRegs, ret_ip: int | None) -> int:
        buffer = self.buffer
        if not buffer.on:
            return 0
        now = self.machine.clock.now
        retval = regs.peek("r0") if ret_ip is not None else None
        if event.deferred:
            # Only the registers the arguments name are kept; they are formatted when
            # the trace is read.
            saved = {name: regs.peek(name) for name in event.registers}
            buffer.record(TraceRecord(now, event, event.record_size, regs=saved,
                                      retval=retval, ret_ip=ret_ip))
        else:
            env = self.env_factory(regs, retval)
            text = event.definition.event_text(env, ret_ip=ret_ip)
            buffer.record(TraceRecord(now, event, event.record_size, text=text,
                                      ret_ip=ret_ip))
        return 0
