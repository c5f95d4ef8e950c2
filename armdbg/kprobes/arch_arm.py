"""The ARM parts of kprobes (arch/arm/probes/kprobes/core.{c,h}): breakpoint words,
probe-point checks, and the condition check that precedes every hit."""

from __future__ import annotations

import struct

from armdbg.isa.conditions import condition_passed
from armdbg.isa.disasm import thumb_is_wide

# core.h: these encodings are reserved for kprobes alone.
KPROBE_ARM_BREAKPOINT_INSTRUCTION = 0x07F001F8
KPROBE_THUMB16_BREAKPOINT_INSTRUCTION = 0xDE18
KPROBE_THUMB32_BREAKPOINT_INSTRUCTION = 0xF7F0A018

MAX_STACK_SIZE = 64  # one instruction can push at most 16 registers


def arm_breakpoint(original: int) -> int:
    """``arch_arm_kprobe``: the breakpoint carries the probed instruction's condition;
    AL and the unconditional 0xF space both become 0xE."""
    cond = 0xE if original >= 0xE0000000 else original >> 28
    return (cond << 28) | (KPROBE_ARM_BREAKPOINT_INSTRUCTION & 0x0FFFFFFF)


def breakpoint_bytes(original: bytes, thumb: bool) -> bytes:
    """The bytes written over ``original`` (the probed instruction's own bytes)."""
    if not thumb:
        return struct.pack("<I", arm_breakpoint(struct.unpack("<I", original[:4])[0]))
    if thumb_is_wide(int.from_bytes(original[:2], "little")):
        # A 32-bit Thumb instruction is stored as two halfwords, first one first.
        word = KPROBE_THUMB32_BREAKPOINT_INSTRUCTION
        return struct.pack("<HH", word >> 16, word & 0xFFFF)
    return struct.pack("<H", KPROBE_THUMB16_BREAKPOINT_INSTRUCTION)


def arm_condition_passes(original: int, cpsr: int) -> bool:
    """``insn_check_cc`` for ARM: the condition field, 0xE/0xF always true."""
    return condition_passed(original >> 28, cpsr)


def thumb_boundaries(code: bytes, start: int) -> set[int]:
    """Instruction start addresses when decoding Thumb code from ``start``."""
    starts = set()
    offset = 0
    while offset + 2 <= len(code):
        starts.add(start + offset)
        halfword = int.from_bytes(code[offset:offset + 2], "little")
        offset += 4 if thumb_is_wide(halfword) else 2
    return starts
