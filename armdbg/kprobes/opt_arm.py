"""The ARM parts of optprobes (arch/arm/probes/kprobes/opt-arm.c), as pure functions:
branch encoding and range, eligibility, and the trampoline template.

The trampoline is real ARM code, built from the kernel's template word for word
(shared/reference/kprobes-arm.md section 2.3, the ARMv5+ variant with one ``blx``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PT_REGS_SIZE = 72
ARM_PC_OFFSET = 60
ARM_CPSR_OFFSET = 64
ARM_SP_OFFSET = 52
MAX_STACK_PROTECT = 255  # the largest unrotated immediate of `sub sp, sp, #imm`

B_ENCODING = 0xEA000000

# Linux's template words (opt-arm.c), indices as its TMPL_*_IDX.
TEMPLATE = (
    0xE24DD0FF,  # 0  entry/sub_sp: sub sp, sp, #0xff        (patched: stack_protect)
    0xE88D7FFF,  # 1  stmia sp, {r0 - r14}
    0xE28D30FF,  # 2  add_sp: add r3, sp, #0xff              (patched: stack_protect)
    0xE58D3034,  # 3  str r3, [sp, #52]                       regs->ARM_sp
    0xE10F4000,  # 4  mrs r4, cpsr
    0xE58D4040,  # 5  str r4, [sp, #64]                       regs->ARM_cpsr
    0xE1A0100D,  # 6  mov r1, sp                              arg 2: regs
    0xE59F0034,  # 7  ldr r0, [pc, #52]  -> val               arg 1: op
    0xE59F2034,  # 8  ldr r2, [pc, #52]  -> call              optimized_callback
    0xE20D4004,  # 9  and r4, sp, #4                          AEABI 8-byte alignment
    0xE04DD004,  # 10 sub sp, sp, r4
    0xE12FFF32,  # 11 blx r2
    0xE08DD004,  # 12 add sp, sp, r4
    0xE59D1040,  # 13 ldr r1, [sp, #64]
    0xE3110020,  # 14 tst r1, #PSR_T_BIT
    0x159D203C,  # 15 ldrne r2, [sp, #60]
    0x13822001,  # 16 orrne r2, r2, #1
    0x158D203C,  # 17 strne r2, [sp, #60]
    0xE12FF001,  # 18 msr cpsr_cxsf, r1
    0xE89DFFFF,  # 19 restore_begin: ldmia sp, {r0 - r15}
    0xE320F000,  # 20 restore_orig_insn: nop
    0xE320F000,  # 21 restore_end: nop
    0x00000000,  # 22 val
    0x00000000,  # 23 call
)
TMPL_SUB_SP = 0
TMPL_ADD_SP = 2
TMPL_RESTORE_BEGIN = 19
TMPL_RESTORE_ORIG_INSN = 20
TMPL_RESTORE_END = 21
TMPL_VAL = 22
TMPL_CALL = 23
TMPL_END = 24
MAX_OPTINSN_SIZE = TMPL_END * 4  # 96 bytes

LABELS = {
    0: "optprobe_template_entry",
    TMPL_RESTORE_BEGIN: "optprobe_template_restore_begin",
    TMPL_RESTORE_ORIG_INSN: "optprobe_template_restore_orig_insn",
    TMPL_RESTORE_END: "optprobe_template_restore_end",
    TMPL_VAL: "optprobe_template_val",
    TMPL_CALL: "optprobe_template_call",
}

LDMIA_SP_R0_R15 = 0xE89DFFFF
LDMIA_SP_R0_R14 = 0xE89D7FFF

BRANCH_MIN = -0x02000000  # -32 MiB
BRANCH_MAX = 0x01FFFFFC   # +32 MiB - 4


def branch_offset(pc: int, target: int) -> int:
    """The signed displacement a B at ``pc`` needs to reach ``target`` (PC reads +8)."""
    offset = (target - (pc + 8)) & 0xFFFFFFFF
    return offset - (1 << 32) if offset & 0x80000000 else offset


def in_branch_range(pc: int, target: int) -> bool:
    """The exact check: a word-aligned displacement within [-32 MiB, +32 MiB - 4]."""
    offset = branch_offset(pc, target)
    return offset % 4 == 0 and BRANCH_MIN <= offset <= BRANCH_MAX


def kernel_rel_chk_ok(pc: int, target: int) -> bool:
    """opt-arm.c's own check, ``(code - addr + 8) & 0xfe000003`` -- off by 16 bytes at
    the extremes (the +8 has the wrong sign).  Kept to document the difference; armdbg
    uses :func:`in_branch_range`."""
    rel_chk = (target - pc + 8) & 0xFE000003
    return rel_chk in (0, 0xFE000000)


def arm_gen_branch(pc: int, target: int, link: bool = False) -> int:
    """``arm_gen_branch`` (arch/arm/kernel/insn.c): 0 when out of range."""
    if not in_branch_range(pc, target):
        return 0
    insn = B_ENCODING | (1 << 24 if link else 0)
    return insn | ((branch_offset(pc, target) >> 2) & 0x00FFFFFF)


def with_condition(branch: int, word_in_memory: int) -> int:
    """The jump takes its condition from the word it replaces (the armed breakpoint,
    whose condition was copied from the probed instruction)."""
    return (word_in_memory & 0xF0000000) | (branch & 0x0FFFFFFF)


@dataclass(frozen=True)
class Trampoline:
    address: int
    words: tuple[int, ...]
    direct_exec: bool
    stack_protect: int

    def word_address(self, index: int) -> int:
        return self.address + 4 * index


def can_direct_exec(register_usage: int) -> bool:
    """``kprobe_direct_exec``: the original instruction runs in the trampoline unless it
    may touch PC (register_usage bit 15)."""
    return not register_usage & (1 << 15)


def build_trampoline(address: int, probe_addr: int, original: int, stack_space: int,
                     register_usage: int, op: int, callback: int) -> Trampoline:
    """``arch_prepare_optimized_kprobe`` steps 2-5, for a slot at ``address``."""
    stack_protect = PT_REGS_SIZE + stack_space
    if stack_space < 0 or stack_protect > MAX_STACK_PROTECT:
        raise ValueError(f"stack_space {stack_space} cannot be protected")
    words = list(TEMPLATE)
    words[TMPL_SUB_SP] = 0xE24DD000 | stack_protect
    words[TMPL_ADD_SP] = 0xE28D3000 | stack_protect
    words[TMPL_VAL] = op & 0xFFFFFFFF
    words[TMPL_CALL] = callback & 0xFFFFFFFF
    direct = False
    if can_direct_exec(register_usage):
        back = arm_gen_branch(address + 4 * TMPL_RESTORE_END, probe_addr + 4)
        if back:
            words[TMPL_RESTORE_BEGIN] = LDMIA_SP_R0_R14
            words[TMPL_RESTORE_ORIG_INSN] = original
            words[TMPL_RESTORE_END] = back
            direct = True
    return Trampoline(address, tuple(words), direct, stack_protect)


def label_of(index: int) -> str | None:
    return LABELS.get(index)


_REGISTER_NAMES = tuple(f"r{i}" for i in range(13)) + ("sp", "lr", "pc")


def simulate_load_multiple_pc(word: int, regs: dict[str, int],
                              read_words: Callable[[int, int], tuple[int, ...]],
                              ) -> dict[str, int] | None:
    """An A32 LDM (POP) that loads PC, against saved registers -- what the kernel's
    ``simulate_ldm1_pc`` does for an optimized probe that cannot run the instruction in
    its trampoline.  Returns the registers after it (PC without bit 0, CPSR.T per
    LoadWritePC's interworking), or None for forms left to the emulator (user-register
    forms, PC as base, writeback of a loaded base, an ARM PC with bit 1 set).
    """
    if (word >> 25) & 0b111 != 0b100 or not (word >> 20) & 1 or (word >> 22) & 1:
        return None  # not LDM, or the S (user registers / exception return) form
    reglist = word & 0xFFFF
    rn = (word >> 16) & 0xF
    if not reglist & (1 << 15) or rn == 15:
        return None
    before, up, writeback = (word >> 24) & 1, (word >> 23) & 1, (word >> 21) & 1
    if writeback and reglist & (1 << rn):
        return None  # the written-back base is UNKNOWN on ARMv7
    count = bin(reglist).count("1")
    base = regs[_REGISTER_NAMES[rn]]
    if up:
        start = base + 4 if before else base
    else:
        start = base - 4 * count if before else base - 4 * count + 4
    after = dict(regs)
    loaded = iter(read_words(start & 0xFFFFFFFF, count))
    for index in range(16):
        if reglist & (1 << index):
            after[_REGISTER_NAMES[index]] = next(loaded)
    if writeback:
        after[_REGISTER_NAMES[rn]] = (base + 4 * count if up else base - 4 * count) & 0xFFFFFFFF
    pc = after["pc"]
    if pc & 3 == 2:
        return None  # UNPREDICTABLE in ARM state: let the emulator decide
    after["cpsr"] = (regs["cpsr"] | 0x20) if pc & 1 else (regs["cpsr"] & ~0x20)
    after["pc"] = pc & ~1
    return after
