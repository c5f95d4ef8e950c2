"""The ARM differential suite again, with every case's probe optimized.

Each case runs unprobed and then through an optprobe whose jump is in place (the test
checks every hit went through the trampoline): registers r0-r15, the whole CPSR, the
test buffer and the live stack must come out identical, and the pre_handler must see
exactly the registers the unprobed machine had at the instruction.

One thing differs on purpose: the bytes *below* what the instruction itself may use of
the stack.  The trampoline builds its pt_regs frame there, exactly as the kernel's
template does (``sub sp, sp, #72 + stack_space``), so those dead bytes hold the frame --
and the few cases that *load* from below SP read that frame, as they would read the
kernel's exception frame on a board (the ABI gives no meaning to memory below SP).  They
are listed, and a test checks the list is exactly the cases that load below SP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from conftest import NZCV_ALL, expects_fire, read_all
from diff_cases import SP_OFFSET, Case, arm_cases, decision_of

from armdbg.kprobes.core import Kprobe
from armdbg.kprobes.regs import PtRegs

if TYPE_CHECKING:
    from conftest import DiffHarness

ALL_CASES = arm_cases()
READS_BELOW_SP = {"arm ldrh r0, [sp, #-2]", "arm ldrhgt r0, [sp, #-2]", "arm ldmdb sp, {r0-r3}",
                  "arm ldmdble sp, {r0-r3}"}
CASES = [case for case in ALL_CASES if case.name not in READS_BELOW_SP]


def loads_below_sp(case: Case) -> bool:
    """A load whose address is SP minus something (without writeback moving SP down)."""
    text = case.name.split(" ", 1)[1]
    mnemonic = text.split()[0]
    if not mnemonic.startswith("ld"):
        return False
    return "[sp, #-" in text or (mnemonic.startswith(("ldmdb", "ldmda")) and "sp," in text
                                 and "!" not in text)


def check_optimized(harness: DiffHarness, case: Case) -> None:
    lay = harness.install(case)
    reference = {nzcv: harness.run(lay, nzcv) for nzcv in NZCV_ALL}
    traces = {nzcv: harness.step_run(lay, nzcv) for nzcv in NZCV_ALL}
    seen: list[tuple[int, ...]] = []

    def pre(_probe: Kprobe, regs: PtRegs) -> None:
        seen.append(read_all(regs))

    system = harness.system
    probe = system.kprobes.register(Kprobe(addr=lay.probe, pre_handler=pre))
    site = system.kprobes.sites[lay.probe]
    system.optimizer.wait()
    assert system.optimizer.is_jumping(site), system.optimizer.blocker(site)
    stack_space = decision_of(case).stack_space
    live = SP_OFFSET - stack_space  # the stack bytes the program may own
    fired = 0
    try:
        for nzcv in NZCV_ALL:
            seen.clear()
            result = harness.run(lay, nzcv)
            ref = reference[nzcv]
            where = f"{case.name}, NZCV={nzcv:04b}"
            assert result.regs == ref.regs, f"{where}: registers differ: " \
                                            f"{result.differences(ref)}"
            assert result.buf == ref.buf, f"{where}: test buffer differs"
            assert result.stack[live:] == ref.stack[live:], f"{where}: live stack differs"
            expected = 1 if expects_fire(case, nzcv) else 0
            assert len(seen) == expected, f"{where}: fired {len(seen)}, expected {expected}"
            if expected:
                assert seen[0] == traces[nzcv].before, f"{where}: pre_handler view differs"
            fired += len(seen)
    finally:
        system.kprobes.unregister(probe)
        system.optimizer.wait()
    assert probe.nhit == probe.nhit_jump == fired and probe.nhit_bp == 0
    assert harness.machine.read_memory(lay.main, len(lay.main_code)) == lay.main_code


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_optimized_probe_changes_nothing(harness: DiffHarness, case: Case) -> None:
    check_optimized(harness, case)


def test_only_the_loads_below_sp_are_left_out() -> None:
    assert {case.name for case in ALL_CASES if loads_below_sp(case)} == READS_BELOW_SP


def test_most_cases_run_the_original_instruction_in_the_trampoline(
        harness: DiffHarness) -> None:
    """Direct execution (the instruction copied into the trampoline) is the common path;
    PC-using instructions go through the single-step in the callback instead."""
    direct = [c for c in CASES if not decision_of(c).register_usage & (1 << 15)]
    assert len(direct) > len(CASES) // 2
    assert len(CASES) - len(direct) > 20
