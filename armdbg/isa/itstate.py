"""Thumb-2 IT-block state (ITSTATE) arithmetic, as ARMv7 hardware keeps it.

ITSTATE is 8 bits: IT[7:5] is the base condition's top three bits, IT[4:0] holds the
current condition's low bit followed by the remaining mask.  In CPSR, IT[1:0] lives in
bits 26:25 and IT[7:2] in bits 15:10 (ARM ARM B1.3.3, "ITSTATE").

Unicorn does not keep these bits current inside hooks nor stop inside a block when
counting instructions (unicorn #853, #1630, #2309), so armdbg computes them here and
checks its emulator-facing code against these helpers.
"""

from __future__ import annotations

from dataclasses import dataclass

from armdbg.isa.conditions import COND_AL, condition_name, condition_passed

CPSR_IT_LOW_MASK = 0x3 << 25
CPSR_IT_HIGH_MASK = 0x3F << 10
CPSR_IT_MASK = CPSR_IT_LOW_MASK | CPSR_IT_HIGH_MASK


def itstate_from_cpsr(cpsr: int) -> int:
    return ((cpsr >> 25) & 0x3) | (((cpsr >> 10) & 0x3F) << 2)


def cpsr_with_itstate(cpsr: int, itstate: int) -> int:
    cpsr &= ~CPSR_IT_MASK & 0xFFFFFFFF
    return cpsr | ((itstate & 0x3) << 25) | (((itstate >> 2) & 0x3F) << 10)


def in_it_block(itstate: int) -> bool:
    return (itstate & 0xF) != 0


def last_in_it_block(itstate: int) -> bool:
    return (itstate & 0xF) == 0x8


def current_condition(itstate: int) -> int:
    """The condition of the instruction about to execute; AL outside a block."""
    return (itstate >> 4) & 0xF if in_it_block(itstate) else COND_AL


def advance(itstate: int) -> int:
    """ITSTATE after one instruction of the block executes (or is skipped)."""
    if (itstate & 0x7) == 0:
        return 0
    return (itstate & 0xE0) | ((itstate << 1) & 0x1F)


def remaining(itstate: int) -> int:
    """How many instructions of the block are left, the current one included."""
    low = itstate & 0xF
    if low == 0:
        return 0
    trailing = (low & -low).bit_length() - 1
    return 4 - trailing


def remaining_conditions(itstate: int) -> list[int]:
    """The condition of each instruction left in the block, current first."""
    conds = []
    state = itstate
    while in_it_block(state):
        conds.append(current_condition(state))
        state = advance(state)
    return conds


def is_it_instruction(halfword: int) -> bool:
    """``IT`` is 0xBFxy with a non-zero mask y (0xBFx0 are hints such as NOP)."""
    return (halfword & 0xFF00) == 0xBF00 and (halfword & 0xF) != 0


def itstate_from_it_instruction(halfword: int) -> int:
    """An IT instruction's firstcond:mask is exactly the ITSTATE it sets."""
    return halfword & 0xFF


def it_mnemonic(itstate: int) -> str:
    """Spell a block as written, e.g. 0x0b -> ``itete eq``, from its initial ITSTATE."""
    first = itstate >> 4
    conds = remaining_conditions(itstate)
    letters = "".join("t" if (c & 1) == (first & 1) else "e" for c in conds[1:])
    return f"it{letters} {condition_name(first)}"


@dataclass(frozen=True)
class ITInfo:
    """What ``info it`` shows about the current ITSTATE."""

    itstate: int
    base_condition: int
    mask: int
    position: int  # 0-based index of the current instruction in its block, if known
    remaining: int
    conditions: tuple[int, ...]
    executes: tuple[bool, ...]


def describe(itstate: int, cpsr: int, block_length: int | None = None) -> ITInfo:
    """Decode ITSTATE for display.

    The position inside the block cannot be derived from ITSTATE alone (the original
    mask has been shifted); callers that know the block's length (from the IT
    instruction) pass it so the position can be reported.
    """
    conds = tuple(remaining_conditions(itstate))
    left = len(conds)
    position = (block_length - left) if block_length is not None else -1
    return ITInfo(
        itstate=itstate,
        base_condition=(itstate >> 5) << 1,
        mask=itstate & 0x1F,
        position=position,
        remaining=left,
        conditions=conds,
        executes=tuple(condition_passed(c, cpsr) for c in conds),
    )


def block_length(it_halfword: int) -> int:
    return remaining(itstate_from_it_instruction(it_halfword))
