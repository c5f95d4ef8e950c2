"""Where a control-flow instruction goes next, for the common forms whose target is
exact from the encoding, registers and memory alone.

The machine uses it to single-step a branch with ``until=<target>`` instead of
Unicorn's ``count=1``: switching the count hook on and off flushes the whole
translation cache (~65 us measured), which a kprobe on a function return (``pop {pc}``,
``ldmia sp!, {..., pc}``) would otherwise pay on every hit.  Anything not covered
returns None and the machine falls back to counting.
"""

from __future__ import annotations

from collections.abc import Callable

from capstone import arm as cs_arm

from armdbg.isa.conditions import COND_AL, condition_passed
from armdbg.isa.disasm import capstone_detail

ReadRegister = Callable[[str], int]
ReadWord = Callable[[int], int]

_REG_NAMES = {getattr(cs_arm, f"ARM_REG_R{i}"): f"r{i}" for i in range(13)}
_REG_NAMES.update({cs_arm.ARM_REG_SP: "sp", cs_arm.ARM_REG_LR: "lr", cs_arm.ARM_REG_PC: "pc"})
# Capstone spells r9-r12 sb, sl, fp, ip: the same register ids.
_CS_COND = {
    cs_arm.ARM_CC_EQ: 0x0, cs_arm.ARM_CC_NE: 0x1, cs_arm.ARM_CC_HS: 0x2, cs_arm.ARM_CC_LO: 0x3,
    cs_arm.ARM_CC_MI: 0x4, cs_arm.ARM_CC_PL: 0x5, cs_arm.ARM_CC_VS: 0x6, cs_arm.ARM_CC_VC: 0x7,
    cs_arm.ARM_CC_HI: 0x8, cs_arm.ARM_CC_LS: 0x9, cs_arm.ARM_CC_GE: 0xA, cs_arm.ARM_CC_LT: 0xB,
    cs_arm.ARM_CC_GT: 0xC, cs_arm.ARM_CC_LE: 0xD, cs_arm.ARM_CC_AL: 0xE,
}


def next_pc(data: bytes, address: int, thumb: bool, cpsr: int, condition: int | None,
            read_register: ReadRegister, read_word: ReadWord) -> int | None:
    """The address execution continues at after the instruction, with bit 0 set when it
    continues in Thumb state; None when this module does not know the form.

    ``condition`` is the condition that applies (an IT block's), or None to take the
    instruction's own.
    """
    decoded = list(capstone_detail(thumb).disasm(data, address, 1))
    if not decoded:
        return None
    insn = decoded[0]
    fall_through = (address + insn.size) | int(thumb)
    cond = condition if condition is not None else _CS_COND.get(insn.cc, COND_AL)
    mnemonic = insn.mnemonic.split(".")[0]
    base = mnemonic[:-2] if len(mnemonic) > 2 and mnemonic[-2:] in _COND_SUFFIXES else mnemonic
    operands = insn.operands
    if base in ("b", "bl", "blx") and operands and operands[0].type == cs_arm.ARM_OP_IMM:
        if not condition_passed(cond, cpsr):
            return fall_through
        target = operands[0].imm & 0xFFFFFFFF
        if base == "blx":
            return target | int(not thumb)  # blx imm always switches state
        return target | int(thumb)
    if base in ("bx", "blx") and operands and operands[0].type == cs_arm.ARM_OP_REG:
        if not condition_passed(cond, cpsr):
            return fall_through
        name = _REG_NAMES.get(operands[0].reg)
        if name is None or name == "pc":
            return None
        return read_register(name) & 0xFFFFFFFF
    if base in ("cbz", "cbnz") and len(operands) == 2:
        name = _REG_NAMES.get(operands[0].reg)
        if name is None:
            return None
        zero = read_register(name) == 0
        taken = zero if base == "cbz" else not zero
        return ((operands[1].imm & 0xFFFFFFFF) | 1) if taken else fall_through
    if base in ("pop", "ldm", "ldmia", "ldmfd") and _loads_pc(operands, base):
        if not condition_passed(cond, cpsr):
            return fall_through
        if base == "pop":
            base_value = read_register("sp")
            registers = len(operands)
        else:
            name = _REG_NAMES.get(operands[0].reg)
            if name is None or name == "pc":
                return None
            base_value = read_register(name)
            registers = len(operands) - 1
        # Increment-after: PC, the highest register, is the last word loaded.
        return read_word(base_value + 4 * (registers - 1)) & 0xFFFFFFFF
    return None


_COND_SUFFIXES = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls",
                  "ge", "lt", "gt", "le", "al"}


def _loads_pc(operands: list, base: str) -> bool:  # type: ignore[type-arg]
    regs = operands if base == "pop" else operands[1:]
    return bool(regs) and regs[-1].type == cs_arm.ARM_OP_REG and \
        regs[-1].reg == cs_arm.ARM_REG_PC
