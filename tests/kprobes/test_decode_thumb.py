"""armdbg.kprobes.decode_thumb: what arch_prepare_kprobe decides for Thumb instructions.

Every row is assembled with Keystone (``.hword`` only where Keystone lacks the
instruction or refuses an UNPREDICTABLE form the kernel must still judge).  Thumb
kernels have no register-usage checker, so register_usage is always 0xffffffff.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from armdbg.isa.asm import assemble
from armdbg.kprobes.decode import ALL_REGISTERS, MAX_STACK_SIZE, Decision, Field, decode
from armdbg.kprobes.decode_thumb import decode_thumb, is_wide

ADDRESS = 0x1000


@dataclass(frozen=True)
class Row:
    asm: str
    accepted: bool
    klass: str
    word: str = ""            # rejections: a word the sentence must contain
    pc: str = ""              # accepted: "r", "w", "rw" (reads_pc / writes_pc)
    sp: str = ""              # accepted: "r", "w", "rw" (reads_sp / writes_sp)
    stack: int | None = 0
    cond: int = 0xE
    wide: bool | None = None  # None: not checked


def ok(asm: str, klass: str, *, pc: str = "", sp: str = "", stack: int = 0,
       cond: int = 0xE, wide: bool | None = None) -> Row:
    return Row(asm, True, klass, "", pc, sp, stack, cond, wide)


def no(asm: str, klass: str, word: str, *, stack: int | None = None,
       wide: bool | None = None) -> Row:
    return Row(asm, False, klass, word, stack=stack, wide=wide)


def hw(first: int, second: int) -> str:
    return f".hword {first:#06x}; .hword {second:#06x}"


ROWS = [
    # ---------------------------------------------------------------- 16-bit (A6.2)
    # A6.2.1 shift (immediate), add, subtract, move, compare
    ok("movs r0, #1", "data-processing", wide=False),
    ok("adds r0, r1, r2", "data-processing"),
    ok("subs r0, r1, #3", "data-processing"),
    ok("adds r0, #200", "data-processing"),
    ok("subs r7, #1", "data-processing"),
    ok("lsls r0, r1, #3", "data-processing"),
    ok("lsrs r0, r1, #1", "data-processing"),
    ok("asrs r2, r3, #31", "data-processing"),
    ok("cmp r0, #5", "data-processing"),
    # A6.2.2 data-processing
    ok("ands r0, r1", "data-processing"),
    ok("eors r0, r1", "data-processing"),
    ok("lsls r0, r1", "data-processing"),
    ok("lsrs r0, r1", "data-processing"),
    ok("asrs r0, r1", "data-processing"),
    ok("adcs r0, r1", "data-processing"),
    ok("sbcs r0, r1", "data-processing"),
    ok("rors r0, r1", "data-processing"),
    ok("tst r0, r1", "data-processing"),
    ok("rsbs r0, r1, #0", "data-processing"),
    ok("cmp r0, r1", "data-processing"),
    ok("cmn r0, r1", "data-processing"),
    ok("orrs r0, r1", "data-processing"),
    ok("muls r0, r1, r0", "data-processing"),
    ok("bics r0, r1", "data-processing"),
    ok("mvns r0, r1", "data-processing"),
    # A6.2.3 special data instructions and branch and exchange
    ok("add r0, r8", "data-processing"),
    ok("add sp, r0", "data-processing", sp="rw"),
    ok("add r1, pc", "data-processing", pc="r"),
    ok("add pc, r0", "data-processing", pc="rw"),
    ok("cmp r8, r9", "data-processing"),
    ok("cmp r0, pc", "data-processing", pc="r"),
    ok("mov r8, r0", "data-processing"),
    ok("mov r0, sp", "data-processing", sp="r"),
    ok("mov sp, r0", "data-processing", sp="w"),
    ok("mov pc, lr", "data-processing", pc="w"),
    ok("mov lr, pc", "data-processing", pc="r"),
    no("add pc, pc", "data-processing", "ADD PC, PC"),
    ok("bx lr", "branch-exchange", pc="w"),
    ok("bx r3", "branch-exchange", pc="w"),
    ok("blx r3", "branch-exchange", pc="w"),
    ok("bx pc", "branch-exchange", pc="rw"),
    no("blx pc", "branch-exchange", "BLX PC"),
    # A8.8.64 LDR (literal), A6.2.4 load/store single data item
    ok("ldr r0, [pc, #8]", "literal-load", pc="r", wide=False),
    ok("ldr r7, [pc, #1020]", "literal-load", pc="r"),
    ok("str r0, [r1, r2]", "load-store"),
    ok("strh r0, [r1, r2]", "load-store"),
    ok("strb r0, [r1, r2]", "load-store"),
    ok("ldrsb r0, [r1, r2]", "load-store"),
    ok("ldr r0, [r1, r2]", "load-store"),
    ok("ldrh r0, [r1, r2]", "load-store"),
    ok("ldrb r0, [r1, r2]", "load-store"),
    ok("ldrsh r0, [r1, r2]", "load-store"),
    ok("str r0, [r1, #4]", "load-store"),
    ok("ldr r0, [r1, #124]", "load-store"),
    ok("strb r0, [r1, #31]", "load-store"),
    ok("ldrb r0, [r1]", "load-store"),
    ok("strh r0, [r1, #2]", "load-store"),
    ok("ldrh r0, [r1, #62]", "load-store"),
    ok("str r0, [sp, #4]", "load-store", sp="r", stack=0),
    ok("ldr r0, [sp, #1020]", "load-store", sp="r"),
    # A8.8.12 ADR, A8.8.9 ADD (SP plus immediate)
    ok(".hword 0xa003", "adr", pc="r"),  # adr r0, <pc+12>
    ok("add r0, sp, #8", "data-processing", sp="r"),
    ok("add sp, #8", "data-processing", sp="rw"),
    ok("sub sp, #16", "data-processing", sp="rw"),
    ok("sub sp, sp, #8", "data-processing", sp="rw", stack=0),
    # A6.2.5 miscellaneous 16-bit
    ok("cbz r0, 0x1010", "cbz", pc="rw"),
    ok("cbnz r3, 0x1040", "cbz", pc="rw"),
    ok("sxth r0, r1", "media"),
    ok("sxtb r0, r1", "media"),
    ok("uxth r0, r1", "media"),
    ok("uxtb r0, r1", "media"),
    ok("rev r0, r1", "media"),
    ok("rev16 r0, r1", "media"),
    ok("revsh r0, r1", "media"),
    no(".hword 0xba80", "unallocated", "0xba80"),
    ok(".hword 0xb800", "media"),  # unallocated, but inside the kernel's SXT/REV mask
    ok("push {r0-r7, lr}", "ldm-stm", sp="rw", stack=36),
    ok("push {r4, lr}", "ldm-stm", sp="rw", stack=8),
    ok("push {r0}", "ldm-stm", sp="rw", stack=4),
    ok("pop {r4, pc}", "ldm-stm", pc="w", sp="rw"),
    ok("pop {r0-r7}", "ldm-stm", sp="rw"),
    ok("nop", "hint", wide=False),
    ok("yield", "hint"),
    ok("wfe", "hint"),
    ok("wfi", "hint"),
    ok("sev", "hint"),
    no(".hword 0xbf50", "hint", "hint"),  # SEVL: unassigned on ARMv7
    no(".hword 0xbf60", "hint", "hint"),
    ok("it eq", "it"),
    ok("ite ne", "it"),
    ok("itttt cs", "it"),
    no("setend be", "setend", "SETEND"),
    no("setend le", "setend", "SETEND"),
    no("cpsid i", "cps", "CPS"),
    no("cpsie if", "cps", "CPS"),
    no("bkpt #0", "bkpt", "BKPT"),
    no("bkpt #255", "bkpt", "BKPT"),
    # A8.8.199 STM, A8.8.57 LDM (16-bit)
    ok("stm r0!, {r1, r2}", "ldm-stm"),
    ok("ldm r0!, {r1, r2}", "ldm-stm"),
    ok("ldm r0, {r0, r1}", "ldm-stm"),
    # A6.2.6 conditional branch, supervisor call, permanently UNDEFINED
    no(".hword 0xde18", "undefined", "kprobe"),
    no("udf #1", "undefined", "UNDEFINED"),
    no(".hword 0xdeff", "undefined", "UNDEFINED"),
    no("svc #0", "svc", "SVC"),
    no("svc #255", "svc", "SVC"),
    ok("beq 0x1010", "branch", pc="rw", cond=0x0, wide=False),
    ok("bne 0x1010", "branch", pc="rw", cond=0x1),
    ok("bcs 0x1010", "branch", pc="rw", cond=0x2),
    ok("bcc 0x1010", "branch", pc="rw", cond=0x3),
    ok("bmi 0x1010", "branch", pc="rw", cond=0x4),
    ok("bpl 0x1010", "branch", pc="rw", cond=0x5),
    ok("bvs 0x1010", "branch", pc="rw", cond=0x6),
    ok("bvc 0x1010", "branch", pc="rw", cond=0x7),
    ok("bhi 0x1010", "branch", pc="rw", cond=0x8),
    ok("bls 0x1010", "branch", pc="rw", cond=0x9),
    ok("bge 0x0ff0", "branch", pc="rw", cond=0xA),
    ok("blt 0x0ff0", "branch", pc="rw", cond=0xB),
    ok("bgt 0x0ff0", "branch", pc="rw", cond=0xC),
    ok("ble 0x0ff0", "branch", pc="rw", cond=0xD),
    ok("b 0x1010", "branch", pc="rw", wide=False),
    # ---------------------------------------------------------------- 32-bit (A6.3)
    # A6.3.11 data-processing (shifted register)
    ok("and.w r0, r1, r2", "data-processing", wide=True),
    ok("ands.w r0, r1, r2, lsl #3", "data-processing"),
    ok("orr.w r8, r9, r10", "data-processing"),
    ok("orn r0, r1, r2", "data-processing"),
    ok("eor.w r0, r1, r2, ror #4", "data-processing"),
    ok("bic.w r0, r1, r2", "data-processing"),
    ok("add.w r0, r1, r2", "data-processing"),
    ok("adc.w r0, r1, r2", "data-processing"),
    ok("sbc.w r0, r1, r2", "data-processing"),
    ok("sub.w r0, r1, r2, asr #2", "data-processing"),
    ok("rsb r0, r1, r2", "data-processing"),
    ok(hw(0xEAC1, 0x2002), "media"),                         # pkhbt r0, r1, r2, lsl #8
    ok("tst.w r0, r1", "data-processing"),
    ok("teq.w r0, r1", "data-processing"),
    ok("cmp.w r0, r1", "data-processing"),
    ok("cmn.w r0, r1", "data-processing"),
    ok("cmp.w sp, r1", "data-processing", sp="r"),
    no(hw(0xEA1D, 0x0F01), "data-processing", "SP as Rn"),   # tst.w sp, r1
    ok("mov.w r0, r1", "data-processing"),
    ok("mvn.w r0, r1", "data-processing"),
    ok("lsl.w r0, r1, #3", "data-processing"),
    no("mov.w sp, r0", "data-processing", "SP as Rd"),
    no(hw(0xEA4F, 0x000D), "data-processing", "SP as Rm"),   # mov.w r0, sp
    ok("add.w sp, sp, r0", "data-processing", sp="rw"),
    ok("add.w sp, sp, r0, lsl #2", "data-processing", sp="rw"),
    no(hw(0xEB0D, 0x1D00), "data-processing", "shift"),      # add.w sp, sp, r0, lsl #4
    ok("add.w r0, sp, r2, lsl #2", "data-processing", sp="r"),
    ok("sub.w r0, sp, r1", "data-processing", sp="r"),
    no(hw(0xEB01, 0x0F02), "data-processing", "PC as Rd"),   # add.w pc, r1, r2
    no(hw(0xEB0F, 0x0001), "data-processing", "PC as Rn"),   # add.w r0, pc, r1
    no(hw(0xEB00, 0x0D01), "data-processing", "SP as Rd"),   # add.w sp, r0, r1
    no(hw(0xEAA0, 0x0000), "unallocated", "unallocated"),
    # A6.3.1 data-processing (modified immediate)
    ok("and r0, r1, #0xff", "data-processing"),
    ok("orr r0, r1, #0x100", "data-processing"),
    ok("eor r0, r1, #0xff00ff00", "data-processing"),
    ok("add.w r0, r1, #1", "data-processing"),
    ok("sub.w r0, r1, #0x100", "data-processing"),
    ok("adds.w r0, r1, #1", "data-processing"),
    ok("rsb.w r0, r1, #0", "data-processing"),
    ok("mov.w r0, #0xff000000", "data-processing"),
    ok("mvn r0, #0", "data-processing"),
    ok("tst.w r0, #1", "data-processing"),
    ok("teq r0, #1", "data-processing"),
    ok("cmp.w r0, #0x100", "data-processing"),
    ok("cmp.w sp, #0", "data-processing", sp="r"),
    ok("cmn.w r0, #1", "data-processing"),
    ok("add.w r0, sp, #8", "data-processing", sp="r"),
    ok("sub.w sp, sp, #8", "data-processing", sp="rw", stack=0),
    ok("add.w sp, sp, #0x100", "data-processing", sp="rw"),
    no(hw(0xF04F, 0x0D01), "data-processing", "SP as Rd"),   # mov.w sp, #1
    no(hw(0xF000, 0x0D01), "data-processing", "SP as Rd"),   # and sp, r0, #1
    no(hw(0xF0A0, 0x0000), "unallocated", "unallocated"),
    # A6.3.3 data-processing (plain binary immediate)
    ok("addw r0, r1, #0xfff", "data-processing"),
    ok("subw r0, r1, #1", "data-processing"),
    ok("addw r0, sp, #4", "data-processing", sp="r"),
    ok("subw sp, sp, #8", "data-processing", sp="rw"),
    ok("addw sp, sp, #8", "data-processing", sp="rw"),
    ok("adr.w r0, 0x1010", "adr", pc="r"),
    ok("subw r0, pc, #8", "adr", pc="r"),
    ok("movw r0, #0x1234", "data-processing"),
    ok("movt r0, #0xabcd", "data-processing"),
    no(hw(0xF240, 0x0D01), "data-processing", "SP as Rd"),   # movw sp, #1
    no(hw(0xF201, 0x0D04), "data-processing", "SP as Rd"),   # addw sp, r1, #4
    ok("ssat r0, #8, r1", "media"),
    ok("usat r0, #8, r1", "media"),
    ok("ssat16 r0, #8, r1", "media"),
    ok("sbfx r0, r1, #4, #8", "media"),
    ok("ubfx r0, r1, #4, #8", "media"),
    ok("bfc r0, #4, #8", "media"),
    ok("bfi r0, r1, #4, #8", "media"),
    # A6.3.4 branches and miscellaneous control
    ok("nop.w", "hint", wide=True),
    ok("yield.w", "hint"),
    ok("wfe.w", "hint"),
    ok("wfi.w", "hint"),
    ok("sev.w", "hint"),
    ok("mrs r0, apsr", "mrs"),
    no("mrs r0, spsr", "mrs", "SPSR"),
    no(hw(0xF3EF, 0x8D00), "mrs", "SP as Rd"),               # mrs sp, apsr
    no("msr apsr_nzcvq, r0", "msr", "MSR"),
    no("msr cpsr_fc, r0", "msr", "MSR"),
    no("cpsid.w i", "cps", "CPS"),
    no("dsb", "barrier", "DSB"),
    no("dmb", "barrier", "DMB"),
    no("isb", "barrier", "ISB"),
    no("clrex", "exclusive", "CLREX"),
    no(hw(0xF3C0, 0x8F00), "bxj", "BXJ"),                    # bxj r0
    no("subs pc, lr, #4", "exception-return", "exception return"),
    no(hw(0xF7F0, 0xA018), "undefined", "kprobe"),           # the T32 kprobe breakpoint
    no(hw(0xF7F0, 0x8000), "smc", "SMC"),                    # smc #0
    no("dbg #5", "hint", "DBG"),
    no(hw(0xF3AF, 0x8005), "hint", "hint"),                  # sevl.w
    ok("beq.w 0x2000", "branch", pc="rw", cond=0x0, wide=True),
    ok("bne.w 0x1100", "branch", pc="rw", cond=0x1),
    ok("bgt.w 0x1100", "branch", pc="rw", cond=0xC),
    ok("bls.w 0x0100", "branch", pc="rw", cond=0x9),
    ok("b.w 0x2000", "branch", pc="rw"),
    ok("bl 0x2000", "branch", pc="rw"),
    ok("blx 0x2000", "branch", pc="rw"),
    no(hw(0xF000, 0xE801), "unallocated", "no kprobes"),     # BLX with H=1
    # A6.3.5 load/store multiple
    ok("push.w {r0-r12, lr}", "ldm-stm", sp="rw", stack=56),
    ok("stmdb sp!, {r0-r8, lr}", "ldm-stm", sp="rw", stack=40),
    ok("stmdb sp!, {r0-r12, lr}", "ldm-stm", sp="rw", stack=56),
    ok("stmdb sp!, {r4-r11, lr}", "ldm-stm", sp="rw", stack=36),
    ok("stmdb sp, {r0, r1}", "ldm-stm", sp="r", stack=8),
    ok("pop.w {r4-r11, pc}", "ldm-stm", pc="w", sp="rw"),
    ok("ldmia.w r0!, {r1-r3, r8}", "ldm-stm"),
    ok("ldmdb r0, {r1, r2}", "ldm-stm"),
    ok("stmia.w r0!, {r1, r8}", "ldm-stm"),
    ok("stm.w sp, {r0, r1}", "ldm-stm", sp="r", stack=0),
    no(hw(0xE8A0, 0x8002), "ldm-stm", "STM with PC"),        # stmia r0!, {r1, pc}
    no(hw(0xE8B0, 0xC002), "ldm-stm", "both LR and PC"),     # ldmia r0!, {r1, lr, pc}
    no(hw(0xE8A0, 0x2002), "ldm-stm", "SP in the register list"),
    no(hw(0xE89F, 0x0003), "ldm-stm", "Rn=PC"),              # ldm pc, {r0, r1}
    no("srsdb sp!, #19", "srs", "SRS"),
    no("rfeia r0!", "rfe", "RFE"),
    # A6.3.6 load/store dual, load/store exclusive, table branch
    ok("ldrd r0, r1, [r2]", "load-store"),
    ok("ldrd r0, r1, [r2, #8]!", "load-store"),
    ok("ldrd r0, r1, [r2], #-8", "load-store"),
    ok("strd r0, r1, [r2, #-8]", "load-store"),
    ok("strd r0, r1, [sp, #-8]!", "load-store", sp="rw", stack=8),
    ok("strd r4, r5, [sp, #-16]", "load-store", sp="r", stack=16),
    ok("strd r0, r1, [sp, #8]", "load-store", sp="r", stack=0),
    ok("strd r0, r1, [sp], #-8", "load-store", sp="rw", stack=0),
    ok("strd r0, r1, [sp, #-64]!", "load-store", sp="rw", stack=64),
    no("strd r0, r1, [sp, #-72]", "load-store", "72 bytes", stack=72),
    ok("ldrd r0, r1, [pc, #8]", "literal-load", pc="r"),
    no(hw(0xE9D1, 0x0D00), "load-store", "SP as Rt2"),       # ldrd r0, sp, [r1]
    no(hw(0xE9D1, 0xF200), "load-store", "PC as Rt"),        # ldrd pc, r2, [r1]
    no(hw(0xE8FF, 0x0102), "load-store", "writeback to PC"),  # ldrd r0, r1, [pc], #8
    ok("tbb [r0, r1]", "table-branch", pc="rw"),
    ok("tbh [r0, r1, lsl #1]", "table-branch", pc="rw"),
    ok("tbb [pc, r1]", "table-branch", pc="rw"),
    no("tbb [sp, r1]", "table-branch", "SP as Rn"),
    no(hw(0xE8D0, 0xF00D), "table-branch", "SP as Rm"),      # tbb [r0, sp]
    no("ldrex r0, [r1]", "exclusive", "LDREX"),
    no("strex r0, r1, [r2]", "exclusive", "STREX"),
    no("ldrexb r0, [r1]", "exclusive", "exclusive"),
    no("strexh r0, r1, [r2]", "exclusive", "exclusive"),
    no("ldrexd r0, r1, [r2]", "exclusive", "exclusive"),
    no("strexd r0, r1, r2, [r3]", "exclusive", "exclusive"),
    # A6.3.7-10 load/store single data item
    ok("ldr.w r0, [r1, #4]", "load-store"),
    ok("ldr r0, [r1, #-4]", "load-store"),
    ok("ldr r0, [r1, #4]!", "load-store"),
    ok("ldr r0, [r1], #4", "load-store"),
    ok("ldr.w r0, [r1, r2, lsl #2]", "load-store"),
    ok("ldr.w pc, [r0, #4]", "load-store", pc="w"),
    ok("ldr pc, [sp], #4", "load-store", pc="w", sp="rw"),
    ok("ldr.w r0, [pc, #-8]", "literal-load", pc="r"),
    ok("ldr.w pc, [pc, #8]", "literal-load", pc="rw"),
    ok(hw(0xF8D0, 0xD000), "load-store", sp="w"),            # ldr.w sp, [r0]
    ok("str.w r0, [r1, #4]", "load-store"),
    ok("str r0, [r1, #-4]!", "load-store"),
    ok("str r0, [sp, #-4]!", "load-store", sp="rw", stack=4),
    ok("str r0, [sp, #-64]", "load-store", sp="r", stack=64),
    no("str r0, [sp, #-68]!", "load-store", "MAX_STACK_SIZE", stack=68),
    ok("strb r0, [sp, #-1]!", "load-store", sp="rw", stack=1),
    ok("strh r0, [sp, #-2]!", "load-store", sp="rw", stack=2),
    ok("str.w r0, [sp, #4]", "load-store", sp="r", stack=0),
    ok("str r0, [sp], #-4", "load-store", sp="rw", stack=0),
    no("str.w r0, [sp, r1]", "load-store", "cannot be determined", stack=-1),
    no("strh.w r0, [sp, r1]", "load-store", "cannot be determined", stack=-1),
    no(hw(0xF841, 0x000D), "load-store", "SP as Rm"),        # str.w r0, [r1, sp]
    ok("ldr.w r0, [sp, r1]", "load-store", sp="r", stack=0),
    ok("ldrb.w r0, [r1, #4]", "load-store"),
    ok("ldrsb r0, [r1, #-1]", "load-store"),
    ok("ldrh.w r0, [r1, r2]", "load-store"),
    ok("ldrsh.w r0, [r1, #2]", "load-store"),
    ok("strb.w r0, [r1, r2]", "load-store"),
    ok("strh.w r0, [r1, #4]", "load-store"),
    ok("ldrb r0, [pc, #8]", "literal-load", pc="r"),
    ok("ldrsh r0, [pc, #-8]", "literal-load", pc="r"),
    no(hw(0xF890, 0xD000), "load-store", "SP as Rt"),        # ldrb.w sp, [r0]
    no(hw(0xF8C0, 0xF000), "load-store", "Rt=PC"),           # str.w pc, [r0]
    no(hw(0xF8CF, 0x0004), "load-store", "Rn=PC"),           # str.w r0, [pc, #4]
    no(hw(0xF851, 0x000F), "load-store", "offset register"),  # ldr.w r0, [r1, pc]
    no("ldrt r0, [r1, #4]", "unprivileged", "LDRT"),
    no("strt r0, [r1]", "unprivileged", "STRT"),
    no("ldrbt r0, [r1]", "unprivileged", "LDRBT"),
    no("strbt r0, [r1]", "unprivileged", "STRBT"),
    no("ldrht r0, [r1]", "unprivileged", "LDRHT"),
    no("strht r0, [r1]", "unprivileged", "STRHT"),
    no("ldrsbt r0, [r1]", "unprivileged", "LDRSBT"),
    no("ldrsht r0, [r1]", "unprivileged", "LDRSHT"),
    # A6.3.8 memory hints
    ok("pld [r0, #4]", "preload"),
    ok("pld [r0, #-4]", "preload"),
    ok("pld [r0, r1]", "preload"),
    ok("pli [r0, #4]", "preload"),
    ok("pli [pc, #8]", "preload", pc="r"),
    ok("pld [pc, #-8]", "preload", pc="r"),
    ok(hw(0xF8B0, 0xF004), "preload"),                       # pldw [r0, #4]
    no(hw(0xF930, 0xF000), "unallocated", "memory hint"),    # ldrsh pc, [r0, r0]
    # A6.3.12 data-processing (register), A6.3.13-15 parallel and miscellaneous
    ok("lsl.w r0, r1, r2", "data-processing"),
    ok("asrs.w r0, r1, r2", "data-processing"),
    ok("ror.w r0, r1, r2", "data-processing"),
    ok("sxth.w r0, r1", "media"),
    ok("uxtb.w r0, r1, ror #8", "media"),
    ok(hw(0xFA41, 0xF082), "media"),                         # sxtab r0, r1, r2
    ok(hw(0xFA11, 0xF082), "media"),                         # uxtah r0, r1, r2
    ok("sadd16 r0, r1, r2", "media"),
    ok("uqadd8 r0, r1, r2", "media"),
    ok("shsub16 r0, r1, r2", "media"),
    ok("qadd r0, r1, r2", "saturating"),
    ok("qdsub r0, r1, r2", "saturating"),
    ok("sel r0, r1, r2", "media"),
    ok("clz r0, r1", "media"),
    ok("rbit r0, r1", "media"),
    ok("rev.w r8, r9", "media"),
    ok("rev16.w r0, r1", "media"),
    ok("revsh.w r0, r1", "media"),
    no(hw(0xFAB1, 0xFD81), "media", "SP as Rd"),             # clz sp, r1
    no(hw(0xFA9F, 0xF001), "media", "PC as Rn"),             # sadd16 r0, pc, r1
    # A6.3.16-17 multiplies
    ok("mul r0, r1, r2", "multiply"),
    ok("mla r0, r1, r2, r3", "multiply"),
    ok("mls r0, r1, r2, r3", "multiply"),
    ok("smulbb r0, r1, r2", "multiply"),
    ok("smlabt r0, r1, r2, r3", "multiply"),
    ok("smuad r0, r1, r2", "multiply"),
    ok("smlad r0, r1, r2, r3", "multiply"),
    ok("smulwb r0, r1, r2", "multiply"),
    ok("smlawb r0, r1, r2, r3", "multiply"),
    ok("smmul r0, r1, r2", "multiply"),
    ok("smmla r0, r1, r2, r3", "multiply"),
    ok("smmls r0, r1, r2, r3", "multiply"),
    ok("usad8 r0, r1, r2", "media"),
    ok("usada8 r0, r1, r2, r3", "media"),
    ok("smull r0, r1, r2, r3", "multiply"),
    ok("umull r0, r1, r2, r3", "multiply"),
    ok("smlal r0, r1, r2, r3", "multiply"),
    ok("umlal r0, r1, r2, r3", "multiply"),
    ok("umaal r0, r1, r2, r3", "multiply"),
    ok("smlalbb r0, r1, r2, r3", "multiply"),
    ok("smlald r0, r1, r2, r3", "multiply"),
    ok("smlsld r0, r1, r2, r3", "multiply"),
    no(hw(0xFB91, 0xF0F2), "divide", "SDIV"),                # sdiv r0, r1, r2
    no(hw(0xFBB1, 0xF0F2), "divide", "UDIV"),                # udiv r0, r1, r2
    no(hw(0xFB01, 0xFD02), "multiply", "SP as Rd"),          # mul sp, r1, r2
    no(hw(0xFB00, 0xF010), "unallocated", "unallocated"),
    # A6.3.18 coprocessor, Advanced SIMD and floating point
    no("mcr p15, 0, r0, c1, c0, 0", "coprocessor", "MCR"),
    no("mrc p15, 0, r0, c1, c0, 0", "coprocessor", "MRC"),
    no("cdp p7, 1, c1, c2, c3, 4", "coprocessor", "CDP"),
    no("ldc p5, c1, [r0]", "coprocessor", "LDC"),
    no("stc p5, c1, [r0]", "coprocessor", "STC"),
    no("mcrr p5, 1, r0, r1, c2", "coprocessor", "MCRR"),
    no("vadd.f32 s0, s1, s2", "coprocessor", "VFP"),
    no("vadd.i32 d0, d1, d2", "coprocessor", "NEON"),
    no("vld1.32 {d0}, [r0]", "coprocessor", "NEON"),
    no("vldr d0, [r0]", "coprocessor", "coprocessor"),
    no("vmov r0, s0", "coprocessor", "coprocessor"),
    no(hw(0xFE01, 0x0710), "coprocessor", "coprocessor"),    # mcr2 p7, 0, r0, c1, c0, 0
]


def _decide(asm: str, address: int = ADDRESS) -> Decision:
    data = assemble(asm, address, True)
    decision = decode(data, True)
    first = int.from_bytes(data[:2], "little")
    second = int.from_bytes(data[2:4], "little") if is_wide(first) else None
    assert len(data) == decision.size, f"{asm!r} assembled to {len(data)} bytes"
    assert decision == decode_thumb(first, second)
    return decision


@pytest.mark.parametrize("row", ROWS, ids=[row.asm for row in ROWS])
def test_decision(row: Row) -> None:
    d = _decide(row.asm)
    assert d.accepted is row.accepted, d.why
    assert d.klass == row.klass
    assert d.condition == row.cond
    assert d.size == (4 if d.wide else 2)
    if row.wide is not None:
        assert d.wide is row.wide
    assert d.register_usage == ALL_REGISTERS  # no register checker for Thumb
    if row.stack is not None:
        assert d.stack_space == row.stack
    if not row.accepted:
        assert d.error == "EINVAL"
        assert row.word.lower() in d.why.lower(), d.why
        return
    assert d.error is None
    assert (d.reads_pc, d.writes_pc) == ("r" in row.pc, "w" in row.pc)
    assert (d.reads_sp, d.writes_sp) == ("r" in row.sp, "w" in row.sp)


def test_table_is_big_enough() -> None:
    assert len(ROWS) >= 200
    assert sum(row.accepted for row in ROWS) >= 120
    assert sum(not row.accepted and row.wide is not False for row in ROWS) >= 30


REJECTED_CLASSES = {
    "data-processing", "branch-exchange", "unallocated", "hint", "setend", "cps", "bkpt",
    "undefined", "svc", "mrs", "msr", "barrier", "exclusive", "bxj", "exception-return",
    "smc", "ldm-stm", "srs", "rfe", "load-store", "table-branch", "unprivileged", "media",
    "divide", "multiply", "coprocessor",
}


def test_every_rejected_class_is_covered() -> None:
    assert {row.klass for row in ROWS if not row.accepted} == REJECTED_CLASSES


# Classes that are only ever rejected: every sentence must name the class.
CLASS_WORDS = {
    "exception-return": "exception return", "msr": "MSR", "bxj": "BXJ", "bkpt": "BKPT",
    "smc": "SMC", "hint": "hint", "exclusive": "exclusive",
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
# 32-bit instructions at odd halfword boundaries: the decoder sees only the halfwords.

ODD = ["bl 0x2000", "ldr.w r0, [pc, #8]", "push.w {r0-r12, lr}", "tbb [pc, r1]",
       "strd r0, r1, [sp, #-8]!", "bne.w 0x1100", "ldrex r0, [r1]", "adr.w r0, 0x1100",
       "add.w r0, r1, r2", "clrex"]


@pytest.mark.parametrize("asm", ODD)
def test_wide_instruction_at_a_halfword_boundary(asm: str) -> None:
    aligned = _decide(asm, 0x1000)
    odd = _decide(asm, 0x1002)
    assert odd.wide and aligned.wide
    assert (odd.accepted, odd.klass, odd.stack_space, odd.reads_pc, odd.writes_pc,
            odd.condition) == (aligned.accepted, aligned.klass, aligned.stack_space,
                               aligned.reads_pc, aligned.writes_pc, aligned.condition)


def test_wide_instruction_after_a_narrow_one() -> None:
    data = assemble("movs r0, #1; ldr r1, [r2, #4]!; bx lr", ADDRESS, True)
    assert len(data) == 8
    first, second, third = decode(data, True), decode(data[2:], True), decode(data[6:], True)
    assert (first.size, first.klass) == (2, "data-processing")
    assert (second.size, second.klass, second.wide) == (4, "load-store", True)
    assert (third.size, third.klass) == (2, "branch-exchange")


# --------------------------------------------------------------------------------------
# Fields and lists.

def test_high_register_fields_carry_the_d_bit() -> None:
    d = _decide("mov r8, r0")
    rd, rm = d.field("rd"), d.field("rm")
    assert rd == Field("rd", 0, 3, 8, True, False)
    assert rm == Field("rm", 3, 4, 0, False, True)


def test_narrow_fields_are_three_bits() -> None:
    d = _decide("adds r0, r1, r2")
    assert [(f.role, f.shift, f.width, f.value) for f in d.fields] == [
        ("rm", 6, 3, 2), ("rn", 3, 3, 1), ("rd", 0, 3, 0)]


def test_wide_fields_count_in_the_composed_word() -> None:
    d = _decide("ldr r0, [r1, #4]!")
    rn, rt = d.field("rn"), d.field("rt")
    assert rn == Field("rn", 16, 4, 1, True, True)
    assert rt == Field("rt", 12, 4, 0, True, False)
    plain = _decide("ldr.w r0, [r1, #4]").field("rn")
    assert plain is not None and not plain.written


def test_ldrd_names_both_registers() -> None:
    d = _decide("ldrd r4, r5, [r6, #8]!")
    assert [(f.role, f.value, f.written) for f in d.fields] == [
        ("rn", 6, True), ("rt", 4, True), ("rt2", 5, True)]


def test_ldm_16_bit_writeback_depends_on_the_list() -> None:
    with_wb = _decide("ldm r0!, {r1, r2}").field("rn")
    without = _decide("ldm r0, {r0, r1}").field("rn")
    assert with_wb is not None and with_wb.written
    assert without is not None and not without.written


def test_push_and_pop_lists() -> None:
    assert _decide("push {r0-r7, lr}").register_list == 0x40FF
    assert _decide("pop {r4, pc}").register_list == 0x8010
    assert _decide("push.w {r4-r11, lr}").register_list == 0x4FF0
    assert _decide("stm r0!, {r1, r2}").register_list == 0x6


def test_cbz_field() -> None:
    assert _decide("cbnz r3, 0x1040").field("rn") == Field("rn", 0, 3, 3, False, True)


def test_it_is_not_conditional_itself() -> None:
    d = _decide("ite ne")
    assert d.condition == 0xE and not d.writes_pc


# --------------------------------------------------------------------------------------
# API edges and invariants.

def test_missing_second_halfword_is_an_error() -> None:
    with pytest.raises(ValueError):
        decode_thumb(0xF000, None)
    with pytest.raises(ValueError):
        decode(b"\x00\xf0", True)
    with pytest.raises(ValueError):
        decode(b"\x00", True)


def test_second_halfword_of_a_narrow_instruction_is_ignored() -> None:
    assert decode_thumb(0xBF00, 0xFFFF) == decode_thumb(0xBF00)
    assert decode(b"\x00\xbf\xff\xff", True) == decode_thumb(0xBF00)


def test_random_halfwords_give_consistent_decisions() -> None:
    rng = random.Random(4321)
    for _ in range(20000):
        first, second = rng.getrandbits(16), rng.getrandbits(16)
        d = decode_thumb(first, second)
        assert d.wide is is_wide(first)
        assert d.size == (4 if d.wide else 2)
        assert d.register_usage == ALL_REGISTERS
        if d.accepted:
            assert d.error is None
            assert 0 <= d.stack_space <= MAX_STACK_SIZE
        else:
            assert d.error == "EINVAL"
            assert d.why.endswith(".")


def test_every_16_bit_halfword_decodes() -> None:
    narrow = [h for h in range(0x10000) if not is_wide(h)]
    accepted = sum(decode_thumb(h).accepted for h in narrow)
    assert 0 < accepted < len(narrow)
