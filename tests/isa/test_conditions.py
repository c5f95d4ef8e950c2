"""Condition codes (armdbg.isa.conditions) against the ARM ARM's table A8-1.

The reference below is written per condition as the ARM ARM states it, not in the
implementation's "even condition, odd negates it" form, and is applied to all 16 NZCV
values for all 16 conditions.  Condition numbering is checked against the condition
field Keystone writes into ARM encodings.
"""

from __future__ import annotations

import pytest

from armdbg.isa.asm import assemble
from armdbg.isa.conditions import (
    C_BIT,
    COND_AL,
    COND_NAMES,
    N_BIT,
    NZCV_MASK,
    V_BIT,
    Z_BIT,
    condition_from_name,
    condition_name,
    condition_passed,
)

# ARM ARM A8.3, Table A8-1 (cond, mnemonic extension, condition flags).
ARM_ARM_TABLE = {
    0b0000: ("eq", lambda n, z, c, v: z == 1),
    0b0001: ("ne", lambda n, z, c, v: z == 0),
    0b0010: ("cs", lambda n, z, c, v: c == 1),
    0b0011: ("cc", lambda n, z, c, v: c == 0),
    0b0100: ("mi", lambda n, z, c, v: n == 1),
    0b0101: ("pl", lambda n, z, c, v: n == 0),
    0b0110: ("vs", lambda n, z, c, v: v == 1),
    0b0111: ("vc", lambda n, z, c, v: v == 0),
    0b1000: ("hi", lambda n, z, c, v: c == 1 and z == 0),
    0b1001: ("ls", lambda n, z, c, v: c == 0 or z == 1),
    0b1010: ("ge", lambda n, z, c, v: n == v),
    0b1011: ("lt", lambda n, z, c, v: n != v),
    0b1100: ("gt", lambda n, z, c, v: z == 0 and n == v),
    0b1101: ("le", lambda n, z, c, v: z == 1 or n != v),
    0b1110: ("al", lambda n, z, c, v: True),
    # 0b1111 is the unconditional space on ARMv5 and later; armdbg treats it as always
    # passing, as the kernel's probes_condition_checks[15] does.
    0b1111: ("nv", lambda n, z, c, v: True),
}

# How many of the 16 flag combinations pass, counted by hand from the table.
PASS_COUNTS = {"eq": 8, "ne": 8, "cs": 8, "cc": 8, "mi": 8, "pl": 8, "vs": 8, "vc": 8,
               "hi": 4, "ls": 12, "ge": 8, "lt": 8, "gt": 4, "le": 12, "al": 16, "nv": 16}


def cpsr_for(nzcv: int, other: int = 0x1D3) -> int:
    return (nzcv << 28) | other


def test_flag_bits() -> None:
    assert (N_BIT, Z_BIT, C_BIT, V_BIT) == (1 << 31, 1 << 30, 1 << 29, 1 << 28)
    assert NZCV_MASK == 0xF0000000
    assert COND_AL == 0b1110


@pytest.mark.parametrize("cond", range(16), ids=[ARM_ARM_TABLE[c][0] for c in range(16)])
def test_condition_passed_for_every_flag_combination(cond: int) -> None:
    name, rule = ARM_ARM_TABLE[cond]
    passed = 0
    for nzcv in range(16):
        n, z, c, v = nzcv >> 3 & 1, nzcv >> 2 & 1, nzcv >> 1 & 1, nzcv & 1
        want = rule(n, z, c, v)
        # Bits outside NZCV (mode, T, IT, Q, GE) must not matter.
        for other in (0, 0x1D3, 0x0FFFFFFF, 0x060008F3):
            assert condition_passed(cond, cpsr_for(nzcv, other)) is want, (name, nzcv, other)
        passed += want
    assert passed == PASS_COUNTS[name]


def test_spot_values() -> None:
    assert condition_passed(0b1000, C_BIT)                    # hi: C set, Z clear
    assert not condition_passed(0b1000, C_BIT | Z_BIT)
    assert condition_passed(0b1100, N_BIT | V_BIT)            # gt: N == V, Z clear
    assert not condition_passed(0b1100, N_BIT)
    assert condition_passed(0b1101, Z_BIT | N_BIT | V_BIT)    # le: Z set
    assert condition_passed(0b1011, V_BIT)                    # lt: N != V


def test_names_both_ways() -> None:
    assert tuple(ARM_ARM_TABLE[c][0] for c in range(16)) == COND_NAMES
    for cond in range(16):
        assert condition_name(cond) == ARM_ARM_TABLE[cond][0]
        assert condition_name(cond | 0x10) == ARM_ARM_TABLE[cond][0]  # only 4 bits count
        assert condition_from_name(ARM_ARM_TABLE[cond][0]) == cond
        assert condition_from_name(ARM_ARM_TABLE[cond][0].upper()) == cond
    assert condition_from_name("hs") == 0b0010
    assert condition_from_name("LO") == 0b0011
    with pytest.raises(ValueError):
        condition_from_name("xx")


@pytest.mark.parametrize("cond", range(15), ids=COND_NAMES[:15])
def test_numbering_matches_the_encoding_keystone_writes(cond: int) -> None:
    suffix = "" if cond == COND_AL else COND_NAMES[cond]
    word = int.from_bytes(assemble(f"add{suffix} r0, r0, r0", 0x8000, False), "little")
    assert word >> 28 == cond
