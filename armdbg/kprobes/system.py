"""One machine's kprobes: the module area, kprobes, kretprobes and the blacklist."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from armdbg.kprobes.core import KprobeManager
from armdbg.kprobes.kretprobe import KretprobeManager
from armdbg.kprobes.optimizer import Optimizer
from armdbg.kprobes.slots import ModuleArea
from armdbg.machine.layout import MODULES, VECTORS

if TYPE_CHECKING:
    from armdbg.events import EventBus
    from armdbg.machine.machine import Machine
    from armdbg.machine.symbols import SymbolTable

# The first module-area bytes hold armdbg's kretprobe trampoline (like Linux's
# arch_rethook_trampoline, it must never be probed itself).
KRETPROBE_TRAMPOLINE_SIZE = 8


class KprobeSystem:
    def __init__(self, machine: Machine, symbols: Callable[[], SymbolTable],
                 events: EventBus) -> None:
        self.machine = machine
        self.events = events
        self.area = ModuleArea(MODULES.start, MODULES.start + MODULES.size)
        trampoline = self.area.allocate(KRETPROBE_TRAMPOLINE_SIZE, "kretprobe trampoline")
        self.kprobes = KprobeManager(machine, symbols, events, self.blacklisted)
        self.kretprobes = KretprobeManager(self.kprobes, trampoline)
        self.optimizer = Optimizer(self.kprobes, self.area)
        self.kprobes.optimizer = self.optimizer
        events.subscribe("program-reloaded", self._on_reload)

    def blacklisted(self, address: int) -> str | None:
        """armdbg's own areas, as ``/sys/kernel/debug/kprobes/blacklist`` lists them."""
        if VECTORS.start <= address < VECTORS.start + VECTORS.size:
            return "exception vectors"
        if MODULES.start <= address < MODULES.start + MODULES.size:
            owner = self.area.owner_of(address)
            return owner or "module area (instruction slots and trampolines)"
        return None

    def blacklist_ranges(self) -> list[tuple[int, int, str]]:
        ranges = [(VECTORS.start, VECTORS.start + VECTORS.size, "vectors")]
        for base, (size, purpose) in sorted(self.area.used.items()):
            ranges.append((base, base + size, purpose.replace(" ", "_")))
        return ranges

    def _on_reload(self, **_payload: object) -> None:
        self.kretprobes.stack.clear()
        for rp in self.kretprobes.retprobes:
            rp.instances.clear()
        if self.kretprobes.installed:
            self.kretprobes.install_trampoline()
        self.kprobes.rearm_all()
