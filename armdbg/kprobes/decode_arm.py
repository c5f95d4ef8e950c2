"""The ARM (A32) kprobes decode table, mirroring the decisions of decode-arm.c.

Section numbers refer to the ARMv7-A/R Architecture Reference Manual (DDI 0406C),
chapter A5 "ARM Instruction Set Encoding".  Register fields: Rn = bits 19-16,
Rd/Rt = 15-12, Rs = 11-8, Rm = 3-0, except the multiplies (Rd/RdHi = 19-16,
Ra/RdLo = 15-12, Rm = 11-8, Rn = 3-0).
"""

from __future__ import annotations

from armdbg.kprobes.decode import (
    ANY,
    LR,
    NO_IMPLICIT,
    NOPC,
    NOPCWB,
    PC,
    USAGE_FIELDS,
    USAGE_LDMSTM,
    USAGE_LDRDSTRD,
    USAGE_NONE,
    Accept,
    Decision,
    Implicit,
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
    stack_imm12,
    stack_stmdx,
    stack_unknown,
    table,
)

UNMATCHED = ("No kprobes decode-table entry matches this ARM encoding "
             "(unallocated or unsupported instruction).")


# --------------------------------------------------------------------------------------
# Checkers (checkers-arm.c).

def _stack_imm4x2(insn: int) -> int:
    """imm4H:imm4L of the extra load/store immediate forms."""
    return ((insn >> 4) & 0xF0) | (insn & 0xF)


_STACK_RULES: tuple[StackRule, ...] = (
    (0x0E10000F, 0x0600000D, stack_unknown),  # STR{B} (register), Rm = SP
    (0x0E1F0000, 0x060D0000, stack_unknown),  # STR{B} (register), Rn = SP
    (0x0E5000BF, 0x000000BD, stack_unknown),  # STR{D,H} (register), Rm = SP
    (0x0E5F00B0, 0x000D00B0, stack_unknown),  # STR{D,H} (register), Rn = SP
    (0x0EDF0000, 0x080D0000, stack_stmdx),    # STMDA/STMDB SP
    (0x0F9F0000, 0x050D0000, stack_imm12),    # STR{B} Rt, [SP, #-imm12]{!}
    (0x0FDF00B0, 0x014D00B0, _stack_imm4x2),  # STR{D,H} Rt, [SP, #-imm8]{!}
)


def _stack(insn: int) -> int:
    """arm_check_stack: run for stores, LDRD/STRD and LDM/STM; everything else is 0."""
    return first_stack_rule(_STACK_RULES, insn)


# --------------------------------------------------------------------------------------
# Implicit facts.

def _literal_if_pc(insn: int) -> Implicit:
    return Implicit(klass="literal-load") if (insn >> 16) & 0xF == PC else NO_IMPLICIT


def _ldrd(insn: int) -> Implicit:
    pair = 1 << (((insn >> 12) & 0xF) + 1)
    klass = "literal-load" if (insn >> 16) & 0xF == PC and insn & (1 << 22) else None
    return Implicit(writes=pair, klass=klass)


def _strd(insn: int) -> Implicit:
    return Implicit(reads=1 << (((insn >> 12) & 0xF) + 1))


def _adr(insn: int) -> Implicit:
    """ADD/SUB Rd, PC, #imm without S is the ADR alias (A8.8.12)."""
    return Implicit(klass="adr") if insn & 0x0FFF0000 in (0x028F0000, 0x024F0000) \
        else NO_IMPLICIT


def _writeback_w(insn: int) -> bool:
    return bool(insn & (1 << 21))


def _ldm_stm(insn: int) -> Implicit:
    reglist = insn & 0xFFFF
    if insn & (1 << 20):
        return Implicit(writes=reglist, register_list=reglist)
    return Implicit(reads=reglist, register_list=reglist)


def _branch(insn: int) -> Implicit:
    link = 1 << LR if insn & (1 << 24) else 0
    return Implicit(reads=1 << PC, writes=1 << PC | link)


def _blx_imm(insn: int) -> Implicit:
    return Implicit(reads=1 << PC, writes=1 << PC | 1 << LR)


def _bx(insn: int) -> Implicit:
    link = 1 << LR if insn & (1 << 5) else 0
    return Implicit(writes=1 << PC | link)


# --------------------------------------------------------------------------------------
# Register field sets.

RN, RD, RS, RM = 16, 12, 8, 0

_LOAD_IMM = (base("rn", RN, NOPCWB), dst("rt", RD))
_STORE_IMM = (base("rn", RN, NOPCWB), src("rt", RD))
_LOAD_REG = (*_LOAD_IMM, src("rm", RM, NOPC))
_STORE_REG = (*_STORE_IMM, src("rm", RM, NOPC))

_MUL_RD_RM_RN = (dst("rd", 16, NOPC), src("rm", 8, NOPC), src("rn", 0, NOPC))
_MUL_RD_RA_RM_RN = (dst("rd", 16, NOPC), src("ra", 12, NOPC), src("rm", 8, NOPC),
                    src("rn", 0, NOPC))
_MUL_LONG = (dst("rdhi", 16, NOPC), dst("rdlo", 12, NOPC), src("rm", 8, NOPC),
             src("rn", 0, NOPC))
_MUL_LONG_ACC = (srcdst("rdhi", 16, NOPC), srcdst("rdlo", 12, NOPC), src("rm", 8, NOPC),
                 src("rn", 0, NOPC))
_RN_RD_RM_NOPC = (src("rn", RN, NOPC), dst("rd", RD, NOPC), src("rm", RM, NOPC))
_RD_RM_NOPC = (dst("rd", RD, NOPC), src("rm", RM, NOPC))


# --------------------------------------------------------------------------------------
# Rejection sentences used in several places.

_EXCLUSIVE = Reject("exclusive", "LDREX/STREX (exclusive access) cannot be single-stepped "
                    "out of line: the exclusive monitor would be lost.")
_COPROCESSOR = Reject("coprocessor", "Coprocessor instructions (CDP, LDC/STC, MCR/MRC, "
                      "MCRR/MRRC, VFP and NEON) are not probeable.")
_UNPRIVILEGED = "(unprivileged access) are rejected: kprobes does not emulate user-mode " \
                "accesses."


# A5.7 Unconditional instructions (cond == 0b1111): only preloads and BLX (immediate).
_UNCONDITIONAL = table(
    # PLI/PLD/PLDW (immediate, literal)     1111 010x x101 / x001
    e(0xFE300000, 0xF4100000, Accept("preload", "PLD/PLI (immediate)", (src("rn", RN),))),
    # PLI/PLD/PLDW (register)               1111 011x xx01 ... ...0 ....
    e(0xFE300010, 0xF6100000, Accept("preload", "PLD/PLI (register)",
                                     (src("rn", RN), src("rm", RM)))),
    # BLX (immediate)                       1111 101H
    e(0xFE000000, 0xFA000000, Accept("branch", "BLX (immediate)", implicit=_blx_imm)),
    # The rest is rejected; these entries only name what is being rejected.
    e(0xFFF10020, 0xF1000000, Reject("cps", "CPS changes the processor mode and interrupt "
                                     "masks; kprobes rejects it.")),
    e(0xFFF10000, 0xF1010000, Reject("setend", "SETEND changes the data endianness; "
                                     "kprobes rejects it.")),
    e(0xFE500000, 0xF8400000, Reject("srs", "SRS (store return state) is an exception-"
                                     "handling instruction; kprobes rejects it.")),
    e(0xFE500000, 0xF8100000, Reject("rfe", "RFE (return from exception) is an exception "
                                     "return; kprobes rejects it.")),
    e(0xFFF000F0, 0xF5700010, Reject("exclusive", "CLREX (clear exclusive monitor) is "
                                     "rejected along with the LDREX/STREX family.")),
    e(0xFFF00000, 0xF5700000, Reject("barrier", "DSB/DMB/ISB barriers in the "
                                     "unconditional space are rejected by kprobes.")),
    any_of(((0xFE000000, 0xF2000000), (0xFF100000, 0xF4000000)),
           Reject("coprocessor", "Advanced SIMD (NEON) instructions are coprocessor-space "
                  "instructions and are not probeable.")),
    any_of(((0xFE000000, 0xFC000000), (0xFF000000, 0xFE000000)),
           Reject("coprocessor", "Coprocessor instructions (CDP2, LDC2/STC2, MCR2/MRC2, "
                  "MCRR2/MRRC2) are not probeable.")),
)

# A5.2.12 Miscellaneous instructions: cccc 0001 0xx0 .... .... .... 0xxx ....
_MISC = table(
    e(0x0FF000F0, 0x01000000, Accept("mrs", "MRS (CPSR)", (dst("rd", RD, NOPC),),
                                     USAGE_FIELDS)),
    e(0x0FF000F0, 0x01200010, Accept("branch-exchange", "BX", (src("rm", RM),),
                                     implicit=_bx)),
    e(0x0FF000F0, 0x01200030, Accept("branch-exchange", "BLX (register)",
                                     (src("rm", RM, NOPC),), implicit=_bx)),
    e(0x0FF000F0, 0x01600010, Accept("media", "CLZ", _RD_RM_NOPC)),
    # A5.2.6 Saturating addition and subtraction
    e(0x0F9000F0, 0x01000050, Accept("saturating", "QADD/QSUB/QDADD/QDSUB",
                                     _RN_RD_RM_NOPC, USAGE_FIELDS)),
    e(0x0FF000F0, 0x01200020, Reject("bxj", "BXJ (branch to Jazelle) is not supported by "
                                     "kprobes.")),
    e(0x0FB000F0, 0x01200000, Reject("msr", "MSR (register) writes the CPSR/SPSR; "
                                     "kprobes cannot simulate a PSR write.")),
    e(0x0FF000F0, 0x01400000, Reject("mrs", "MRS from the SPSR reads a banked saved PSR "
                                     "that kprobes does not simulate.")),
    e(0x0FF000F0, 0x01200070, Reject("bkpt", "BKPT is a debug breakpoint and cannot be "
                                     "probed.")),
    e(0x0FF000F0, 0x01600070, Reject("smc", "SMC (secure monitor call) cannot be "
                                     "probed.")),
)

# A5.2.7 Halfword multiply and multiply accumulate: cccc 0001 0xx0 ... 1xx0 ....
_HALFWORD_MULTIPLY = table(
    e(0x0FF00090, 0x01400080, Accept("multiply", "SMLAL<x><y>", _MUL_LONG_ACC,
                                     USAGE_FIELDS)),
    any_of(((0x0FF000B0, 0x012000A0), (0x0FF00090, 0x01600080)),
           Accept("multiply", "SMULW<y>/SMUL<x><y>", _MUL_RD_RM_RN, USAGE_FIELDS)),
    any_of(((0x0FF00090, 0x01000080), (0x0FF000B0, 0x01200080)),
           Accept("multiply", "SMLA<x><y>/SMLAW<y>", _MUL_RD_RA_RM_RN, USAGE_FIELDS)),
)

# A5.2.5 Multiply and multiply accumulate: cccc 0000 xxxx ... 1001 ....
_MULTIPLY = table(
    e(0x0FE000F0, 0x00000090, Accept("multiply", "MUL", _MUL_RD_RM_RN, USAGE_FIELDS)),
    any_of(((0x0FE000F0, 0x00200090), (0x0FF000F0, 0x00600090)),
           Accept("multiply", "MLA/MLS", _MUL_RD_RA_RM_RN, USAGE_FIELDS)),
    e(0x0FA000F0, 0x00800090, Accept("multiply", "UMULL/SMULL", _MUL_LONG, USAGE_FIELDS)),
    any_of(((0x0FF000F0, 0x00400090), (0x0F8000F0, 0x00800090)),
           Accept("multiply", "UMAAL/UMLAL/SMLAL", _MUL_LONG_ACC, USAGE_FIELDS)),
)

# A5.2.10 Synchronization primitives: cccc 0001 xxxx ... 1001 .... (all rejected)
_SYNCHRONIZATION = table(
    e(0x0FB000F0, 0x01000090, Reject("swp", "SWP/SWPB (deprecated atomic swap) is "
                                     "rejected on ARMv6 and later kernels.")),
    e(0x0F8000F0, 0x01800090, _EXCLUSIVE),
)

# A5.2.8 Extra load/store instructions: cccc 000x .... ... 1xx1 .... (op2 != 00)
_EXTRA_LOAD_STORE = table(
    e(0x0F3000D0, 0x002000D0, Reject("unallocated", "LDRD/STRD with P=0 and W=1 is an "
                                     "unallocated extra load/store encoding.")),
    e(0x0F200090, 0x00200090, Reject("unprivileged", f"LDRHT/STRHT/LDRSBT/LDRSHT "
                                     f"{_UNPRIVILEGED}")),
    e(0x0E10E0D0, 0x0000E0D0, Reject("load-store", "LDRD/STRD with Rt=LR (or PC) would "
                                     "transfer PC as the second register and is "
                                     "rejected.")),
    e(0x0E5000F0, 0x000000D0, Accept("load-store", "LDRD (register)",
                                     (*_LOAD_IMM, src("rm", RM, NOPC)), USAGE_LDRDSTRD,
                                     _stack, _ldrd)),
    e(0x0E5000F0, 0x000000F0, Accept("load-store", "STRD (register)",
                                     (*_STORE_IMM, src("rm", RM, NOPC)), USAGE_LDRDSTRD,
                                     _stack, _strd)),
    e(0x0E5000F0, 0x004000D0, Accept("load-store", "LDRD (immediate)", _LOAD_IMM,
                                     USAGE_LDRDSTRD, _stack, _ldrd)),
    e(0x0E5000F0, 0x004000F0, Accept("load-store", "STRD (immediate)", _STORE_IMM,
                                     USAGE_LDRDSTRD, _stack, _strd)),
    e(0x0E5000F0, 0x000000B0, Accept("load-store", "STRH (register)",
                                     (base("rn", RN, NOPCWB), src("rt", RD, NOPC),
                                      src("rm", RM, NOPC)), USAGE_FIELDS, _stack)),
    e(0x0E500090, 0x00100090, Accept("load-store", "LDRH/LDRSB/LDRSH (register)",
                                     (base("rn", RN, NOPCWB), dst("rt", RD, NOPC),
                                      src("rm", RM, NOPC)), USAGE_FIELDS)),
    e(0x0E5000F0, 0x004000B0, Accept("load-store", "STRH (immediate)",
                                     (base("rn", RN, NOPCWB), src("rt", RD, NOPC)),
                                     USAGE_FIELDS, _stack)),
    e(0x0E500090, 0x00500090, Accept("load-store", "LDRH/LDRSB/LDRSH (immediate)",
                                     (base("rn", RN, NOPCWB), dst("rt", RD, NOPC)),
                                     USAGE_FIELDS, implicit=_literal_if_pc)),
)

# A5.2.1 Data-processing (register) and (register-shifted register)
_DATA_PROCESSING_REGISTER = table(
    e(0x0E10F000, 0x0010F000, Reject("exception-return", "Data-processing with S and "
                                     "Rd=PC (<op>S pc, ...) is an exception return; "
                                     "kprobes rejects it.")),
    e(0xFFFFFFFF, 0xE1A0C00D, Accept("data-processing", "MOV IP, SP",
                                     (dst("rd", RD), src("rm", RM)), USAGE_FIELDS)),
    # TST/TEQ/CMP/CMN (register)
    e(0x0F900010, 0x01100000, Accept("data-processing", "Data-processing (register)",
                                     (src("rn", RN), src("rm", RM)), USAGE_FIELDS)),
    # MOV/MVN (register), including the shifts LSL/LSR/ASR/ROR/RRX (immediate)
    e(0x0FA00010, 0x01A00000, Accept("data-processing", "Data-processing (register)",
                                     (dst("rd", RD), src("rm", RM)), USAGE_FIELDS)),
    e(0x0E000010, 0x00000000, Accept("data-processing", "Data-processing (register)",
                                     (src("rn", RN), dst("rd", RD), src("rm", RM)),
                                     USAGE_FIELDS)),
    # A5.2.3 Register-shifted register: PC is forbidden in every operand.
    e(0x0F900090, 0x01100010, Accept("data-processing", "Register-shifted-register "
                                     "data-processing", (src("rn", RN, NOPC),
                                                         src("rs", RS, NOPC),
                                                         src("rm", RM, NOPC)),
                                     USAGE_FIELDS)),
    e(0x0FA00090, 0x01A00010, Accept("data-processing", "Register-shifted-register "
                                     "data-processing", (dst("rd", RD, NOPC),
                                                         src("rs", RS, NOPC),
                                                         src("rm", RM, NOPC)),
                                     USAGE_FIELDS)),
    e(0x0E000090, 0x00000010, Accept("data-processing", "Register-shifted-register "
                                     "data-processing", (src("rn", RN, NOPC),
                                                         dst("rd", RD, NOPC),
                                                         src("rs", RS, NOPC),
                                                         src("rm", RM, NOPC)),
                                     USAGE_FIELDS)),
)

# A5.2.3 Data-processing (immediate), A5.2.9 MOVW/MOVT, A5.2.11 hints and MSR (imm)
_HINT_REJECT = Reject("hint", "DBG and unallocated hints are rejected by kprobes.")
_DATA_PROCESSING_IMMEDIATE = table(
    e(0x0FF00000, 0x03000000, Accept("data-processing", "MOVW", (dst("rd", RD, NOPC),))),
    e(0x0FF00000, 0x03400000, Accept("data-processing", "MOVT",
                                     (srcdst("rd", RD, NOPC),))),
    any_of(((0x0FFF00FF, 0x03200001), (0x0FFF00FF, 0x03200004)),
           Accept("hint", "YIELD/SEV", usage=USAGE_NONE)),
    e(0x0FFF00FC, 0x03200000, Accept("hint", "NOP/WFE/WFI", usage=USAGE_NONE)),
    e(0x0FFF0000, 0x03200000, _HINT_REJECT),
    e(0x0FB00000, 0x03200000, Reject("msr", "MSR (immediate) writes the CPSR/SPSR; "
                                     "kprobes cannot simulate a PSR write.")),
    e(0x0E10F000, 0x0210F000, Reject("exception-return", "Data-processing with S and "
                                     "Rd=PC (<op>S pc, ...) is an exception return; "
                                     "kprobes rejects it.")),
    e(0x0F900000, 0x03100000, Accept("data-processing", "Data-processing (immediate)",
                                     (src("rn", RN),), USAGE_FIELDS)),
    e(0x0FA00000, 0x03A00000, Accept("data-processing", "Data-processing (immediate)",
                                     (dst("rd", RD),), USAGE_FIELDS)),
    e(0x0E000000, 0x02000000, Accept("data-processing", "Data-processing (immediate)",
                                     (src("rn", RN), dst("rd", RD)), USAGE_FIELDS,
                                     implicit=_adr)),
)

# A5.4 Media instructions, cccc 0110 .... ... xxx1 ....: A5.4.1 parallel add/subtract,
# A5.4.3 packing, unpacking, saturation and reversal.
_UNALLOCATED_MEDIA = Reject("unallocated", "Unallocated media encoding; kprobes rejects "
                            "it.")
_MEDIA_0110 = table(
    e(0x0FF000F0, 0x068000B0, Accept("media", "SEL", _RN_RD_RM_NOPC, USAGE_FIELDS)),
    any_of(((0x0FA00030, 0x06A00010), (0x0FB000F0, 0x06A00030)),
           Accept("media", "SSAT/USAT", (dst("rd", RD, NOPC), src("rn", RM, NOPC)),
                  USAGE_FIELDS)),
    e(0x0FB00070, 0x06B00030, Accept("media", "REV/REV16/RBIT/REVSH", _RD_RM_NOPC,
                                     USAGE_FIELDS)),
    e(0x0FB00010, 0x06000010, _UNALLOCATED_MEDIA),
    e(0x0F8000F0, 0x060000B0, _UNALLOCATED_MEDIA),
    e(0x0F8000F0, 0x060000D0, _UNALLOCATED_MEDIA),
    e(0x0F800010, 0x06000010, Accept("media", "Parallel addition/subtraction",
                                     _RN_RD_RM_NOPC, USAGE_FIELDS)),
    e(0x0FF00030, 0x06800010, Accept("media", "PKHBT/PKHTB", _RN_RD_RM_NOPC,
                                     USAGE_FIELDS)),
    e(0x0FB000F0, 0x06900070, _UNALLOCATED_MEDIA),
    e(0x0F8F00F0, 0x068F0070, Accept("media", "SXTB/SXTH/UXTB/UXTH/SXTB16/UXTB16",
                                     _RD_RM_NOPC, USAGE_FIELDS)),
    e(0x0F8000F0, 0x06800070, Accept("media", "SXTA*/UXTA*", _RN_RD_RM_NOPC,
                                     USAGE_FIELDS)),
)

# A5.4 Media instructions, cccc 0111 .... ... xxx1 ....: A5.4.4 signed multiplies,
# USAD8, bit-field operations, permanently UNDEFINED.
_MEDIA_0111 = table(
    e(0x0FF000F0, 0x07F000F0, Reject("undefined", "Permanently UNDEFINED encoding (the "
                                     "space of the kprobe and gdb breakpoints) cannot be "
                                     "probed.")),
    e(0x0FF00090, 0x07400010, Accept("multiply", "SMLALD/SMLSLD", _MUL_LONG_ACC,
                                     USAGE_FIELDS)),
    any_of(((0x0FF0F090, 0x0700F010), (0x0FF0F0D0, 0x0750F010)),
           Accept("multiply", "SMUAD/SMUSD/SMMUL", _MUL_RD_RM_RN, USAGE_FIELDS)),
    e(0x0FF0F0F0, 0x0780F010, Accept("media", "USAD8", _MUL_RD_RM_RN, USAGE_FIELDS)),
    any_of(((0x0FF00090, 0x07000010), (0x0FF000D0, 0x07500010)),
           Accept("multiply", "SMLAD/SMLSD/SMMLA", _MUL_RD_RA_RM_RN, USAGE_FIELDS)),
    e(0x0FF000F0, 0x07800010, Accept("media", "USADA8", _MUL_RD_RA_RM_RN, USAGE_FIELDS)),
    e(0x0FF000D0, 0x075000D0, Accept("multiply", "SMMLS", _MUL_RD_RA_RM_RN,
                                     USAGE_FIELDS)),
    e(0x0FA00070, 0x07A00050, Accept("media", "SBFX/UBFX",
                                     (dst("rd", RD, NOPC), src("rn", RM, NOPC)),
                                     USAGE_FIELDS)),
    e(0x0FE0007F, 0x07C0001F, Accept("media", "BFC", (srcdst("rd", RD, NOPC),),
                                     USAGE_FIELDS)),
    e(0x0FE00070, 0x07C00010, Accept("media", "BFI",
                                     (srcdst("rd", RD, NOPC), src("rn", RM, NOPC)),
                                     USAGE_FIELDS)),
    e(0x0FD0F0F0, 0x0710F010, Reject("divide", "SDIV/UDIV (integer divide) has no "
                                     "kprobes decode entry and is rejected.")),
    e(0x00000000, 0x00000000, _UNALLOCATED_MEDIA),
)

# A5.3 Load/store word and unsigned byte: cccc 01xx (register forms have bit 4 clear)
_LOAD_STORE_WORD_BYTE = table(
    e(0x0C40F000, 0x0440F000, Reject("load-store", "LDRB/STRB with Rt=PC is UNPREDICTABLE "
                                     "and rejected.")),
    e(0x0D200000, 0x04200000, Reject("unprivileged", f"LDRT/STRT/LDRBT/STRBT "
                                     f"{_UNPRIVILEGED}")),
    e(0x0E100000, 0x04000000, Accept("load-store", "STR/STRB (immediate)", _STORE_IMM,
                                     USAGE_FIELDS, _stack)),
    e(0x0E100000, 0x04100000, Accept("load-store", "LDR/LDRB (immediate)", _LOAD_IMM,
                                     USAGE_FIELDS, implicit=_literal_if_pc)),
    e(0x0E100000, 0x06000000, Accept("load-store", "STR/STRB (register)", _STORE_REG,
                                     USAGE_FIELDS, _stack)),
    e(0x0E100000, 0x06100000, Accept("load-store", "LDR/LDRB (register)", _LOAD_REG,
                                     USAGE_FIELDS)),
)



# A5.5 Branch, branch with link, and block data transfer: cccc 100x
_BLOCK_TRANSFER = table(
    e(0x0E400000, 0x08000000, Accept("ldm-stm", "LDM/STM",
                                     (base("rn", RN, ANY, _writeback_w),),
                                     USAGE_LDMSTM, _stack, _ldm_stm)),
    e(0x0E508000, 0x08508000, Reject("exception-return", "LDM with the S bit and PC in "
                                     "the list is an exception return; kprobes rejects "
                                     "it.")),
    e(0x00000000, 0x00000000, Reject("ldm-stm", "LDM/STM (user registers, S bit) "
                                     "transfer the banked user-mode registers and are "
                                     "rejected.")),
)

# A5.1 ARM instruction set encoding: the top-level table.
ARM_TABLE = (
    e(0xF0000000, 0xF0000000, _UNCONDITIONAL),
    e(0x0F900080, 0x01000000, _MISC),
    e(0x0F900090, 0x01000080, _HALFWORD_MULTIPLY),
    e(0x0F0000F0, 0x00000090, _MULTIPLY),
    e(0x0F0000F0, 0x01000090, _SYNCHRONIZATION),
    e(0x0E000090, 0x00000090, _EXTRA_LOAD_STORE),
    e(0x0E000000, 0x00000000, _DATA_PROCESSING_REGISTER),
    e(0x0E000000, 0x02000000, _DATA_PROCESSING_IMMEDIATE),
    e(0x0F000010, 0x06000010, _MEDIA_0110),
    e(0x0F000010, 0x07000010, _MEDIA_0111),
    e(0x0C000000, 0x04000000, _LOAD_STORE_WORD_BYTE),
    e(0x0E000000, 0x08000000, _BLOCK_TRANSFER),
    # A5.5 B, BL
    e(0x0E000000, 0x0A000000, Accept("branch", "B/BL", implicit=_branch)),
    # A5.6 Coprocessor instructions and supervisor call
    e(0x0F000000, 0x0F000000, Reject("svc", "SVC (supervisor call) cannot be probed.")),
    e(0x0C000000, 0x0C000000, _COPROCESSOR),
)


def decode_arm(word: int) -> Decision:
    """What arch_prepare_kprobe decides for the ARM instruction ``word``."""
    word &= 0xFFFFFFFF
    condition = word >> 28
    if condition == 0xF:
        condition = 0xE
    return decide(lookup(ARM_TABLE, word), word, size=4, wide=False, condition=condition,
                  unmatched=UNMATCHED)
