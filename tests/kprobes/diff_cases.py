"""Instruction cases for the kprobes differential suite.

Each :class:`Case` is a tiny program around one *probed* instruction: a lead-in ``nop``
(so the breakpoint is reached by the emulator itself, not by the step-over path at the
run's first instruction), optionally an IT instruction and its filler slots, the probed
instruction, whatever paths it can take, and a common ``end`` label every path reaches.
The harness (conftest.py) runs a case unprobed and probed from identical states and
compares the outcome; it decides from ``cond`` whether the probe must fire.

Cases are generated from templates: a template is the body lines of a case with the
probed line marked by a leading ``>``.  ``{c}`` stands for a condition suffix (the
instruction's own in ARM, the IT slot's in Thumb) and ``{s}`` for the ``s`` of a 16-bit
Thumb instruction that sets flags outside an IT block and not inside one.  Register and
memory values are numbers or symbolic: ``buf+N``, ``stack+N`` (the two data buffers),
``alt`` (the other-ISA unit), or a label of the case, each optionally ``|1`` (Thumb
bit).

Everything here is pure apart from Keystone: no machine.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from armdbg.isa.asm import assemble
from armdbg.isa.disasm import decode_one, thumb_is_wide
from armdbg.isa.itstate import advance, remaining
from armdbg.kprobes.decode import Accept, Decision, Entry, Table, decode, lookup

CONDS = ("eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le")
COND_AL = 14


def cond_code(name: str) -> int:
    return CONDS.index(name)


def invert(name: str) -> str:
    return CONDS[cond_code(name) ^ 1]


# --------------------------------------------------------------------------------------
# Memory the cases use: a 256-byte test buffer in the data region and a stack buffer in
# the stack region with SP in its middle (room for 64 bytes of pushes below it and for
# pops above it).

BUF = 0x80201000
STACK_BUF = 0x80408000
BUF_SIZE = 256
SP_OFFSET = 128
CODE_BASE = 0x80010000       # inside the text region (rwx)
CASE_STRIDE = 0x400          # one case's code slot
ALT_OFFSET = 0x200           # the other unit of a case, inside its slot

Value = int | str


class ProbeHitMismatch(AssertionError):
    """The probe fired when it should not have, or not when it should have (raised by the
    harness after every outcome of the case was compared)."""


@dataclass(frozen=True)
class Case:
    name: str
    group: str                       # this suite's class name, for coverage accounting
    thumb: bool
    lines: tuple[str, ...]           # the main unit's statements
    probe: int                       # index in ``lines`` of the probed instruction
    cond: int = COND_AL              # the condition deciding whether the probe fires
    itstate: int = 0                 # ITSTATE the probed instruction executes with
    alt: tuple[str, ...] = ()        # a second unit (labels of the main unit usable)
    alt_thumb: bool = False
    regs: tuple[tuple[str, Value], ...] = ()
    memory: tuple[tuple[str, Value], ...] = ()   # ("buf+N" / "stack+N", word)
    halfword: bool = False           # Thumb: place the main unit at 2 mod 4
    width: int | None = None         # expected size of the probed instruction
    raw: bytes = b""                 # bytes patched over the probed instruction ...
    stand_in: str = ""               # ... which Keystone assembles as this same-size one

    @property
    def it_slot(self) -> int:
        """1..4 inside an IT block, 0 outside."""
        if not self.itstate:
            return 0
        line = next(s for s in self.lines if s.split()[0].startswith("it"))
        block = len(line.split()[0]) - 1
        return block - remaining(self.itstate) + 1


# --------------------------------------------------------------------------------------
# Layout: where everything of a case lands, found by walking the assembled bytes.

@dataclass(frozen=True)
class Layout:
    case: Case
    main: int
    main_code: bytes
    alt: int | None
    alt_code: bytes
    labels: dict[str, int]
    probe: int
    probe_size: int
    end: int

    def value(self, spec: Value) -> int:
        if isinstance(spec, int):
            return spec & 0xFFFFFFFF
        thumb_bit = 0
        if spec.endswith("|1"):
            spec, thumb_bit = spec[:-2], 1
        name, _, offset = spec.partition("+")
        bases = {"buf": BUF, "stack": STACK_BUF}
        if self.alt is not None:
            bases["alt"] = self.alt
        base = bases[name] if name in bases else self.labels[name]
        return (base + int(offset or "0", 0)) | thumb_bit


def _is_label(statement: str) -> bool:
    return statement.endswith(":") and " " not in statement


def _statement_size(statement: str, code: bytes, offset: int, thumb: bool) -> int:
    """Bytes one statement produced, read from the assembled code."""
    words = statement.split(None, 1)
    directive = words[0]
    if len(words) > 1:
        words[1] = words[1].split("@")[0]
    count = len(words[1].split(",")) if len(words) > 1 else 0
    if directive == ".word":
        return 4 * count
    if directive in (".short", ".hword"):
        return 2 * count
    if directive == ".byte":
        return count
    if not thumb:
        return 4
    return 4 if thumb_is_wide(int.from_bytes(code[offset:offset + 2], "little")) else 2


def _walk(lines: Sequence[str], code: bytes, start: int, thumb: bool) -> tuple[dict[str, int],
                                                                              list[int]]:
    """Label addresses and the address of every statement."""
    labels: dict[str, int] = {}
    addresses: list[int] = []
    offset = 0
    for statement in lines:
        addresses.append(start + offset)
        if _is_label(statement):
            labels[statement[:-1]] = start + offset
            continue
        offset += _statement_size(statement, code, offset, thumb)
    if offset != len(code):
        raise AssertionError(f"layout walk of {list(lines)} found {offset} bytes, "
                             f"Keystone produced {len(code)}")
    return labels, addresses


def _absolute(statement: str, labels: dict[str, int]) -> str:
    """``statement`` with label references replaced by their addresses."""
    if _is_label(statement) or " " not in statement:
        return statement
    mnemonic, operands = statement.split(None, 1)
    for name, address in labels.items():
        operands = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w.])", hex(address), operands)
    return f"{mnemonic} {operands}"


_DIRECT_BRANCH = re.compile(r"^(b|bl|blx|cbz|cbnz)(eq|ne|cs|cc|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)?"
                            r"(\.w|\.n)?$")


def _missed_branches(lines: Sequence[str], code: bytes, addresses: Sequence[int],
                     labels: dict[str, int], thumb: bool) -> list[str]:
    """Direct branches to a label of the unit whose encoded target is elsewhere."""
    missed = []
    base = addresses[0]
    for statement, address in zip(lines, addresses):
        words = statement.split()
        if len(words) < 2 or not _DIRECT_BRANCH.match(words[0]):
            continue
        target = words[-1]
        if target not in labels:
            continue
        insn = decode_one(code[address - base:address - base + 4], address, thumb)
        encoded = int(insn.op_str.split("#")[-1], 16)
        if encoded != labels[target]:
            missed.append(f"{statement} -> {encoded:#x}")
    return missed


@lru_cache(maxsize=4096)
def layout(case: Case, slot: int) -> Layout:
    """Assemble ``case`` into code slot number ``slot``."""
    base = CODE_BASE + slot * CASE_STRIDE
    main = base + (2 if case.halfword else 0)
    alt = base + ALT_OFFSET if case.alt else None
    # The main unit is assembled with the alt unit's address known; its labels come from
    # walking its bytes; then the alt unit is assembled against them.
    resolve_alt = {"alt": alt} if alt is not None else {}
    lines = list(case.lines)
    if case.raw:
        lines[case.probe] = case.stand_in
    # Keystone 0.9.2 mis-resolves some branch targets: ARM ``bl<c> label`` comes out as a
    # branch to itself, and Thumb ``b<c>.w ADDRESS`` lands 64 KiB off.  So the unit is
    # assembled with labels and, if a direct branch misses its label, again with every
    # label reference written as its address; a unit whose branches still miss fails.
    main_code = assemble("\n".join(lines), main, case.thumb,
                         resolve=lambda n: resolve_alt.get(n))
    labels, addresses = _walk(lines, main_code, main, case.thumb)
    if _missed_branches(lines, main_code, addresses, labels, case.thumb):
        absolute = [_absolute(line, labels) for line in lines]
        main_code = assemble("\n".join(absolute), main, case.thumb,
                             resolve=lambda n: resolve_alt.get(n))
        if _walk(absolute, main_code, main, case.thumb)[0] != labels:
            raise AssertionError(f"{case.name}: label addresses moved in pass 2")
        missed = _missed_branches(lines, main_code, addresses, labels, case.thumb)
        if missed:
            raise AssertionError(f"{case.name}: Keystone branches miss their labels: {missed}")
    if len(main_code) > ALT_OFFSET - 2:
        raise AssertionError(f"{case.name}: {len(main_code)} bytes overflow the unit")
    if case.raw:
        at = addresses[case.probe] - main
        size = _statement_size(lines[case.probe], main_code, at, case.thumb)
        assert size == len(case.raw), f"{case.name}: stand-in size {size}"
        main_code = main_code[:at] + case.raw + main_code[at + size:]
    alt_code = b""
    if alt is not None:
        alt_code = assemble("\n".join(case.alt), alt, case.alt_thumb,
                            resolve=lambda n: labels.get(n))
        _, alt_addresses = _walk(case.alt, alt_code, alt, case.alt_thumb)
        missed = _missed_branches(case.alt, alt_code, alt_addresses, labels, case.alt_thumb)
        if missed:
            raise AssertionError(f"{case.name}: Keystone branches miss their labels: {missed}")
    probe = addresses[case.probe]
    probe_offset = probe - main
    size = _statement_size(lines[case.probe], main_code, probe_offset, case.thumb)
    if case.width is not None and size != case.width:
        raise AssertionError(f"{case.name}: Keystone chose a {size}-byte encoding, the case "
                             f"wants {case.width} bytes")
    return Layout(case, main, main_code, alt, alt_code, labels, probe, size, labels["end"])


# --------------------------------------------------------------------------------------
# Templates.

@dataclass(frozen=True)
class Template:
    body: tuple[str, ...]            # ">" marks the probed line
    group: str
    regs: tuple[tuple[str, Value], ...] = ()
    memory: tuple[tuple[str, Value], ...] = ()
    alt: tuple[str, ...] = ()
    conditional: bool = True         # ARM: also a conditional variant; Thumb: IT variants
    it_last: bool = False            # Thumb: only allowed as the last instruction of a block
    bcc: bool = False                # Thumb B<c> outside IT: {c} is the branch's condition
    both_alignments: bool = False    # Thumb: also at a 2-mod-4 address
    width: int | None = None
    note: str = ""
    raw: bytes = b""                 # an encoding Keystone cannot produce (see Case.raw)
    stand_in: str = ""

    @property
    def probe_text(self) -> str:
        return next(line[1:] for line in self.body if line.startswith(">"))


def t(body: str | Iterable[str], group: str, *, regs: Mapping[str, Value] | None = None,
      memory: Mapping[str, Value] | None = None, alt: Iterable[str] = (),
      **kw: object) -> Template:
    lines = (body,) if isinstance(body, str) else tuple(body)
    if not any(line.startswith(">") for line in lines):
        lines = (">" + lines[0], *lines[1:])
    return Template(lines, group, tuple((regs or {}).items()), tuple((memory or {}).items()),
                    tuple(alt), **kw)  # type: ignore[arg-type]


# What the other-ISA unit does when a branch lands there: keep LR and leave a marker,
# then go to the common end (BLX with an immediate switches state back).
ALT_BODY = ("mov r8, lr", "movw r9, #0x7777", "blx end")
# A same-ISA branch target inside the main unit.
TARGET = ("target:", "mov r8, lr", "movw r9, #0x2222")


def _distinct(i: int) -> int:
    """A register pattern: distinct per register, both halves busy."""
    value = 0xDEADDEAD ^ (i << 8) ^ (i << 20)
    return (value if i % 2 == 0 else ~value) & 0xFFFFFFFF


DEFAULT_REGS: dict[str, int] = {f"r{i}": _distinct(i) for i in range(13)}
DEFAULT_REGS["lr"] = 0x5EED1E55


def _pick(name: str, options: Sequence[str]) -> str:
    """A deterministic choice spreading conditions and IT shapes over the templates."""
    digest = hashlib.sha256(name.encode()).digest()
    return options[digest[0] % len(options)]


# ---------------------------------------------------------------------- ARM templates

_DP3 = ("and", "eor", "sub", "rsb", "add", "adc", "sbc", "rsc", "orr", "bic")
_DP_TEST = ("tst", "teq", "cmp", "cmn")
_DP_MOVE = ("mov", "mvn")
# (operand form, text, shift amount for r3)
ARM_OPERAND2 = (
    ("imm", "#0xff00", None), ("imm", "#0x80000001", None), ("imm", "#3", None),
    ("reg", "r2", None),
    ("shift-imm", "r2, lsl #5", None), ("shift-imm", "r2, lsr #1", None),
    ("shift-imm", "r2, asr #31", None), ("shift-imm", "r2, ror #9", None),
    ("shift-imm", "r2, lsr #32", None), ("shift-imm", "r2, asr #32", None),
    ("rrx", "r2, rrx", None),
    ("shift-reg", "r2, lsl r3", 4), ("shift-reg", "r2, lsr r3", 33),
    ("shift-reg", "r2, asr r3", 0x1FF), ("shift-reg", "r2, ror r3", 0),
    ("shift-reg", "r2, lsl r3", 32), ("shift-reg", "r2, ror r3", 36),
)


def arm_data_processing() -> list[Template]:
    out: list[Template] = []
    ops = [(op, "rd, rn") for op in _DP3] + [(op, "rn") for op in _DP_TEST] + \
          [(op, "rd") for op in _DP_MOVE]
    for i, (op, shape) in enumerate(ops):
        for j, (form, operand, shift) in enumerate(ARM_OPERAND2):
            if (i * 7 + j) % 3:
                continue
            s = "" if op in _DP_TEST else ("s" if (i + j) % 2 == 0 else "")
            dest = {"rd, rn": "r0, r1, ", "rn": "r1, ", "rd": "r0, "}[shape]
            regs: dict[str, Value] = {"r3": shift} if shift is not None else {}
            out.append(t(f"{op}{s}{{c}} {dest}{operand}", f"dp-{form}", regs=regs))
    # Every operand form with and without S at least once, through MOV/ADD.
    for form, operand, shift in ARM_OPERAND2:
        regs = {"r3": shift} if shift is not None else {}
        for s in ("", "s"):
            out.append(t(f"add{s}{{c}} r4, r5, {operand}", f"dp-{form}", regs=regs))
    return out


ARM_DP_SPECIAL = [
    # PC and SP as operands.
    t("add{c} r0, pc, #4", "dp-pc"),
    t("sub{c} r1, pc, #8", "dp-pc"),
    t("mov{c} r1, pc", "dp-pc"),
    t("add{c} r2, pc, r3", "dp-pc"),
    t("adds{c} r4, pc, r5, lsl #2", "dp-pc"),
    t("eor{c} r0, r1, pc", "dp-pc"),
    t("cmp{c} r0, pc", "dp-pc"),
    t("mov{c} r0, pc, lsl #1", "dp-pc"),
    t("mov ip, sp", "dp-sp", conditional=False),
    t("add{c} sp, sp, #16", "dp-sp"),
    t("sub{c} sp, sp, #8", "dp-sp"),
    t("add{c} r0, sp, #12", "dp-sp"),
    t("mov{c} r0, sp", "dp-sp"),
    t("mov{c} sp, r1", "dp-sp", regs={"r1": "stack+96"}),
    t("movw{c} r0, #0xbeef", "dp-imm"),
    t("movt{c} r0, #0xcafe", "dp-imm"),
    t("mvns{c} r0, #0", "dp-imm"),
]

_MUL = [
    "mul{c} r0, r1, r2", "muls{c} r0, r1, r2", "mla{c} r0, r1, r2, r3",
    "mlas{c} r4, r5, r6, r7", "mls{c} r9, r10, r11, r12",
    "umull{c} r0, r1, r2, r3", "umulls{c} r4, r5, r6, r7", "smull{c} r8, lr, r1, r2",
    "smulls{c} r0, r1, r2, r3", "umlal{c} r0, r1, r2, r3", "umlals{c} r4, r5, r6, r7",
    "smlal{c} r8, r9, r10, r11", "smlals{c} r0, r1, r2, r3", "umaal{c} r0, r1, r2, r3",
    "smlabb{c} r0, r1, r2, r3", "smlabt{c} r0, r1, r2, r3", "smlatb{c} r4, r5, r6, r7",
    "smlatt{c} r4, r5, r6, r7", "smlawb{c} r0, r1, r2, r3", "smlawt{c} r0, r1, r2, r3",
    "smulbb{c} r0, r1, r2", "smulbt{c} r0, r1, r2", "smultb{c} r0, r1, r2",
    "smultt{c} r0, r1, r2", "smulwb{c} r0, r1, r2", "smulwt{c} r0, r1, r2",
    "smlalbb{c} r0, r1, r2, r3", "smlalbt{c} r0, r1, r2, r3", "smlaltb{c} r0, r1, r2, r3",
    "smlaltt{c} r0, r1, r2, r3", "smuad{c} r0, r1, r2", "smuadx{c} r0, r1, r2",
    "smusd{c} r0, r1, r2", "smusdx{c} r0, r1, r2", "smlad{c} r0, r1, r2, r3",
    "smladx{c} r0, r1, r2, r3", "smlsd{c} r0, r1, r2, r3", "smlsdx{c} r0, r1, r2, r3",
    "smlald{c} r0, r1, r2, r3", "smlaldx{c} r0, r1, r2, r3", "smlsld{c} r0, r1, r2, r3",
    "smlsldx{c} r0, r1, r2, r3", "smmul{c} r0, r1, r2", "smmulr{c} r0, r1, r2",
    "smmla{c} r0, r1, r2, r3", "smmlar{c} r0, r1, r2, r3", "smmls{c} r0, r1, r2, r3",
    "smmlsr{c} r0, r1, r2, r3",
]

# Operands that saturate (and so set Q) for the Q* instructions.
_SATURATING_REGS: Mapping[str, Value] = {"r1": 0x7FFFFF00, "r2": 0x12345678}
_SAT: list[tuple[str, Mapping[str, Value]]] = [
    ("qadd{c} r0, r1, r2", _SATURATING_REGS), ("qsub{c} r0, r2, r1", {"r2": 0x80000100}),
    ("qdadd{c} r0, r1, r2", _SATURATING_REGS), ("qdsub{c} r0, r1, r2", {}),
    ("ssat{c} r0, #8, r1", {}), ("ssat{c} r0, #16, r1, lsl #4", {}),
    ("ssat{c} r0, #1, r1, asr #3", {}), ("usat{c} r0, #8, r1", {}),
    ("usat{c} r0, #31, r1, asr #32", {}), ("usat{c} r0, #4, r1, lsl #1", {"r1": 5}),
    ("ssat16{c} r0, #7, r1", {}), ("usat16{c} r0, #5, r1", {}),
    ("qadd8{c} r0, r1, r2", {}), ("qadd16{c} r0, r1, r2", {}), ("qsub8{c} r0, r1, r2", {}),
    ("qsub16{c} r0, r1, r2", {}), ("qasx{c} r0, r1, r2", {}), ("qsax{c} r0, r1, r2", {}),
    ("uqadd8{c} r0, r1, r2", {}), ("uqadd16{c} r0, r1, r2", {}),
    ("uqsub8{c} r0, r1, r2", {}), ("uqsub16{c} r0, r1, r2", {}),
    ("uqasx{c} r0, r1, r2", {}), ("uqsax{c} r0, r1, r2", {}),
]

_PARALLEL = ("sadd8", "sadd16", "ssub8", "ssub16", "sasx", "ssax", "shadd8", "shadd16",
             "shsub8", "shsub16", "shasx", "shsax", "uadd8", "uadd16", "usub8", "usub16",
             "uasx", "usax", "uhadd8", "uhadd16", "uhsub8", "uhsub16", "uhasx", "uhsax")

_MEDIA: list[tuple[str, Mapping[str, Value]]] = [
    ("sxtb{c} r0, r1", {}), ("sxtb{c} r0, r1, ror #8", {}), ("sxth{c} r0, r1, ror #16", {}),
    ("uxtb{c} r0, r1, ror #24", {}), ("uxth{c} r0, r1", {}), ("sxtb16{c} r0, r1", {}),
    ("uxtb16{c} r0, r1, ror #8", {}), ("sxtab{c} r0, r1, r2", {}),
    ("sxtah{c} r0, r1, r2, ror #8", {}), ("uxtab{c} r0, r1, r2, ror #16", {}),
    ("uxtah{c} r0, r1, r2", {}), ("sxtab16{c} r0, r1, r2", {}),
    ("uxtab16{c} r0, r1, r2, ror #24", {}), ("rev{c} r0, r1", {}), ("rev16{c} r0, r1", {}),
    ("revsh{c} r0, r1", {}), ("rbit{c} r0, r1", {}), ("clz{c} r0, r1", {"r1": 0x00F00000}),
    ("clz{c} r2, r3", {"r3": 0}), ("sel{c} r0, r1, r2", {}), ("usad8{c} r0, r1, r2", {}),
    ("usada8{c} r0, r1, r2, r3", {}), ("pkhbt{c} r0, r1, r2, lsl #8", {}),
    ("pkhtb{c} r0, r1, r2, asr #16", {}), ("bfi{c} r0, r1, #4, #8", {}),
    ("bfc{c} r0, #8, #12", {}), ("sbfx{c} r0, r1, #3, #9", {}),
    ("ubfx{c} r0, r1, #20, #12", {}),
]

# Pointer registers for loads and stores: r1 into the middle of the test buffer, r2 a
# small index.
_PTR: Mapping[str, Value] = {"r1": "buf+64", "r2": 8}

_ARM_LOAD_STORE = [
    "ldr{c} r0, [r1]", "ldr{c} r0, [r1, #4]", "ldr{c} r0, [r1, #-8]", "ldr{c} r0, [r1, #12]!",
    "ldr{c} r0, [r1], #-4", "ldr{c} r0, [r1, r2]", "ldr{c} r0, [r1, -r2]",
    "ldr{c} r0, [r1, r2, lsl #2]", "ldr{c} r0, [r1, r2, lsl #2]!",
    "ldr{c} r0, [r1], r2, lsl #2", "ldr{c} r0, [r1, -r2, asr #1]", "ldr{c} r0, [r1, r2, lsr #1]!",
    "str{c} r0, [r1]", "str{c} r0, [r1, #4]", "str{c} r0, [r1, #-8]", "str{c} r0, [r1, #12]!",
    "str{c} r0, [r1], #-4", "str{c} r0, [r1, r2]", "str{c} r0, [r1, -r2]!",
    "str{c} r0, [r1, r2, lsl #2]", "str{c} r0, [r1], -r2, lsl #1",
    "ldrb{c} r0, [r1, #3]", "ldrb{c} r0, [r1, -r2]!", "ldrb{c} r0, [r1], #7",
    "strb{c} r0, [r1, #-5]", "strb{c} r0, [r1], #7", "strb{c} r0, [r1, r2]",
    "str{c} pc, [r1, #4]", "str{c} lr, [r1, #-4]!",
    "ldrh{c} r0, [r1, #2]", "ldrh{c} r0, [r1, #-6]!", "ldrh{c} r0, [r1], #4",
    "ldrh{c} r0, [r1, r2]", "ldrh{c} r0, [r1, -r2]!", "strh{c} r0, [r1, #6]",
    "strh{c} r0, [r1], #-2", "strh{c} r0, [r1, r2]", "strh{c} r0, [r1, -r2]!",
    "ldrsb{c} r0, [r1, #5]", "ldrsb{c} r0, [r1, -r2]", "ldrsb{c} r0, [r1], #-3",
    "ldrsh{c} r0, [r1, #-2]", "ldrsh{c} r0, [r1, r2]!", "ldrsh{c} r0, [r1], r2",
    "ldrd{c} r2, r3, [r1, #8]", "ldrd{c} r4, r5, [r1, #-16]!", "ldrd{c} r6, r7, [r1], #8",
    "ldrd{c} r4, r5, [r1, r2]", "ldrd{c} r4, r5, [r1, -r2]!",
    "strd{c} r2, r3, [r1, #-8]", "strd{c} r4, r5, [r1], r2", "strd{c} r6, r7, [r1, #16]!",
]

_ARM_STACK = [
    "str{c} r0, [sp, #-8]!", "ldr{c} r0, [sp, #8]", "str{c} r0, [sp, #-64]",
    "ldr{c} r1, [sp], #4", "str{c} r2, [sp, #4]", "strd{c} r0, r1, [sp, #-16]!",
    "strh{c} r3, [sp, #-64]!", "ldrd{c} r4, r5, [sp, #8]", "ldrh{c} r0, [sp, #-2]",
]

_ARM_LITERAL = [
    "ldr{c} r0, [pc, #8]", "ldr{c} r0, [pc, #-8]", "ldr{c} r0, [pc, #-4]",
    "ldrb{c} r0, [pc, #-3]", "ldrh{c} r0, [pc, #6]", "ldrsb{c} r0, [pc, #3]",
    "ldrsh{c} r0, [pc, #-2]", "ldrd{c} r2, r3, [pc, #-8]", "ldr{c} r0, [pc, r2]",
    "ldr{c} r0, [pc, -r2, lsl #1]",
]

_ARM_LDM_STM = [
    "ldmia{c} r1!, {r2-r5}", "ldmia{c} r1, {r0, r2, r4, r6}", "ldmib{c} r1!, {r2, r4}",
    "ldmib{c} r1, {r8-r12}", "ldmda{c} r1!, {r3, r5, r7}", "ldmda{c} r1, {r0, r2, r3}",
    "ldmdb{c} r1!, {r4-r7}", "ldmdb{c} r1, {r0, lr}",
    "stmia{c} r1!, {r2-r5}", "stmib{c} r1!, {r0, r2-r12, lr}",
    "stmib{c} r1, {r2, r3}", "stmda{c} r1!, {r3, r5, r7}", "stmda{c} r1, {r0, r2, r3}",
    "stmdb{c} r1!, {r4-r7}", "stmdb{c} r1, {r0, lr}",
    "push{c} {r4-r11, lr}", "pop{c} {r4-r11}", "stmdb{c} sp!, {r0-r8, lr}",
    "ldmia{c} sp!, {r0-r8}", "push{c} {r0-r12, lr}", "stmda{c} sp!, {r0-r3}",
    "stmda{c} sp, {r4-r6}", "stmib{c} sp, {r0-r3}", "ldmdb{c} sp, {r0-r3}",
    "ldmib{c} sp!, {r2, r3}", "push{c} {r0}", "pop{c} {r0}",
]


def arm_branches() -> list[Template]:
    after = ("mov r9, #1", "b end")          # the fall-through path
    thumb_alt = ALT_BODY
    return [
        t([">b{c} target", *after, *TARGET], "branch"),
        t(["b probe", "back:", "movw r9, #0x3333", "b end", "probe:", ">b{c} back", *after],
          "branch", note="backward"),
        t([">bl{c} target", *after, *TARGET], "branch"),
        t([">blx alt", *after], "interwork", alt=thumb_alt, conditional=False),
        t([">bx{c} r0", *after, *TARGET], "interwork", regs={"r0": "target"}),
        t([">bx{c} r0", *after], "interwork", regs={"r0": "alt|1"}, alt=thumb_alt),
        t([">blx{c} r0", *after, *TARGET], "interwork", regs={"r0": "target"}),
        t([">blx{c} r1", *after], "interwork", regs={"r1": "alt|1"}, alt=thumb_alt),
        t([">bx{c} lr", *after, *TARGET], "interwork", regs={"lr": "target"}),
        t([">mov{c} pc, lr", *after, *TARGET], "branch", regs={"lr": "target"}),
        t([">mov{c} pc, r0", *after], "interwork", regs={"r0": "alt|1"}, alt=thumb_alt),
        t([">sub{c} pc, lr, #4", *after, *TARGET], "branch", regs={"lr": "target+4"}),
        *[t([">add{c} pc, pc, r0, lsl #2", "nop", "b case0", "b case1", "b case2",
             "case0:", "movw r9, #0x1000", "b end", "case1:", "movw r9, #0x1001", "b end",
             "case2:", "movw r9, #0x1002"], "jump-table", regs={"r0": index})
          for index in range(3)],
        t([">ldr{c} pc, [r1, #4]", *after, *TARGET], "branch",
          regs={"r1": "buf+64"}, memory={"buf+68": "target"}),
        t([">ldr{c} pc, [r1, #4]", *after], "interwork",
          regs={"r1": "buf+64"}, memory={"buf+68": "alt|1"}, alt=thumb_alt),
        t([">ldr{c} pc, [r1, r2, lsl #2]", *after, *TARGET], "branch",
          regs={"r1": "buf+64", "r2": 3}, memory={"buf+76": "target"}),
        t([">ldr{c} pc, [sp], #4", *after, *TARGET], "branch",
          memory={f"stack+{SP_OFFSET}": "target"}),
        t([">pop{c} {pc}", *after, *TARGET], "ldm-pc", memory={f"stack+{SP_OFFSET}": "target"}),
        t([">pop{c} {pc}", *after], "ldm-pc", memory={f"stack+{SP_OFFSET}": "alt|1"},
          alt=thumb_alt),
        t([">pop{c} {r0-r3, pc}", *after, *TARGET], "ldm-pc",
          memory={f"stack+{SP_OFFSET + 16}": "target"}),
        t([">ldmia{c} sp!, {r0-r8, pc}", *after, *TARGET], "ldm-pc",
          memory={f"stack+{SP_OFFSET + 36}": "target"}),
        t([">ldmdb{c} r1, {r4-r6, pc}", *after, *TARGET], "ldm-pc",
          regs={"r1": "buf+64"}, memory={"buf+60": "target"}),
        t([">ldmib{c} r1!, {r2, pc}", *after], "ldm-pc",
          regs={"r1": "buf+64"}, memory={"buf+72": "alt|1"}, alt=thumb_alt),
    ]


ARM_MISC = [
    t("mrs{c} r0, apsr", "mrs"),
    t("mrs{c} r9, apsr", "mrs"),
    t("nop{c}", "hint"),
    t("sev{c}", "hint"),
    t("pld [r1, #4]", "preload", regs=_PTR, conditional=False),
    t("pld [r1, -r2, lsl #2]", "preload", regs=_PTR, conditional=False),
    t("pli [r1, #-8]", "preload", regs=_PTR, conditional=False),
    t("pld [pc, #16]", "preload", conditional=False),
]


def arm_templates() -> list[Template]:
    out = arm_data_processing() + ARM_DP_SPECIAL
    out += [t(text, "multiply") for text in _MUL]
    out += [t(text, "saturating", regs=regs) for text, regs in _SAT]
    out += [t(f"{op}{{c}} r0, r1, r2", "parallel") for op in _PARALLEL]
    out += [t(text, "media", regs=regs) for text, regs in _MEDIA]
    out += [t(text, "load-store", regs=_PTR) for text in _ARM_LOAD_STORE]
    out += [t(text, "load-store-sp") for text in _ARM_STACK]
    out += [t(text, "literal", regs={"r2": 4}) for text in _ARM_LITERAL]
    out += [t(text, "ldm-stm", regs={"r1": "buf+128"}) for text in _ARM_LDM_STM]
    # STM with PC in the list stores PC+8.  Keystone warns about it ("use of SP or PC in
    # the list is deprecated"), and a Keystone warning corrupts its heap (a later
    # assembly crashes the process), so the word is patched in over a stand-in.
    out.append(t("stmia{c} r1, {r0, r2, pc}", "ldm-stm", regs={"r1": "buf+128"},
                 raw=(0xE8818005).to_bytes(4, "little"), stand_in="mov{c} r0, r0"))
    out += arm_branches() + ARM_MISC
    return out


def arm_cases() -> list[Case]:
    cases: list[Case] = []
    for template in arm_templates():
        variants = [""]
        if template.conditional and "{c}" in "".join(template.body):
            variants.append(_pick(template.probe_text + template.note, CONDS))
        for cond in variants:
            cases.append(_arm_case(template, cond))
    return _unique(cases)


def _arm_case(template: Template, cond: str) -> Case:
    body = [line.replace("{c}", cond) for line in template.body]
    probe = next(i for i, line in enumerate(body) if line.startswith(">"))
    body[probe] = body[probe][1:]
    lines = ("nop", *body, "end:", "nop")
    alt = tuple(template.alt)
    name = f"arm {body[probe]}" + (f" [{template.note}]" if template.note else "")
    extra = _extras(template)
    if extra:
        name += f" {{{extra}}}"
    raw = template.raw
    if raw and cond:
        # The ARM condition lives in the encoding: put the variant's in.
        word = int.from_bytes(raw, "little") & 0x0FFFFFFF | cond_code(cond) << 28
        raw = word.to_bytes(4, "little")
    return Case(name, template.group, False, lines, probe + 1,
                cond=cond_code(cond) if cond else COND_AL, alt=alt, alt_thumb=True,
                regs=template.regs, memory=template.memory, width=4, raw=raw,
                stand_in=template.stand_in.replace("{c}", cond))


def _extras(template: Template) -> str:
    """Distinguishes cases whose text is equal but whose inputs differ."""
    parts = [f"{k}={v}" for k, v in template.regs if k in ("r0", "r3")
             and isinstance(v, int) and v < 0x100]
    parts += [f"{k}->{v}" for k, v in template.memory if isinstance(v, str)]
    return ", ".join(parts)


def _unique(cases: list[Case]) -> list[Case]:
    seen: dict[str, int] = {}
    out = []
    for case in cases:
        n = seen.get(case.name, 0)
        seen[case.name] = n + 1
        out.append(case if n == 0 else replace(case, name=f"{case.name} #{n + 1}"))
    return out


# ---------------------------------------------------------------------- Thumb templates

# 16-bit instructions: {s} is "s" outside IT blocks, "" inside (same 16-bit encoding,
# which sets flags only outside a block).
_T16_DP: list[tuple[str, Mapping[str, Value]]] = [
    ("lsl{s}{c} r0, r1, #3", {}), ("lsr{s}{c} r2, r3, #32", {}), ("asr{s}{c} r4, r5, #1", {}),
    ("add{s}{c} r0, r1, r2", {}), ("sub{s}{c} r3, r4, r5", {}), ("add{s}{c} r6, r7, #3", {}),
    ("sub{s}{c} r0, r1, #7", {}), ("mov{s}{c} r2, #200", {}), ("add{s}{c} r3, #100", {}),
    ("sub{s}{c} r4, #255", {}), ("and{s}{c} r0, r1", {}), ("eor{s}{c} r2, r3", {}),
    ("lsl{s}{c} r4, r5", {"r5": 4}), ("lsr{s}{c} r6, r7", {"r7": 33}),
    ("asr{s}{c} r0, r1", {"r1": 0x1F}), ("adc{s}{c} r2, r3", {}), ("sbc{s}{c} r4, r5", {}),
    ("ror{s}{c} r6, r7", {"r7": 36}), ("rsb{s}{c} r2, r3, #0", {}), ("orr{s}{c} r0, r1", {}),
    ("mul{s}{c} r2, r3, r2", {}), ("bic{s}{c} r4, r5", {}), ("mvn{s}{c} r6, r7", {}),
    ("mov{s}{c} r0, r1", {}),
]
_T16_COMPARE = ["cmp{c} r5, #100", "tst{c} r0, r1", "cmp{c} r4, r5", "cmn{c} r6, r7"]
_T16_HIREG: list[tuple[str, Mapping[str, Value]]] = [
    ("add{c} r8, r9", {}), ("add{c} r0, pc", {}), ("add{c} sp, r2", {"r2": 8}),
    ("add{c} r1, sp", {}), ("cmp{c} r8, r9", {}), ("cmp{c} r0, r10", {}),
    ("mov{c} r8, r1", {}), ("mov{c} r0, pc", {}), ("mov{c} r9, sp", {}),
    ("mov{c} sp, r1", {"r1": "stack+96"}),
]
_T16_LOAD_STORE = [
    "str{c} r0, [r1, r2]", "strh{c} r3, [r1, r2]", "strb{c} r4, [r1, r2]",
    "ldrsb{c} r5, [r1, r2]", "ldr{c} r6, [r1, r2]", "ldrh{c} r7, [r1, r2]",
    "ldrb{c} r0, [r1, r2]", "ldrsh{c} r0, [r1, r2]", "str{c} r0, [r1, #4]",
    "ldr{c} r2, [r1, #124]", "strb{c} r3, [r1, #31]", "ldrb{c} r4, [r1, #3]",
    "strh{c} r5, [r1, #62]", "ldrh{c} r6, [r1, #2]",
]
_T16_STACK = ["str{c} r0, [sp, #8]", "ldr{c} r1, [sp, #12]", "add{c} r1, sp, #16",
              "add{c} sp, #16", "sub{c} sp, #32"]
_T16_MEDIA = ["sxth{c} r0, r1", "sxtb{c} r2, r3", "uxth{c} r4, r5", "uxtb{c} r6, r7",
              "rev{c} r0, r1", "rev16{c} r2, r3", "revsh{c} r4, r5"]
_T16_LDM: list[tuple[str, Mapping[str, Value]]] = [
    ("push{c} {r0-r7, lr}", {}), ("push{c} {r4, lr}", {}), ("pop{c} {r4-r7}", {}),
    ("pop{c} {r1, r2}", {}), ("stmia{c} r0!, {r1-r3}", {"r0": "buf+32"}),
    ("ldmia{c} r0!, {r1, r2}", {"r0": "buf+32"}), ("ldmia{c} r0, {r0, r1}", {"r0": "buf+32"}),
]

# 32-bit data processing, high registers so that Keystone must pick 32-bit encodings.
_T32_DP_OPS = ("and", "bic", "orr", "orn", "eor", "add", "adc", "sbc", "sub", "rsb")
_T32_IMMS = ("#0xff00ff00", "#0x1c0", "#0x80000000", "#0xabababab", "#255")
_T32_SHIFTS = ("r10", "r10, lsl #3", "r10, lsr #7", "r10, asr #32", "r10, ror #11",
               "r10, rrx", "r10, lsr #32")


def thumb_data_processing() -> list[Template]:
    out: list[Template] = []
    for i, op in enumerate(_T32_DP_OPS):
        for j, imm in enumerate(_T32_IMMS):
            if (i + j) % 2:
                continue
            s = "s" if (i + j) % 4 == 0 else ""
            out.append(t(f"{op}{s}{{c}} r8, r9, {imm}", "dp-imm", width=4))
        for j, operand in enumerate(_T32_SHIFTS):
            if (i + j) % 2:
                continue
            s = "s" if (i * 3 + j) % 4 < 2 else ""
            out.append(t(f"{op}{s}{{c}} r8, r9, {operand}", "dp-shift-imm", width=4))
    out += [
        t("tst{c} r8, #0xff00", "dp-imm", width=4), t("teq{c} r9, #0x80000000", "dp-imm"),
        t("cmp{c} r10, #0x1c0", "dp-imm", width=4), t("cmn{c} r11, #255", "dp-imm", width=4),
        t("mov{c} r8, #0xab00ab00", "dp-imm"), t("movs{c} r8, #0x80000000", "dp-imm"),
        t("mvn{c} r9, #0xff", "dp-imm"), t("mvns{c} r9, #0", "dp-imm"),
        t("tst{c} r8, r9, ror #4", "dp-shift-imm"), t("teq{c} r8, r9, lsl #1", "dp-shift-imm"),
        t("cmp{c} r8, r9, asr #2", "dp-shift-imm"), t("cmn{c} r8, r9, lsr #5", "dp-shift-imm"),
        t("lsl{c} r8, r9, #4", "dp-shift-imm"), t("lsls{c} r8, r9, #31", "dp-shift-imm"),
        t("lsr{c} r8, r9, #32", "dp-shift-imm"), t("asrs{c} r8, r9, #32", "dp-shift-imm"),
        t("ror{c} r8, r9, #13", "dp-shift-imm"), t("rrxs{c} r8, r9", "dp-rrx"),
        t("rrx{c} r8, r9", "dp-rrx"), t("mvns{c} r8, r9, lsl #3", "dp-shift-imm"),
        t("lsl{c} r8, r9, r10", "dp-shift-reg", regs={"r10": 4}),
        t("lsls{c} r8, r9, r10", "dp-shift-reg", regs={"r10": 32}),
        t("lsr{c} r8, r9, r10", "dp-shift-reg", regs={"r10": 0x1FF}),
        t("lsrs{c} r8, r9, r10", "dp-shift-reg", regs={"r10": 1}),
        t("asr{c} r8, r9, r10", "dp-shift-reg", regs={"r10": 31}),
        t("asrs{c} r8, r9, r10", "dp-shift-reg", regs={"r10": 40}),
        t("ror{c} r8, r9, r10", "dp-shift-reg", regs={"r10": 0}),
        t("rors{c} r8, r9, r10", "dp-shift-reg", regs={"r10": 36}),
        t("add{c} r8, sp, r9, lsl #2", "dp-sp", regs={"r9": 4}),
        t("sub{c} sp, sp, r9, lsl #2", "dp-sp", regs={"r9": 4}),
        t("add{c}.w r8, sp, #16", "dp-sp"), t("sub{c}.w sp, sp, #16", "dp-sp"),
        t("addw{c} r8, r9, #0xfff", "dp-imm"), t("subw{c} r10, r11, #123", "dp-imm"),
        t("addw{c} sp, sp, #8", "dp-sp"), t("subw{c} sp, sp, #64", "dp-sp"),
        t("movw{c} r8, #0xbeef", "dp-imm"), t("movt{c} r8, #0xcafe", "dp-imm"),
    ]
    return out


_T32_MEDIA: list[tuple[str, Mapping[str, Value]]] = [
    ("ssat{c} r8, #8, r9", {}), ("ssat{c} r8, #16, r9, lsl #4", {}),
    ("usat{c} r8, #8, r9, asr #3", {}), ("usat{c} r8, #31, r9", {"r9": 0x7FFF}),
    ("ssat16{c} r8, #7, r9", {}), ("usat16{c} r8, #5, r9", {}),
    ("sbfx{c} r8, r9, #3, #9", {}), ("ubfx{c} r8, r9, #20, #12", {}),
    ("bfi{c} r8, r9, #4, #8", {}), ("bfc{c} r8, #8, #12", {}),
    ("sxtb{c}.w r8, r9", {}), ("sxth{c} r8, r9, ror #8", {}), ("uxtb{c} r8, r9, ror #16", {}),
    ("uxth{c}.w r8, r9", {}),
    ("sel{c} r8, r9, r10", {}), ("clz{c} r8, r9", {"r9": 0x00000F00}),
    ("rev{c}.w r8, r9", {}), ("rev16{c}.w r8, r9", {}), ("rbit{c} r8, r9", {}),
    ("revsh{c}.w r8, r9", {}), ("usad8{c} r8, r9, r10", {}),
    ("usada8{c} r8, r9, r10, r11", {}),
]
# Keystone 0.9.2 refuses these Thumb encodings (or assembles nothing inside an IT block),
# so they are patched in as halfwords over a same-size stand-in.
_T32_RAW = [
    ("sxtb16{c} r8, r9", (0xFA2F, 0xF889)),
    ("uxtb16{c} r8, r9, ror #24", (0xFA3F, 0xF8B9)),
    ("sxtab{c} r8, r9, r10", (0xFA49, 0xF88A)),
    ("sxtah{c} r8, r9, r10, ror #8", (0xFA09, 0xF89A)),
    ("uxtab{c} r8, r9, r10", (0xFA59, 0xF88A)),
    ("uxtah{c} r8, r9, r10, ror #16", (0xFA19, 0xF8AA)),
    ("sxtab16{c} r8, r9, r10", (0xFA29, 0xF88A)),
    ("uxtab16{c} r8, r9, r10", (0xFA39, 0xF88A)),
    ("pkhbt{c} r8, r9, r10, lsl #8", (0xEAC9, 0x280A)),
    ("pkhtb{c} r8, r9, r10, asr #16", (0xEAC9, 0x482A)),
]
_STAND_IN_32 = "mul{c} r8, r9, r10"

_T32_SAT: list[tuple[str, Mapping[str, Value]]] = [
    ("qadd{c} r8, r9, r10", {"r9": 0x7FFFFF00, "r10": 0x12345678}),
    ("qsub{c} r8, r10, r9", {"r10": 0x80000100}), ("qdadd{c} r8, r9, r10", {}),
    ("qdsub{c} r8, r9, r10", {}), ("qadd8{c} r8, r9, r10", {}), ("qsub16{c} r8, r9, r10", {}),
    ("qasx{c} r8, r9, r10", {}), ("uqadd16{c} r8, r9, r10", {}),
    ("uqsub8{c} r8, r9, r10", {}), ("uqsax{c} r8, r9, r10", {}),
]
_T32_MUL = [
    "mul{c} r8, r9, r10", "mla{c} r8, r9, r10, r11", "mls{c} r8, r9, r10, r11",
    "smulbb{c} r8, r9, r10", "smulbt{c} r8, r9, r10", "smultb{c} r8, r9, r10",
    "smultt{c} r8, r9, r10", "smulwb{c} r8, r9, r10", "smulwt{c} r8, r9, r10",
    "smlabb{c} r8, r9, r10, r11", "smlatt{c} r8, r9, r10, r11",
    "smlawb{c} r8, r9, r10, r11", "smlawt{c} r8, r9, r10, r11",
    "smuad{c} r8, r9, r10", "smuadx{c} r8, r9, r10", "smusd{c} r8, r9, r10",
    "smusdx{c} r8, r9, r10", "smlad{c} r8, r9, r10, r11", "smlsdx{c} r8, r9, r10, r11",
    "smmul{c} r8, r9, r10", "smmulr{c} r8, r9, r10", "smmla{c} r8, r9, r10, r11",
    "smmlar{c} r8, r9, r10, r11", "smmls{c} r8, r9, r10, r11", "smmlsr{c} r8, r9, r10, r11",
    "smull{c} r8, r9, r10, r11", "umull{c} r8, r9, r10, r11", "smlal{c} r8, r9, r10, r11",
    "umlal{c} r8, r9, r10, r11", "umaal{c} r8, r9, r10, r11",
    "smlalbb{c} r8, r9, r10, r11", "smlaltt{c} r8, r9, r10, r11",
    "smlald{c} r8, r9, r10, r11", "smlsldx{c} r8, r9, r10, r11",
]
_T32_LOAD_STORE = [
    "ldr{c}.w r8, [r1, #100]", "ldr{c} r8, [r1, #-8]", "ldr{c} r8, [r1, #4]!",
    "ldr{c} r8, [r1], #-4", "ldr{c}.w r8, [r1, r2, lsl #2]", "str{c}.w r8, [r1, #100]",
    "str{c} r8, [r1, #-8]", "str{c} r8, [r1, #4]!", "str{c} r8, [r1], #-4",
    "str{c}.w r8, [r1, r2, lsl #1]", "ldrb{c}.w r8, [r1, #77]", "ldrb{c} r8, [r1, #-3]!",
    "strb{c}.w r8, [r1, r2]", "strb{c} r8, [r1], #5", "ldrh{c}.w r8, [r1, #6]",
    "ldrh{c} r8, [r1], #-2", "strh{c} r8, [r1, #-4]", "strh{c} r8, [r1, #2]!",
    "ldrsb{c}.w r8, [r1, #1]", "ldrsb{c} r8, [r1, r2, lsl #3]", "ldrsh{c} r8, [r1, #-6]",
    "ldrsh{c} r8, [r1, #10]!", "ldr{c}.w lr, [r1, #8]", "str{c} lr, [r1, #-12]",
    "ldrd{c} r8, r9, [r1, #8]", "ldrd{c} r8, r9, [r1, #-16]!", "ldrd{c} r8, r9, [r1], #8",
    "strd{c} r8, r9, [r1, #-8]", "strd{c} r8, r9, [r1], #16", "strd{c} r10, r11, [r1, #24]!",
]
_T32_STACK = ["str{c} r8, [sp, #-8]!", "ldr{c}.w r8, [sp, #8]", "str{c} r8, [sp, #-64]!",
              "strd{c} r8, r9, [sp, #-16]!", "ldr{c} r9, [sp], #4", "ldrd{c} r8, r9, [sp, #4]"]
_T32_LDM: list[tuple[str, Mapping[str, Value]]] = [
    ("ldmia{c}.w r1!, {r2-r5, r8}", {}), ("ldmia{c}.w r1, {r2, r9}", {}),
    ("ldmdb{c} r1!, {r4-r7}", {}), ("ldmdb{c} r1, {r0, r3}", {}),
    ("stmia{c}.w r1!, {r2-r5, r8}", {}), ("stmia{c}.w r1, {r0, lr}", {}),
    ("stmdb{c} r1!, {r4-r7}", {}), ("stmdb{c} r1, {r0, r3}", {}),
    ("push{c}.w {r4-r11, lr}", {}), ("pop{c}.w {r4-r11}", {}),
    ("stmdb{c} sp!, {r0-r8, lr}", {}), ("ldmia{c}.w sp!, {r0-r8}", {}),
    ("push{c}.w {r0-r12, lr}", {}),
]
_T_LITERAL = [
    ("ldr{c} r0, [pc, #4]", 2), ("ldr{c} r1, [pc, #0]", 2), ("ldr{c} r2, [pc, #8]", 2),
    ("ldr{c}.w r8, [pc, #8]", 4), ("ldr{c}.w r8, [pc, #-4]", 4),
    ("ldrb{c}.w r8, [pc, #3]", 4), ("ldrsb{c}.w r8, [pc, #-1]", 4),
    ("ldrh{c}.w r8, [pc, #6]", 4), ("ldrsh{c}.w r8, [pc, #-2]", 4),
    ("ldrd{c} r8, r9, [pc, #8]", 4), ("ldrd{c} r8, r9, [pc, #-8]", 4),
]


def thumb_branches() -> list[Template]:
    after = ("movw r9, #0x1111", "b end")
    arm_alt = ALT_BODY
    out = [
        t([">b{c} target", *after, *TARGET], "branch", it_last=True),
        t([">b{c}.w target", *after, *TARGET], "branch", it_last=True, width=4),
        t(["b probe", "back:", "movw r9, #0x3333", "b end", "probe:", ">b back", *after],
          "branch", conditional=False, note="backward"),
        t([">bl{c} target", *after, *TARGET], "branch", it_last=True),
        t([">blx{c} alt", *after], "interwork", alt=arm_alt, it_last=True),
        t([">bx{c} r0", *after], "interwork", regs={"r0": "alt"}, alt=arm_alt, it_last=True),
        t([">bx{c} r0", *after, *TARGET], "interwork", regs={"r0": "target|1"}, it_last=True),
        t([">blx{c} r1", *after, *TARGET], "interwork", regs={"r1": "target|1"},
          it_last=True),
        t([">blx{c} r2", *after], "interwork", regs={"r2": "alt"}, alt=arm_alt, it_last=True),
        t([">bx{c} lr", *after, *TARGET], "interwork", regs={"lr": "target|1"}, it_last=True),
        t([">mov{c} pc, lr", *after, *TARGET], "branch", regs={"lr": "target|1"},
          it_last=True),
        t([">add{c} pc, r0", "mov r9, r1", "mov r9, r2", "mov r9, r3", "mov r10, r4"],
          "branch", regs={"r0": 4}, it_last=True, note="add pc"),
        t([">ldr{c}.w pc, [r1, #4]", *after, *TARGET], "branch",
          regs={"r1": "buf+64"}, memory={"buf+68": "target|1"}, it_last=True),
        t([">ldr{c}.w pc, [r1, #4]", *after], "interwork",
          regs={"r1": "buf+64"}, memory={"buf+68": "alt"}, alt=arm_alt, it_last=True),
        t([">ldr{c}.w pc, [r1, r2, lsl #2]", *after, *TARGET], "branch",
          regs={"r1": "buf+64", "r2": 3}, memory={"buf+76": "target|1"}, it_last=True),
        t([">ldr{c} pc, [sp], #4", *after, *TARGET], "branch",
          memory={f"stack+{SP_OFFSET}": "target|1"}, it_last=True),
        t([">pop{c} {r0, pc}", *after, *TARGET], "ldm-pc",
          memory={f"stack+{SP_OFFSET + 4}": "target|1"}, it_last=True),
        t([">pop{c} {pc}", *after], "ldm-pc", memory={f"stack+{SP_OFFSET}": "alt"},
          alt=arm_alt, it_last=True),
        t([">pop{c}.w {r4-r11, pc}", *after, *TARGET], "ldm-pc",
          memory={f"stack+{SP_OFFSET + 32}": "target|1"}, it_last=True),
        t([">pop{c}.w {r4, pc}", *after], "ldm-pc",
          memory={f"stack+{SP_OFFSET + 4}": "alt"}, alt=arm_alt, it_last=True),
        t([">ldmia{c}.w sp!, {r0-r8, pc}", *after, *TARGET], "ldm-pc",
          memory={f"stack+{SP_OFFSET + 36}": "target|1"}, it_last=True),
        t([">ldmdb{c} r1, {r4, r5, pc}", *after, *TARGET], "ldm-pc",
          regs={"r1": "buf+64"}, memory={"buf+60": "target|1"}, it_last=True),
    ]
    # B<c> outside IT blocks: the kernel checks the branch's own condition first
    # (t16_decode_cond_branch / t32_decode_cond_branch set insn_check_cc).
    out += [
        t([">b{c} target", *after, *TARGET], "branch-cond", bcc=True, width=2),
        t([">b{c}.w target", *after, *TARGET], "branch-cond", bcc=True, width=4),
        t(["b probe", "back:", "movw r9, #0x3333", "b end", "probe:", ">b{c} back", *after],
          "branch-cond", bcc=True, note="backward"),
    ]
    for value in (0, 5):
        out += [
            t([">cbz r0, target", *after, *TARGET], "cbz", regs={"r0": value},
              conditional=False),
            t([">cbnz r0, target", *after, *TARGET], "cbz", regs={"r0": value},
              conditional=False),
        ]
    # Table branches: the table follows the instruction (offsets in halfwords from the
    # instruction's PC, i.e. its address + 4), every entry a fixed 8-byte body.
    bodies = [line for k in range(4) for line in (f"movw r9, #{0x100 + k}", "b.w end")]
    for index in (0, 2, 3):
        out.append(t([">tbb{c} [pc, r0]", ".byte 2, 6, 10, 14", *bodies], "table-branch",
                     regs={"r0": index}, it_last=True, both_alignments=True))
        out.append(t([">tbh{c} [pc, r0, lsl #1]", ".short 4, 8, 12, 16", *bodies],
                     "table-branch", regs={"r0": index}, it_last=True))
    # TBB with the table in the data buffer: entries 0, 4, 8, 12 halfwords.
    out.append(t([">tbb{c} [r1, r0]", *bodies], "table-branch",
                 regs={"r1": "buf+64", "r0": 2}, memory={"buf+64": 0x0C080400},
                 it_last=True))
    return out


THUMB_MISC = [
    t("mrs{c} r8, apsr", "mrs"), t("mrs{c} r0, apsr", "mrs"),
    t("nop{c}", "hint", width=2), t("sev{c}", "hint", width=2),
    t("nop{c}.w", "hint", width=4), t("sev{c}.w", "hint", width=4),
    t("pld{c} [r1, #4]", "preload", regs=_PTR), t("pld{c} [r1, #-4]", "preload", regs=_PTR),
    t("pld{c} [r1, r2, lsl #2]", "preload", regs=_PTR), t("pli{c} [r1]", "preload", regs=_PTR),
    t("pld{c} [pc, #8]", "preload"),
    # ADR T1 (Keystone picks the 32-bit encoding for these spellings).
    t("add{c} r0, pc, #8", "adr", both_alignments=True, width=2, raw=b"\x02\xa0",
      stand_in="nop{c}"),
    t("add{c} r7, pc, #1020", "adr", both_alignments=True, width=2, raw=b"\xff\xa7",
      stand_in="nop{c}"),
    t("addw{c} r8, pc, #20", "adr", both_alignments=True),
    t("subw{c} r9, pc, #20", "adr", both_alignments=True),
]
# IT instructions themselves as the probed instruction.
THUMB_IT = [
    t([">ite eq", "addeq r0, r0, #1", "subne r0, r0, #1"], "it", conditional=False),
    t([">itttt ne", "addne r1, r1, r2", "addne r1, r1, #4", "movne r3, r1", "addne r3, r3, #8"],
      "it", conditional=False),
    t([">itete gt", "movgt r0, #1", "movle r0, #2", "movgt r1, #3", "movle r1, #4"], "it",
      conditional=False),
    t([">itt cs", "ldrcs r0, [r1]", "strcs r0, [r1, #4]"], "it", regs={"r1": "buf+64"},
      conditional=False),
]


def thumb_templates() -> list[Template]:
    out: list[Template] = []
    out += [t(text, "dp-16", regs=regs, width=2) for text, regs in _T16_DP]
    out += [t(text, "dp-16", width=2) for text in _T16_COMPARE]
    out += [t(text, "dp-hireg", regs=regs, width=2) for text, regs in _T16_HIREG]
    out += [t(text, "load-store-16", regs=_PTR, width=2) for text in _T16_LOAD_STORE]
    out += [t(text, "load-store-sp", width=2) for text in _T16_STACK]
    out += [t(text, "media-16", width=2) for text in _T16_MEDIA]
    out += [t(text, "ldm-stm-16", regs=regs, width=2) for text, regs in _T16_LDM]
    out += thumb_data_processing()
    out += [t(text, "media", regs=regs, width=4) for text, regs in _T32_MEDIA]
    out += [t(text, "media", width=4, stand_in=_STAND_IN_32,
              raw=b"".join(h.to_bytes(2, "little") for h in halfwords))
            for text, halfwords in _T32_RAW]
    out += [t(f"{op}{{c}} r8, r9, r10", "parallel", width=4) for op in _PARALLEL]
    out += [t(text, "saturating", regs=regs, width=4) for text, regs in _T32_SAT]
    out += [t(text, "multiply", width=4) for text in _T32_MUL]
    out += [t(text, "load-store", regs=_PTR, width=4) for text in _T32_LOAD_STORE]
    out += [t(text, "load-store-sp", width=4) for text in _T32_STACK]
    out += [t(text, "ldm-stm", regs={"r1": "buf+128", **regs}, width=4)
            for text, regs in _T32_LDM]
    out += [t([">" + text, "nop", "nop", "nop", "nop"], "literal", width=width,
              both_alignments=True)
            for text, width in _T_LITERAL]
    out += thumb_branches() + THUMB_MISC + THUMB_IT
    return out


def thumb_cases() -> list[Case]:
    cases: list[Case] = []
    for index, template in enumerate(thumb_templates()):
        has_cond = "{c}" in "".join(template.body)
        alignments = (False, True) if template.both_alignments else (False,)
        for halfword in alignments:
            if template.bcc:
                cond = _pick(template.probe_text + template.note, CONDS)
                cases.append(_thumb_case(template, None, cond, halfword))
                continue
            cases.append(_thumb_case(template, None, "", halfword))
            if not (template.conditional and has_cond):
                continue
            # Two IT placements per template, rotating so every slot 1..4 and both
            # "then" and "else" slots are used across the templates.
            for slot in ({1 + index % 4, 1 + (index + 2) % 4} if not template.it_last
                         else {1 + index % 4}):
                cases.append(_thumb_case(template, slot, "", halfword))
    return _unique(cases)


def it_block(name: str, slot: int, it_last: bool) -> tuple[str, list[str]]:
    """An IT instruction and the condition of each slot, with the tested instruction in
    ``slot``; the block length, base condition and then/else pattern are picked
    deterministically from ``name``."""
    first = _pick(name, CONDS)
    length = slot if it_last else max(slot, 1 + (hashlib.sha256(name.encode()).digest()[1] % 4))
    pattern = ["t"] + [_pick(f"{name}/{k}", "te") for k in range(1, length)]
    conds = [first if p == "t" else invert(first) for p in pattern]
    return "it" + "".join(pattern[1:]) + f" {first}", conds


def _thumb_case(template: Template, slot: int | None, bcc: str, halfword: bool) -> Case:
    body = list(template.body)
    probe = next(i for i, line in enumerate(body) if line.startswith(">"))
    text = body[probe][1:]
    before, after = body[:probe], body[probe + 1:]
    lines: list[str] = ["nop", *before]
    itstate = 0
    cond = COND_AL
    if slot is None:
        probe_line = text.replace("{s}", "s").replace("{c}", bcc)
        if bcc:
            cond = cond_code(bcc)
        lines.append(probe_line)
        probe_index = len(lines) - 1
    else:
        it_text, conds = it_block(template.probe_text + template.note, slot, template.it_last)
        lines.append(it_text)
        itstate = _itstate_at(it_text, slot)
        for k, slot_cond in enumerate(conds, 1):
            if k == slot:
                lines.append(text.replace("{s}", "").replace("{c}", slot_cond))
                probe_index = len(lines) - 1
                cond = cond_code(slot_cond)
            else:
                # Fillers: one flag-neutral add per slot, each with its own bit, so that a
                # wrong ITSTATE after the probe shows in r12.
                lines.append(f"add{slot_cond}.w r12, r12, #{0x100 << k:#x}")
    lines += after
    lines += ["end:", "nop"]
    where = f" in IT slot {slot}" if slot else ""
    align = " @2mod4" if halfword else ""
    name = f"thumb {lines[probe_index]}{where}{align}"
    if template.note:
        name += f" [{template.note}]"
    extra = _extras(template)
    if extra:
        name += f" {{{extra}}}"
    suffix = bcc if slot is None else conds[slot - 1]
    return Case(name, template.group, True, tuple(lines), probe_index, cond=cond,
                itstate=itstate, alt=tuple(template.alt), alt_thumb=False, regs=template.regs,
                memory=template.memory, halfword=halfword, width=template.width,
                raw=template.raw, stand_in=template.stand_in.replace("{c}", suffix))


def _itstate_at(it_text: str, slot: int) -> int:
    """ITSTATE as the instruction in ``slot`` sees it (A8.8.54 IT encoding)."""
    mnemonic, cond = it_text.split()
    first = cond_code(cond)
    pattern = mnemonic[2:]
    mask = 0
    for k, letter in enumerate(pattern):
        bit = (first & 1) if letter == "t" else (first & 1) ^ 1
        mask |= bit << (3 - k)
    mask |= 1 << (3 - len(pattern))
    state = (first << 4 | mask) & 0xFF
    for _ in range(slot - 1):
        state = advance(state)
    return state


def summary(cases: Sequence[Case]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.group] = counts.get(case.group, 0) + 1
    return dict(sorted(counts.items()))


# --------------------------------------------------------------------------------------
# Decoder coverage, as the kernel test's coverage check: which accepting decode-table
# entries the cases' probed instructions match.

def probed_word(case: Case) -> tuple[int, bool]:
    """The probed instruction as the kernel composes it, and whether it is 32-bit Thumb."""
    lay = layout(case, 0)
    offset = lay.probe - lay.main
    data = lay.main_code[offset:offset + lay.probe_size]
    if not case.thumb:
        return int.from_bytes(data, "little"), False
    first = int.from_bytes(data[:2], "little")
    if lay.probe_size == 2:
        return first, False
    return first << 16 | int.from_bytes(data[2:4], "little"), True


def decision_of(case: Case) -> Decision:
    lay = layout(case, 0)
    offset = lay.probe - lay.main
    return decode(lay.main_code[offset:offset + lay.probe_size], case.thumb)


def accept_entries(entries: Iterable[Entry]) -> set[str]:
    names: set[str] = set()
    for entry in entries:
        if isinstance(entry.action, Table):
            names |= accept_entries(entry.action.entries)
        elif isinstance(entry.action, Accept):
            names.add(entry.action.name)
    return names


def coverage_names(cases: Iterable[Case], tables: dict[bool, Sequence[Entry]]
                   ) -> tuple[set[tuple[bool, str]], set[tuple[bool, str]]]:
    """(every accepting entry, the entries some case matches), keyed by table."""
    accepted = {(key, name) for key, table in tables.items()
                for name in accept_entries(table)}
    covered = set()
    for case in cases:
        word, wide = probed_word(case)
        action = lookup(tables[wide], word)
        if isinstance(action, Accept):
            covered.add((wide, action.name))
    return accepted, covered
