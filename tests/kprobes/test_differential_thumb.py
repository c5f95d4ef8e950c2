"""Proof that kprobes change nothing: Thumb-2 (16- and 32-bit) instructions.

As for ARM (test_differential_arm.py), with the IT block as the condition: each
template runs outside a block and inside one at rotating slots 1..4 with "then" and
"else" conditions, so over the 16 NZCV scenarios the probed slot both executes and is
skipped; filler slots after it add distinct values to r12, so a probe that disturbed
ITSTATE would show.  PC-relative instructions (literal loads, ADR, TBB) run at both
word alignments, since Align(PC, 4) differs.

The condition checks mirror the kernel's: B<c> outside an IT block runs its handlers
only when the branch is taken (t16/t32_decode_cond_branch), and a probe in a
condition-failed IT slot never fires, whether the machine runs over it (the emulator
skips the breakpoint word there, as hardware does) or steps onto it (the engine checks
the slot's condition first).

The outcome (registers, flags, memory) is compared in every scenario before a hit
mismatch is reported, so these marks never hide a changed computation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from diff_cases import (
    COND_AL,
    Case,
    cond_code,
    coverage_names,
    decision_of,
    layout,
    summary,
    thumb_cases,
)

from armdbg.kprobes.decode_thumb import T16_TABLE, T32_TABLE

if TYPE_CHECKING:
    from conftest import DiffHarness  # the module-scoped fixture's type

CASES = thumb_cases()
STEP_EVERY = 4

def _param(case: Case, mode: str) -> object:
    return pytest.param(case, id=case.name)


@pytest.mark.parametrize("case", [_param(case, "run") for case in CASES])
def test_probe_changes_nothing(harness: DiffHarness, case: Case) -> None:
    harness.check(case, "run")


@pytest.mark.parametrize("case", [_param(case, "step") for case in CASES[::STEP_EVERY]])
def test_probe_changes_nothing_when_stepping(harness: DiffHarness, case: Case) -> None:
    harness.check(case, "step")


def test_enough_cases_in_every_class() -> None:
    counts = summary(CASES)
    assert len(CASES) >= 300, counts
    for group, minimum in {
        "dp-16": 40, "dp-hireg": 10, "dp-imm": 30, "dp-shift-imm": 30, "dp-shift-reg": 8,
        "dp-rrx": 2, "dp-sp": 8, "multiply": 40, "saturating": 10, "parallel": 24,
        "media": 30, "media-16": 7, "load-store": 40, "load-store-16": 14,
        "load-store-sp": 10, "literal": 20, "ldm-stm": 13, "ldm-stm-16": 7, "ldm-pc": 6,
        "branch": 8, "branch-cond": 3, "interwork": 6, "cbz": 4, "table-branch": 8,
        "adr": 8, "mrs": 2, "hint": 4, "preload": 5, "it": 4,
    }.items():
        assert counts.get(group, 0) >= minimum, (group, counts)


def test_every_it_slot_passing_and_failing() -> None:
    """Every slot 1..4 is tested, as a "then" and as an "else" slot, for plain
    instructions and for those that may only end a block (branches, PC loads)."""
    seen = set()
    for case in CASES:
        if case.itstate:
            it_line = next(line for line in case.lines if line.startswith("it"))
            then = case.cond == cond_code(it_line.split()[1])
            seen.add((case.it_slot, then, case.group in ("branch", "interwork", "ldm-pc",
                                                         "table-branch")))
    wanted = {(slot, then, last) for slot in (1, 2, 3, 4) for then in (True, False)
              for last in (False, True)} - {(1, False, True), (1, False, False)}
    assert wanted <= seen, wanted - seen


def test_flag_setting_16_bit_forms_in_and_out_of_it_blocks() -> None:
    """The 16-bit ADD (register) encoding: ADDS outside a block, ADD<c> (no flags)
    inside one; every 16-bit data-processing case stays 16-bit in a block."""
    adds = [case for case in CASES if case.lines[case.probe].endswith(" r0, r1, r2")
            and case.group == "dp-16"]
    assert [case.lines[case.probe] for case in adds if not case.itstate] == \
        ["adds r0, r1, r2"]
    inside = [case.lines[case.probe].split()[0] for case in adds if case.itstate]
    assert inside and all(m[:3] == "add" and m[3:] != "s" and len(m) == 5 for m in inside)
    for case in CASES:
        if case.group == "dp-16":
            assert decision_of(case).size == 2, case.name


def test_pc_relative_cases_at_both_alignments() -> None:
    for group in ("literal", "adr", "table-branch"):
        alignments = {layout(case, 0).probe % 4 for case in CASES if case.group == group}
        assert alignments == {0, 2}, group


def test_every_accepted_decode_entry_is_covered() -> None:
    """Every accepting entry of both Thumb decode tables matches at least one case."""
    accepted, covered = coverage_names(CASES, {False: T16_TABLE, True: T32_TABLE})
    rejected = [(case.name, decision_of(case).why) for case in CASES
                if not decision_of(case).accepted]
    assert not rejected
    assert accepted - covered == set()


def test_conditional_cases_everywhere() -> None:
    conditional = {case.group for case in CASES if case.cond != COND_AL}
    # CBZ/CBNZ cannot be in an IT block; the IT instruction itself neither.
    assert conditional >= set(summary(CASES)) - {"cbz", "it"}
