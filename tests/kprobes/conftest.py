"""Shared harness for the kprobes proofs: one machine and one KprobeSystem per module.

:class:`DiffHarness` runs a :class:`diff_cases.Case` from identical initial states,
without and with a kprobe on its instruction, and compares what the program computed.
A case's code goes to a fresh slot of the text region, with a sized function symbol and
ARM/Thumb mapping symbols, as a loaded program would have.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from diff_cases import (
    BUF,
    BUF_SIZE,
    CASE_STRIDE,
    CODE_BASE,
    DEFAULT_REGS,
    SP_OFFSET,
    STACK_BUF,
    Case,
    Layout,
    ProbeHitMismatch,
    layout,
)

from armdbg.events import EventBus
from armdbg.isa.conditions import condition_passed
from armdbg.isa.cpsr import F_BIT, I_BIT, MODE_SVC, Q_BIT
from armdbg.isa.itstate import itstate_from_cpsr
from armdbg.kprobes.core import Kprobe
from armdbg.kprobes.regs import PtRegs
from armdbg.kprobes.system import KprobeSystem
from armdbg.machine.layout import TEXT
from armdbg.machine.machine import REGISTER_IDS, Machine
from armdbg.machine.stops import StopReason
from armdbg.machine.symbols import Symbol, SymbolTable

REGISTER_NAMES = tuple(f"r{i}" for i in range(13)) + ("sp", "lr", "pc", "cpsr")
_IDS = tuple(REGISTER_IDS[name] for name in REGISTER_NAMES)
NZCV_ALL = tuple(range(16))
RUN_TIMEOUT = 5.0      # seconds; a case finishes in microseconds, this only bounds a hang
MAX_STEPS = 64


def _buffer_pattern(seed: int) -> bytes:
    """Distinct words, like the kernel test's VALM/~VALM + (i << 8)."""
    out = bytearray()
    for i in range(BUF_SIZE // 4):
        word = (seed ^ (i << 8)) if i % 2 == 0 else ~(seed ^ (i << 8))
        out += (word & 0xFFFFFFFF).to_bytes(4, "little")
    return bytes(out)


BUF_PATTERN = _buffer_pattern(0x456789AB)
STACK_PATTERN = _buffer_pattern(0x13572468)


def initial_cpsr(nzcv: int) -> int:
    """Flags of one scenario: NZCV and GE from its four bits, Q from its low bit (as the
    kernel's test does), SVC mode with interrupts masked; no IT bits, T set by set_pc."""
    q = Q_BIT if nzcv & 1 else 0
    return (nzcv << 28) | (nzcv << 16) | q | MODE_SVC | I_BIT | F_BIT


@dataclass(frozen=True)
class Outcome:
    regs: tuple[int, ...]
    buf: bytes
    stack: bytes

    def differences(self, other: Outcome) -> list[str]:
        if self == other:
            return []
        out = [f"{name}: {a:#010x} != {b:#010x}"
               for name, a, b in zip(REGISTER_NAMES, self.regs, other.regs) if a != b]
        for label, mine, theirs in (("buf", self.buf, other.buf),
                                    ("stack", self.stack, other.stack)):
            out += [f"{label}+{i}: {a:#04x} != {b:#04x}"
                    for i, (a, b) in enumerate(zip(mine, theirs)) if a != b][:8]
        return out


@dataclass
class Hits:
    """What the handlers saw: the registers (read-only) at each call."""

    pre: list[tuple[int, ...]] = field(default_factory=list)
    post: list[tuple[int, ...]] = field(default_factory=list)

    def clear(self) -> None:
        self.pre.clear()
        self.post.clear()


def read_all(regs: PtRegs) -> tuple[int, ...]:
    """Read every pt_regs slot, by index and by name, without writing any."""
    by_index = tuple(regs[i] for i in range(17))
    assert by_index[15] == regs.ARM_pc and by_index[16] == regs.ARM_cpsr
    assert regs.ARM_ORIG_r0 == 0xFFFFFFFF
    return by_index


@dataclass
class StepTrace:
    outcome: Outcome
    before: tuple[int, ...] | None   # registers as the probed instruction was reached
    after: tuple[int, ...] | None    # ... and right after it executed
    trail: tuple[int, ...] = ()      # the PCs stepped through


class DiffHarness:
    def __init__(self) -> None:
        self.machine = Machine()
        self.symbols = SymbolTable()
        self.events = EventBus()
        self.system = KprobeSystem(self.machine, lambda: self.symbols, self.events)
        self.handler_errors: list[str] = []
        self.events.subscribe("kprobe-handler-error",
                              lambda probe, error: self.handler_errors.append(f"{error!r}"))
        self._slots = itertools.count()
        self._capacity = (TEXT.start + TEXT.size - CODE_BASE) // CASE_STRIDE
        self.hits = Hits()

    # ---------------------------------------------------------------- placing code

    def install(self, case: Case) -> Layout:
        slot = next(self._slots)
        assert slot < self._capacity, "more cases than code slots: share the slots"
        lay = layout(case, slot)
        machine = self.machine
        machine.write_memory(lay.main, lay.main_code)
        self._describe(f"case{slot}", lay.main, len(lay.main_code), case.thumb)
        if lay.alt is not None:
            machine.write_memory(lay.alt, lay.alt_code)
            self._describe(f"case{slot}_alt", lay.alt, len(lay.alt_code), case.alt_thumb)
        return lay

    def _describe(self, name: str, address: int, size: int, thumb: bool) -> None:
        self.symbols.add(Symbol(name, address, size, thumb, "func"))
        self.symbols.add_mapping(address, "t" if thumb else "a")
        self.symbols.add_mapping(address + size, "d")

    # ---------------------------------------------------------------- one run

    def reset(self, lay: Layout, nzcv: int) -> None:
        machine = self.machine
        uc = machine.uc
        values = {**DEFAULT_REGS, "sp": STACK_BUF + SP_OFFSET}
        values.update((name, lay.value(spec)) for name, spec in lay.case.regs)
        # The batch calls are in the unicorn binding, not in its type stubs.
        uc.reg_write_batch(  # type: ignore[attr-defined]
            [(REGISTER_IDS[name], value) for name, value in values.items()])
        machine.write_memory(BUF, BUF_PATTERN)
        machine.write_memory(STACK_BUF, STACK_PATTERN)
        for where, spec in lay.case.memory:
            machine.write_u32(lay.value(where), lay.value(spec))
        machine.cpsr = initial_cpsr(nzcv)
        machine.set_pc(lay.main, lay.case.thumb)

    def registers(self) -> tuple[int, ...]:
        values = self.machine.uc.reg_read_batch(_IDS)  # type: ignore[attr-defined]
        return tuple(int(v) for v in values)

    def outcome(self) -> Outcome:
        read = self.machine.read_memory
        return Outcome(self.registers(), read(BUF, BUF_SIZE), read(STACK_BUF, BUF_SIZE))

    def run(self, lay: Layout, nzcv: int) -> Outcome:
        self.reset(lay, nzcv)
        stop = self.machine.run(until=lay.end, timeout=RUN_TIMEOUT)
        assert stop.reason is StopReason.UNTIL, (
            f"{lay.case.name}, NZCV={nzcv:04b}: stopped with {stop.reason.value} at "
            f"{stop.pc:#x}: {stop.description}")
        return self.outcome()

    def step_run(self, lay: Layout, nzcv: int) -> StepTrace:
        """Instruction by instruction with Machine.step(), as a stepping user would."""
        self.reset(lay, nzcv)
        machine = self.machine
        before = after = None
        trail: list[int] = []
        for _ in range(MAX_STEPS):
            trail.append(machine.pc)
            if machine.pc == lay.end:
                break
            at_probe = machine.pc == lay.probe and before is None
            if at_probe:
                before = self.registers()
            stop = machine.step()
            assert stop.reason is StopReason.STEP, (
                f"{lay.case.name}, NZCV={nzcv:04b}: step stopped with {stop.reason.value} "
                f"at {stop.pc:#x}: {stop.description}")
            if at_probe:
                after = self.registers()
        else:
            raise AssertionError(f"{lay.case.name}: end not reached in {MAX_STEPS} steps")
        return StepTrace(self.outcome(), before, after, tuple(trail))

    # ---------------------------------------------------------------- probes

    def register(self, lay: Layout) -> Kprobe:
        def pre(_probe: Kprobe, regs: PtRegs) -> None:
            self.hits.pre.append(read_all(regs))

        def post(_probe: Kprobe, regs: PtRegs, _flags: int) -> None:
            self.hits.post.append(read_all(regs))

        return self.system.kprobes.register(
            Kprobe(addr=lay.probe | int(lay.case.thumb), pre_handler=pre, post_handler=post))

    # ---------------------------------------------------------------- the proof

    def check(self, case: Case, mode: str = "run",
              scenarios: tuple[int, ...] = NZCV_ALL) -> None:
        """Unprobed vs probed (``mode`` "run": Machine.run; "step": Machine.step one
        instruction at a time): same registers, flags and memory; the probe fired exactly
        when the condition passed, and its handlers saw the machine as it was.

        A wrong outcome fails at once (AssertionError); wrong hit counts are collected
        over all scenarios and raised last as ProbeHitMismatch, so every outcome has been
        compared even for a case whose hit semantics are known to deviate."""
        lay = self.install(case)
        reference = {nzcv: self.run(lay, nzcv) for nzcv in scenarios}
        # The unprobed step-by-step run agrees with the run, and tells what the
        # handlers must see before and after the probed instruction.
        traces = {nzcv: self.step_run(lay, nzcv) for nzcv in scenarios}
        for nzcv in scenarios:
            diff = traces[nzcv].outcome.differences(reference[nzcv])
            assert not diff, f"unprobed step vs run differ, NZCV={nzcv:04b}: {diff}"

        probe = self.register(lay)
        assert self.machine.read_memory(lay.main, len(lay.main_code)) != lay.main_code, \
            "the breakpoint was not written"
        fired = 0
        mismatches: list[str] = []
        try:
            for nzcv in scenarios:
                self.hits.clear()
                result = self.run(lay, nzcv) if mode == "run" else \
                    self.step_run(lay, nzcv).outcome
                where = f"{mode}, NZCV={nzcv:04b}"
                diff = result.differences(reference[nzcv])
                assert not diff, f"probed {where}: outcome differs: {diff}"
                mismatches += self._check_hits(lay, nzcv, traces[nzcv], where)
                fired += len(self.hits.pre)
        finally:
            self.system.kprobes.unregister(probe)
        assert probe.nhit == fired and probe.nmissed == 0, (probe.nhit, probe.nmissed)
        assert probe.faulted is None and not self.handler_errors, self.handler_errors
        assert self.machine.read_memory(lay.main, len(lay.main_code)) == lay.main_code, \
            "unregistering did not restore the original bytes"
        if mismatches:
            raise ProbeHitMismatch("; ".join(mismatches))

    def _check_hits(self, lay: Layout, nzcv: int, trace: StepTrace, where: str) -> list[str]:
        case = lay.case
        expected = 1 if expects_fire(case, nzcv) else 0
        if (len(self.hits.pre), len(self.hits.post)) != (expected, expected):
            return [f"{where}: pre/post fired {len(self.hits.pre)}/{len(self.hits.post)} "
                    f"times, expected {expected} (condition {case.cond})"]
        if not expected:
            return []
        pre, post = self.hits.pre[0], self.hits.post[0]
        assert pre[15] == lay.probe, f"{where}: pre_handler saw pc={pre[15]:#x}"
        assert itstate_from_cpsr(pre[16]) == case.itstate, (
            f"{where}: pre_handler saw ITSTATE {itstate_from_cpsr(pre[16]):#04x}, "
            f"expected {case.itstate:#04x}")
        assert pre == trace.before, (
            f"{where}: pre_handler registers differ from the unprobed machine's: "
            f"{_named_diff(pre, trace.before)}; step trail "
            f"{[hex(pc) for pc in trace.trail]}, probe at {lay.probe:#x}")
        assert post == trace.after, (
            f"{where}: post_handler registers differ from the unprobed machine's: "
            f"{_named_diff(post, trace.after)}")
        return []


def _named_diff(seen: tuple[int, ...], expected: tuple[int, ...] | None) -> list[str]:
    if expected is None:
        return ["the unprobed step-run never reached the probed instruction"]
    return [f"{name}: {a:#x} != {b:#x}" for name, a, b in zip(REGISTER_NAMES, seen, expected)
            if a != b]


def expects_fire(case: Case, nzcv: int) -> bool:
    """ARM: the instruction's condition; Thumb: the IT slot's condition (or a B<c>'s own
    condition outside a block, as the kernel checks it); AL always fires."""
    return condition_passed(case.cond, initial_cpsr(nzcv))


@pytest.fixture(scope="module")
def harness() -> Iterator[DiffHarness]:
    yield DiffHarness()
