"""armdbg.kprobes.decode_arm: what arch_prepare_kprobe decides for ARM instructions.

Every row is assembled with Keystone (``.word`` only where Keystone lacks the
instruction or refuses an UNPREDICTABLE form the kernel must still judge).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from armdbg.isa.asm import assemble
from armdbg.kprobes.decode import ALL_REGISTERS, MAX_STACK_SIZE, Decision, Field, decode
from armdbg.kprobes.decode_arm import decode_arm

ADDRESS = 0x8000


def m(*regs: int) -> int:
    """A register mask: bit n = rn."""
    bits = 0
    for r in regs:
        bits |= 1 << r
    return bits


@dataclass(frozen=True)
class Row:
    asm: str
    accepted: bool
    klass: str
    word: str = ""            # rejections: a word the sentence must contain
    pc: str = ""              # accepted: "r", "w", "rw" (reads_pc / writes_pc)
    sp: str = ""              # accepted: "r", "w", "rw" (reads_sp / writes_sp)
    stack: int | None = 0     # expected stack_space (None: not checked)
    usage: int | None = None  # expected register_usage (None: not checked)
    cond: int = 0xE


def ok(asm: str, klass: str, usage: int | None = None, *, pc: str = "", sp: str = "",
       stack: int = 0, cond: int = 0xE) -> Row:
    return Row(asm, True, klass, "", pc, sp, stack, usage, cond)


def no(asm: str, klass: str, word: str, *, stack: int | None = None,
       cond: int = 0xE) -> Row:
    return Row(asm, False, klass, word, stack=stack, cond=cond)


ROWS = [
    # A5.2.1/A5.2.3 data-processing, immediate and register (shifted by immediate)
    ok("add r0, r1, r2", "data-processing", m(0, 1, 2)),
    ok("adds r0, r1, #1", "data-processing", m(0, 1)),
    ok("sub r3, r4, r5, lsl #2", "data-processing", m(3, 4, 5)),
    ok("rsb r0, r0, #0", "data-processing", m(0)),
    ok("adc r1, r2, r3, ror #7", "data-processing", m(1, 2, 3)),
    ok("sbc r4, r5, #255", "data-processing", m(4, 5)),
    ok("rsc r6, r7, r8, asr #31", "data-processing", m(6, 7, 8)),
    ok("and r0, r1, #0xff", "data-processing", m(0, 1)),
    ok("orr r0, r0, r1, lsl #16", "data-processing", m(0, 1)),
    ok("eor r2, r2, r3", "data-processing", m(2, 3)),
    ok("bic r0, r0, #3", "data-processing", m(0)),
    ok("mvn r0, r1", "data-processing", m(0, 1)),
    ok("mvns r9, #0", "data-processing", m(9)),
    ok("mov r0, #0x12", "data-processing", m(0)),
    ok("mov r0, r1, rrx", "data-processing", m(0, 1)),
    ok("lsl r0, r1, #3", "data-processing", m(0, 1)),
    ok("lsr r0, r1, #1", "data-processing", m(0, 1)),
    ok("asr r2, r3, #4", "data-processing", m(2, 3)),
    ok("ror r4, r5, #8", "data-processing", m(4, 5)),
    ok("cmp r0, #5", "data-processing", m(0)),
    ok("cmn r1, r2", "data-processing", m(1, 2)),
    ok("tst r3, #1", "data-processing", m(3)),
    ok("teq r4, r5, lsl #1", "data-processing", m(4, 5)),
    ok("add r10, r11, r12", "data-processing", m(10, 11, 12)),
    # condition field
    ok("addeq r0, r1, r2", "data-processing", m(0, 1, 2), cond=0x0),
    ok("movne r0, #1", "data-processing", m(0), cond=0x1),
    ok("subhs r0, r0, #1", "data-processing", m(0), cond=0x2),
    ok("addlo r0, r0, #1", "data-processing", m(0), cond=0x3),
    ok("addmi r0, r0, #1", "data-processing", m(0), cond=0x4),
    ok("rsbpl r0, r0, #0", "data-processing", m(0), cond=0x5),
    ok("addvs r1, r1, r1", "data-processing", m(1), cond=0x6),
    ok("addvc r1, r1, r1", "data-processing", m(1), cond=0x7),
    ok("movhi r2, r3", "data-processing", m(2, 3), cond=0x8),
    ok("movls r2, r3", "data-processing", m(2, 3), cond=0x9),
    ok("cmpge r0, r1", "data-processing", m(0, 1), cond=0xA),
    ok("cmplt r0, r1", "data-processing", m(0, 1), cond=0xB),
    ok("addgt r0, r0, r0", "data-processing", m(0), cond=0xC),
    ok("movle r0, r1", "data-processing", m(0, 1), cond=0xD),
    # A5.2.2 register-shifted register: PC is forbidden in every operand
    ok("add r0, r1, r2, lsl r3", "data-processing", m(0, 1, 2, 3)),
    ok("mov r0, r1, lsl r2", "data-processing", m(0, 1, 2)),
    ok("cmp r0, r1, asr r2", "data-processing", m(0, 1, 2)),
    ok("orrs r4, r5, r6, ror r7", "data-processing", m(4, 5, 6, 7)),
    ok("rsbne r0, r1, r2, lsr r3", "data-processing", m(0, 1, 2, 3), cond=0x1),
    no("add r0, r1, r2, lsl pc", "data-processing", "register-shifted"),
    no(".word 0xe08f0312", "data-processing", "register-shifted"),  # add r0, pc, r2, lsl r3
    no(".word 0xe081f312", "data-processing", "PC as Rd"),          # add pc, r1, r2, lsl r3
    no(".word 0xe1a0011f", "data-processing", "PC as Rm"),          # mov r0, pc, lsl r1
    no(".word 0xe11f0110", "data-processing", "PC as Rn"),          # tst pc, r0, lsl r1
    # PC as an operand of the other data-processing forms is emulated
    ok("add r0, pc, #8", "adr", m(0, 15), pc="r"),
    ok("sub r0, pc, #8", "adr", m(0, 15), pc="r"),
    ok("adds r0, pc, #4", "data-processing", m(0, 15), pc="r"),
    ok("add r0, pc, r1", "data-processing", m(0, 1, 15), pc="r"),
    ok("mov r0, pc", "data-processing", m(0, 15), pc="r"),
    ok("mov pc, lr", "data-processing", m(14, 15), pc="w"),
    ok("moveq pc, r3", "data-processing", m(3, 15), pc="w", cond=0x0),
    ok("add pc, pc, r0, lsl #2", "data-processing", m(0, 15), pc="rw"),
    ok("sub pc, r0, #4", "data-processing", m(0, 15), pc="w"),
    ok("cmp r0, pc", "data-processing", m(0, 15), pc="r"),
    # <op>S pc, ...: exception returns
    no("movs pc, lr", "exception-return", "exception return"),
    no("subs pc, lr, #4", "exception-return", "exception return"),
    no("adds pc, r0, r1", "exception-return", "exception return"),
    no("mvns pc, r0", "exception-return", "exception return"),
    no("movseq pc, lr", "exception-return", "exception return", cond=0x0),
    no(".word 0xe010f312", "exception-return", "exception return"),  # ands pc, r0, r2, lsl r3
    # SP arithmetic and mov ip, sp
    ok("mov ip, sp", "data-processing", m(12, 13), sp="r"),
    ok("movne ip, sp", "data-processing", m(12, 13), sp="r", cond=0x1),
    ok("mov sp, ip", "data-processing", m(12, 13), sp="w"),
    ok("add sp, sp, #16", "data-processing", m(13), sp="rw"),
    ok("sub sp, sp, #8", "data-processing", m(13), sp="rw", stack=0),
    ok("sub sp, sp, #256", "data-processing", m(13), sp="rw", stack=0),
    ok("add r0, sp, #4", "data-processing", m(0, 13), sp="r"),
    # A5.2.9 MOVW/MOVT have no register-usage checker
    ok("movw r0, #0x1234", "data-processing", ALL_REGISTERS),
    ok("movt r0, #0xabcd", "data-processing", ALL_REGISTERS),
    no(".word 0xe300f001", "data-processing", "PC as Rd"),  # movw pc, #1
    # A5.2.11 hints, MSR (immediate)
    ok("nop", "hint", 0),
    ok("yield", "hint", 0),
    ok("wfe", "hint", 0),
    ok("wfi", "hint", 0),
    ok("sev", "hint", 0),
    ok("nopeq", "hint", 0, cond=0x0),
    no("dbg #5", "hint", "DBG"),
    no(".word 0xe320f005", "hint", "hint"),  # SEVL: unallocated on ARMv7
    no("msr cpsr_f, #0xf0000000", "msr", "MSR"),
    # A5.2.12 miscellaneous
    no("msr cpsr_c, r0", "msr", "MSR"),
    no("msr spsr_fsxc, r0", "msr", "MSR"),
    ok("mrs r0, apsr", "mrs", m(0)),
    ok("mrsne r5, cpsr", "mrs", m(5), cond=0x1),
    no("mrs r0, spsr", "mrs", "SPSR"),
    no(".word 0xe10ff000", "mrs", "PC as Rd"),  # mrs pc, cpsr
    ok("bx lr", "branch-exchange", ALL_REGISTERS, pc="w"),
    ok("bxne r3", "branch-exchange", ALL_REGISTERS, pc="w", cond=0x1),
    ok("bx pc", "branch-exchange", ALL_REGISTERS, pc="rw"),
    ok("blx r3", "branch-exchange", ALL_REGISTERS, pc="w"),
    no("blx pc", "branch-exchange", "BLX"),
    no("bxj r0", "bxj", "BXJ"),
    no("bkpt #1", "bkpt", "BKPT"),
    no(".word 0xe1600070", "smc", "SMC"),                  # smc #0
    no(".word 0xe1400070", "unallocated", "no kprobes"),   # hvc #0
    ok("clz r0, r1", "media", ALL_REGISTERS),
    no(".word 0xe16f0f1f", "media", "PC as Rm"),           # clz r0, pc
    ok("qadd r0, r1, r2", "saturating", m(0, 1, 2)),
    ok("qsub r3, r4, r5", "saturating", m(3, 4, 5)),
    ok("qdadd r0, r1, r2", "saturating", m(0, 1, 2)),
    ok("qdsub r0, r1, r2", "saturating", m(0, 1, 2)),
    no(".word 0xe102f051", "saturating", "PC as Rd"),      # qadd pc, r1, r2
    # A5.2.5/A5.2.7 multiplies
    ok("mul r0, r1, r2", "multiply", m(0, 1, 2)),
    ok("muls r3, r4, r5", "multiply", m(3, 4, 5)),
    ok("mla r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("mls r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("umull r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("smull r4, r5, r6, r7", "multiply", m(4, 5, 6, 7)),
    ok("umlal r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("smlal r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("umaal r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("smulbb r0, r1, r2", "multiply", m(0, 1, 2)),
    ok("smultt r0, r1, r2", "multiply", m(0, 1, 2)),
    ok("smulwb r0, r1, r2", "multiply", m(0, 1, 2)),
    ok("smlabb r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("smlawt r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("smlalbt r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("smuad r0, r1, r2", "multiply", m(0, 1, 2)),
    ok("smusdx r0, r1, r2", "multiply", m(0, 1, 2)),
    ok("smlad r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("smlsld r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("smmul r0, r1, r2", "multiply", m(0, 1, 2)),
    ok("smmla r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("smmls r0, r1, r2, r3", "multiply", m(0, 1, 2, 3)),
    ok("usad8 r0, r1, r2", "media", m(0, 1, 2)),
    ok("usada8 r0, r1, r2, r3", "media", m(0, 1, 2, 3)),
    ok("mulgt r8, r9, r10", "multiply", m(8, 9, 10), cond=0xC),
    no(".word 0xe00f0291", "multiply", "PC as Rd"),        # mul pc, r1, r2
    no(".word 0xe0500090", "unallocated", "no kprobes"),   # unallocated multiply op
    no(".word 0xe710f211", "divide", "SDIV"),              # sdiv r0, r1, r2
    no(".word 0xe730f211", "divide", "UDIV"),              # udiv r0, r1, r2
    # A5.2.10 synchronization primitives
    no("swp r0, r1, [r2]", "swp", "SWP"),
    no("swpb r0, r1, [r2]", "swp", "SWP"),
    no("ldrex r0, [r1]", "exclusive", "LDREX"),
    no("strex r0, r1, [r2]", "exclusive", "STREX"),
    no("ldrexb r0, [r1]", "exclusive", "exclusive"),
    no("strexh r0, r1, [r2]", "exclusive", "exclusive"),
    no("ldrexd r0, r1, [r2]", "exclusive", "exclusive"),
    no("strexd r0, r2, r3, [r1]", "exclusive", "exclusive"),
    no("clrex", "exclusive", "CLREX"),
    # A5.2.8 extra load/store
    ok("ldrh r0, [r1, #2]", "load-store", m(0, 1)),
    ok("ldrsh r0, [r1, r2]", "load-store", m(0, 1, 2)),
    ok("ldrsb r0, [r1], #1", "load-store", m(0, 1)),
    ok("strh r0, [r1, #-2]!", "load-store", m(0, 1)),
    ok("strh r0, [r1], r2", "load-store", m(0, 1, 2)),
    ok("ldrh r0, [pc, #4]", "literal-load", m(0, 15), pc="r"),
    ok("ldrd r0, r1, [r2]", "load-store", m(0, 1, 2)),
    ok("ldrd r2, r3, [r0, r1]", "load-store", m(0, 1, 2, 3)),
    ok("strd r4, r5, [r6, #8]!", "load-store", m(4, 5, 6)),
    ok("ldrd r0, r1, [pc, #8]", "literal-load", m(0, 1, 15), pc="r"),
    ok("strd r0, r1, [sp, #-8]!", "load-store", m(0, 1, 13), sp="rw", stack=8),
    ok("strd r0, r1, [sp, #-16]", "load-store", m(0, 1, 13), sp="r", stack=16),
    ok("strd r0, r1, [sp, #8]", "load-store", m(0, 1, 13), sp="r", stack=0),
    ok("strd r0, r1, [sp], #-8", "load-store", m(0, 1, 13), sp="rw", stack=0),
    ok("strh r3, [r13, #-64]!", "load-store", m(3, 13), sp="rw", stack=64),
    no("strh r3, [r13, #-72]!", "load-store", "64", stack=72),
    no("strd r0, r1, [sp, r2]", "load-store", "cannot be determined", stack=-1),
    no("strh r0, [sp, r1]", "load-store", "cannot be determined", stack=-1),
    no(".word 0xe18100bd", "load-store", "cannot be determined", stack=-1),  # strh r0, [r1, sp]
    ok("ldrh r0, [sp, r1]", "load-store", m(0, 1, 13), sp="r", stack=0),
    no(".word 0xe1c0e0d0", "load-store", "LDRD/STRD"),     # ldrd lr, pc, [r0]
    no(".word 0xe1c0e0f0", "load-store", "LDRD/STRD"),     # strd lr, pc, [r0]
    no(".word 0xe1ff00b4", "load-store", "writeback to PC"),  # ldrh r0, [pc, #4]!
    no(".word 0xe19100bf", "load-store", "offset register"),  # ldrh r0, [r1, pc]
    no(".word 0xe1d1f0b0", "load-store", "PC as Rt"),      # ldrh pc, [r1]
    no("ldrht r0, [r1], #2", "unprivileged", "LDRHT"),
    no("strht r0, [r1], #2", "unprivileged", "STRHT"),
    no(".word 0xe0f100d1", "unprivileged", "LDRSBT"),      # ldrsbt r0, [r1], #1
    no(".word 0xe0f100f2", "unprivileged", "LDRSHT"),      # ldrsht r0, [r1], #2
    no(".word 0xe0a100d0", "unallocated", "LDRD/STRD"),    # LDRD P=0 W=1
    # A5.3 load/store word and unsigned byte
    ok("ldr r0, [r1]", "load-store", m(0, 1)),
    ok("ldr r0, [r1, #4]!", "load-store", m(0, 1)),
    ok("ldr r0, [r1], #-4", "load-store", m(0, 1)),
    ok("ldr r0, [r1, r2, lsl #2]", "load-store", m(0, 1, 2)),
    ok("ldrb r0, [r1, -r2]", "load-store", m(0, 1, 2)),
    ok("str r0, [r1, #4]", "load-store", m(0, 1)),
    ok("strb r0, [r1], #1", "load-store", m(0, 1)),
    ok("str r0, [r1, r2]!", "load-store", m(0, 1, 2)),
    ok("ldr r0, [pc, #8]", "literal-load", m(0, 15), pc="r"),
    ok("ldr r0, [pc, #-8]", "literal-load", m(0, 15), pc="r"),
    ok("ldrb r3, [pc, #1]", "literal-load", m(3, 15), pc="r"),
    ok("ldr pc, [sp], #4", "load-store", m(13, 15), pc="w", sp="rw"),
    ok("ldr pc, [r0, r1, lsl #2]", "load-store", m(0, 1, 15), pc="w"),
    ok("ldreq r0, [r1]", "load-store", m(0, 1), cond=0x0),
    ok("str pc, [r0]", "load-store", m(0, 15), pc="r"),
    ok(".word 0xe58f0004", "load-store", m(0, 15), pc="r"),  # str r0, [pc, #4]
    ok("str r0, [sp, #-4]!", "load-store", m(0, 13), sp="rw", stack=4),
    ok("str lr, [sp, #-4]!", "load-store", m(13, 14), sp="rw", stack=4),
    ok("str r0, [sp, #-64]", "load-store", m(0, 13), sp="r", stack=64),
    no("str r0, [sp, #-68]", "load-store", "MAX_STACK_SIZE", stack=68),
    ok("str r0, [sp, #4]", "load-store", m(0, 13), sp="r", stack=0),
    ok("str r0, [sp], #-4", "load-store", m(0, 13), sp="rw", stack=0),
    ok("strb r0, [sp, #-1]!", "load-store", m(0, 13), sp="rw", stack=1),
    no("str r0, [sp, r1]", "load-store", "cannot be determined", stack=-1),
    no(".word 0xe781000d", "load-store", "cannot be determined", stack=-1),  # str r0, [r1, sp]
    ok("ldr r0, [sp, r1]", "load-store", m(0, 1, 13), sp="r", stack=0),
    no(".word 0xe5d0f000", "load-store", "LDRB/STRB"),      # ldrb pc, [r0]
    no(".word 0xe5c0f000", "load-store", "LDRB/STRB"),      # strb pc, [r0]
    no("ldr r0, [pc, #4]!", "load-store", "writeback to PC"),
    no(".word 0xe48f0004", "load-store", "writeback to PC"),  # str r0, [pc], #4
    no("ldr r0, [r1, pc]", "load-store", "offset register"),
    no(".word 0xe781000f", "load-store", "offset register"),  # str r0, [r1, pc]
    no("ldrt r0, [r1], #4", "unprivileged", "LDRT"),
    no("strt r0, [r1], #4", "unprivileged", "STRT"),
    no("ldrbt r0, [r1], #1", "unprivileged", "LDRBT"),
    no("strbt r0, [r1], #1", "unprivileged", "STRBT"),
    # A5.5 block data transfer
    ok("push {r4, lr}", "ldm-stm", m(4, 13, 14), sp="rw", stack=8),
    ok("pop {r4, pc}", "ldm-stm", m(4, 13, 15), pc="w", sp="rw"),
    ok("push {r0-r12, lr}", "ldm-stm", m(*range(15)), sp="rw", stack=56),
    ok("stmdb sp!, {r0-r8, lr}", "ldm-stm", m(*range(9), 13, 14), sp="rw", stack=40),
    ok("stmdb sp!, {r0-r12, lr}", "ldm-stm", m(*range(15)), sp="rw", stack=56),
    ok("stmdb sp!, {r3-r11, lr}", "ldm-stm", m(*range(3, 12), 13, 14), sp="rw", stack=40),
    ok("stmdb sp!, {r0, r1}", "ldm-stm", m(0, 1, 13), sp="rw", stack=8),
    ok("stmdb sp, {r0, r1}", "ldm-stm", m(0, 1, 13), sp="r", stack=8),
    ok("stmda sp, {r0, r1}", "ldm-stm", m(0, 1, 13), sp="r", stack=4),
    ok("stmda sp!, {r0-r3}", "ldm-stm", m(0, 1, 2, 3, 13), sp="rw", stack=12),
    ok("stmia sp, {r0, r1}", "ldm-stm", m(0, 1, 13), sp="r", stack=0),
    ok("stmib sp!, {r0, r1}", "ldm-stm", m(0, 1, 13), sp="rw", stack=0),
    ok(".word 0xe92dffff", "ldm-stm", 0xFFFF, pc="r", sp="rw", stack=64),  # stmdb sp!, {r0-pc}
    ok("ldmia r0!, {r1-r3}", "ldm-stm", m(0, 1, 2, 3)),
    ok("ldmdb r0, {r1, r2}", "ldm-stm", m(0, 1, 2)),
    ok("ldmib r0, {r1, r4}", "ldm-stm", m(0, 1, 4)),
    ok("ldmda r0!, {r4-r7}", "ldm-stm", m(0, 4, 5, 6, 7)),
    ok("ldm sp!, {r0-r12, pc}", "ldm-stm", m(*range(14), 15), pc="w", sp="rw"),
    ok("ldmeq r0, {r1, r2}", "ldm-stm", m(0, 1, 2), cond=0x0),
    ok(".word 0xe880ffff", "ldm-stm", 0xFFFF, pc="r", sp="r"),  # stm r0, {r0-pc}
    ok(".word 0xe89f0003", "ldm-stm", m(0, 1, 15), pc="r"),     # ldm pc, {r0, r1}
    no("ldm r0, {r1}^", "ldm-stm", "user"),
    no("stmdb sp, {r0, r1}^", "ldm-stm", "user"),
    no("ldmia sp!, {r0, pc}^", "exception-return", "exception return"),
    # A5.5 branches, A5.7 unconditional space
    ok("b 0x9000", "branch", ALL_REGISTERS, pc="rw"),
    ok("bl 0x9000", "branch", ALL_REGISTERS, pc="rw"),
    ok("beq 0x9000", "branch", ALL_REGISTERS, pc="rw", cond=0x0),
    ok("blne 0x7000", "branch", ALL_REGISTERS, pc="rw", cond=0x1),
    ok("blx 0x9000", "branch", ALL_REGISTERS, pc="rw"),
    ok("blx 0x9002", "branch", ALL_REGISTERS, pc="rw"),
    ok("pld [r0, #4]", "preload", ALL_REGISTERS),
    ok("pld [r0, -r1]", "preload", ALL_REGISTERS),
    ok("pli [r0, r1]", "preload", ALL_REGISTERS),
    ok("pld [pc, #8]", "preload", ALL_REGISTERS, pc="r"),
    ok(".word 0xf590f004", "preload", ALL_REGISTERS),  # pldw [r0, #4]
    no("cpsie i", "cps", "CPS"),
    no("cpsid if", "cps", "CPS"),
    no("setend be", "setend", "SETEND"),
    no("srsdb sp!, #19", "srs", "SRS"),
    no("rfeia r0!", "rfe", "RFE"),
    no("dsb", "barrier", "DSB"),
    no("dmb ish", "barrier", "DMB"),
    no("isb", "barrier", "ISB"),
    no("vadd.i32 d0, d1, d2", "coprocessor", "NEON"),
    no("vld1.32 {d0}, [r0]", "coprocessor", "NEON"),
    no(".word 0xfe010710", "coprocessor", "MCR2"),     # mcr2 p7, 0, r0, c1, c0, 0
    no(".word 0xff000000", "unallocated", "no kprobes"),
    # A5.6 coprocessor instructions, supervisor call
    no("mcr p15, 0, r0, c1, c0, 0", "coprocessor", "coprocessor"),
    no("mrc p15, 0, r0, c1, c0, 0", "coprocessor", "coprocessor"),
    no("cdp p7, 1, c1, c2, c3, 4", "coprocessor", "CDP"),
    no("ldc p5, c1, [r0]", "coprocessor", "LDC"),
    no("stc p5, c1, [r0]", "coprocessor", "STC"),
    no("mcrr p5, 1, r0, r1, c2", "coprocessor", "MCRR"),
    no("mrrc p5, 1, r0, r1, c2", "coprocessor", "MRRC"),
    no("vadd.f32 s0, s1, s2", "coprocessor", "VFP"),
    no("vldr d0, [r0]", "coprocessor", "coprocessor"),
    no("vmov r0, s0", "coprocessor", "coprocessor"),
    no("svc #0", "svc", "SVC"),
    no("svcne #1", "svc", "SVC", cond=0x1),
    # A5.4 permanently UNDEFINED: the kprobe and gdb breakpoints
    no(".word 0x07f001f8", "undefined", "UNDEFINED", cond=0x0),  # kprobe, cond EQ
    no(".word 0xe7f001f8", "undefined", "kprobe"),
    no("udf #16", "undefined", "gdb"),                           # 0xe7f001f0
    no(".word 0xe7ffdefe", "undefined", "UNDEFINED"),
    # A5.4 media
    ok("sxtb r0, r1", "media", m(0, 1)),
    ok("sxth r0, r1, ror #8", "media", m(0, 1)),
    ok("uxtb r0, r1", "media", m(0, 1)),
    ok("uxth r2, r3", "media", m(2, 3)),
    ok("sxtb16 r0, r1", "media", m(0, 1)),
    ok("uxtb16 r0, r1", "media", m(0, 1)),
    ok("sxtab r0, r1, r2", "media", m(0, 1, 2)),
    ok("uxtah r0, r1, r2", "media", m(0, 1, 2)),
    ok("sxtab16 r0, r1, r2", "media", m(0, 1, 2)),
    ok("rev r0, r1", "media", m(0, 1)),
    ok("rev16 r0, r1", "media", m(0, 1)),
    ok("revsh r0, r1", "media", m(0, 1)),
    ok("rbit r0, r1", "media", m(0, 1)),
    ok("sel r0, r1, r2", "media", m(0, 1, 2)),
    ok("ssat r0, #8, r1", "media", m(0, 1)),
    ok("usat r0, #8, r1, lsl #4", "media", m(0, 1)),
    ok("ssat16 r0, #8, r1", "media", m(0, 1)),
    ok("usat16 r0, #8, r1", "media", m(0, 1)),
    ok("pkhbt r0, r1, r2, lsl #16", "media", m(0, 1, 2)),
    ok("pkhtb r0, r1, r2, asr #16", "media", m(0, 1, 2)),
    ok("sadd16 r0, r1, r2", "media", m(0, 1, 2)),
    ok("uqsub8 r0, r1, r2", "media", m(0, 1, 2)),
    ok("shadd8 r0, r1, r2", "media", m(0, 1, 2)),
    ok("qasx r0, r1, r2", "media", m(0, 1, 2)),
    ok("usub8 r0, r1, r2", "media", m(0, 1, 2)),
    ok("bfi r0, r1, #4, #8", "media", m(0, 1)),
    ok("bfc r0, #4, #8", "media", m(0)),
    ok("sbfx r0, r1, #0, #8", "media", m(0, 1)),
    ok("ubfx r0, r1, #4, #8", "media", m(0, 1)),
    no(".word 0xe6aff071", "media", "PC as Rd"),            # sxtb pc, r1
    no(".word 0xe6bf0f3f", "media", "PC as Rm"),            # rev r0, pc
    no(".word 0xe6000010", "unallocated", "media"),
    no(".word 0xe61000b0", "unallocated", "media"),
]

def _decide(asm: str) -> Decision:
    data = assemble(asm, ADDRESS, False)
    assert len(data) == 4, f"{asm!r} assembled to {len(data)} bytes"
    decision = decode(data, False)
    assert decision == decode_arm(int.from_bytes(data, "little"))
    return decision


@pytest.mark.parametrize("row", ROWS, ids=[row.asm for row in ROWS])
def test_decision(row: Row) -> None:
    d = _decide(row.asm)
    assert d.accepted is row.accepted, d.why
    assert d.klass == row.klass
    assert d.size == 4 and not d.wide
    assert d.condition == row.cond
    if row.stack is not None:
        assert d.stack_space == row.stack
    if not row.accepted:
        assert d.error == "EINVAL"
        assert row.word.lower() in d.why.lower(), d.why
        assert d.register_usage == ALL_REGISTERS
        return
    assert d.error is None
    assert (d.reads_pc, d.writes_pc) == ("r" in row.pc, "w" in row.pc)
    assert (d.reads_sp, d.writes_sp) == ("r" in row.sp, "w" in row.sp)
    if row.usage is not None:
        assert d.register_usage == row.usage, hex(d.register_usage)


def test_table_is_big_enough() -> None:
    assert len(ROWS) >= 200
    assert sum(row.accepted for row in ROWS) >= 120


REJECTED_CLASSES = {
    "exception-return", "msr", "mrs", "bxj", "bkpt", "smc", "hint", "swp", "exclusive",
    "unprivileged", "load-store", "ldm-stm", "coprocessor", "svc", "cps", "setend",
    "srs", "rfe", "barrier", "undefined", "unallocated", "data-processing", "divide",
    "media", "branch-exchange", "saturating", "multiply",
}


def test_every_rejected_class_is_covered() -> None:
    assert {row.klass for row in ROWS if not row.accepted} == REJECTED_CLASSES


# Classes that are only ever rejected: every sentence must name the class.
CLASS_WORDS = {
    "exception-return": "exception return", "msr": "MSR", "bxj": "BXJ", "bkpt": "BKPT",
    "smc": "SMC", "hint": "hint", "swp": "SWP", "exclusive": "exclusive",
    "unprivileged": "unprivileged", "coprocessor": "coprocessor", "svc": "SVC",
    "cps": "CPS", "setend": "SETEND", "srs": "SRS", "rfe": "RFE", "barrier": "barrier",
    "undefined": "UNDEFINED", "unallocated": "unallocated", "divide": "divide",
}


@pytest.mark.parametrize("klass", sorted(CLASS_WORDS))
def test_rejection_sentences_name_the_class(klass: str) -> None:
    rows = [row for row in ROWS if row.klass == klass and not row.accepted]
    for row in rows:
        assert CLASS_WORDS[klass].lower() in _decide(row.asm).why.lower(), row.asm


# --------------------------------------------------------------------------------------
# Fields and other facts a stepper relies on.

def test_fields_of_a_pre_indexed_load() -> None:
    d = _decide("ldr r0, [r1, #4]!")
    rn, rt = d.field("rn"), d.field("rt")
    assert rn is not None and rt is not None
    assert (rn.shift, rn.width, rn.value, rn.written, rn.read) == (16, 4, 1, True, True)
    assert (rt.shift, rt.value, rt.written, rt.read) == (12, 0, True, False)


def test_fields_of_a_plain_store() -> None:
    d = _decide("str r2, [r3, #8]")
    rn, rt = d.field("rn"), d.field("rt")
    assert rn is not None and rt is not None
    assert (rn.value, rn.written) == (3, False)
    assert (rt.value, rt.written, rt.read) == (2, False, True)


def test_fields_of_a_register_shifted_register_add() -> None:
    d = _decide("add r0, r1, r2, lsl r3")
    assert [(f.role, f.shift, f.value, f.written) for f in d.fields] == [
        ("rn", 16, 1, False), ("rd", 12, 0, True), ("rs", 8, 3, False), ("rm", 0, 2, False)]


def test_fields_of_a_long_multiply() -> None:
    d = _decide("umlal r4, r5, r6, r7")
    assert [(f.role, f.shift, f.value, f.written, f.read) for f in d.fields] == [
        ("rdhi", 16, 5, True, True), ("rdlo", 12, 4, True, True),
        ("rm", 8, 7, False, True), ("rn", 0, 6, False, True)]


def test_ldm_register_list_and_writeback() -> None:
    d = _decide("ldmia r0!, {r1-r3, pc}")
    assert d.register_list == 0x800E
    rn = d.field("rn")
    assert rn is not None and rn.written and rn.value == 0
    assert _decide("ldmia r0, {r1-r3}").field("rn") == Field("rn", 16, 4, 0, False, True)


def test_stm_register_list() -> None:
    assert _decide("push {r4-r6, lr}").register_list == 0x4070
    assert _decide("add r0, r1, r2").register_list is None


def test_unconditional_space_reports_al() -> None:
    assert _decide("blx 0x9000").condition == 0xE
    assert _decide("pld [r0]").condition == 0xE


def test_accepted_sentence_names_the_instruction() -> None:
    assert "LDRD" in _decide("ldrd r0, r1, [r2]").why


# --------------------------------------------------------------------------------------
# Invariants over arbitrary words.

def test_random_words_give_consistent_decisions() -> None:
    rng = random.Random(1234)
    for _ in range(20000):
        word = rng.getrandbits(32)
        d = decode_arm(word)
        assert d.size == 4 and not d.wide
        assert d.condition == (0xE if word >> 28 == 0xF else word >> 28)
        if d.accepted:
            assert d.error is None
            assert 0 <= d.stack_space <= MAX_STACK_SIZE
            for f in d.fields:
                assert f.value == (word >> f.shift) & 0xF
        else:
            assert d.error == "EINVAL"
            assert d.register_usage == ALL_REGISTERS
            assert d.why.endswith(".")


def test_condition_does_not_change_the_verdict() -> None:
    rng = random.Random(99)
    for _ in range(5000):
        word = rng.getrandbits(28)
        verdicts = {decode_arm(cond << 28 | word).accepted for cond in range(15)}
        assert len(verdicts) == 1, hex(word)


def test_short_input_is_an_error() -> None:
    with pytest.raises(ValueError):
        decode(b"\x00\x00", False)
