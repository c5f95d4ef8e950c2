"""The Thumb kprobes decode tables, mirroring the decisions of decode-thumb.c.

Section numbers refer to the ARMv7-A/R Architecture Reference Manual (DDI 0406C),
chapter A6 "Thumb Instruction Set Encoding".  A 32-bit instruction is handled as the
kernel does, as one value ``first << 16 | second``; the field shifts below count in
that value.  Thumb kernels have no optprobes and so no register-usage checker: every
Thumb decision keeps register_usage = 0xffffffff, exactly as the kernel leaves it.
"""

from __future__ import annotations

from armdbg.kprobes.decode import (
    ANY,
    COND_AL,
    LR,
    NO_IMPLICIT,
    NOPC,
    NOPCWB,
    NOSP,
    NOSPPC,
    ONLY_PC,
    ONLY_SP,
    PC,
    SAMEAS16,
    SP,
    Accept,
    Decision,
    Implicit,
    Reg,
    Reject,
    StackRule,
    any_of,
    base,
    decide,
    dst,
    e,
    first_stack_rule,
    lookup,
    src,
    srcdst,
    stack_stmdx,
    stack_unknown,
    table,
)

UNMATCHED = ("No kprobes decode-table entry matches this Thumb encoding "
             "(unallocated or unsupported instruction).")


def is_wide(first: int) -> bool:
    """A Thumb instruction is 32 bits when its first halfword starts 0b11101/0b11110/0b11111."""
    return (first & 0xFFFF) >> 11 in (0b11101, 0b11110, 0b11111)


# --------------------------------------------------------------------------------------
# Stack checkers (checkers-thumb.c).

def _stack_none(insn: int) -> int:
    return 0


def _stack_imm8(insn: int) -> int:
    return insn & 0xFF


def _stack_imm8x4(insn: int) -> int:
    return (insn & 0xFF) << 2


_T32_STACK_RULES: tuple[StackRule, ...] = (
    (0x00100000, 0x00100000, _stack_none),    # every load (L bit 20 set)
    (0xFF9F0FC0, 0xF80D0000, stack_unknown),  # STR{,B,H} Rt, [SP, Rm]
    (0xFF900FCF, 0xF800000D, stack_unknown),  # STR{,B,H} Rt, [Rn, SP]
    (0xFF9F0E00, 0xF80D0C00, _stack_imm8),    # STR{,B,H} Rt, [SP, #-imm8]{!}
    (0xFFDF0000, 0xE94D0000, _stack_imm8x4),  # STRD Rt, Rt2, [SP, #-imm8*4]{!}
    (0xFFDF0000, 0xE90D0000, stack_stmdx),    # STMDB SP{!}, {...}
)


def _t32_stack(insn: int) -> int:
    return first_stack_rule(_T32_STACK_RULES, insn)


def _push_stack(insn: int) -> int:
    """PUSH is the only 16-bit instruction that stores below SP."""
    return bin(insn & 0x1FF).count("1") * 4


# --------------------------------------------------------------------------------------
# Implicit facts.

_PC_BIT, _SP_BIT, _LR_BIT = 1 << PC, 1 << SP, 1 << LR


def _reads_pc(insn: int) -> Implicit:
    return Implicit(reads=_PC_BIT)


def _reads_sp(insn: int) -> Implicit:
    return Implicit(reads=_SP_BIT)


def _adjusts_sp(insn: int) -> Implicit:
    return Implicit(reads=_SP_BIT, writes=_SP_BIT)


def _jump(insn: int) -> Implicit:
    return Implicit(reads=_PC_BIT, writes=_PC_BIT)


def _t16_bcc(insn: int) -> Implicit:
    return Implicit(reads=_PC_BIT, writes=_PC_BIT, condition=(insn >> 8) & 0xF)


def _t16_bx(insn: int) -> Implicit:
    return Implicit(writes=_PC_BIT | (_LR_BIT if insn & 0x80 else 0))


def _push(insn: int) -> Implicit:
    reglist = (insn & 0xFF) | (_LR_BIT if insn & 0x100 else 0)
    return Implicit(reads=reglist | _SP_BIT, writes=_SP_BIT, register_list=reglist)


def _pop(insn: int) -> Implicit:
    reglist = (insn & 0xFF) | (_PC_BIT if insn & 0x100 else 0)
    return Implicit(reads=_SP_BIT, writes=reglist | _SP_BIT, register_list=reglist)


def _t16_stm(insn: int) -> Implicit:
    return Implicit(reads=insn & 0xFF, register_list=insn & 0xFF)


def _t16_ldm(insn: int) -> Implicit:
    return Implicit(writes=insn & 0xFF, register_list=insn & 0xFF)


def _t16_ldm_writes_back(insn: int) -> bool:
    """16-bit LDM writes Rn back unless Rn is in the list."""
    return not (insn >> ((insn >> 8) & 7)) & 1


def _t32_ldm_stm(insn: int) -> Implicit:
    reglist = insn & 0xFFFF
    if insn & (1 << 20):
        return Implicit(writes=reglist, register_list=reglist)
    return Implicit(reads=reglist, register_list=reglist)


def _t32_w(insn: int) -> bool:
    return bool(insn & (1 << 21))


def _t32_imm8_writeback(insn: int) -> bool:
    """The 8-bit-immediate load/store forms (second halfword 1PUW imm8) with W set."""
    return insn & 0x00800900 == 0x00000900


def _literal_if_pc(insn: int) -> Implicit:
    return Implicit(klass="literal-load") if (insn >> 16) & 0xF == PC else NO_IMPLICIT


def _t32_bcc(insn: int) -> Implicit:
    return Implicit(reads=_PC_BIT, writes=_PC_BIT, condition=(insn >> 22) & 0xF)


def _t32_branch(insn: int) -> Implicit:
    return Implicit(reads=_PC_BIT, writes=_PC_BIT | (_LR_BIT if insn & 0x4000 else 0))


def _pkh(insn: int) -> Implicit:
    """PKHBT/PKHTB sit in the kernel's logical-operations entry; call them media."""
    return Implicit(klass="media") if insn & 0xFFE00000 == 0xEAC00000 else NO_IMPLICIT


def _usad8(insn: int) -> Implicit:
    return Implicit(klass="media") if insn & 0xFFF00000 == 0xFB700000 else NO_IMPLICIT


# --------------------------------------------------------------------------------------
# Shared rejections.

_EXCLUSIVE = Reject("exclusive", "LDREX/STREX (exclusive access) cannot be single-stepped "
                    "out of line: the exclusive monitor would be lost.")
_COPROCESSOR = Reject("coprocessor", "Coprocessor instructions (CDP, LDC/STC, MCR/MRC, "
                      "MCRR/MRRC, VFP and NEON) are not probeable.")
_UNALLOCATED = Reject("unallocated", "Unallocated or UNPREDICTABLE encoding; kprobes "
                      "rejects it.")
_HINT_REJECT = Reject("hint", "DBG and unassigned hints are rejected by kprobes.")


def _lo(role: str, shift: int) -> tuple[str, int, str, int]:
    return role, shift, ANY, 3


# ======================================================================================
# 16-bit Thumb (A6.2).

# A6.2.5 Miscellaneous 16-bit instructions: 1011 xxxx xxxx xxxx
_T16_MISC = table(
    e(0xFF00, 0xB000, Accept("data-processing", "ADD/SUB SP, SP, #imm",
                             implicit=_adjusts_sp)),
    e(0xF500, 0xB100, Accept("cbz", "CBZ/CBNZ", (src(*_lo("rn", 0)),), implicit=_jump)),
    e(0xFFC0, 0xBA80, Reject("unallocated", "0xba80-0xbabf is an unallocated REV "
                             "encoding; kprobes rejects it.")),
    # SXTH/SXTB/UXTH/UXTB/REV/REV16/REVSH.  The kernel's mask also takes the unallocated
    # 1011 1000 xxxx xxxx here, and so do we.
    e(0xF500, 0xB000, Accept("media", "SXT*/UXT*/REV* (16-bit)",
                             (src(*_lo("rm", 3)), dst(*_lo("rd", 0))))),
    e(0xFE00, 0xB400, Accept("ldm-stm", "PUSH", stack=_push_stack, implicit=_push)),
    e(0xFE00, 0xBC00, Accept("ldm-stm", "POP", implicit=_pop)),
    # A6.2.5 If-Then, and hints: 1011 1111 xxxx xxxx
    any_of(((0xFFFF, 0xBF10), (0xFFFF, 0xBF40)), Accept("hint", "YIELD/SEV")),
    e(0xFFCF, 0xBF00, Accept("hint", "NOP/WFE/WFI")),
    e(0xFF0F, 0xBF00, _HINT_REJECT),
    e(0xFF00, 0xBF00, Accept("it", "IT")),
    # The rest is rejected; these entries only name what is being rejected.
    e(0xFFF7, 0xB650, Reject("setend", "SETEND changes the data endianness; kprobes "
                             "rejects it.")),
    e(0xFFE8, 0xB660, Reject("cps", "CPS changes the interrupt masks; kprobes rejects "
                             "it.")),
    e(0xFF00, 0xBE00, Reject("bkpt", "BKPT is a debug breakpoint and cannot be probed.")),
)

_T16_STORE_REG = ((0xFE00, 0x5000), (0xFE00, 0x5200), (0xFE00, 0x5400))

T16_TABLE = (
    # A6.2.1 Shift (immediate), add, subtract, move, and compare: 00xx xxxx xxxx xxxx
    e(0xF800, 0x2800, Accept("data-processing", "CMP (immediate)", (src(*_lo("rn", 8)),))),
    e(0xFC00, 0x1800, Accept("data-processing", "ADD/SUB (register)",
                             (src(*_lo("rm", 6)), src(*_lo("rn", 3)),
                              dst(*_lo("rd", 0))))),
    e(0xFC00, 0x1C00, Accept("data-processing", "ADD/SUB (3-bit immediate)",
                             (src(*_lo("rn", 3)), dst(*_lo("rd", 0))))),
    e(0xE000, 0x0000, Accept("data-processing", "LSL/LSR/ASR (immediate)",
                             (src(*_lo("rm", 3)), dst(*_lo("rd", 0))))),
    e(0xF800, 0x2000, Accept("data-processing", "MOV (immediate)", (dst(*_lo("rd", 8)),))),
    e(0xF000, 0x3000, Accept("data-processing", "ADD/SUB (8-bit immediate)",
                             (srcdst(*_lo("rdn", 8)),))),
    # A6.2.2 Data-processing: 0100 00xx xxxx xxxx
    any_of(((0xFFC0, 0x4200), (0xFF80, 0x4280)),
           Accept("data-processing", "TST/CMP/CMN (register)",
                  (src(*_lo("rm", 3)), src(*_lo("rn", 0))))),
    any_of(((0xFFC0, 0x4240), (0xFFC0, 0x43C0)),
           Accept("data-processing", "RSB/MVN", (src(*_lo("rm", 3)), dst(*_lo("rd", 0))))),
    e(0xFC00, 0x4000, Accept("data-processing", "Data-processing (register)",
                             (src(*_lo("rm", 3)), srcdst(*_lo("rdn", 0))))),
    # A6.2.3 Special data instructions and branch and exchange: 0100 01xx xxxx xxxx
    e(0xFFF8, 0x47F8, Reject("branch-exchange", "BLX PC is UNPREDICTABLE and rejected.")),
    e(0xFF00, 0x4700, Accept("branch-exchange", "BX/BLX (register)", (src("rm", 3),),
                             implicit=_t16_bx)),
    e(0xFFFF, 0x44FF, Reject("data-processing", "ADD PC, PC is rejected by the kernel's "
                             "Thumb decoder.")),
    e(0xFF00, 0x4400, Accept("data-processing", "ADD (high registers)",
                             (Reg("rdn", 0, ANY, True, True, 3, top=7), src("rm", 3)))),
    e(0xFF00, 0x4500, Accept("data-processing", "CMP (high registers)",
                             (Reg("rn", 0, ANY, False, True, 3, top=7), src("rm", 3)))),
    e(0xFF00, 0x4600, Accept("data-processing", "MOV (high registers)",
                             (Reg("rd", 0, ANY, True, False, 3, top=7), src("rm", 3)))),
    # A8.8.64 LDR (literal) T1
    e(0xF800, 0x4800, Accept("literal-load", "LDR (literal)", (dst(*_lo("rt", 8)),),
                             implicit=_reads_pc)),
    # A6.2.4 Load/store single data item: 0101, 011x, 100x
    any_of(_T16_STORE_REG, Accept("load-store", "STR/STRH/STRB (register)",
                                  (src(*_lo("rm", 6)), src(*_lo("rn", 3)),
                                   src(*_lo("rt", 0))))),
    e(0xF000, 0x5000, Accept("load-store", "LDR/LDRH/LDRB/LDRS* (register)",
                             (src(*_lo("rm", 6)), src(*_lo("rn", 3)), dst(*_lo("rt", 0))))),
    any_of(((0xF800, 0x6000), (0xF800, 0x7000), (0xF800, 0x8000)),
           Accept("load-store", "STR/STRB/STRH (immediate)",
                  (src(*_lo("rn", 3)), src(*_lo("rt", 0))))),
    any_of(((0xF800, 0x6800), (0xF800, 0x7800), (0xF800, 0x8800)),
           Accept("load-store", "LDR/LDRB/LDRH (immediate)",
                  (src(*_lo("rn", 3)), dst(*_lo("rt", 0))))),
    e(0xF800, 0x9000, Accept("load-store", "STR (SP-relative)", (src(*_lo("rt", 8)),),
                             implicit=_reads_sp)),
    e(0xF800, 0x9800, Accept("load-store", "LDR (SP-relative)", (dst(*_lo("rt", 8)),),
                             implicit=_reads_sp)),
    # A8.8.12 ADR T1, A8.8.9 ADD (SP plus immediate) T1
    e(0xF800, 0xA000, Accept("adr", "ADR", (dst(*_lo("rd", 8)),), implicit=_reads_pc)),
    e(0xF800, 0xA800, Accept("data-processing", "ADD Rd, SP, #imm", (dst(*_lo("rd", 8)),),
                             implicit=_reads_sp)),
    e(0xF000, 0xB000, _T16_MISC),
    # A8.8.199 STM T1, A8.8.57 LDM T1
    e(0xF800, 0xC000, Accept("ldm-stm", "STM (16-bit)", (srcdst(*_lo("rn", 8)),),
                             implicit=_t16_stm)),
    e(0xF800, 0xC800, Accept("ldm-stm", "LDM (16-bit)",
                             (base("rn", 8, ANY, _t16_ldm_writes_back, 3),),
                             implicit=_t16_ldm)),
    # A6.2.6 Conditional branch, and supervisor call: 1101 xxxx xxxx xxxx
    e(0xFF00, 0xDE00, Reject("undefined", "Permanently UNDEFINED encoding (UDF, the space "
                             "of the 0xde18 kprobe breakpoint) cannot be probed.")),
    e(0xFF00, 0xDF00, Reject("svc", "SVC (supervisor call) cannot be probed.")),
    e(0xF000, 0xD000, Accept("branch", "B<c> (16-bit)", implicit=_t16_bcc)),
    # A8.8.18 B T2
    e(0xF800, 0xE000, Accept("branch", "B (16-bit)", implicit=_jump)),
)


# ======================================================================================
# 32-bit Thumb (A6.3).

# A6.3.5 Load/store multiple: 1110 100x x0xx
_T32_LDM_STM = table(
    e(0xFE4F0000, 0xE80F0000, Reject("ldm-stm", "LDM/STM with Rn=PC is UNPREDICTABLE and "
                                     "rejected.")),
    any_of(((0xFFD00000, 0xE8000000), (0xFFD00000, 0xE9800000)),
           Reject("srs", "SRS (store return state) is an exception-handling instruction; "
                  "kprobes rejects it.")),
    any_of(((0xFFD00000, 0xE8100000), (0xFFD00000, 0xE9900000)),
           Reject("rfe", "RFE (return from exception) is an exception return; kprobes "
                  "rejects it.")),
    e(0xFE508000, 0xE8008000, Reject("ldm-stm", "STM with PC in the register list is "
                                     "UNPREDICTABLE in Thumb and rejected.")),
    e(0xFE50C000, 0xE810C000, Reject("ldm-stm", "LDM with both LR and PC in the register "
                                     "list is UNPREDICTABLE and rejected.")),
    e(0xFE402000, 0xE8002000, Reject("ldm-stm", "LDM/STM with SP in the register list is "
                                     "UNPREDICTABLE in Thumb and rejected.")),
    e(0xFE400000, 0xE8000000, Accept("ldm-stm", "LDM/STM (32-bit)",
                                     (base("rn", 16, ANY, _t32_w),), stack=_t32_stack,
                                     implicit=_t32_ldm_stm)),
)

# A6.3.6 Load/store dual, load/store exclusive, table branch: 1110 100x x1xx
_T32_DUAL_EXCLUSIVE = table(
    any_of(((0xFF700000, 0xE8600000), (0xFF500000, 0xE9400000)),
           Accept("load-store", "STRD (immediate)",
                  (base("rn", 16, NOPCWB), src("rt", 12, NOSPPC), src("rt2", 8, NOSPPC)),
                  stack=_t32_stack)),
    any_of(((0xFF700000, 0xE8700000), (0xFF500000, 0xE9500000)),
           Accept("load-store", "LDRD (immediate)",
                  (base("rn", 16, NOPCWB), dst("rt", 12, NOSPPC), dst("rt2", 8, NOSPPC)),
                  stack=_t32_stack, implicit=_literal_if_pc)),
    e(0xFFF000E0, 0xE8D00000, Accept("table-branch", "TBB/TBH",
                                     (src("rn", 16, NOSP), src("rm", 0, NOSPPC)),
                                     implicit=_jump)),
    any_of(((0xFFE00000, 0xE8400000), (0xFFE000C0, 0xE8C00040)), _EXCLUSIVE),
)

_RN_RD_RM = (src("rn", 16, NOSPPC), dst("rd", 8, NOSPPC), src("rm", 0, NOSPPC))

# A6.3.11 Data-processing (shifted register): 1110 101x
_T32_DP_SHIFTED = table(
    e(0xFF700F00, 0xEA100F00, Accept("data-processing", "TST/TEQ (register)",
                                     (src("rn", 16, NOSPPC), src("rm", 0, NOSPPC)))),
    any_of(((0xFFF00F00, 0xEB100F00), (0xFFF00F00, 0xEBB00F00)),
           Accept("data-processing", "CMN/CMP (register)",
                  (src("rn", 16, NOPC), src("rm", 0, NOSPPC)))),
    e(0xFFCF0000, 0xEA4F0000, Accept("data-processing", "MOV/MVN (register)",
                                     (dst("rd", 8, NOSPPC), src("rm", 0, NOSPPC)))),
    e(0xFFA00000, 0xEAA00000, _UNALLOCATED),
    e(0xFFE00000, 0xEB200000, _UNALLOCATED),
    e(0xFFE00000, 0xEB800000, _UNALLOCATED),
    e(0xFFE00000, 0xEBE00000, _UNALLOCATED),
    e(0xFF4F7F30, 0xEB0D0D00, Accept("data-processing", "ADD/SUB SP, SP, Rm",
                                     (src("rn", 16, ONLY_SP), dst("rd", 8, ONLY_SP),
                                      src("rm", 0, NOSPPC)))),
    e(0xFF4F0F00, 0xEB0D0D00, Reject("data-processing", "ADD/SUB SP, SP, Rm with a shift "
                                     "other than LSL #0-3 is rejected.")),
    e(0xFF4F0000, 0xEB0D0000, Accept("data-processing", "ADD/SUB Rd, SP, Rm",
                                     (src("rn", 16, ONLY_SP), dst("rd", 8, NOPC),
                                      src("rm", 0, NOSPPC)))),
    e(0xFE000000, 0xEA000000, Accept("data-processing", "Data-processing (shifted "
                                     "register)", _RN_RD_RM, implicit=_pkh)),
)

# A6.3.1 Data-processing (modified immediate): 1111 0x0x .... 0...
_T32_DP_MODIFIED_IMM = table(
    e(0xFB708F00, 0xF0100F00, Accept("data-processing", "TST/TEQ (immediate)",
                                     (src("rn", 16, NOSPPC),))),
    any_of(((0xFBF08F00, 0xF1100F00), (0xFBF08F00, 0xF1B00F00)),
           Accept("data-processing", "CMN/CMP (immediate)", (src("rn", 16, NOPC),))),
    e(0xFBCF8000, 0xF04F0000, Accept("data-processing", "MOV/MVN (immediate)",
                                     (dst("rd", 8, NOSPPC),))),
    e(0xFBE08000, 0xF0A00000, _UNALLOCATED),
    e(0xFBC08000, 0xF0C00000, _UNALLOCATED),
    e(0xFBE08000, 0xF1200000, _UNALLOCATED),
    e(0xFBE08000, 0xF1800000, _UNALLOCATED),
    e(0xFBE08000, 0xF1E00000, _UNALLOCATED),
    e(0xFB4F8000, 0xF10D0000, Accept("data-processing", "ADD/SUB Rd, SP, #imm",
                                     (src("rn", 16, ONLY_SP), dst("rd", 8, NOPC)))),
    e(0xFA008000, 0xF0000000, Accept("data-processing", "Data-processing (modified "
                                     "immediate)", (src("rn", 16, NOSPPC),
                                                    dst("rd", 8, NOSPPC)))),
)

# A6.3.3 Data-processing (plain binary immediate): 1111 0x1x .... 0...
_T32_DP_PLAIN_IMM = table(
    any_of(((0xFBFF8000, 0xF20F0000), (0xFBFF8000, 0xF2AF0000)),
           Accept("adr", "ADR (ADDW/SUBW Rd, PC, #imm)",
                  (src("rn", 16, ONLY_PC), dst("rd", 8, NOSPPC)))),
    any_of(((0xFBFF8F00, 0xF20D0D00), (0xFBFF8F00, 0xF2AD0D00)),
           Accept("data-processing", "ADDW/SUBW SP, SP, #imm",
                  (src("rn", 16, ONLY_SP), dst("rd", 8, ONLY_SP)))),
    any_of(((0xFBF08000, 0xF2000000), (0xFBF08000, 0xF2A00000)),
           Accept("data-processing", "ADDW/SUBW", (src("rn", 16, NOPC),
                                                  dst("rd", 8, NOSPPC)))),
    e(0xFBF08000, 0xF2400000, Accept("data-processing", "MOVW", (dst("rd", 8, NOSPPC),))),
    e(0xFBF08000, 0xF2C00000, Accept("data-processing", "MOVT",
                                     (srcdst("rd", 8, NOSPPC),))),
    e(0xFB508000, 0xF3000000, Accept("media", "SSAT/USAT",
                                     (src("rn", 16, NOSPPC), dst("rd", 8, NOSPPC)))),
    e(0xFB708000, 0xF3400000, Accept("media", "SBFX/UBFX",
                                     (src("rn", 16, NOSPPC), dst("rd", 8, NOSPPC)))),
    e(0xFBFF8000, 0xF36F0000, Accept("media", "BFC", (srcdst("rd", 8, NOSPPC),))),
    e(0xFBF08000, 0xF3600000, Accept("media", "BFI",
                                     (src("rn", 16, NOSPPC), srcdst("rd", 8, NOSPPC)))),
)

# A6.3.4 Branches and miscellaneous control: 1111 0xxx .... 1...
_T32_BRANCH_MISC = table(
    any_of(((0xFFF0D7FF, 0xF3A08001), (0xFFF0D7FF, 0xF3A08004)),
           Accept("hint", "YIELD/SEV (32-bit)")),
    e(0xFFF0D7FC, 0xF3A08000, Accept("hint", "NOP/WFE/WFI (32-bit)")),
    e(0xFFF0D000, 0xF3E08000, Accept("mrs", "MRS (CPSR)", (dst("rd", 8, NOSPPC),))),
    # 1111 0x11 1xxx xxxx 10x0: everything else here is rejected.
    e(0xFFE0D000, 0xF3808000, Reject("msr", "MSR writes the CPSR/SPSR; kprobes cannot "
                                     "simulate a PSR write.")),
    e(0xFFF0D700, 0xF3A08000, _HINT_REJECT),
    e(0xFFF0D000, 0xF3A08000, Reject("cps", "CPS changes the processor mode and interrupt "
                                     "masks; kprobes rejects it.")),
    e(0xFFF0D0F0, 0xF3B08020, Reject("exclusive", "CLREX (clear exclusive monitor) is "
                                     "rejected along with the LDREX/STREX family.")),
    e(0xFFF0D000, 0xF3B08000, Reject("barrier", "DSB/DMB/ISB barriers are rejected by "
                                     "kprobes.")),
    e(0xFFF0D000, 0xF3C08000, Reject("bxj", "BXJ (branch to Jazelle) is not supported by "
                                     "kprobes.")),
    e(0xFFF0D000, 0xF3D08000, Reject("exception-return", "SUBS PC, LR, #imm is an "
                                     "exception return; kprobes rejects it.")),
    e(0xFFF0D000, 0xF3F08000, Reject("mrs", "MRS from the SPSR reads a banked saved PSR "
                                     "that kprobes does not simulate.")),
    e(0xFFF0F000, 0xF7F08000, Reject("smc", "SMC (secure monitor call) cannot be "
                                     "probed.")),
    e(0xFFF0F000, 0xF7F0A000, Reject("undefined", "Permanently UNDEFINED encoding (UDF.W, "
                                     "the space of the 0xf7f0a018 kprobe breakpoint) "
                                     "cannot be probed.")),
    e(0xFB80D000, 0xF3808000, _UNALLOCATED),
    e(0xF800D000, 0xF0008000, Accept("branch", "B<c> (32-bit)", implicit=_t32_bcc)),
    any_of(((0xF800D001, 0xF000C000), (0xF8009000, 0xF0009000)),
           Accept("branch", "B/BL/BLX (32-bit)", implicit=_t32_branch)),
)

# A6.3.8 Memory hints: 1111 100x x0x1 .... 1111
_T32_MEMORY_HINTS = table(
    e(0xFE7FF000, 0xF81FF000, Accept("preload", "PLD/PLI (literal)", (src("rn", 16),),
                                     implicit=_reads_pc)),
    any_of(((0xFFD0F000, 0xF890F000), (0xFFD0FF00, 0xF810FC00),
            (0xFFF0F000, 0xF990F000), (0xFFF0FF00, 0xF910FC00)),
           Accept("preload", "PLD/PLDW/PLI (immediate)", (src("rn", 16, NOPC),))),
    any_of(((0xFFD0FFC0, 0xF810F000), (0xFFF0FFC0, 0xF910F000)),
           Accept("preload", "PLD/PLDW/PLI (register)",
                  (src("rn", 16, NOPC), src("rm", 0, NOSPPC)))),
    e(0x00000000, 0x00000000, Reject("unallocated", "Unallocated memory hint (a byte or "
                                     "halfword load to PC) is rejected.")),
)

_T32_STORE_IMM = ((0xFED00800, 0xF8000800), (0xFED00000, 0xF8800000))
_T32_LOAD_IMM = ((0xFED00800, 0xF8100800), (0xFED00000, 0xF8900000))

# A6.3.7 Load word, A6.3.9 load byte/halfword, A6.3.10 store single data item
_T32_LOAD_STORE = table(
    e(0xFE600000, 0xF8600000, _UNALLOCATED),
    e(0xFFF00000, 0xF9500000, _UNALLOCATED),
    e(0xFE800D00, 0xF8000800, _UNALLOCATED),
    e(0xFE800F00, 0xF8000E00, Reject("unprivileged", "LDRT/STRT/LDRBT/STRBT/LDRHT/STRHT/"
                                     "LDRSBT/LDRSHT (unprivileged access) are rejected: "
                                     "kprobes does not emulate user-mode accesses.")),
    e(0xFF1F0000, 0xF80F0000, Reject("load-store", "STR/STRB/STRH with Rn=PC is "
                                     "UNPREDICTABLE and rejected.")),
    e(0xFF10F000, 0xF800F000, Reject("load-store", "STR/STRB/STRH with Rt=PC is "
                                     "UNPREDICTABLE and rejected.")),
    e(0xFF7F0000, 0xF85F0000, Accept("literal-load", "LDR (literal)",
                                     (src("rn", 16, ONLY_PC), dst("rt", 12)))),
    any_of(((0xFFF00800, 0xF8400800), (0xFFF00000, 0xF8C00000)),
           Accept("load-store", "STR (immediate)",
                  (base("rn", 16, NOPC, _t32_imm8_writeback), src("rt", 12)),
                  stack=_t32_stack)),
    any_of(((0xFFF00800, 0xF8500800), (0xFFF00000, 0xF8D00000)),
           Accept("load-store", "LDR (immediate)",
                  (base("rn", 16, NOPC, _t32_imm8_writeback), dst("rt", 12)),
                  stack=_t32_stack)),
    e(0xFFF00FC0, 0xF8400000, Accept("load-store", "STR (register)",
                                     (src("rn", 16, NOPC), src("rt", 12),
                                      src("rm", 0, NOSPPC)), stack=_t32_stack)),
    e(0xFFF00FC0, 0xF8500000, Accept("load-store", "LDR (register)",
                                     (src("rn", 16, NOPC), dst("rt", 12),
                                      src("rm", 0, NOSPPC)), stack=_t32_stack)),
    e(0xFE5F0000, 0xF81F0000, Accept("literal-load", "LDRB/LDRSB/LDRH/LDRSH (literal)",
                                     (src("rn", 16, ONLY_PC), dst("rt", 12, NOSPPC)))),
    any_of(_T32_STORE_IMM, Accept("load-store", "STRB/STRH (immediate)",
                                  (base("rn", 16, NOPC, _t32_imm8_writeback),
                                   src("rt", 12, NOSPPC)), stack=_t32_stack)),
    any_of(_T32_LOAD_IMM, Accept("load-store", "LDRB/LDRSB/LDRH/LDRSH (immediate)",
                                 (base("rn", 16, NOPC, _t32_imm8_writeback),
                                  dst("rt", 12, NOSPPC)), stack=_t32_stack)),
    e(0xFE900FC0, 0xF8000000, Accept("load-store", "STRB/STRH (register)",
                                     (src("rn", 16, NOPC), src("rt", 12, NOSPPC),
                                      src("rm", 0, NOSPPC)), stack=_t32_stack)),
    e(0xFE900FC0, 0xF8100000, Accept("load-store", "LDRB/LDRSB/LDRH/LDRSH (register)",
                                     (src("rn", 16, NOPC), dst("rt", 12, NOSPPC),
                                      src("rm", 0, NOSPPC)), stack=_t32_stack)),
)

# A6.3.12 Data-processing (register): 1111 1010 .... 1111
_T32_DP_REGISTER = table(
    e(0xFFE0F080, 0xFA60F080, _UNALLOCATED),
    e(0xFF8FF080, 0xFA0FF080, Accept("media", "SXTH/UXTH/SXTB16/UXTB16/SXTB/UXTB",
                                     (dst("rd", 8, NOSPPC), src("rm", 0, NOSPPC)))),
    e(0xFF80F0B0, 0xFA80F030, _UNALLOCATED),
    e(0xFFB0F080, 0xFAB0F000, _UNALLOCATED),
    # A6.3.13-14 parallel addition and subtraction, signed and unsigned
    e(0xFF80F080, 0xFA80F000, Accept("media", "Parallel addition/subtraction", _RN_RD_RM)),
    e(0xFF80F080, 0xFA00F080, Accept("media", "SXTA*/UXTA*", _RN_RD_RM)),
    # A6.3.15 Miscellaneous operations
    e(0xFFF0F0C0, 0xFA80F080, Accept("saturating", "QADD/QDADD/QSUB/QDSUB", _RN_RD_RM)),
    e(0xFFF0F0F0, 0xFAA0F080, Accept("media", "SEL", _RN_RD_RM)),
    e(0xFF80F0F0, 0xFA00F000, Accept("data-processing", "LSL/LSR/ASR/ROR (register)",
                                     _RN_RD_RM)),
    any_of(((0xFFF0F0F0, 0xFAB0F080), (0xFFF0F0C0, 0xFA90F080)),
           Accept("media", "CLZ/REV/REV16/RBIT/REVSH (32-bit)",
                  (src("rm", 16, NOSPPC), dst("rd", 8, NOSPPC),
                   src("rm_copy", 0, SAMEAS16)))),
)

# A6.3.16 Multiply, multiply accumulate, and absolute difference: 1111 1011 0xxx
_T32_MULTIPLY = table(
    e(0xFFF0F0F0, 0xFB00F010, _UNALLOCATED),
    e(0xFFF0F0F0, 0xFB70F010, _UNALLOCATED),
    any_of(((0xFFF0F0C0, 0xFB10F000), (0xFF80F0E0, 0xFB00F000)),
           Accept("multiply", "MUL/SMUL*/SMUAD/SMUSD/SMMUL/USAD8", _RN_RD_RM,
                  implicit=_usad8)),
    e(0xFFF000F0, 0xFB700010, _UNALLOCATED),
    any_of(((0xFFF000C0, 0xFB100000), (0xFF8000C0, 0xFB000000)),
           Accept("multiply", "MLA/MLS/SMLA*/SMLAD/SMLSD/SMMLA/SMMLS/USADA8",
                  (src("rn", 16, NOSPPC), src("ra", 12, NOSPPC), dst("rd", 8, NOSPPC),
                   src("rm", 0, NOSPPC)), implicit=_usad8)),
)

# A6.3.17 Long multiply, long multiply accumulate, and divide: 1111 1011 1xxx
_T32_LONG_MULTIPLY = table(
    e(0xFFD000F0, 0xFB800000, Accept("multiply", "SMULL/UMULL",
                                     (src("rn", 16, NOSPPC), dst("rdlo", 12, NOSPPC),
                                      dst("rdhi", 8, NOSPPC), src("rm", 0, NOSPPC)))),
    any_of(((0xFFF000F0, 0xFBE00060), (0xFFF000C0, 0xFBC00080),
            (0xFFE000E0, 0xFBC000C0), (0xFF9000F0, 0xFB800000)),
           Accept("multiply", "SMLAL/UMLAL/UMAAL/SMLAL<x><y>/SMLALD/SMLSLD",
                  (src("rn", 16, NOSPPC), srcdst("rdlo", 12, NOSPPC),
                   srcdst("rdhi", 8, NOSPPC), src("rm", 0, NOSPPC)))),
    e(0xFFD000F0, 0xFB9000F0, Reject("divide", "SDIV/UDIV (integer divide) has no kprobes "
                                     "decode entry and is rejected.")),
)

# A6.3 32-bit Thumb instruction encoding: the top-level table.
T32_TABLE = (
    e(0xFE400000, 0xE8000000, _T32_LDM_STM),
    e(0xFE400000, 0xE8400000, _T32_DUAL_EXCLUSIVE),
    e(0xFE000000, 0xEA000000, _T32_DP_SHIFTED),
    e(0xFC000000, 0xEC000000, _COPROCESSOR),                 # A6.3.18
    e(0xFA008000, 0xF0000000, _T32_DP_MODIFIED_IMM),
    e(0xFA008000, 0xF2000000, _T32_DP_PLAIN_IMM),
    e(0xF8008000, 0xF0008000, _T32_BRANCH_MISC),
    e(0xFF100000, 0xF9000000, Reject("coprocessor", "Advanced SIMD (NEON) element and "
                                     "structure loads/stores are coprocessor-space "
                                     "instructions and are not probeable.")),
    e(0xFE50F000, 0xF810F000, _T32_MEMORY_HINTS),
    e(0xFE000000, 0xF8000000, _T32_LOAD_STORE),
    e(0xFF00F000, 0xFA00F000, _T32_DP_REGISTER),
    e(0xFF800000, 0xFB000000, _T32_MULTIPLY),
    e(0xFF800000, 0xFB800000, _T32_LONG_MULTIPLY),
    e(0xFC000000, 0xFC000000, _COPROCESSOR),                 # A6.3.18
)


def decode_thumb(first: int, second: int | None = None) -> Decision:
    """What arch_prepare_kprobe decides for a Thumb instruction given as halfwords.

    ``second`` is the second halfword of a 32-bit instruction; it is ignored for a
    16-bit one and required for a 32-bit one.
    """
    first &= 0xFFFF
    if not is_wide(first):
        return decide(lookup(T16_TABLE, first), first, size=2, wide=False,
                      condition=COND_AL, unmatched=UNMATCHED)
    if second is None:
        raise ValueError(f"Thumb halfword {first:#06x} starts a 32-bit instruction; "
                         "its second halfword is needed")
    insn = first << 16 | (second & 0xFFFF)
    return decide(lookup(T32_TABLE, insn), insn, size=4, wide=True, condition=COND_AL,
                  unmatched=UNMATCHED)
