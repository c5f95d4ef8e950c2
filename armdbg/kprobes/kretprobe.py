"""kretprobes: an entry probe swaps the return address for a trampoline.

Linux's rethook (arch/arm/probes/rethook.c) is real code in kernel text; armdbg's
trampoline is one trap word in the module area.  A return through it runs the return
handler with the function's return value in r0, then resumes at the real return
address (and puts that address back in LR, so the caller sees the registers it would
have seen without the probe).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from armdbg.errors import ArmdbgError
from armdbg.kprobes.arch_arm import KPROBE_ARM_BREAKPOINT_INSTRUCTION
from armdbg.kprobes.core import Kprobe, KprobeError, KprobeManager
from armdbg.kprobes.regs import PtRegs
from armdbg.machine.stops import StopEvent
from armdbg.machine.traps import SERVICE, TrapAction, TrapSite

if TYPE_CHECKING:
    from armdbg.machine.machine import Machine

# Linux with CONFIG_PREEMPTION: max(10, 2 * NR_CPUS) with one CPU.
DEFAULT_MAXACTIVE = 10
KRETPROBE_MAXACTIVE_MAX = 4096

RetHandler = Callable[["KretprobeInstance", PtRegs], Any]


@dataclass
class KretprobeInstance:
    rp: Kretprobe
    ret_addr: int     # with bit 0 set when returning to Thumb code
    sp: int           # SP at function entry, to tell recursive instances apart
    data: dict[str, Any] = field(default_factory=dict)  # the entry handler's scratch


@dataclass(eq=False)
class Kretprobe:
    symbol_name: str | None = None
    addr: int | None = None
    handler: RetHandler | None = None
    entry_handler: RetHandler | None = None
    maxactive: int = 0
    name: str = ""
    owner: str = "armdbg"
    nmissed: int = 0
    nhit: int = 0
    kp: Kprobe | None = None
    instances: list[KretprobeInstance] = field(default_factory=list)
    faulted: str | None = None


class KretprobeManager:
    """Registers kretprobes on a KprobeManager and owns the return trampoline."""

    def __init__(self, kprobes: KprobeManager, trampoline: int) -> None:
        self.kprobes = kprobes
        self.trampoline = trampoline
        self.retprobes: list[Kretprobe] = []
        self.stack: list[KretprobeInstance] = []  # the task's instance list, newest last
        self.installed = False

    @property
    def machine(self) -> Machine:
        return self.kprobes.machine

    def install_trampoline(self) -> None:
        machine = self.machine
        if machine.traps.get(self.trampoline) is not None:
            machine.remove_trap(self.trampoline)
        machine.insert_trap(self.trampoline, False, self,
                            word=struct.pack("<I", 0xE0000000 | KPROBE_ARM_BREAKPOINT_INSTRUCTION),
                            shadowed=False)
        self.installed = True

    def register(self, rp: Kretprobe) -> Kretprobe:
        if rp.maxactive < 0 or rp.maxactive > KRETPROBE_MAXACTIVE_MAX:
            raise ArmdbgError(f"maxactive must be between 0 and {KRETPROBE_MAXACTIVE_MAX}.")
        if rp.maxactive == 0:
            rp.maxactive = DEFAULT_MAXACTIVE
        entry = Kprobe(symbol_name=rp.symbol_name, addr=rp.addr, name=rp.name,
                       pre_handler=lambda _p, regs: self._entry(rp, regs), owner=rp.owner)
        entry.kind = "r"
        address, _thumb = self.kprobes.resolve(entry)
        symbol = self.kprobes.symbols.containing(address)
        if symbol is None or symbol.address != address:
            raise KprobeError("EINVAL", rp.symbol_name or f"{address:#x}",
                              "Retprobe address must be an function entry.")
        if not rp.name:
            entry.name = f"r_{symbol.name}_0"
        if not self.installed:
            self.install_trampoline()
        rp.kp = self.kprobes.register(entry)
        rp.name = entry.name
        self.retprobes.append(rp)
        return rp

    def unregister(self, rp: Kretprobe) -> None:
        if rp.kp is not None and rp.kp in self.kprobes.probes:
            self.kprobes.unregister(rp.kp)
        if rp in self.retprobes:
            self.retprobes.remove(rp)
        # Pending instances still return through the trampoline; they just run no handler.
        for instance in rp.instances:
            instance.rp = rp
        rp.instances.clear()

    def find(self, kp: Kprobe) -> Kretprobe | None:
        for rp in self.retprobes:
            if rp.kp is kp:
                return rp
        return None

    # ------------------------------------------------------------------ entry

    def _entry(self, rp: Kretprobe, regs: PtRegs) -> int:
        if len(rp.instances) >= rp.maxactive:
            rp.nmissed += 1
            return 0
        instance = KretprobeInstance(rp, regs.ARM_lr, regs.ARM_sp)
        if rp.entry_handler is not None and not rp.faulted:
            try:
                if rp.entry_handler(instance, regs):
                    return 0  # the entry handler declined this instance
            except Exception as err:
                rp.faulted = f"{type(err).__name__}: {err}"
                self.kprobes.events.publish("kprobe-handler-error", probe=rp.kp, error=err)
        rp.instances.append(instance)
        self.stack.append(instance)
        regs.ARM_lr = self.trampoline
        return 0

    # ------------------------------------------------------------------ return

    def on_trap(self, machine: Machine, site: TrapSite) -> TrapAction:
        return SERVICE

    def service(self, machine: Machine, site: TrapSite) -> StopEvent | None:
        if not self.stack:
            raise ArmdbgError("kretprobe trampoline reached with no pending instance.")
        instance = self.stack.pop()
        rp = instance.rp
        if instance in rp.instances:
            rp.instances.remove(instance)
        regs = PtRegs.capture(machine)
        regs.ARM_pc = instance.ret_addr & ~1
        if rp in self.retprobes and rp.handler is not None and not rp.faulted:
            rp.nhit += 1
            self.kprobes.running = rp.kp
            try:
                rp.handler(instance, regs)
            except Exception as err:
                rp.faulted = f"{type(err).__name__}: {err}"
                self.kprobes.events.publish("kprobe-handler-error", probe=rp.kp, error=err)
            finally:
                self.kprobes.running = None
        elif rp in self.retprobes:
            rp.nhit += 1
        regs.apply(machine)
        if machine.read_register("lr") == self.trampoline:
            machine.write_register("lr", instance.ret_addr)
        machine.set_pc(instance.ret_addr & ~1, bool(instance.ret_addr & 1))
        return None
