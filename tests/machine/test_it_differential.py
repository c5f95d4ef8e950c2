"""Thumb IT blocks: running straight through, stepping, and resuming must agree.

Unicorn cannot stop inside an IT block by counting instructions (``count=1`` runs the
whole block, unicorn #853/#1630) and its code hooks see neither condition-failed slots
nor the IT bits, so :meth:`Machine.step` stops on the fall-through address instead.
This file checks that approach against three things at once, for every IT mask shape
(``it`` .. ``iteee``), every base condition ``eq``..``le`` and every initial NZCV:

* (a) ``run(until=end)`` straight through, (b) ``step()`` one instruction at a time and
  (c) ``run()`` resumed from every intermediate stop all end in the same registers,
  CPSR and memory;
* a small independent model of the instructions used (written from the ARM ARM's
  AddWithCarry and condition tables, not from armdbg) predicts the same end state, so
  (a)-(c) cannot agree on a wrong answer;
* after every step the IT bits of CPSR are what ``armdbg.isa.itstate`` predicts
  (``advance()`` from the IT instruction's value), every slot -- condition-failed ones
  included -- is exactly one step, and the CPU stays in Thumb state.

Blocks mix non-flag-setting 16-bit instructions (``add``, ``sub``, ``mov``, ``lsl``,
``eor``, ``adc`` inside a block), 16-bit flag setters (``cmp``, ``cmn``, ``tst`` always
set flags, so later slots see new flags) and 32-bit ``adds.w``/``subs.w``; after the
block, branches and ``adcs`` depend on the flags the block left.

Cost: each (a)+(b) pair runs for all 3,360 combinations; (c) resumes from each stop
through ``context_save``/``context_restore`` of the step-by-step run (the exact CPU
state of that stop, internal ITSTATE included) for every combination, and the literal
"step i times from the start, then run" is done for a covering sample.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from unicorn import arm_const as A

from armdbg.isa.asm import assemble
from armdbg.isa.itstate import (
    advance,
    current_condition,
    itstate_from_cpsr,
    itstate_from_it_instruction,
)
from armdbg.machine.machine import Machine
from armdbg.machine.stops import StopReason

M32 = 0xFFFFFFFF
CODE_BASE = 0x80010000      # inside the default "text" region
CASE_STRIDE = 0x80
DATA_BASE = 0x80200000      # inside the default "data" region
DATA_SIZE = 24

COND_NAMES = ("eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt",
              "gt", "le")
# Every IT mask shape: the letters after "it" (1 to 4 slots).
SHAPES = tuple("".join(p) for n in range(4) for p in itertools.product("te", repeat=n))
assert len(SHAPES) == 15

# The registers whose values the cases compare (everything Unicorn gives for ARM32 user
# code): r0-r12, sp, lr, pc, cpsr.
_REG_IDS = [getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)] + [
    A.UC_ARM_REG_SP, A.UC_ARM_REG_LR, A.UC_ARM_REG_PC, A.UC_ARM_REG_CPSR]
CPSR_INDEX = 16
T_BIT = 1 << 5


# --------------------------------------------------------------------------- the model

def passes(cond: int, nzcv: int) -> bool:
    """ARM ARM A8.3 table, spelled out per condition (independent of armdbg.isa)."""
    n, z, c, v = (nzcv >> 3) & 1, (nzcv >> 2) & 1, (nzcv >> 1) & 1, nzcv & 1
    table = {
        0: z == 1, 1: z == 0, 2: c == 1, 3: c == 0, 4: n == 1, 5: n == 0,
        6: v == 1, 7: v == 0, 8: c == 1 and z == 0, 9: c == 0 or z == 1,
        10: n == v, 11: n != v, 12: z == 0 and n == v, 13: z == 1 or n != v,
    }
    return table[cond]


def add_with_carry(x: int, y: int, carry: int) -> tuple[int, int, int]:
    """ARM ARM A2.2.1 AddWithCarry: (result, carry_out, overflow)."""
    def signed(a: int) -> int:
        return a - (1 << 32) if a & 0x80000000 else a

    unsigned_sum = x + y + carry
    signed_sum = signed(x) + signed(y) + carry
    result = unsigned_sum & M32
    return result, int(result != unsigned_sum), int(signed(result) != signed_sum)


@dataclass
class State:
    r: list[int]
    nzcv: int

    @property
    def c(self) -> int:
        return (self.nzcv >> 1) & 1

    def set_nz(self, result: int) -> None:
        n = result >> 31
        z = int(result == 0)
        self.nzcv = (n << 3) | (z << 2) | (self.nzcv & 0b0011)

    def set_nzcv(self, result: int, c: int, v: int) -> None:
        self.nzcv = ((result >> 31) << 3) | (int(result == 0) << 2) | (c << 1) | v


@dataclass(frozen=True)
class Slot:
    """One instruction inside the block: its text (with the slot's condition) and model."""

    text: str
    size: int
    effect: Callable[[State], None]
    sets_flags: bool


def _slot_factories() -> list[Callable[[random.Random, str], Slot]]:
    """Instruction templates: each returns a Slot for a condition suffix."""
    regs = (0, 1, 2, 3)

    def add_imm(rng: random.Random, cc: str) -> Slot:
        d, i = rng.choice(regs), rng.randrange(256)

        def effect(s: State) -> None:
            s.r[d] = (s.r[d] + i) & M32
        return Slot(f"add{cc} r{d}, #{i}", 2, effect, False)

    def sub_imm(rng: random.Random, cc: str) -> Slot:
        d, i = rng.choice(regs), rng.randrange(256)

        def effect(s: State) -> None:
            s.r[d] = (s.r[d] - i) & M32
        return Slot(f"sub{cc} r{d}, #{i}", 2, effect, False)

    def mov_imm(rng: random.Random, cc: str) -> Slot:
        d, i = rng.choice(regs), rng.randrange(256)

        def effect(s: State) -> None:
            s.r[d] = i
        return Slot(f"mov{cc} r{d}, #{i}", 2, effect, False)

    def add_reg(rng: random.Random, cc: str) -> Slot:
        d, n, m = rng.choice(regs), rng.choice(regs), rng.choice(regs)

        def effect(s: State) -> None:
            s.r[d] = (s.r[n] + s.r[m]) & M32
        return Slot(f"add{cc} r{d}, r{n}, r{m}", 2, effect, False)

    def sub_reg(rng: random.Random, cc: str) -> Slot:
        d, n, m = rng.choice(regs), rng.choice(regs), rng.choice(regs)

        def effect(s: State) -> None:
            s.r[d] = (s.r[n] - s.r[m]) & M32
        return Slot(f"sub{cc} r{d}, r{n}, r{m}", 2, effect, False)

    def lsl_imm(rng: random.Random, cc: str) -> Slot:
        d, m, sh = rng.choice(regs), rng.choice(regs), rng.randrange(1, 32)

        def effect(s: State) -> None:
            s.r[d] = (s.r[m] << sh) & M32
        return Slot(f"lsl{cc} r{d}, r{m}, #{sh}", 2, effect, False)

    def eor_reg(rng: random.Random, cc: str) -> Slot:
        d, m = rng.choice(regs), rng.choice(regs)

        def effect(s: State) -> None:
            s.r[d] ^= s.r[m]
        return Slot(f"eor{cc} r{d}, r{m}", 2, effect, False)

    def adc_reg(rng: random.Random, cc: str) -> Slot:
        # 16-bit ADC inside a block: reads C, sets nothing.
        d, m = rng.choice(regs), rng.choice(regs)

        def effect(s: State) -> None:
            s.r[d] = (s.r[d] + s.r[m] + s.c) & M32
        return Slot(f"adc{cc} r{d}, r{m}", 2, effect, False)

    def cmp_imm(rng: random.Random, cc: str) -> Slot:
        n, i = rng.choice(regs), rng.randrange(256)

        def effect(s: State) -> None:
            s.set_nzcv(*add_with_carry(s.r[n], ~i & M32, 1))
        return Slot(f"cmp{cc} r{n}, #{i}", 2, effect, True)

    def cmp_reg(rng: random.Random, cc: str) -> Slot:
        n, m = rng.sample(regs, 2)

        def effect(s: State) -> None:
            s.set_nzcv(*add_with_carry(s.r[n], ~s.r[m] & M32, 1))
        return Slot(f"cmp{cc} r{n}, r{m}", 2, effect, True)

    def cmn_reg(rng: random.Random, cc: str) -> Slot:
        n, m = rng.choice(regs), rng.choice(regs)

        def effect(s: State) -> None:
            s.set_nzcv(*add_with_carry(s.r[n], s.r[m], 0))
        return Slot(f"cmn{cc} r{n}, r{m}", 2, effect, True)

    def tst_reg(rng: random.Random, cc: str) -> Slot:
        n, m = rng.choice(regs), rng.choice(regs)

        def effect(s: State) -> None:
            s.set_nz(s.r[n] & s.r[m])  # C and V unchanged (no shift)
        return Slot(f"tst{cc} r{n}, r{m}", 2, effect, True)

    def adds_w(rng: random.Random, cc: str) -> Slot:
        d, n, i = rng.choice(regs), rng.choice(regs), rng.randrange(256)

        def effect(s: State) -> None:
            result, c, v = add_with_carry(s.r[n], i, 0)
            s.r[d] = result
            s.set_nzcv(result, c, v)
        return Slot(f"adds{cc}.w r{d}, r{n}, #{i}", 4, effect, True)

    def subs_w(rng: random.Random, cc: str) -> Slot:
        d, n, i = rng.choice(regs), rng.choice(regs), rng.randrange(256)

        def effect(s: State) -> None:
            result, c, v = add_with_carry(s.r[n], ~i & M32, 1)
            s.r[d] = result
            s.set_nzcv(result, c, v)
        return Slot(f"subs{cc}.w r{d}, r{n}, #{i}", 4, effect, True)

    return [add_imm, sub_imm, mov_imm, add_reg, sub_reg, lsl_imm, eor_reg, adc_reg,
            cmp_imm, cmp_reg, cmn_reg, tst_reg, adds_w, subs_w]


FACTORIES = _slot_factories()
FLAG_SETTERS = [f for f in FACTORIES if f(random.Random(0), "eq").sets_flags]

# After the block: branches and arithmetic that depend on the flags it left.
TAIL = """\
bgt skip_a
adds r7, #4
skip_a:
adcs r6, r1
bvs skip_b
adds r7, #1
skip_b:
mrs r5, apsr
str r0, [r4]
str r1, [r4, #4]
str r2, [r4, #8]
str r3, [r4, #12]
str r6, [r4, #16]
str r7, [r4, #20]
nop
"""
# Sizes of the tail's instructions (all 16-bit but mrs), up to the final nop.
TAIL_SIZES = (2, 2, 2, 2, 2, 4, 2, 2, 2, 2, 2, 2)
INTERESTING = (0, 1, 2, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE)


def run_tail(s: State, start: int) -> list[int]:
    """Run the tail on the model; return the PC after each of its instructions."""
    at = [start]
    for size in TAIL_SIZES:
        at.append(at[-1] + size)
    _bgt, adds4, adcs, bvs, adds1, mrs = at[:6]
    trace = []
    if passes(12, s.nzcv):                  # bgt skip_a
        trace.append(adcs)
    else:
        trace += [adds4, adcs]
        s.r[7], c, v = add_with_carry(s.r[7], 4, 0)
        s.set_nzcv(s.r[7], c, v)
    s.r[6], c, v = add_with_carry(s.r[6], s.r[1], s.c)   # adcs r6, r1
    s.set_nzcv(s.r[6], c, v)
    trace.append(bvs)
    if passes(6, s.nzcv):                   # bvs skip_b
        trace.append(mrs)
    else:
        trace += [adds1, mrs]
        s.r[7], c, v = add_with_carry(s.r[7], 1, 0)
        s.set_nzcv(s.r[7], c, v)
    s.r[5] = s.nzcv << 28                   # mrs r5, apsr (NZCV part)
    trace += at[6:]                         # mrs, then the stores, up to the final nop
    return trace


@dataclass
class Case:
    cond: int
    shape: str
    nzcv: int
    address: int
    slots: list[Slot]
    regs: list[int]
    code: bytes = b""
    it_value: int = 0                       # firstcond:mask, computed here independently
    slot_conds: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"it{self.shape} {COND_NAMES[self.cond]} nzcv={self.nzcv:04b}"

    @property
    def end(self) -> int:
        return self.address + len(self.code) - 2  # the final nop

    def expected(self) -> tuple[list[int], int, bytes, list[int]]:
        """The model's r0-r7, NZCV, stored words, and PC after each instruction."""
        s = State(list(self.regs), self.nzcv)
        trace = [self.address + 2]
        for cond, slot in zip(self.slot_conds, self.slots):
            if passes(cond, s.nzcv):
                slot.effect(s)
            trace.append(trace[-1] + slot.size)
        trace += run_tail(s, trace[-1])
        stored = b"".join(s.r[i].to_bytes(4, "little") for i in (0, 1, 2, 3, 6, 7))
        return s.r, s.nzcv, stored, trace


def it_encoding(cond: int, shape: str) -> int:
    """firstcond:mask as ARM ARM A8.8.54 builds it: t -> firstcond[0], e -> its inverse."""
    mask = 0
    for index, letter in enumerate(shape):
        bit = cond & 1 if letter == "t" else (cond & 1) ^ 1
        mask |= bit << (3 - index)
    mask |= 1 << (3 - len(shape))
    return (cond << 4) | mask


def make_case(cond: int, shape: str, nzcv: int, number: int) -> Case:
    rng = random.Random(number * 7919 + 17)
    conds = [cond] + [cond if letter == "t" else cond ^ 1 for letter in shape]
    suffixes = [COND_NAMES[c] for c in conds]
    slots = [rng.choice(FACTORIES)(rng, cc) for cc in suffixes]
    if len(slots) > 1 and not any(s.sets_flags for s in slots[:-1]) and rng.random() < 0.6:
        # Make a flag change inside the block visible to a later slot.
        where = rng.randrange(len(slots) - 1)
        slots[where] = rng.choice(FLAG_SETTERS)(rng, suffixes[where])
    regs = [rng.choice(INTERESTING) if rng.random() < 0.5 else rng.getrandbits(32)
            for _ in range(4)]
    regs += [DATA_BASE, 0, rng.getrandbits(32), rng.randrange(16)]
    case = Case(cond, shape, nzcv, CODE_BASE + number * CASE_STRIDE, slots, regs,
                slot_conds=conds)
    source = f"it{shape} {COND_NAMES[cond]}\n" + "\n".join(s.text for s in slots) + "\n" + TAIL
    case.code = assemble(source, case.address, True)
    case.it_value = it_encoding(cond, shape)
    size = 2 + sum(s.size for s in slots) + sum(TAIL_SIZES) + 2
    assert len(case.code) == size, f"{case.name}: Keystone chose other sizes:\n{source}"
    return case


# --------------------------------------------------------------------------- running

@dataclass(frozen=True)
class Outcome:
    registers: tuple[int, ...]
    data: bytes

    def describe(self) -> str:
        names = [f"r{i}" for i in range(13)] + ["sp", "lr", "pc", "cpsr"]
        return " ".join(f"{n}={v:#x}" for n, v in zip(names, self.registers))


def outcome(machine: Machine) -> Outcome:
    registers = tuple(int(v) for v in machine.uc.reg_read_batch(_REG_IDS))
    return Outcome(registers, machine.read_memory(DATA_BASE, DATA_SIZE))


def prepare(machine: Machine, case: Case) -> None:
    machine.write_memory(DATA_BASE, bytes(DATA_SIZE))
    values = [*case.regs, 0, 0, 0, 0, 0]          # r0-r7 from the case, r8-r12 zero
    machine.uc.reg_write_batch(list(zip(_REG_IDS[:13], values)))
    machine.set_pc(case.address, thumb=True)
    cpsr = machine.cpsr & 0x0FFFFFFF & ~((0x3 << 25) | (0x3F << 10))
    machine.cpsr = cpsr | (case.nzcv << 28) | T_BIT


@pytest.fixture(scope="module")
def machine() -> Machine:
    return Machine()


def check_case(machine: Machine, case: Case, number: int) -> None:
    assert case.code[0:2] == (0xBF00 | case.it_value).to_bytes(2, "little"), case.name
    machine.write_memory(case.address, case.code)

    # (a) straight through.
    prepare(machine, case)
    stop = machine.run(until=case.end)
    assert stop.reason is StopReason.UNTIL and stop.pc == case.end and stop.thumb, case.name
    straight = outcome(machine)

    # The independent model agrees with (a).
    regs, nzcv, stored, trace = case.expected()
    assert trace[-1] == case.end
    got = list(straight.registers[:8])
    got[5] &= 0xF0000000  # mrs also copies the mode and mask bits; the model has NZCV
    assert got == regs, f"{case.name}: {straight.describe()}"
    assert straight.registers[CPSR_INDEX] >> 28 == nzcv, case.name
    assert straight.data == stored, case.name

    # (b) step by step, checking ITSTATE, step granularity and Thumb state.
    prepare(machine, case)
    it0 = itstate_from_it_instruction(int.from_bytes(case.code[:2], "little"))
    assert it0 == case.it_value
    snapshots = []
    steps = 0
    predicted = 0
    while machine.pc != case.end:
        snapshots.append((machine.uc.context_save(),
                          machine.read_memory(DATA_BASE, DATA_SIZE)))
        assert steps < len(trace), f"{case.name}: stepping does not reach the end"
        stop = machine.step()
        steps += 1
        assert stop.reason is StopReason.STEP, f"{case.name}: {stop}"
        assert machine.thumb and stop.thumb, f"{case.name}: left Thumb state at step {steps}"
        # Exactly one instruction per step: each slot (condition-failed ones too), and
        # each branch of the tail, taken or not.
        assert machine.pc == stop.pc == trace[steps - 1], \
            f"{case.name}: step {steps} stopped at {machine.pc:#x}, " \
            f"want {trace[steps - 1]:#x}"
        itstate = itstate_from_cpsr(machine.cpsr)
        if steps <= len(case.slots) + 1:
            predicted = it0 if steps == 1 else advance(predicted)
            assert itstate == predicted, \
                f"{case.name}: IT bits {itstate:#04x} after step {steps}, want {predicted:#04x}"
            if steps <= len(case.slots):
                assert current_condition(itstate) == case.slot_conds[steps - 1], case.name
            else:
                assert itstate == 0, case.name
        else:
            assert itstate == 0, f"{case.name}: IT bits {itstate:#04x} after the block"
    assert steps == len(trace), case.name
    stepped = outcome(machine)
    assert stepped == straight, f"{case.name}\n step: {stepped.describe()}\n run:  " \
                                f"{straight.describe()}"

    # (c) resume with run() from every stop of (b): the exact saved CPU state.
    for index, (context, data) in enumerate(snapshots[1:], 1):
        machine.uc.context_restore(context)
        machine.write_memory(DATA_BASE, data)
        stop = machine.run(until=case.end)
        assert stop.reason is StopReason.UNTIL and stop.thumb, case.name
        resumed = outcome(machine)
        assert resumed == straight, f"{case.name}: resumed after {index} steps\n " \
                                    f"{resumed.describe()}\n {straight.describe()}"

    # (c') the literal sequence on a covering sample: step i times from the start,
    # then run (no snapshots involved).
    if number % 7 == 0:
        for index in range(1, len(case.slots) + 2):
            prepare(machine, case)
            for _ in range(index):
                assert machine.step().reason is StopReason.STEP
            stop = machine.run(until=case.end)
            assert stop.reason is StopReason.UNTIL, case.name
            assert outcome(machine) == straight, f"{case.name}: step {index} then run"


def _numbered() -> dict[int, list[tuple[int, str, int, int]]]:
    by_cond: dict[int, list[tuple[int, str, int, int]]] = {c: [] for c in range(14)}
    number = 0
    for cond in range(14):
        for shape in SHAPES:
            for nzcv in range(16):
                by_cond[cond].append((cond, shape, nzcv, number))
                number += 1
    return by_cond


CASES_BY_COND = _numbered()


def test_it_encoding_matches_known_listings() -> None:
    # Encodings as objdump prints them for gcc output (bf08 "it eq", bf1c "itt ne", ...).
    assert it_encoding(0, "") == 0x08
    assert it_encoding(1, "") == 0x18
    assert it_encoding(0, "e") == 0x0C
    assert it_encoding(1, "e") == 0x14
    assert it_encoding(0, "t") == 0x04
    assert it_encoding(1, "t") == 0x1C
    assert it_encoding(0, "ete") == 0x0B   # itete eq (unicorn-notes.md)


def test_model_matches_known_flag_results() -> None:
    # Hand-checked AddWithCarry values (ARM ARM examples of cmp/adds).
    assert add_with_carry(0x7FFFFFFF, 1, 0) == (0x80000000, 0, 1)
    assert add_with_carry(0xFFFFFFFF, 1, 0) == (0, 1, 0)
    assert add_with_carry(5, ~5 & M32, 1) == (0, 1, 0)        # cmp 5, 5: Z C
    assert add_with_carry(3, ~5 & M32, 1) == (0xFFFFFFFE, 0, 0)  # cmp 3, 5: N
    assert add_with_carry(0x80000000, ~1 & M32, 1) == (0x7FFFFFFF, 1, 1)


@pytest.mark.parametrize("cond", range(14), ids=COND_NAMES)
def test_it_blocks_run_step_and_resume_agree(machine: Machine, cond: int) -> None:
    for cond_, shape, nzcv, number in CASES_BY_COND[cond]:
        case = make_case(cond_, shape, nzcv, number)
        check_case(machine, case, number)


def test_literal_resume_sample_covers_every_dimension() -> None:
    sample = [(cond, shape, nzcv) for cases in CASES_BY_COND.values()
              for cond, shape, nzcv, number in cases if number % 7 == 0]
    assert {cond for cond, _, _ in sample} == set(range(14))
    assert {shape for _, shape, _ in sample} == set(SHAPES)
    assert {nzcv for _, _, nzcv in sample} == set(range(16))
