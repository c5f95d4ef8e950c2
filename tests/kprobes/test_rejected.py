"""What kprobes refuse to probe, and that a refusal leaves no trace.

Every rejecting entry of the three decode tables (ARM, 16-bit and 32-bit Thumb), every
register-constraint and stack-use rejection found in the accepting entries, and the
address checks (alignment, instruction boundary, blacklist, executable memory): each
must make KprobeManager.register raise KprobeError with the kernel's errno name and the
decoder's sentence, write nothing to memory and register nothing.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from armdbg.events import EventBus
from armdbg.isa.asm import assemble
from armdbg.isa.disasm import thumb_is_wide
from armdbg.kprobes.core import Kprobe, KprobeError
from armdbg.kprobes.decode import Accept, Decision, Entry, Reject, Table, decode
from armdbg.kprobes.decode_arm import ARM_TABLE
from armdbg.kprobes.decode_thumb import T16_TABLE, T32_TABLE
from armdbg.kprobes.system import KprobeSystem
from armdbg.machine.layout import DATA, MODULES, VECTORS
from armdbg.machine.machine import Machine
from armdbg.machine.symbols import Symbol, SymbolTable

ARM_AREA = 0x80100000     # where rejected ARM words are written (text region, rwx)
THUMB_AREA = 0x80140000   # ... and Thumb ones
SAMPLES = 300             # random fillings of an entry's don't-care bits
SEED = 20240611


# --------------------------------------------------------------------------------------
# Finding an encoding for every rejection the tables can make.

@dataclass(frozen=True)
class Rejected:
    isa: str          # "arm", "t16", "t32"
    word: int         # as the kernel composes it (T32: first << 16 | second)
    decision: Decision
    source: str       # which entry (and which constraint) it stands for

    @property
    def data(self) -> bytes:
        return _data(self.isa, self.word)


Pattern = tuple[int, int]


def _leaves(entries: Sequence[Entry], path: str = "", parent: Pattern = (0, 0)
            ) -> Iterator[tuple[Entry, str, Pattern]]:
    """Every leaf entry, its path, and the pattern its enclosing tables impose."""
    for index, entry in enumerate(entries):
        if isinstance(entry.action, Table):
            mask, value = entry.patterns[0]
            inherited = (parent[0] | mask, parent[1] | value)
            yield from _leaves(entry.action.entries, f"{path}{index}.", inherited)
        else:
            yield entry, f"{path}{index}", parent


def _match(entries: Sequence[Entry], word: int) -> Entry | None:
    """The decode-table leaf the kernel's walk reaches for ``word`` (first match wins,
    sub-tables entered without backtracking)."""
    for entry in entries:
        if any(word & mask == value for mask, value in entry.patterns):
            if isinstance(entry.action, Table):
                return _match(entry.action.entries, word)
            return entry
    return None


def _valid(isa: str, word: int) -> bool:
    if isa == "t16":
        return not thumb_is_wide(word)
    if isa == "t32":
        return thumb_is_wide(word >> 16)
    return True


def _data(isa: str, word: int) -> bytes:
    """Memory bytes of ``word`` (a T32 word is stored first halfword first)."""
    if isa == "arm":
        return word.to_bytes(4, "little")
    if isa == "t16":
        return word.to_bytes(2, "little")
    return (word >> 16).to_bytes(2, "little") + (word & 0xFFFF).to_bytes(2, "little")


def _candidates(entry: Entry, parent: Pattern, rng: random.Random, bits: int
                ) -> Iterator[int]:
    full = (1 << bits) - 1
    for mask, value in entry.patterns:
        mask, value = mask | parent[0], value | parent[1]
        yield value
        yield value | (full & ~mask)
        for _ in range(SAMPLES):
            yield value | (rng.getrandbits(bits) & ~mask)


def _shape(why: str) -> str:
    """A rejection sentence with its numbers and register names generalised, so one
    example stands for each kind of refusal."""
    return re.sub(r"\b(R\d+|SP|LR|PC|\d+)\b", "#", why)


def rejections() -> list[Rejected]:
    rng = random.Random(SEED)
    found: dict[tuple[str, str], Rejected] = {}
    for isa, table, bits in (("arm", ARM_TABLE, 32), ("t16", T16_TABLE, 16),
                             ("t32", T32_TABLE, 32)):
        for entry, path, parent in _leaves(table):
            for word in _candidates(entry, parent, rng, bits):
                if not _valid(isa, word) or _match(table, word) is not entry:
                    continue
                decision = decode(_data(isa, word), isa != "arm")
                if decision.accepted:
                    continue
                action = entry.action
                if isinstance(action, Reject):
                    key = (isa, path)           # one example per rejecting entry
                    source = f"{isa} entry {path} ({action.klass})"
                else:
                    assert isinstance(action, Accept)
                    key = (isa, f"{path}:{_shape(decision.why)}")  # per constraint kind
                    source = f"{isa} entry {path} ({action.name}), constraint"
                found.setdefault(key, Rejected(isa, word, decision, source))
                if isinstance(entry.action, Reject):
                    break
    # Encodings no entry matches at all.
    for isa, table, bits in (("arm", ARM_TABLE, 32), ("t16", T16_TABLE, 16),
                             ("t32", T32_TABLE, 32)):
        for _ in range(20000):
            word = rng.getrandbits(bits)
            if isa == "t32":
                word |= 0xE8000000 | rng.choice((0, 0x08000000, 0x10000000))
            if _valid(isa, word) and _match(table, word) is None:
                decision = decode(_data(isa, word), isa != "arm")
                found.setdefault((isa, "unmatched"),
                                 Rejected(isa, word, decision, f"{isa}: no entry"))
                break
    return sorted(found.values(), key=lambda r: (r.isa, r.source, r.word))


REJECTED = rejections()


def _rejecting_entries(table: Sequence[Entry]) -> set[str]:
    return {path for entry, path, _ in _leaves(table) if isinstance(entry.action, Reject)}


# --------------------------------------------------------------------------------------
# The machine the refusals are tried on.

class Probing:
    def __init__(self) -> None:
        self.machine = Machine()
        # The two areas are functions as far as the symbol table goes: it is what tells
        # an ARM address from a Thumb one, as mapping symbols would in a loaded image.
        self.symbols = SymbolTable()
        self.symbols.add(Symbol("arm_area", ARM_AREA, 0x10000, False, "func"))
        self.symbols.add(Symbol("thumb_area", THUMB_AREA, 0x10000, True, "func"))
        self.system = KprobeSystem(self.machine, lambda: self.symbols, EventBus())
        self._next = {"arm": ARM_AREA, "thumb": THUMB_AREA}

    def place(self, data: bytes, thumb: bool) -> int:
        key = "thumb" if thumb else "arm"
        address = self._next[key]
        self._next[key] += 8
        self.machine.write_memory(address, data)
        return address

    def refuse(self, probe: Kprobe, address: int) -> KprobeError:
        """Register ``probe``, which must be refused without a trace around ``address``."""
        machine = self.machine
        kprobes = self.system.kprobes
        region = machine.region_of(address)
        start = max(address - 8, region.start) if region is not None else address
        window = machine.read_memory(start, 24) if region is not None else None
        traps = {site.address for site in machine.traps.sites()}
        before = (list(kprobes.probes), dict(kprobes.sites))
        with pytest.raises(KprobeError) as caught:
            kprobes.register(probe)
        if window is not None:
            assert machine.read_memory(start, 24) == window, "memory was written"
        assert {site.address for site in machine.traps.sites()} == traps
        assert (list(kprobes.probes), dict(kprobes.sites)) == before, "something registered"
        assert probe.id == 0 and probe.nhit == 0
        return caught.value


@pytest.fixture(scope="module")
def probing() -> Probing:
    return Probing()


# --------------------------------------------------------------------------------------
# The decoder's refusals.

@pytest.mark.parametrize("rejected", REJECTED,
                         ids=[f"{r.source} {r.word:08x}" for r in REJECTED])
def test_register_refuses_what_the_decoder_rejects(probing: Probing,
                                                   rejected: Rejected) -> None:
    thumb = rejected.isa != "arm"
    address = probing.place(rejected.data, thumb)
    err = probing.refuse(Kprobe(addr=address | int(thumb)), address)
    decision = rejected.decision
    assert err.errno == (decision.error or "EINVAL") == "EINVAL"
    assert err.why == decision.why
    assert re.fullmatch(r"\S.*\.", err.why), err.why  # one sentence, full stop
    assert str(err).startswith("Cannot probe ") and f"({address:#x})" in str(err)
    assert str(err).endswith(f": EINVAL: {decision.why}")


def test_every_rejecting_entry_has_an_example() -> None:
    """Each REJECT entry of each table (some only name unpredictable forms that a
    shadowing earlier entry already takes: none so far) is tried above."""
    for isa, table in (("arm", ARM_TABLE), ("t16", T16_TABLE), ("t32", T32_TABLE)):
        tried = {r.source.split()[2] for r in REJECTED if r.isa == isa and
                 "constraint" not in r.source}
        assert _rejecting_entries(table) <= tried, (isa, _rejecting_entries(table) - tried)
    # Register and stack constraints (16-bit Thumb entries have none that can fail).
    assert {r.isa for r in REJECTED if "constraint" in r.source} == {"arm", "t32"}
    # Encodings that fall off the end of a table.
    assert {r.isa for r in REJECTED if r.source.endswith("no entry")} == {"arm", "t16", "t32"}


# Readable examples, as the kernel test's TEST_UNSUPPORTED list: (isa, asm or word,
# klass the decoder gives, a word the sentence contains).  Words stand in where Keystone
# refuses the text (no SDIV, UNPREDICTABLE forms).
NAMED = [
    ("arm", "svc #0", "svc", "SVC"),
    ("arm", "bkpt #1", "bkpt", "BKPT"),
    ("arm", "msr cpsr_c, r0", "msr", "MSR"),
    ("arm", "mrs r0, spsr", "mrs", "SPSR"),
    ("arm", "ldrex r0, [r1]", "exclusive", "LDREX"),
    ("arm", "strex r0, r2, [r1]", "exclusive", "exclusive"),
    ("arm", "swp r0, r1, [r2]", "swp", "SWP"),
    ("arm", "mcr p15, #0, r0, c1, c0, #0", "coprocessor", "Coprocessor"),
    ("arm", "ldrt r0, [r1]", "unprivileged", "unprivileged"),
    ("arm", "movs pc, lr", "exception-return", "exception return"),
    ("arm", "ldm sp!, {r0, pc}^", "exception-return", "exception return"),
    ("arm", "cpsid i", "cps", "CPS"),
    ("arm", "setend be", "setend", "SETEND"),
    ("arm", "dmb sy", "barrier", "DMB"),
    ("arm", 0xE710F211, "divide", "SDIV"),            # sdiv r0, r1, r2
    ("arm", "add r0, r1, r2, lsl pc", "data-processing", "PC"),
    ("arm", 0xE5D1F000, "load-store", "Rt=PC"),       # ldrb pc, [r1]
    ("arm", "str r0, [sp, #-72]", "load-store", "72 bytes below SP"),
    ("arm", "strh r3, [sp, #-72]!", "load-store", "72 bytes below SP"),
    ("arm", "str r0, [sp, r1]", "load-store", "register offset"),
    ("arm", 0xE7F001F8, "undefined", "UNDEFINED"),     # the kprobe breakpoint itself
    ("t16", "svc #1", "svc", "SVC"),
    ("t16", "bkpt #0", "bkpt", "BKPT"),
    ("t16", "cpsie i", "cps", "CPS"),
    ("t16", "blx pc", "branch-exchange", "BLX PC"),
    ("t16", 0xDE18, "undefined", "UNDEFINED"),        # the Thumb kprobe breakpoint
    ("t32", "ldrex r0, [r1]", "exclusive", "LDREX"),
    ("t32", "msr apsr_nzcvq, r0", "msr", "MSR"),
    ("t32", 0xFB91F0F2, "divide", "SDIV"),            # sdiv r0, r1, r2
    ("t32", "dsb sy", "barrier", "DSB"),
    ("t32", "mrc p15, #0, r0, c1, c0, #0", "coprocessor", "Coprocessor"),
    ("t32", "str.w pc, [r1]", "load-store", "Rt=PC"),
    ("t32", 0xE8902002, "ldm-stm", "SP"),             # ldm.w r0, {r1, sp}
    ("t32", "subs pc, lr, #4", "exception-return", "exception return"),
    ("t32", 0xF7F0A018, "undefined", "UNDEFINED"),    # the 32-bit Thumb breakpoint
]


def _named_bytes(isa: str, text: str | int) -> bytes:
    if isinstance(text, int):
        return _data(isa, text)
    return assemble(text, ARM_AREA if isa == "arm" else THUMB_AREA, isa != "arm")


@pytest.mark.parametrize(("isa", "text", "klass", "word"), NAMED,
                         ids=[f"{n[0]} {n[1]:#x}" if isinstance(n[1], int) else
                              f"{n[0]} {n[1]}" for n in NAMED])
def test_named_unprobeable_instructions(probing: Probing, isa: str, text: str | int,
                                        klass: str, word: str) -> None:
    data = _named_bytes(isa, text)
    assert len(data) == (2 if isa == "t16" else 4), data.hex()
    decision = decode(data, isa != "arm")
    assert not decision.accepted and decision.klass == klass, decision
    thumb = isa != "arm"
    address = probing.place(data, thumb)
    err = probing.refuse(Kprobe(addr=address | int(thumb)), address)
    assert err.errno == "EINVAL"
    assert word in err.why, err.why


# --------------------------------------------------------------------------------------
# Address checks.

def test_arm_address_not_word_aligned(probing: Probing) -> None:
    address = probing.place(assemble("nop\nnop", ARM_AREA, False), False)
    for misaligned in (address + 1, address + 2, address + 3):
        err = probing.refuse(Kprobe(addr=misaligned), misaligned)
        assert (err.errno, err.why) == ("EINVAL", "an ARM probe address must be 4-byte "
                                                  "aligned.")
    probing.symbols.add(Symbol("arm_func", address, 8, False, "func"))
    err = probing.refuse(Kprobe(symbol_name="arm_func", offset=2), address + 2)
    assert err.errno == "EINVAL" and "4-byte aligned" in err.why


def test_thumb_address_inside_a_32_bit_instruction(probing: Probing) -> None:
    code = assemble("movw r0, #0x1234\nadds r0, r0, #1\nbx lr", THUMB_AREA + 0x8000, True)
    address = THUMB_AREA + 0x8000
    probing.machine.write_memory(address, code)
    probing.symbols.add(Symbol("thumb_func", address, len(code), True, "func"))
    middle = address + 2
    err = probing.refuse(Kprobe(addr=middle | 1), middle)
    assert (err.errno, err.why) == ("EILSEQ", "Probe point is not an instruction boundary.")
    assert "EILSEQ: Probe point is not an instruction boundary." in str(err)
    err = probing.refuse(Kprobe(symbol_name="thumb_func", offset=2), middle)
    assert (err.errno, err.why) == ("EILSEQ", "Probe point is not an instruction boundary.")
    # The boundaries themselves are fine.
    for offset in (0, 4):
        probe = probing.system.kprobes.register(Kprobe(symbol_name="thumb_func",
                                                       offset=offset))
        probing.system.kprobes.unregister(probe)


def test_exception_vectors_are_blacklisted(probing: Probing) -> None:
    address = VECTORS.start + 8
    err = probing.refuse(Kprobe(addr=address), address)
    assert err.errno == "EINVAL"
    assert err.why == "the address is blacklisted (exception vectors)."


def test_kretprobe_trampoline_and_module_area_are_blacklisted(probing: Probing) -> None:
    trampoline = probing.system.kretprobes.trampoline
    assert MODULES.start <= trampoline < MODULES.start + MODULES.size
    for thumb in (False, True):
        err = probing.refuse(Kprobe(addr=trampoline | int(thumb)), trampoline)
        assert err.errno == "EINVAL"
        assert err.why == "the address is blacklisted (kretprobe trampoline)."
    elsewhere = MODULES.start + 0x8000
    err = probing.refuse(Kprobe(addr=elsewhere), elsewhere)
    assert err.errno == "EINVAL" and err.why.startswith("the address is blacklisted (")
    listed = {name for _start, _end, name in probing.system.blacklist_ranges()}
    assert {"vectors", "kretprobe_trampoline"} <= listed


@pytest.mark.parametrize("address", [DATA.start + 0x100, 0x00001000, 0x70000000])
def test_non_executable_or_unmapped_memory(probing: Probing, address: int) -> None:
    for thumb in (False, True):
        err = probing.refuse(Kprobe(addr=address | int(thumb)), address)
        assert (err.errno, err.why) == ("EINVAL", "the address is not in executable "
                                                  "memory.")


def test_unknown_symbol_and_offset_beyond_the_function(probing: Probing) -> None:
    err = probing.refuse(Kprobe(symbol_name="no_such_function"), ARM_AREA)
    assert err.errno == "ENOENT"
    address = probing.place(assemble("nop\nbx lr", ARM_AREA, False), False)
    probing.symbols.add(Symbol("two_insns", address, 8, False, "func"))
    err = probing.refuse(Kprobe(symbol_name="two_insns", offset=8), address + 8)
    assert err.errno == "EINVAL" and "beyond the end of two_insns" in err.why


def test_refusals_leave_the_probed_program_runnable(probing: Probing) -> None:
    """After all the refusals above, a plain probe still works end to end."""
    address = probing.place(assemble("adds r0, r0, r1\nnop", ARM_AREA, False), False)
    hits: list[int] = []
    probe = probing.system.kprobes.register(
        Kprobe(addr=address, pre_handler=lambda p, regs: hits.append(regs.ARM_r0)))
    machine = probing.machine
    machine.write_register("r0", 5)
    machine.write_register("r1", 7)
    machine.set_pc(address, False)
    stop = machine.run(until=address + 4, timeout=5.0)
    probing.system.kprobes.unregister(probe)
    assert stop.reason.value == "until" and machine.read_register("r0") == 12
    assert hits == [5]
