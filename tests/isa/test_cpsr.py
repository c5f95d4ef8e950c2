"""CPSR field decoding (armdbg.isa.cpsr): bit positions and modes from the ARM ARM
(B1.3.3, "Program Status Registers"), display strings written out by hand."""

from __future__ import annotations

import pytest

from armdbg.isa.cpsr import (
    A_BIT,
    E_BIT,
    F_BIT,
    I_BIT,
    J_BIT,
    MODE_ABT,
    MODE_FIQ,
    MODE_HYP,
    MODE_IRQ,
    MODE_MASK,
    MODE_MON,
    MODE_SVC,
    MODE_SYS,
    MODE_UND,
    MODE_USR,
    Q_BIT,
    T_BIT,
    decode,
    is_thumb,
    mode_name,
)


def test_bit_positions() -> None:
    assert T_BIT == 1 << 5
    assert F_BIT == 1 << 6
    assert I_BIT == 1 << 7
    assert A_BIT == 1 << 8
    assert E_BIT == 1 << 9
    assert J_BIT == 1 << 24
    assert Q_BIT == 1 << 27
    assert MODE_MASK == 0b11111


@pytest.mark.parametrize(("mode", "value", "name"), [
    (MODE_USR, 0b10000, "usr"), (MODE_FIQ, 0b10001, "fiq"), (MODE_IRQ, 0b10010, "irq"),
    (MODE_SVC, 0b10011, "svc"), (MODE_MON, 0b10110, "mon"), (MODE_ABT, 0b10111, "abt"),
    (MODE_HYP, 0b11010, "hyp"), (MODE_UND, 0b11011, "und"), (MODE_SYS, 0b11111, "sys"),
])
def test_modes(mode: int, value: int, name: str) -> None:
    assert mode == value
    assert mode_name(value) == name
    assert mode_name(0xF0000000 | I_BIT | T_BIT | value) == name


def test_unknown_mode_is_shown_as_a_number() -> None:
    assert mode_name(0x15) == "mode0x15"


def test_is_thumb() -> None:
    assert is_thumb(0x33)
    assert not is_thumb(0xD3)
    assert not is_thumb(0xFFFFFFDF)


def test_decode_reset_state() -> None:
    # SVC mode with IRQ and FIQ masked: armdbg's reset state.
    assert decode(0x000000D3) == "[ n z c v q GE=0000 j e a I F t svc ]"


def test_decode_flags_and_state_bits() -> None:
    assert decode(0x600001F3) == "[ n Z C v q GE=0000 j e A I F T svc ]"
    assert decode(0x98050010) == "[ N z c V Q GE=0101 j e a i f t usr ]"
    assert decode(0x0100021F) == "[ n z c v q GE=0000 J E a i f t sys ]"


def test_decode_shows_the_it_state_only_inside_a_block() -> None:
    # itete eq at its first slot: ITSTATE 0x0b in CPSR bits 26:25 and 15:10.
    assert decode(0x060008F3) == "[ n z c v q GE=0000 IT=0x0b(eq) j e a I F T svc ]"
    # Second slot of the same block: ITSTATE 0x16, condition ne.
    assert decode(0x040014F3) == "[ n z c v q GE=0000 IT=0x16(ne) j e a I F T svc ]"
    # Bits 15:10 non-zero but IT[3:0] zero: not in a block, nothing shown.
    assert "IT=" not in decode(0x0000C0F3)
