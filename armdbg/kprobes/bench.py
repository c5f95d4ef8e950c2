"""The kprobes self-test's microbenchmark (arch/arm/probes/kprobes/test-core.c),
run inside the emulator.

Probes sit on a ``nop``, on the ``stmdb sp!, {r3-r11, lr}`` / ``ldmia sp!, {r3-r11, pc}``
pair the kernel emulates fast, and on ``stmdb sp!, {r0-r8, lr}`` / ``ldmia sp!, {r0-r8,
pc}``, its slow simulated path.  Each is measured through the breakpoint and through
an optimized jump, with an empty pre_handler and with one that records a trace event.

Host time per hit is the time of a loop calling the probed function N times, less the
same loop unprobed, divided by N -- all in one process, one after the other.  The
emulated instructions per hit come from one extra call with a counting code hook (run
only for that call, so it costs the timing nothing).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import unicorn

from armdbg.isa.asm import assemble
from armdbg.kprobes.core import Kprobe

if TYPE_CHECKING:
    from armdbg.kprobes.system import KprobeSystem
    from armdbg.machine.machine import Machine

BENCH_BASE = 0x80100000
# name, source (one function), offset of the probed instruction
FUNCTIONS: tuple[tuple[str, str, int], ...] = (
    ("nop", "nop; bx lr", 0),
    ("stmdb sp!, {r3-r11, lr}", "stmdb sp!, {r3-r11, lr}; ldmia sp!, {r3-r11, pc}", 0),
    ("ldmia sp!, {r3-r11, pc}", "stmdb sp!, {r3-r11, lr}; ldmia sp!, {r3-r11, pc}", 4),
    ("stmdb sp!, {r0-r8, lr}", "stmdb sp!, {r0-r8, lr}; ldmia sp!, {r0-r8, pc}", 0),
    ("ldmia sp!, {r0-r8, pc}", "stmdb sp!, {r0-r8, lr}; ldmia sp!, {r0-r8, pc}", 4),
)
PATHS = ("breakpoint", "optimized")
HANDLERS = ("empty", "trace event")


@dataclass(frozen=True)
class BenchResult:
    probe: str
    path: str
    handler: str
    ns_per_hit: float
    instructions_per_hit: int
    hits: int


class Bench:
    def __init__(self, machine: Machine, system: KprobeSystem,
                 record_event: Callable[[Kprobe, Any], Any] | None = None) -> None:
        self.machine = machine
        self.system = system
        self.record_event = record_event
        self.driver = BENCH_BASE
        self.functions: dict[str, int] = {}
        self._layout()

    def _layout(self) -> None:
        machine = self.machine
        address = BENCH_BASE + 0x100
        for _name, source, _offset in FUNCTIONS:
            if source not in self.functions:
                code = assemble(source, address, False)
                machine.write_memory(address, code)
                self.functions[source] = address
                address += 0x40
        # The driver: r10 counts calls; r9 holds the function.  `b .` ends a run.
        driver = assemble("loop: blx r9; subs r10, r10, #1; bne loop; b .", self.driver, False)
        machine.write_memory(self.driver, driver)
        self.stop_at = self.driver + len(driver) - 4

    def _run(self, function: int, calls: int) -> float:
        machine = self.machine
        machine.write_register("r9", function)
        machine.write_register("r10", calls)
        machine.write_register("sp", 0x8040F000)
        machine.set_pc(self.driver, False)
        started = time.perf_counter()
        stop = machine.run(until=self.stop_at, timeout=120)
        elapsed = time.perf_counter() - started
        if machine.pc != self.stop_at:
            raise RuntimeError(f"benchmark loop stopped early: {stop.description or stop.reason}")
        return elapsed

    def _count_instructions(self, function: int) -> int:
        """Emulated instructions of one call, counted by a temporary all-code hook."""
        machine = self.machine
        count = [0]

        def hook(_uc: Any, _address: int, _size: int, _data: Any) -> None:
            count[0] += 1

        handle = machine.uc.hook_add(unicorn.UC_HOOK_CODE, hook)
        machine.uc.ctl_flush_tb()  # type: ignore[attr-defined]
        try:
            self._run(function, 1)
        finally:
            machine.uc.hook_del(handle)
            machine.uc.ctl_flush_tb()  # type: ignore[attr-defined]
        return count[0]

    def measure(self, calls: int = 2000,
                progress: Callable[[str], None] | None = None) -> list[BenchResult]:
        results = []
        optimizer = self.system.optimizer
        kprobes = self.system.kprobes
        saved = optimizer.enabled
        try:
            for name, source, offset in FUNCTIONS:
                function = self.functions[source]
                baseline = min(self._run(function, calls) for _ in range(2))
                base_count = self._count_instructions(function)
                for path in PATHS:
                    for handler in HANDLERS:
                        if progress is not None:
                            progress(f"{name} / {path} / {handler}")
                        optimizer.enabled = path == "optimized"
                        pre = (lambda p, regs: 0) if handler == "empty" else \
                            (self.record_event or (lambda p, regs: 0))
                        probe = kprobes.register(Kprobe(addr=function + offset,
                                                        pre_handler=pre, owner="bench"))
                        optimizer.wait()
                        try:
                            elapsed = min(self._run(function, calls) for _ in range(2))
                            count = self._count_instructions(function)
                            jumped = probe.nhit_jump > 0
                        finally:
                            kprobes.unregister(probe)
                            optimizer.wait()
                        results.append(BenchResult(
                            name, path if (jumped or path == "breakpoint") else "breakpoint",
                            handler, max(0.0, (elapsed - baseline) / calls * 1e9),
                            count - base_count, calls))
        finally:
            optimizer.enabled = saved
        return results


class _Loop:
    """A counted loop (r10 iterations) at ``address``, timed from start to its `b .`."""

    def __init__(self, machine: Machine, address: int, body: str) -> None:
        code = assemble(f"loop: {body}subs r10, r10, #1; bne loop; b .", address, False)
        machine.write_memory(address, code)
        self.machine = machine
        self.address = address
        self.end = address + len(code) - 4

    def time(self, iterations: int, repeats: int = 3) -> float:
        """The best of ``repeats`` runs, in seconds."""
        best = float("inf")
        for _ in range(repeats):
            self.machine.write_register("r10", iterations)
            self.machine.set_pc(self.address, False)
            started = time.perf_counter()
            self.machine.run(until=self.end, timeout=120)
            best = min(best, time.perf_counter() - started)
        return best


def bare_hook_ns(machine: Machine, calls: int = 20000) -> float:
    """What one hit of a bare Unicorn code hook (empty Python callback) costs on the same
    loop -- the yardstick of the issue's targets."""
    loop = _Loop(machine, BENCH_BASE + 0x800, "nop; ")
    plain = loop.time(calls)
    handle = machine.uc.hook_add(unicorn.UC_HOOK_CODE, lambda *a: None,
                                 begin=loop.address, end=loop.address)
    machine.uc.ctl_remove_cache(loop.address, loop.address + 4)
    try:
        hooked = loop.time(calls)
    finally:
        machine.uc.hook_del(handle)
        machine.uc.ctl_remove_cache(loop.address, loop.address + 4)
    return max(0.0, (hooked - plain) / calls * 1e9)


def unhit_probes_slowdown(machine: Machine, system: KprobeSystem, probes: int = 100,
                          iterations: int = 2_000_000) -> float:
    """Ratio of a loop's time with ``probes`` armed probes that it never hits."""
    area = BENCH_BASE + 0x1000
    machine.write_memory(area, struct.pack("<I", 0xE320F000) * probes)  # nops, never run
    loop = _Loop(machine, BENCH_BASE + 0x900, "")
    plain = loop.time(iterations)
    registered = [system.kprobes.register(Kprobe(addr=area + 4 * i, owner="bench"))
                  for i in range(probes)]
    try:
        probed = loop.time(iterations)
    finally:
        for probe in registered:
            system.kprobes.unregister(probe)
        system.optimizer.wait()
    return probed / plain
