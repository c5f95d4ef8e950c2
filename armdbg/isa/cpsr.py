"""CPSR fields and processor modes, decoded for display."""

from __future__ import annotations

from armdbg.isa.conditions import condition_name
from armdbg.isa.itstate import current_condition, in_it_block, itstate_from_cpsr

T_BIT = 1 << 5
F_BIT = 1 << 6
I_BIT = 1 << 7
A_BIT = 1 << 8
E_BIT = 1 << 9
J_BIT = 1 << 24
Q_BIT = 1 << 27
MODE_MASK = 0x1F

MODE_USR = 0x10
MODE_FIQ = 0x11
MODE_IRQ = 0x12
MODE_SVC = 0x13
MODE_MON = 0x16
MODE_ABT = 0x17
MODE_HYP = 0x1A
MODE_UND = 0x1B
MODE_SYS = 0x1F

MODE_NAMES = {
    MODE_USR: "usr", MODE_FIQ: "fiq", MODE_IRQ: "irq", MODE_SVC: "svc", MODE_MON: "mon",
    MODE_ABT: "abt", MODE_HYP: "hyp", MODE_UND: "und", MODE_SYS: "sys",
}


def mode_name(cpsr: int) -> str:
    return MODE_NAMES.get(cpsr & MODE_MASK, f"mode{cpsr & MODE_MASK:#x}")


def is_thumb(cpsr: int) -> bool:
    return bool(cpsr & T_BIT)


def decode(cpsr: int) -> str:
    """One-line decoding, in the spirit of pwndbg/GEF flag displays.

    Upper-case letters are set flags, lower-case clear ones, e.g.
    ``[ N z C v q GE=0000 IT=0x0b(eq) T e a I F svc ]``.
    """
    parts = []
    for letter, bit in (("n", 31), ("z", 30), ("c", 29), ("v", 28), ("q", 27)):
        parts.append(letter.upper() if cpsr >> bit & 1 else letter)
    parts.append(f"GE={cpsr >> 16 & 0xF:04b}")
    it = itstate_from_cpsr(cpsr)
    if in_it_block(it):
        parts.append(f"IT={it:#04x}({condition_name(current_condition(it))})")
    for letter, bit in (("j", 24), ("e", 9), ("a", 8), ("i", 7), ("f", 6), ("t", 5)):
        parts.append(letter.upper() if cpsr >> bit & 1 else letter)
    parts.append(mode_name(cpsr))
    return "[ " + " ".join(parts) + " ]"
