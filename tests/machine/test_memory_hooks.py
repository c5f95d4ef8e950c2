"""Memory hooks inside Thumb IT blocks: the unicorn #2309 workaround.

Unicorn 2.1.4 syncs the accessing instruction's CPU state, ITSTATE included, for a
memory hook and never clears that ITSTATE, so the code reached by the next branch runs
as if still inside the IT block (tests/machine/test_machine.py pins the raw behaviour).
Machine._add_access_hook, under every memory hook armdbg installs, clears the IT bits
once the hook has run.  Checked here:

* what a hook sees: the accessing slot's own ITSTATE, for every hook of an access;
* a generated differential over every IT mask shape, several base conditions and
  flag states, with loads, stores and LDM in the slots: a run with an unbounded read and
  write hook ends in exactly the state of a run without hooks, and so does stepping
  through with the hook (with the IT bits after each step as armdbg.isa.itstate
  predicts); raw Unicorn with the same hook gets a share of the cases wrong, so the
  cases do exercise the bug;
* the corners of the workaround: a block split across a page (so across translation
  blocks), an access the wrapper filters out, a trap and a fault after a hooked access
  in the same block;
* the C fixture programs (Thumb and ARM builds) under an unbounded read+write hook:
  exact console output and exit status, with hooked accesses inside IT blocks.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
import unicorn
from unicorn import arm_const as A

from armdbg.commands.context import Output
from armdbg.isa.asm import assemble
from armdbg.isa.disasm import decode_many
from armdbg.isa.itstate import advance, itstate_from_cpsr, itstate_from_it_instruction
from armdbg.machine.loaders import load_elf
from armdbg.machine.machine import Machine, MemoryAccess
from armdbg.machine.stops import StopEvent, StopReason
from armdbg.machine.traps import TrapSite
from armdbg.session import Session

CODE = 0x80010000            # inside the default "text" region
STRIDE = 0x80
DATA = 0x80200000            # the default "data" region
UNMAPPED = 0x10000000
T_BIT, MODE_SVC = 1 << 5, 0x13
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

COND_NAMES = ("eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt",
              "le")
SHAPES = tuple("".join(p) for n in range(4) for p in itertools.product("te", repeat=n))
# Slot instructions ({c}: the slot's condition).  r1 is stored, r2 is the data base.
SLOT_OPS = ("str{c} r1, [r2, #4]", "ldr{c} r3, [r2, #8]", "ldm{c} r2, {{r5, r6}}",
            "strh{c} r1, [r2, #12]", "add{c} r4, #1", "ldrb{c} r3, [r2, #1]")
# After the block, by a branch (a new translation block): flag-setting adds that a
# stale ITSTATE would turn into condition-failed (skipped) slots.
AFTER = "b 1f\nnop\n1:\nadds r7, #1\nadds r7, #2\nmovs r0, #3\nadds r7, #4\nnop"


def it_bits(machine: Machine) -> int:
    return itstate_from_cpsr(machine.cpsr)


def state(machine: Machine) -> tuple[dict[str, int], bytes]:
    return machine.registers(), machine.read_memory(DATA, 32)


@dataclass(frozen=True)
class Case:
    shape: str
    cond: str
    nzcv: int
    slots: tuple[str, ...]

    def source(self) -> str:
        index = COND_NAMES.index(self.cond)
        inverse = COND_NAMES[index ^ 1]
        conds = [self.cond] + [self.cond if letter == "t" else inverse for letter in self.shape]
        body = "\n".join(op.format(c=c) for op, c in zip(self.slots, conds))
        return f"it{self.shape} {self.cond}\n{body}\n{AFTER}"


def cases() -> list[Case]:
    rng = random.Random(2309)
    out = []
    for shape in SHAPES:
        for cond in ("eq", "ne", "cs", "mi", "hi", "ge", "lt", "gt"):
            for nzcv in (0b0100, 0b1000, 0b0010, 0b0001):
                slots = [rng.choice(SLOT_OPS) for _ in range(len(shape) + 1)]
                if all(op.startswith("add") for op in slots):
                    slots[0] = SLOT_OPS[0]
                out.append(Case(shape, cond, nzcv, tuple(slots)))
    return out


CASES = cases()


def prepare(machine: Machine, case: Case, at: int) -> tuple[list[int], int]:
    """Place the case at ``at``; return its instruction addresses and the last one."""
    code = assemble(case.source(), at, True)
    machine.write_memory(at, code)
    machine.write_memory(DATA, bytes(range(0x40, 0x60)))
    for number in range(13):
        machine.write_register(f"r{number}", 0)
    machine.write_register("r1", 0x1234ABCD)
    machine.write_register("r2", DATA)
    machine.cpsr = (case.nzcv << 28) | T_BIT | MODE_SVC
    machine.set_pc(at, True)
    addresses = [insn.address for insn in decode_many(code, at, True)]
    return addresses, addresses[-1]


def run_case(machine: Machine, case: Case, at: int) -> tuple[dict[str, int], bytes]:
    _, end = prepare(machine, case, at)
    stop = machine.run(until=end, timeout=30)
    assert stop.reason is StopReason.UNTIL, (case, stop)
    return state(machine)


def unbounded(machine: Machine, seen: list[MemoryAccess]) -> int:
    return machine.add_memory_hook(0, 0, lambda _m, access: seen.append(access),
                                   reads=True, writes=True)


# ------------------------------------------------------------------ what a hook sees

def test_each_hook_of_an_access_sees_the_slots_own_itstate() -> None:
    machine = Machine()
    source = ("cmp r0, r0\nitete eq\nstreq r1, [r2]\nstrne r1, [r2, #4]\n"
              "ldmeq r2, {r3, r4}\nmovne r5, #1\nnop")
    at = [insn.address for insn in decode_many(assemble(source, CODE, True), CODE, True)]
    machine.write_memory(CODE, assemble(source, CODE, True))
    machine.write_register("r2", DATA)
    first, second, bounded = [], [], []
    unbounded(machine, first)
    unbounded(machine, second)
    machine.add_memory_hook(DATA, DATA + 8, lambda _m, access: bounded.append(access),
                            reads=True)
    machine.set_pc(CODE, True)
    assert machine.run(until=at[-1]).reason is StopReason.UNTIL
    it_value = itstate_from_it_instruction(
        int.from_bytes(machine.read_memory(at[1], 2), "little"))
    slot1, slot3 = it_value, advance(advance(it_value))
    # streq in slot 1; ldmeq (two words) in slot 3; the ne slots do not execute.
    want = [(True, DATA, at[2], slot1), (False, DATA, at[4], slot3),
            (False, DATA + 4, at[4], slot3)]
    for seen in (first, second, bounded):
        assert [(a.write, a.address, a.pc, itstate_from_cpsr(a.cpsr)) for a in seen] == want
    assert it_bits(machine) == 0 and machine.read_register("r5") == 0


# ------------------------------------------------------------------ the differential

def test_cases_cover_every_shape_and_the_bug() -> None:
    """The generated cases trip raw Unicorn with the same (empty) unbounded hook, so
    the differential below would see #2309 if the workaround failed."""
    assert {case.shape for case in CASES} == set(SHAPES)
    baseline, broken = Machine(), 0
    for number, case in enumerate(CASES):
        at = CODE + number * STRIDE
        want = run_case(baseline, case, at)
        code = assemble(case.source(), at, True)
        uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_ARM)
        uc.mem_map(0x80000000, 0x200000)
        uc.mem_map(DATA, 0x1000)
        uc.mem_write(at, code)
        uc.mem_write(DATA, bytes(range(0x40, 0x60)))
        uc.reg_write(A.UC_ARM_REG_R1, 0x1234ABCD)
        uc.reg_write(A.UC_ARM_REG_R2, DATA)
        uc.reg_write(A.UC_ARM_REG_CPSR, (case.nzcv << 28) | T_BIT | MODE_SVC)
        uc.hook_add(unicorn.UC_HOOK_MEM_READ | unicorn.UC_HOOK_MEM_WRITE, lambda *_: None)
        uc.emu_start(at | 1, at + len(code) - 2)
        if uc.reg_read(A.UC_ARM_REG_R7) != want[0]["r7"]:
            broken += 1
    assert broken > len(CASES) // 4, f"raw Unicorn got only {broken} cases wrong"


def test_runs_with_an_unbounded_hook_match_runs_without() -> None:
    baseline, hooked = Machine(), Machine()
    seen: list[MemoryAccess] = []
    unbounded(hooked, seen)
    in_blocks = 0
    for number, case in enumerate(CASES):
        at = CODE + number * STRIDE
        seen.clear()
        want = run_case(baseline, case, at)
        assert run_case(hooked, case, at) == want, case
        assert want[0]["r7"] == 7 and want[0]["r0"] == 3
        in_blocks += sum(1 for access in seen if itstate_from_cpsr(access.cpsr))
    assert in_blocks > len(CASES)


def test_stepping_with_an_unbounded_hook_matches_and_tracks_itstate() -> None:
    baseline, hooked = Machine(), Machine()
    unbounded(hooked, [])
    for number, case in enumerate(CASES[::3]):
        at = CODE + number * STRIDE
        want = run_case(baseline, case, at)
        addresses, end = prepare(hooked, case, at)
        it_value = itstate_from_it_instruction(
            int.from_bytes(hooked.read_memory(at, 2), "little"))
        expected = [it_value]
        while len(expected) <= len(case.shape):
            expected.append(advance(expected[-1]))
        steps = 0
        while hooked.pc != end:
            assert hooked.step().reason is StopReason.STEP, case
            steps += 1
            if steps <= len(expected):
                assert (hooked.pc, it_bits(hooked)) == (addresses[steps], expected[steps - 1]), \
                    (case, steps)
            assert hooked.thumb
        assert it_bits(hooked) == 0
        assert state(hooked) == want, case


# ------------------------------------------------------------------ corners

def test_a_block_split_across_pages() -> None:
    # The page ends after the first slot: Unicorn ends the translation block inside
    # the IT block and starts the next one with the block's ITSTATE.
    source = "itete eq\nstreq r1, [r2, #4]\nstrne r1, [r2, #8]\naddeq r4, #1\naddne r4, #2\n" \
             + AFTER
    for z_flag in (0b0100, 0b0000):
        results = []
        for hook in (False, True):
            machine = Machine()
            at = 0x80011000 - 4  # the IT instruction and the first slot on the first page
            code = assemble(source, at, True)
            machine.write_memory(at, code)
            machine.write_register("r1", 7)
            machine.write_register("r2", DATA)
            machine.cpsr = (z_flag << 28) | T_BIT | MODE_SVC
            machine.set_pc(at, True)
            if hook:
                unbounded(machine, [])
            end = at + len(code) - 2
            assert machine.run(until=end).reason is StopReason.UNTIL
            results.append(state(machine))
        assert results[0] == results[1]
        assert results[1][0]["r4"] == (1 if z_flag else 2) and results[1][0]["r7"] == 7


def test_an_access_filtered_out_by_the_wrapper_still_clears_the_it_bits() -> None:
    # A hook on [DATA+8, DATA+12) is installed from DATA+1 (Unicorn matches a range on
    # an access's first byte only); a store to DATA+4 reaches the wrapper, which drops
    # it -- after Unicorn synced the ITSTATE for it.
    machine = Machine()
    source = "cmp r0, r0\nite eq\nstreq r1, [r2, #4]\nmovne r3, #1\nb 1f\nnop\n1:\n" \
             "movs r5, #9\nmovs r6, #3\nnop"
    code = assemble(source, CODE, True)
    machine.write_memory(CODE, code)
    machine.write_register("r2", DATA)
    seen: list[MemoryAccess] = []
    machine.add_memory_hook(DATA + 8, DATA + 12, lambda _m, access: seen.append(access))
    machine.set_pc(CODE, True)
    assert machine.run(until=CODE + len(code) - 2).reason is StopReason.UNTIL
    assert seen == []
    assert [machine.read_register(r) for r in ("r3", "r5", "r6")] == [0, 9, 3]


class StopHere:
    def on_trap(self, machine: Machine, site: TrapSite) -> StopEvent:
        return StopEvent(StopReason.BREAKPOINT, site.address, site.thumb, trap_owner=self)


def test_a_trap_later_in_the_block_stops_with_the_block_state() -> None:
    machine = Machine()
    source = "cmp r0, r0\nittet eq\nstreq r1, [r2]\naddeq r4, #1\naddne r4, #2\n" \
             "addeq r4, #4\n" + AFTER
    code = assemble(source, CODE, True)
    at = [insn.address for insn in decode_many(code, CODE, True)]
    machine.write_memory(CODE, code)
    machine.write_register("r2", DATA)
    unbounded(machine, [])
    machine.insert_trap(at[3], True, StopHere())          # "addeq r4, #1", slot 2
    machine.set_pc(CODE, True)
    stop = machine.run(until=at[-1])
    assert (stop.reason, stop.pc) == (StopReason.BREAKPOINT, at[3])
    it_value = itstate_from_it_instruction(int.from_bytes(code[2:4], "little"))
    assert it_bits(machine) == advance(it_value)
    machine.remove_trap(at[3])
    assert machine.run(until=at[-1]).reason is StopReason.UNTIL
    assert machine.read_register("r4") == 5 and machine.read_register("r7") == 7


def test_a_fault_later_in_the_block_stops_with_the_block_state_and_resumes() -> None:
    machine = Machine()
    source = "cmp r0, r0\nittt eq\nstreq r1, [r2]\nldreq r3, [r5]\naddeq r4, #1\n" + AFTER
    code = assemble(source, CODE, True)
    at = [insn.address for insn in decode_many(code, CODE, True)]
    machine.write_memory(CODE, code)
    machine.write_register("r2", DATA)
    machine.write_register("r5", UNMAPPED)
    unbounded(machine, [])
    machine.set_pc(CODE, True)
    stop = machine.run(until=at[-1])
    assert (stop.signal, stop.pc, stop.fault_address) == ("SIGSEGV", at[3], UNMAPPED)
    it_value = itstate_from_it_instruction(int.from_bytes(code[2:4], "little"))
    assert it_bits(machine) == advance(it_value)
    machine.map_region("late", UNMAPPED, 0x1000, "rw")
    machine.write_u32(UNMAPPED, 0x55)
    assert machine.run(until=at[-1]).reason is StopReason.UNTIL
    assert [machine.read_register(r) for r in ("r3", "r4", "r7", "r0")] == [0x55, 1, 7, 3]


# ------------------------------------------------------------------ whole programs

@pytest.mark.parametrize("elf", ["hello-thumb", "sort-thumb", "calls-thumb", "hello-arm",
                                 "sort-arm"])
def test_fixture_under_an_unbounded_read_and_write_hook(elf: str, tmp_path: Path) -> None:
    out = Output()
    session = Session(out, cwd=tmp_path)
    session.load(load_elf(FIXTURES / f"{elf}.elf"))
    seen: list[MemoryAccess] = []
    unbounded(session.machine, seen)
    for _ in range(100):
        stop = session.machine.run(timeout=120)
        if stop.reason is StopReason.EXITED:
            break
        assert stop.reason not in (StopReason.SIGNAL, StopReason.TIMEOUT), stop.description
    name = elf.rsplit("-", 1)[0]
    assert out.text() == (FIXTURES / f"{name}.expected").read_text()
    assert stop.exit_code == int((FIXTURES / f"{name}.status").read_text())
    assert len(seen) > 1000
    # Even the ARM builds start in Thumb crt0 code with IT blocks.
    assert any(itstate_from_cpsr(access.cpsr) for access in seen)


# ------------------------------------------------------------------ after a stop request

def test_after_a_stop_request_every_hook_still_sees_each_access() -> None:
    # Unicorn calls only the first hook in range once a stop is requested, and in an IT
    # block it runs on past the stop: a journal hook added by the stopping hook (as
    # runcontrol does for watchpoints) must still see the store after the block, even
    # behind an unbounded hook and a bounded one on the same address.
    machine = Machine()
    source = "cmp r0, r0\nitt eq\nstreq r1, [r2]\naddeq r4, #1\nstr r1, [r2, #8]\nnop"
    code = assemble(source, CODE, True)
    machine.write_memory(CODE, code)
    machine.write_register("r1", 0x55)
    machine.write_register("r2", DATA)
    first: list[int] = []
    machine.add_memory_hook(0, 0, lambda _m, a: first.append(a.address), reads=True)
    other: list[int] = []
    machine.add_memory_hook(DATA + 8, DATA + 12, lambda _m, a: other.append(a.address))
    journal: list[int] = []

    def watch(m: Machine, access: MemoryAccess) -> None:
        m.add_memory_hook(0, 0, lambda _m, a: journal.append(a.address))
        m.request_stop(StopEvent(StopReason.WATCHPOINT, access.pc, True))

    machine.add_memory_hook(DATA, DATA + 4, watch)
    machine.set_pc(CODE, True)
    stop = machine.run(until=CODE + len(code) - 2)
    assert stop.reason is StopReason.WATCHPOINT
    # Unicorn ran on to the next access outside the block: the store after it, done.
    assert machine.pc == CODE + 8 and machine.read_register("r4") == 1
    assert machine.read_u32(DATA + 8) == 0x55
    assert first == [DATA, DATA + 8] and other == [DATA + 8] and journal == [DATA + 8]
