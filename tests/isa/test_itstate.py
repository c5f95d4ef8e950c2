"""ITSTATE arithmetic (armdbg.isa.itstate) for every IT mask shape and condition.

Expectations come from outside the module under test:

* the slot conditions of a block are read off its *mnemonic* (``t`` repeats the first
  condition, ``e`` inverts its low bit: ARM ARM A8.8.54), not from ITSTATE bits;
* the encodings come from Keystone assembling that mnemonic, and its spelling back
  from Capstone disassembling the encoding;
* CPSR positions are the ARM ARM's (B1.3.3): IT[1:0] in CPSR[26:25], IT[7:2] in
  CPSR[15:10]; the one value Unicorn was seen to report (0x0b at the first slot of
  ``itete eq``, shared/reference/unicorn-notes.md) is checked as a literal.
"""

from __future__ import annotations

import itertools
import random

import pytest

from armdbg.isa.asm import assemble
from armdbg.isa.disasm import decode_one
from armdbg.isa.itstate import (
    CPSR_IT_HIGH_MASK,
    CPSR_IT_LOW_MASK,
    CPSR_IT_MASK,
    advance,
    block_length,
    cpsr_with_itstate,
    current_condition,
    describe,
    in_it_block,
    is_it_instruction,
    it_mnemonic,
    itstate_from_cpsr,
    itstate_from_it_instruction,
    last_in_it_block,
    remaining,
    remaining_conditions,
)

NAMES = ("eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le",
         "al")
SHAPES = tuple("".join(p) for n in range(4) for p in itertools.product("te", repeat=n))
AL = 14
CAPSTONE_ALIASES = {"hs": "cs", "lo": "cc"}


def blocks() -> list[tuple[int, str]]:
    """Every (condition, shape) a program can write: al only with t slots."""
    out = [(cond, shape) for cond in range(14) for shape in SHAPES]
    out += [(AL, "t" * n) for n in range(4)]
    return out


def slot_conditions(cond: int, shape: str) -> list[int]:
    return [cond] + [cond if letter == "t" else cond ^ 1 for letter in shape]


def encode(cond: int, shape: str) -> int:
    """Keystone's encoding of ``it<shape> <cond>`` followed by matching slots."""
    slots = "\n".join(f"mov{NAMES[c]} r0, r0" if c != AL else "mov r0, r0"
                      for c in slot_conditions(cond, shape))
    code = assemble(f"it{shape} {NAMES[cond]}\n{slots}", 0x1000, True)
    return int.from_bytes(code[:2], "little")


ENCODINGS = {(cond, shape): encode(cond, shape) for cond, shape in blocks()}


def test_there_are_fifteen_shapes_and_every_block_is_encoded() -> None:
    assert len(SHAPES) == 15
    assert len(ENCODINGS) == 14 * 15 + 4
    assert len(set(ENCODINGS.values())) == len(ENCODINGS)


@pytest.mark.parametrize(("cond", "shape"), blocks(),
                         ids=[f"it{s}-{NAMES[c]}" for c, s in blocks()])
def test_block_walk_matches_the_mnemonic(cond: int, shape: str) -> None:
    halfword = ENCODINGS[(cond, shape)]
    assert is_it_instruction(halfword)
    state = itstate_from_it_instruction(halfword)
    assert state == halfword & 0xFF
    want = slot_conditions(cond, shape)

    assert block_length(halfword) == len(want)
    assert remaining(state) == len(want)
    assert remaining_conditions(state) == want
    assert it_mnemonic(state) == f"it{shape} {NAMES[cond]}"
    # Capstone reads the same block from the encoding (it spells cs/cc as hs/lo).
    insn = decode_one(halfword.to_bytes(2, "little"), 0x1000, True)
    mnemonic, cond_name = insn.text.split()
    assert f"{mnemonic} {CAPSTONE_ALIASES.get(cond_name, cond_name)}" == it_mnemonic(state)

    for index, cond_here in enumerate(want):
        assert in_it_block(state), (index, state)
        assert current_condition(state) == cond_here
        assert remaining(state) == len(want) - index
        assert remaining_conditions(state) == want[index:]
        assert last_in_it_block(state) == (index == len(want) - 1)
        # The base condition's top bits never change inside a block.
        assert state >> 5 == cond >> 1
        state = advance(state)
    assert state == 0
    assert not in_it_block(state)
    assert current_condition(state) == AL
    assert remaining(state) == 0
    assert remaining_conditions(state) == []
    assert advance(state) == 0


def test_known_encodings() -> None:
    # objdump spellings of gcc output.
    assert ENCODINGS[(0, "")] == 0xBF08          # it eq
    assert ENCODINGS[(1, "t")] == 0xBF1C         # itt ne
    assert ENCODINGS[(1, "e")] == 0xBF14         # ite ne
    assert ENCODINGS[(0, "ete")] == 0xBF0B       # itete eq (0x0b, unicorn-notes.md)
    assert ENCODINGS[(12, "")] == 0xBFC8         # it gt


def test_hints_and_other_halfwords_are_not_it() -> None:
    for hint in (0xBF00, 0xBF10, 0xBF20, 0xBF30, 0xBF40):   # nop yield wfe wfi sev
        assert not is_it_instruction(hint)
        assert decode_one(hint.to_bytes(2, "little"), 0, True).mnemonic in (
            "nop", "yield", "wfe", "wfi", "sev")
    assert not is_it_instruction(0xBE01)        # bkpt #1
    assert not is_it_instruction(0xDE01)        # gdb's Thumb breakpoint
    assert not is_it_instruction(0x0BBF)        # byte-swapped itete eq
    assert sum(is_it_instruction(0xBF00 | low) for low in range(256)) == 16 * 15


# ------------------------------------------------------------------ CPSR packing

# ARM ARM B1.3.3: where each ITSTATE bit lives in CPSR.
IT_BIT_POSITION = {0: 25, 1: 26, 2: 10, 3: 11, 4: 12, 5: 13, 6: 14, 7: 15}


def pack_by_table(itstate: int) -> int:
    return sum(1 << IT_BIT_POSITION[bit] for bit in range(8) if itstate >> bit & 1)


def test_cpsr_masks() -> None:
    assert CPSR_IT_LOW_MASK == (1 << 25) | (1 << 26)
    assert sum(1 << b for b in range(10, 16)) == CPSR_IT_HIGH_MASK
    assert CPSR_IT_MASK == 0x0600FC00


@pytest.mark.parametrize("itstate", range(256))
def test_cpsr_packing_round_trips_and_keeps_other_bits(itstate: int) -> None:
    rng = random.Random(itstate)
    for other in (0, 0xFFFFFFFF, rng.getrandbits(32), 0x600001F3):
        packed = cpsr_with_itstate(other, itstate)
        assert packed & ~CPSR_IT_MASK & 0xFFFFFFFF == other & ~CPSR_IT_MASK & 0xFFFFFFFF
        assert packed & CPSR_IT_MASK == pack_by_table(itstate)
        assert itstate_from_cpsr(packed) == itstate
        assert 0 <= packed <= 0xFFFFFFFF


def test_cpsr_literal_values() -> None:
    # itete eq at its first slot, SVC mode, Thumb, IRQ/FIQ masked: bits 25 and 26 hold
    # IT[1:0] = 0b11, bits 15:10 hold IT[7:2] = 0b000010.
    assert cpsr_with_itstate(0x000000F3, 0x0B) == 0x060008F3
    assert itstate_from_cpsr(0x060008F3) == 0x0B
    assert itstate_from_cpsr(0xF00001F3) == 0          # flags and mode bits are not IT


# ------------------------------------------------------------------ describe

def flags(n: int, z: int, c: int, v: int) -> int:
    return n << 31 | z << 30 | c << 29 | v << 28


def test_describe_mid_block() -> None:
    start = ENCODINGS[(0, "ete")] & 0xFF         # itete eq: eq ne eq ne
    state = advance(start)                        # at the second slot
    info = describe(state, flags(0, 1, 0, 0), block_length=4)
    assert info.itstate == state
    assert info.base_condition == 0               # eq/ne family
    assert info.position == 1
    assert info.remaining == 3
    assert info.conditions == (1, 0, 1)           # ne eq ne
    assert info.executes == (False, True, False)  # Z set
    assert info.mask == state & 0x1F


def test_describe_without_length_and_outside_a_block() -> None:
    state = ENCODINGS[(12, "te")] & 0xFF          # itte gt: gt gt le
    info = describe(state, flags(0, 0, 0, 0))
    assert info.position == -1
    assert info.conditions == (12, 12, 13)
    assert info.executes == (True, True, False)
    assert info.base_condition == 12
    empty = describe(0, 0, block_length=2)
    assert empty.remaining == 0 and empty.conditions == () and empty.position == 2
