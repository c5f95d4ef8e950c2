"""Alignment faults that Unicorn does not raise, and the data aborts it does.

Unicorn 2.1.4 performs every unaligned LDR/LDRH/LDM/LDRD/STM/VLDR as an unaligned
access, even with SCTLR.A set (tests/machine/test_machine.py,
``test_unicorn_raises_no_alignment_faults``); only the exclusives (LDREX family) abort,
as CPU exception 4 with no DFAR.  ``set alignment-check`` makes armdbg check what ARMv7
hardware checks (ARM ARM A3.2.1, table A3-1):

* ``armv7`` (SCTLR.A clear, as Linux runs): the accesses that are always checked --
  LDM/STM and PUSH/POP of a register list, LDRD/STRD, SWP, RFE/SRS, LDC/STC,
  VLDM/VSTM/VLDR/VSTR/VPUSH/VPOP need word alignment, the exclusives their own size;
* ``strict`` (as if SCTLR.A were set): every access must also be naturally aligned
  (LDRH halfword, LDR word; single-register PUSH/POP encode LDR/STR and count as them).

The check is an unbounded UC_HOOK_MEM_READ|WRITE, installed only while the setting is
not ``off``.  Every guest access then calls into Python: about 1 us each (the binding's
callback ~0.4 us, the CPSR read the unicorn #2309 workaround needs ~0.5 us, the check
itself ~0.1 us; measured on this project's machine).  That is 6-15 times slower on the
demo and the C fixtures, about 100 times on a loop that is mostly LDM/STR/LDRH (an
empty unbounded hook alone costs 40 times there).  A byte access, or one aligned for
every rule, is accepted on its size and address alone; the others need the rule of the
instruction at PC, decoded once per PC and run (code may be patched between runs; a
fault is only reported after decoding the bytes there again).

Stopping before the access takes effect (measured on 2.1.4): ``emu_stop`` from a memory
hook ends the run at the accessing instruction -- PC on it, a load's destination and
the base write-back not written -- except that a store whose hook stopped the run does
land in memory.  Inside a Thumb IT block Unicorn does not honour the stop until the
next access outside the block or the end of the translation block, so a few more
instructions run.  Either way the hook keeps the registers (core and VFP) of the
faulting moment and, from then on, the old bytes under every guest write;
:meth:`AlignmentCheck.settle` puts them back once ``emu_start`` has returned.  Once a
stop is requested Unicorn calls only the first memory hook of each access, so that
journal is kept by whichever hook it calls (Machine._unusual_access), and none of
them sees those accesses; SVCs are not serviced either (Machine._on_interrupt).  A
trap word in that window (a breakpoint right after the block) is still asked what to do
by the invalid-instruction hook, which this module does not own: its answer is ignored,
since the fault is the stop reported, but a kprobe handler there would run.

Not checked: the explicit ``:64``/``:128``/``:256`` alignment of VLDn/VSTn (their
element size is, with ``strict``), and an unaligned STREX without a matching LDREX
(Unicorn makes no access: the store just fails, as the exclusive monitor says).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import capstone
from capstone import arm as C
from unicorn import UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, UC_MEM_WRITE
from unicorn import arm_const as A

from armdbg.errors import MachineError, MemoryAccessError
from armdbg.isa.cpsr import T_BIT
from armdbg.isa.disasm import capstone_detail, thumb_is_wide
from armdbg.machine.stops import StopEvent, StopReason

if TYPE_CHECKING:
    from armdbg.machine.machine import Machine

MODES = ("off", "armv7", "strict")

# Word alignment whatever SCTLR.A says (table A3-1): register lists, doublewords,
# SWP, RFE/SRS and the coprocessor and VFP transfers.
_ALWAYS_WORD = frozenset({
    C.ARM_INS_LDM, C.ARM_INS_LDMDA, C.ARM_INS_LDMDB, C.ARM_INS_LDMIB,
    C.ARM_INS_STM, C.ARM_INS_STMDA, C.ARM_INS_STMDB, C.ARM_INS_STMIB,
    C.ARM_INS_PUSH, C.ARM_INS_POP, C.ARM_INS_LDRD, C.ARM_INS_STRD, C.ARM_INS_SWP,
    C.ARM_INS_RFEDA, C.ARM_INS_RFEDB, C.ARM_INS_RFEIA, C.ARM_INS_RFEIB,
    C.ARM_INS_SRSDA, C.ARM_INS_SRSDB, C.ARM_INS_SRSIA, C.ARM_INS_SRSIB,
    C.ARM_INS_LDC, C.ARM_INS_LDC2, C.ARM_INS_LDCL, C.ARM_INS_LDC2L,
    C.ARM_INS_STC, C.ARM_INS_STC2, C.ARM_INS_STCL, C.ARM_INS_STC2L,
    C.ARM_INS_VLDMIA, C.ARM_INS_VLDMDB, C.ARM_INS_VSTMIA, C.ARM_INS_VSTMDB,
    C.ARM_INS_VPUSH, C.ARM_INS_VPOP, C.ARM_INS_VLDR, C.ARM_INS_VSTR,
    C.ARM_INS_FLDMDBX, C.ARM_INS_FLDMIAX, C.ARM_INS_FSTMDBX, C.ARM_INS_FSTMIAX,
})
# The exclusives: always aligned to their own size.
_EXCLUSIVE = {
    C.ARM_INS_LDREXB: 1, C.ARM_INS_STREXB: 1, C.ARM_INS_LDAEXB: 1, C.ARM_INS_STLEXB: 1,
    C.ARM_INS_LDREXH: 2, C.ARM_INS_STREXH: 2, C.ARM_INS_LDAEXH: 2, C.ARM_INS_STLEXH: 2,
    C.ARM_INS_LDREX: 4, C.ARM_INS_STREX: 4, C.ARM_INS_LDAEX: 4, C.ARM_INS_STLEX: 4,
    C.ARM_INS_LDREXD: 8, C.ARM_INS_STREXD: 8, C.ARM_INS_LDAEXD: 8, C.ARM_INS_STLEXD: 8,
}
# Checked only with SCTLR.A set, at their natural size.
_NATURAL = {
    C.ARM_INS_LDRH: 2, C.ARM_INS_LDRSH: 2, C.ARM_INS_STRH: 2, C.ARM_INS_LDRHT: 2,
    C.ARM_INS_LDRSHT: 2, C.ARM_INS_STRHT: 2, C.ARM_INS_TBH: 2,
    C.ARM_INS_LDR: 4, C.ARM_INS_STR: 4, C.ARM_INS_LDRT: 4, C.ARM_INS_STRT: 4,
    C.ARM_INS_LDRB: 1, C.ARM_INS_LDRSB: 1, C.ARM_INS_STRB: 1, C.ARM_INS_LDRBT: 1,
    C.ARM_INS_LDRSBT: 1, C.ARM_INS_STRBT: 1, C.ARM_INS_TBB: 1, C.ARM_INS_SWPB: 1,
}
# NEON element transfers (VLDn/VSTn).
_ELEMENTS = frozenset({C.ARM_INS_VLD1, C.ARM_INS_VLD2, C.ARM_INS_VLD3, C.ARM_INS_VLD4,
                       C.ARM_INS_VST1, C.ARM_INS_VST2, C.ARM_INS_VST3, C.ARM_INS_VST4})
_ELEMENT_SIZE = re.compile(r"\.(8|16|32|64)$")
_STORES = ("st", "push", "vst", "vpush", "srs", "fst")
_SHIFTS = {C.ARM_SFT_LSL: "lsl", C.ARM_SFT_LSR: "lsr", C.ARM_SFT_ASR: "asr",
           C.ARM_SFT_ROR: "ror"}


@dataclass(frozen=True)
class AccessRule:
    """What one instruction's data accesses must respect.

    ``always``: the alignment ARMv7 checks whatever SCTLR.A says (1: none); ``strict``:
    the one checked with SCTLR.A set (0: each access's own size).  ``size`` is the size
    of each access when the instruction fixes it (0 otherwise), ``store`` whether it
    writes.  A single-address access is at ``base + offset (+/-) shifted index``.
    """

    name: str
    always: int = 1
    strict: int = 0
    size: int = 0
    store: bool = False
    base: str | None = None
    offset: int = 0
    index: str | None = None
    shift: str = "lsl"         # how the index is shifted: lsl, lsr, asr or ror
    amount: int = 0
    subtract: bool = False


NO_ACCESS = AccessRule("(bad)")


def _is_single_pop_a2(raw: bytes, thumb: bool) -> bool:
    """``pop {rt}`` encoding A2 is ``ldr rt, [sp], #4`` (Capstone still names it pop):
    an LDR for alignment.  (A2 ``push {rt}`` and the T3 forms decode as ldr/str.)"""
    return not thumb and len(raw) == 4 and \
        int.from_bytes(raw, "little") & 0x0FFF0FFF == 0x049D0004


@lru_cache(maxsize=4096)
def classify(raw: bytes, thumb: bool) -> AccessRule:
    """The alignment rule of the instruction at the start of ``raw`` (ARM ARM A3.2.1)."""
    for insn in capstone_detail(thumb).disasm(raw, 0, 1):
        return _rule(insn, raw, thumb)
    return NO_ACCESS


def _rule(insn: capstone.CsInsn, raw: bytes, thumb: bool) -> AccessRule:
    ident = insn.id
    name = insn.insn_name() or insn.mnemonic.split(".")[0]
    store = name.startswith(_STORES)
    memop = next((op for op in insn.operands if op.type == C.ARM_OP_MEM), None)
    where = AccessRule(name)
    if memop is not None and memop.mem.base:
        mem = memop.mem
        where = AccessRule(
            name, base=insn.reg_name(mem.base),
            # VLDn/VSTn have no offset: Capstone gives their ":align" bits there.  The
            # immediate is signed already; "subtracted" is about the index register.
            offset=0 if ident in _ELEMENTS else mem.disp,
            index=insn.reg_name(mem.index) if mem.index else None,
            # Thumb "lsl #n" comes as lshift, ARM shifts as the operand's shift.
            shift=_SHIFTS.get(memop.shift.type, "lsl"),
            amount=mem.lshift or memop.shift.value,
            subtract=bool(mem.index and memop.subtracted))

    def rule(always: int, strict: int, size: int) -> AccessRule:
        return AccessRule(name, always, strict, size, store, where.base, where.offset,
                          where.index, where.shift, where.amount, where.subtract)

    if _is_single_pop_a2(raw, thumb):
        return AccessRule(name, 1, 4, 4, False, "sp")
    if ident in _ALWAYS_WORD:
        return rule(4, 4, 0)  # words or doublewords, by the registers transferred
    if ident in _EXCLUSIVE:
        size = _EXCLUSIVE[ident]
        return rule(size, size, size)
    if ident in _NATURAL:
        size = _NATURAL[ident]
        return rule(1, size, size)
    if ident in _ELEMENTS:
        # Element size with SCTLR.A set; an explicit ":align" qualifier is not checked.
        found = _ELEMENT_SIZE.search(insn.mnemonic)
        element = int(found.group(1)) // 8 if found else 1
        return rule(1, element, element)
    return rule(1, 0, 0)


def effective_address(rule: AccessRule, pc: int, thumb: bool,
                      read: Callable[[str], int]) -> int | None:
    """Where a single-address instruction accesses memory (None for register lists).

    Post-indexed forms access the base itself: Capstone gives their offset as a
    separate operand, not in the memory operand.
    """
    def value(name: str) -> int:
        if name == "pc":
            return (pc + 4) & ~3 if thumb else pc + 8  # the PC an instruction reads
        return read(name)

    if rule.base is None:
        return None
    address = value(rule.base) + rule.offset
    if rule.index is not None:
        index = _shifted(value(rule.index), rule.shift, rule.amount)
        address += -index if rule.subtract else index
    return address & 0xFFFFFFFF


def _shifted(value: int, shift: str, amount: int) -> int:
    """An index register through its shift (ARM ARM A8.4.3; an amount of 0 in an
    lsr/asr encoding means 32)."""
    if shift == "lsl":
        return (value << amount) & 0xFFFFFFFF
    if shift == "ror":
        amount %= 32
        return ((value >> amount) | (value << (32 - amount))) & 0xFFFFFFFF
    amount = amount or 32
    if shift == "asr" and value & 0x80000000:
        return ((value | ~0xFFFFFFFF) >> amount) & 0xFFFFFFFF
    return (value >> amount) & 0xFFFFFFFF


def data_abort_stop(machine: Machine, pc: int, thumb: bool) -> StopEvent:
    """CPU exception 4 (data abort) as SIGBUS.  Unicorn raises it for an unaligned
    exclusive access and leaves DFAR at 0: the address comes from the instruction."""
    try:
        insn = machine.instruction_at(pc, thumb, shadow=False)
        rule = classify(insn.raw, thumb)
        address = effective_address(rule, pc, thumb, machine.read_register)
    except MemoryAccessError:
        rule, address = NO_ACCESS, None
    if address is None:
        what = f"data abort by {rule.name}"
    elif rule.always > 1 and address % rule.always:
        sized = f"{rule.size}-byte " if rule.size else ""
        kind = "store" if rule.store else "load"
        what = f"unaligned {sized}{kind} at {address:#010x} by {rule.name}"
    else:
        what = f"data abort at {address:#010x} by {rule.name}"
    return StopEvent(StopReason.SIGNAL, pc, thumb, signal="SIGBUS", fault_address=address,
                     description=f"Program received signal SIGBUS, Bus error ({what}).")


# ------------------------------------------------------------------ the check

_GPR_IDS = tuple(getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)) + (
    A.UC_ARM_REG_SP, A.UC_ARM_REG_LR)
_VFP_IDS = tuple(getattr(A, f"UC_ARM_REG_D{i}") for i in range(32)) + (A.UC_ARM_REG_FPSCR,)


@dataclass
class _Fault:
    """An access found unaligned, and what it takes to put the machine back there."""

    event: StopEvent
    registers: tuple[int, ...]     # r0-r12, sp, lr, pc, cpsr (Machine.read_all_registers)
    cpsr: int                      # with the IT bits of the faulting instruction
    vfp: tuple[int, ...]           # d0-d31, fpscr
    journal: list[tuple[int, bytes]] = field(default_factory=list)  # old bytes, in order


class AlignmentCheck:
    """The ``armv7`` or ``strict`` check on one machine: a memory hook while it lives."""

    def __init__(self, machine: Machine, mode: str) -> None:
        if mode not in MODES[1:]:
            raise MachineError(f'unknown alignment check "{mode}" (use {", ".join(MODES)})')
        self.machine = machine
        self.mode = mode
        self.strict = mode == "strict"
        self.pending: _Fault | None = None
        # Rules by PC | Thumb bit, for one run: code may be patched between runs.
        self._rules: dict[int, AccessRule] = {}
        self.handle = machine._add_access_hook(UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, 0, 0,
                                               self._on_access)

    def remove(self) -> None:
        self.machine.remove_memory_hook(self.handle)

    def _on_access(self, access: int, address: int, size: int, _value: int,
                   cpsr: int) -> None:
        """Inside Unicorn, for every guest access: accept what can be accepted without
        reading anything more (most accesses), leave the rest to :meth:`_check`."""
        if self.strict:
            if not address & ((size if size <= 4 else 8) - 1):
                return
        elif size <= 2 or not address & 3:
            return  # without SCTLR.A only word and doubleword transfers are checked
        self._check(access, address, size, cpsr)

    def _misaligned(self, rule: AccessRule, address: int, size: int) -> bool:
        if self.strict:
            # Up to a word, every access at its own size; 8-byte accesses (VLDR/VLDM of
            # d registers, VLD1.64) at their instruction's alignment, a word at least.
            need = size if size <= 4 else max(rule.strict, 4)
        else:
            need = rule.always if size >= 4 else 1
        return bool(address & (need - 1))

    def _check(self, access: int, address: int, size: int, cpsr: int) -> None:
        thumb = bool(cpsr & T_BIT)
        machine = self.machine
        pc = machine.pc
        key = pc | thumb
        rule = self._rules.get(key)
        if rule is None or self._misaligned(rule, address, size):
            # Decode what is there now: a rule cached earlier in the run (before some
            # self-modifying store) may miss a fault, but must not invent one.
            rule = self._rules[key] = self._decode(pc, thumb)
        if not self._misaligned(rule, address, size) or machine._pending_stop is not None:
            return  # (another stop came first, a watchpoint: this access will run again)
        kind = "store" if access == UC_MEM_WRITE else "load"
        event = StopEvent(
            StopReason.SIGNAL, pc, thumb, signal="SIGBUS", fault_address=address,
            description=f"Program received signal SIGBUS, Bus error (unaligned {size}-byte "
                        f"{kind} at {address:#010x} by {rule.name}).")
        fault = _Fault(event, machine.read_all_registers(), cpsr,
                       tuple(machine.uc.reg_read(reg) for reg in _VFP_IDS))  # type: ignore[misc]
        if access == UC_MEM_WRITE:
            fault.journal.append((address, machine.read_memory(address, size)))
        self.pending = fault
        machine.request_stop(event)

    def _decode(self, pc: int, thumb: bool) -> AccessRule:
        machine = self.machine
        try:
            raw = machine.read_memory(pc, 2 if thumb else 4)
            if thumb and thumb_is_wide(int.from_bytes(raw, "little")):
                raw = machine.read_memory(pc, 4)
        except MemoryAccessError:
            return NO_ACCESS
        return classify(raw, thumb)

    def settle(self) -> StopEvent | None:
        """After each ``emu_start``: undo what ran since a fault and return its stop."""
        self._rules.clear()
        fault, self.pending = self.pending, None
        if fault is None:
            return None
        machine = self.machine
        for address, old in reversed(fault.journal):
            machine.write_memory(address, old)
        for reg, value in zip(_GPR_IDS, fault.registers):
            machine.uc.reg_write(reg, value)
        for reg, value in zip(_VFP_IDS, fault.vfp):
            machine.uc.reg_write(reg, value)
        # CPSR with the block's IT bits, then PC: the pair resumes inside an IT block.
        machine.cpsr = fault.cpsr
        machine.set_pc(fault.event.pc, fault.event.thumb)
        return fault.event
