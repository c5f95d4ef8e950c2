"""Proof that kprobes change nothing: ARM (A32) instructions.

Every case runs from the same 16 initial states (one per NZCV value, GE and Q following
the kernel test's scenarios) without a probe and with a kprobe on the tested instruction
whose handlers read every register; registers r0-r15, the whole CPSR and both data
buffers must come out identical, and the probe must fire exactly when the instruction's
condition passes.  See diff_cases.py for the cases and conftest.py for the harness.

Not covered, because the emulator cannot run them at all (probed or not): YIELD and WFE
(Unicorn 2.1.4 stops with an exception; see test_unrunnable_hints_stop_alike) and WFI
(Unicorn halts until the host timeout; a probed WFI would hang Machine.raw_step, which
has no timeout).  NOP and SEV share their decode entries and are covered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from diff_cases import (
    ARM_OPERAND2,
    COND_AL,
    Case,
    arm_cases,
    coverage_names,
    decision_of,
    summary,
)

from armdbg.isa.asm import assemble
from armdbg.kprobes.core import Kprobe
from armdbg.kprobes.decode_arm import ARM_TABLE
from armdbg.kprobes.regs import PtRegs
from armdbg.machine.stops import StopReason

if TYPE_CHECKING:
    from conftest import DiffHarness  # the module-scoped fixture's type

CASES = arm_cases()
STEP_EVERY = 4  # every 4th case is also checked with Machine.step()


def _ids(cases: list[Case]) -> list[str]:
    return [case.name for case in cases]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_probe_changes_nothing(harness: DiffHarness, case: Case) -> None:
    harness.check(case, "run")


STEPPED = CASES[::STEP_EVERY]


@pytest.mark.parametrize("case", STEPPED, ids=_ids(STEPPED))
def test_probe_changes_nothing_when_stepping(harness: DiffHarness, case: Case) -> None:
    harness.check(case, "step")


def test_enough_cases_in_every_class() -> None:
    counts = summary(CASES)
    assert len(CASES) >= 300, counts
    for group, minimum in {
        "dp-imm": 10, "dp-reg": 10, "dp-shift-imm": 20, "dp-shift-reg": 20, "dp-rrx": 4,
        "dp-pc": 8, "dp-sp": 6, "multiply": 40, "saturating": 20, "parallel": 24,
        "media": 25, "load-store": 40, "load-store-sp": 8, "literal": 10, "ldm-stm": 25,
        "ldm-pc": 8, "branch": 10, "interwork": 8, "jump-table": 3, "mrs": 2, "hint": 2,
        "preload": 4,
    }.items():
        assert counts.get(group, 0) >= minimum, (group, counts)


def test_every_operand_form_with_and_without_s() -> None:
    """Immediate, register, each immediate shift, RRX and each register shift, with and
    without S (through ADD, besides the rotation over all opcodes)."""
    texts = {case.lines[case.probe] for case in CASES}
    for _form, operand, _shift in ARM_OPERAND2:
        for s in ("", "s"):
            assert f"add{s} r4, r5, {operand}" in texts


def test_conditional_variants_fail_and_pass() -> None:
    """Each class has conditional cases, so the probe is seen both firing and not."""
    conditional = {case.group for case in CASES if case.cond != COND_AL}
    unconditional_only = {"preload"}  # PLD/PLI live in the unconditional space
    assert conditional >= set(summary(CASES)) - unconditional_only


def test_every_accepted_decode_entry_is_covered() -> None:
    """Like the kernel test's coverage check: every accepting entry of the ARM decode
    table matches at least one case, and every case is accepted."""
    accepted, covered = coverage_names(CASES, {False: ARM_TABLE})
    rejected = [(case.name, decision_of(case).why) for case in CASES
                if not decision_of(case).accepted]
    assert not rejected
    assert accepted - covered == set()


def _hint_outcome(harness: DiffHarness, base: int, probed: bool) -> tuple[object, ...]:
    machine = harness.machine
    hits: list[int] = []

    def pre(_probe: Kprobe, regs: PtRegs) -> None:
        hits.append(regs.ARM_pc)

    probe = harness.system.kprobes.register(Kprobe(addr=base + 4, pre_handler=pre)) \
        if probed else None
    machine.set_pc(base, False)
    stop = machine.run(until=base + 12, timeout=5.0)
    if probe is not None:
        harness.system.kprobes.unregister(probe)
    return stop.reason, stop.pc, harness.registers()[:15], hits


@pytest.mark.parametrize("text", ["yield", "wfe"])
def test_unrunnable_hints_stop_alike(harness: DiffHarness, text: str) -> None:
    """YIELD and WFE stop Unicorn 2.1.4 (it reports an exception); a probe on them must
    not change that stop, and fires once (the single-step then reports the same stop)."""
    base = 0x80180000 + (0x100 if text == "wfe" else 0)
    harness.machine.write_memory(base, assemble(f"nop\n{text}\nnop\nnop", base, False))
    reason, pc, regs, hits = _hint_outcome(harness, base, probed=False)
    assert reason is StopReason.SIGNAL and not hits
    assert _hint_outcome(harness, base, probed=True) == (reason, pc, regs, [base + 4])
