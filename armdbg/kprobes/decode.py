"""What Linux's ``arch_prepare_kprobe`` decides for one ARM or Thumb instruction.

The kernel walks a decode table (``arch/arm/probes/decode-arm.c``, ``decode-thumb.c``):
a flat list of ``(mask, value)`` entries checked in order with ``insn & mask == value``;
an entry either descends into a sub-table, rejects, or accepts the instruction for
simulation/emulation after checking the register nibbles it names (PC or SP may be
forbidden in some of them).  No match before the end of a table means "rejected".
Accepted instructions then go through the *checkers*: ``stack_space`` (bytes the
instruction may store below SP; the probe is refused when it is unknown or above
``MAX_STACK_SIZE``) and, for ARM only, ``register_usage_flags`` (used by optprobes).

This module holds the result types and the table walker shared by
:mod:`armdbg.kprobes.decode_arm` and :mod:`armdbg.kprobes.decode_thumb`; the tables
themselves live there.  Everything here is pure: no emulator, no disassembler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

PC, LR, SP = 15, 14, 13
MAX_STACK_SIZE = 64            # arch/arm/include/asm/kprobes.h
ALL_REGISTERS = 0xFFFFFFFF     # register_usage_flags default: "uses everything"
COND_AL = 0xE


@dataclass(frozen=True)
class Field:
    """A register operand field inside the encoding.

    ``shift`` is the bit position of the field's lowest bit.  For 32-bit Thumb it counts
    in the kernel's composed value ``first << 16 | second`` (so Rn of a T32 load is at
    16, Rt at 12).  The 16-bit Thumb high-register forms (ADD/CMP/MOV Rdn, Rm) split Rdn
    as D:Rdn; their ``rdn`` field reports shift 0, width 3 and the full register number
    in ``value`` (the D bit is bit 7).  ``read`` is an extra: whether the instruction
    reads the register (base registers with writeback are both read and written).
    """

    role: str
    shift: int
    width: int
    value: int
    written: bool
    read: bool = True


@dataclass(frozen=True)
class Decision:
    """The kernel's verdict on one instruction plus the facts a stepper needs.

    * ``error`` is the errno name ``arch_prepare_kprobe`` returns (always "EINVAL" for
      a rejection; None when accepted) and ``why`` one sentence naming the class.
    * ``condition``: ARM bits 31-28 (0xE for the 0xF space); Thumb 0xE except B<c>.
    * ``reads_pc`` counts PC as a source operand and PC-relative targets or addresses
      (B/BL/BLX, B<c>, CBZ, TBB/TBH, literal loads, ADR); ``writes_pc`` is "may write".
    * ``stack_space`` is the kernel's arm_stack_checker/t32/t16 value (-1 = unknown);
      a rejection because of it keeps the value.
    * ``register_usage`` is the ARM register_usage_flags (optprobes); Thumb kernels
      have no such checker, so it is 0xffffffff for every Thumb instruction.
    * ``fields`` lists the register fields (see :class:`Field`); LDRD/STRD's implicit
      Rt+1 (ARM) is not a field but is in the reads/writes facts.
    """

    accepted: bool
    error: str | None
    why: str
    klass: str
    size: int
    condition: int
    reads_pc: bool
    writes_pc: bool
    reads_sp: bool
    writes_sp: bool
    stack_space: int
    register_usage: int
    fields: tuple[Field, ...]
    register_list: int | None
    wide: bool

    def field(self, role: str) -> Field | None:
        """The first field with ``role``, if the encoding has one."""
        return next((f for f in self.fields if f.role == role), None)


# --------------------------------------------------------------------------------------
# Table vocabulary.

# Register constraints, the kernel's REG_TYPE_* (decode.h).  The "X" variants there only
# matter for test-coverage accounting and behave like the plain ones.
ANY = "any"
NOPC = "nopc"          # PC forbidden
NOSP = "nosp"          # SP forbidden
NOSPPC = "nosppc"      # SP and PC forbidden
NOPCWB = "nopcwb"      # PC forbidden only when the instruction writes back
ONLY_SP = "sp"         # must be SP
ONLY_PC = "pc"         # must be PC
SAMEAS16 = "sameas16"  # a copy of the register at bit 16 (T32 REV/CLZ), not checked


def is_writeback(insn: int) -> bool:
    """The kernel's writeback test for NOPCWB: P == 0 or W == 1 (bits 24 and 21)."""
    return bool((insn ^ 0x01000000) & 0x01200000)


Written = bool | Callable[[int], bool]


@dataclass(frozen=True)
class Reg:
    """One register nibble an entry names: where it is, what it may hold, how it is used.

    With the "fields" register-usage checker every listed register counts, exactly as
    the kernel counts the nibbles its entry marks.
    """

    role: str
    shift: int
    kind: str = ANY
    written: Written = False
    read: bool = True
    width: int = 4
    top: int | None = None     # bit holding the register's top bit (Thumb16 D:Rdn)


def src(role: str, shift: int, kind: str = ANY, width: int = 4) -> Reg:
    return Reg(role, shift, kind, False, True, width)


def dst(role: str, shift: int, kind: str = ANY, width: int = 4) -> Reg:
    return Reg(role, shift, kind, True, False, width)


def srcdst(role: str, shift: int, kind: str = ANY, width: int = 4) -> Reg:
    return Reg(role, shift, kind, True, True, width)


def base(role: str, shift: int, kind: str = ANY, written: Written = is_writeback,
         width: int = 4) -> Reg:
    """A base register: always read, written back when ``written(insn)`` says so."""
    return Reg(role, shift, kind, written, True, width)


@dataclass(frozen=True)
class Implicit:
    """Per-instruction facts beyond the register fields (computed by an entry's hook)."""

    reads: int = 0            # registers read that no field names (bit n = rn)
    writes: int = 0           # registers written that no field names
    register_list: int | None = None
    klass: str | None = None  # overrides the entry's class (e.g. "literal-load")
    condition: int | None = None


NO_IMPLICIT = Implicit()

# register_usage modes for the ARM regs checker (checkers-arm.c).
USAGE_FIELDS = "fields"    # arm_check_regs_normal: the registers in the marked nibbles
USAGE_NONE = "none"        # arm_check_regs_nouse: 0 (hints)
USAGE_LDMSTM = "ldmstm"    # reglist | 1 << Rn
USAGE_LDRDSTRD = "ldrd"    # marked nibbles plus Rt + 1


@dataclass(frozen=True)
class Accept:
    """An entry that accepts the instruction (kernel SIMULATE, EMULATE or CUSTOM).

    ``name`` is used in rejection sentences when a register constraint fails.  ``usage``
    selects the register_usage_flags checker (None: no checker, the value stays
    "everything").  ``stack`` is the stack checker (None: stack_space stays 0).
    """

    klass: str
    name: str
    regs: tuple[Reg, ...] = ()
    usage: str | None = None
    stack: Callable[[int], int] | None = None
    implicit: Callable[[int], Implicit] | None = None


@dataclass(frozen=True)
class Reject:
    klass: str
    why: str


@dataclass(frozen=True)
class Table:
    entries: tuple[Entry, ...]


Action = Accept | Reject | Table
Pattern = tuple[int, int]


@dataclass(frozen=True)
class Entry:
    """Matches when ``insn & mask == value`` for any of ``patterns`` (the kernel's
    DECODE_OR chains are one entry with several patterns)."""

    patterns: tuple[Pattern, ...]
    action: Action


def e(mask: int, value: int, action: Action) -> Entry:
    assert value & ~mask == 0, f"value {value:#x} has bits outside mask {mask:#x}"
    return Entry(((mask, value),), action)


def any_of(patterns: Sequence[Pattern], action: Action) -> Entry:
    for mask, value in patterns:
        assert value & ~mask == 0, f"value {value:#x} has bits outside mask {mask:#x}"
    return Entry(tuple(patterns), action)


def table(*entries: Entry) -> Table:
    return Table(tuple(entries))


# --------------------------------------------------------------------------------------
# Stack checkers shared by both ISAs (checkers-common.c).

def stack_unknown(insn: int) -> int:
    return -1


def stack_imm12(insn: int) -> int:
    return insn & 0xFFF


def stack_stmdx(insn: int) -> int:
    """STMDA/STMDB SP: the registers below SP; STMDA starts at SP itself."""
    reglist = insn & 0xFFFF
    pbit = insn & (1 << 24)
    return (bin(reglist).count("1") - (0 if pbit else 1)) * 4


StackRule = tuple[int, int, Callable[[int], int]]


def first_stack_rule(rules: Sequence[StackRule], insn: int) -> int:
    for mask, value, rule in rules:
        if insn & mask == value:
            return rule(insn)
    return 0


# --------------------------------------------------------------------------------------
# The walker.

_REG_NAMES = {SP: "SP", LR: "LR", PC: "PC"}


def reg_name(n: int) -> str:
    return _REG_NAMES.get(n, f"R{n}")


_ROLE_NAMES = {"rdhi": "RdHi", "rdlo": "RdLo", "rdn": "Rdn"}


def role_name(role: str) -> str:
    return _ROLE_NAMES.get(role, role[:1].upper() + role[1:])


def _violation(reg: Reg, value: int, insn: int, offset: bool) -> str | None:
    """Why the register in ``reg``'s nibble breaks its constraint, or None.

    ``offset``: the register is a load/store's offset register.
    """
    kind, role = reg.kind, role_name(reg.role)
    if kind == NOPCWB and value == PC and is_writeback(insn):
        return f"writeback to PC ({role}=PC)"
    if kind in (NOPC, NOSPPC) and value == PC:
        return "PC as the offset register (Rm)" if offset else f"PC as {role}"
    if kind in (NOSP, NOSPPC) and value == SP:
        return f"SP as {role}"
    if kind == ONLY_SP and value != SP:
        return f"{role} other than SP"
    if kind == ONLY_PC and value != PC:
        return f"{role} other than PC"
    return None


def lookup(entries: Sequence[Entry], insn: int) -> Action | None:
    """Walk a decode table like probes_decode_insn: first match wins, sub-tables are
    entered without backtracking, falling off the end means no entry."""
    for entry in entries:
        if any(insn & mask == value for mask, value in entry.patterns):
            if isinstance(entry.action, Table):
                return lookup(entry.action.entries, insn)
            return entry.action
    return None


def _mask(fields: Sequence[Field], written: bool) -> int:
    bits = 0
    for f in fields:
        if (f.written if written else f.read):
            bits |= 1 << f.value
    return bits


def decide(action: Action | None, insn: int, *, size: int, wide: bool, condition: int,
           unmatched: str) -> Decision:
    """Turn a table lookup into a Decision (register checks, checkers, facts)."""

    def rejected(klass: str, why: str, fields: tuple[Field, ...] = (),
                 register_list: int | None = None, stack_space: int = 0) -> Decision:
        return Decision(False, "EINVAL", why, klass, size, condition, False, False, False,
                        False, stack_space, ALL_REGISTERS, fields, register_list, wide)

    if action is None:
        return rejected("unallocated", unmatched)
    if isinstance(action, Reject):
        return rejected(action.klass, action.why)
    assert isinstance(action, Accept)

    fields: list[Field] = []
    for reg in action.regs:
        value = (insn >> reg.shift) & ((1 << reg.width) - 1)
        if reg.top is not None:
            value |= ((insn >> reg.top) & 1) << reg.width
        offset = reg.role == "rm" and action.klass in ("load-store", "literal-load")
        problem = _violation(reg, value, insn, offset)
        if problem is not None:
            return rejected(action.klass, f"{action.name} with {problem} is rejected by "
                            "the kernel's decoder (UNPREDICTABLE or not emulated).")
        written = reg.written(insn) if callable(reg.written) else reg.written
        fields.append(Field(reg.role, reg.shift, reg.width, value, written, reg.read))

    implicit = action.implicit(insn) if action.implicit is not None else NO_IMPLICIT
    klass = implicit.klass or action.klass
    if implicit.condition is not None:
        condition = implicit.condition
    reads = _mask(fields, written=False) | implicit.reads
    writes = _mask(fields, written=True) | implicit.writes

    usage = _register_usage(action, insn, fields)
    stack_space = action.stack(insn) if action.stack is not None else 0
    frozen = tuple(fields)
    if stack_space < 0:
        return rejected(klass, f"{action.name} addresses the stack with a register "
                        "offset, so the stack use below SP cannot be determined.",
                        frozen, implicit.register_list, stack_space)
    if stack_space > MAX_STACK_SIZE:
        return rejected(klass, f"{action.name} writes {stack_space} bytes below SP, "
                        f"more than the {MAX_STACK_SIZE} bytes (MAX_STACK_SIZE) the "
                        "kprobe exception frame reserves.", frozen,
                        implicit.register_list, stack_space)
    return Decision(
        accepted=True, error=None, why=f"{action.name} is accepted.", klass=klass,
        size=size, condition=condition,
        reads_pc=bool(reads >> PC & 1), writes_pc=bool(writes >> PC & 1),
        reads_sp=bool(reads >> SP & 1), writes_sp=bool(writes >> SP & 1),
        stack_space=stack_space, register_usage=usage, fields=frozen,
        register_list=implicit.register_list, wide=wide)


def _register_usage(action: Accept, insn: int, fields: Sequence[Field]) -> int:
    if action.usage is None:
        return ALL_REGISTERS
    if action.usage == USAGE_NONE:
        return 0
    if action.usage == USAGE_LDMSTM:
        return (insn & 0xFFFF) | 1 << ((insn >> 16) & 0xF)
    usage = 0
    for f in fields:
        usage |= 1 << f.value
    if action.usage == USAGE_LDRDSTRD:
        usage |= 1 << (((insn >> 12) & 0xF) + 1)
    return usage


# --------------------------------------------------------------------------------------
# Convenience entry point.

def decode(data: bytes, thumb: bool) -> Decision:
    """Decode the instruction at the start of ``data`` (little-endian memory)."""
    from armdbg.kprobes.decode_arm import decode_arm
    from armdbg.kprobes.decode_thumb import decode_thumb, is_wide

    if not thumb:
        if len(data) < 4:
            raise ValueError("an ARM instruction needs 4 bytes")
        return decode_arm(int.from_bytes(data[:4], "little"))
    if len(data) < 2:
        raise ValueError("a Thumb instruction needs at least 2 bytes")
    first = int.from_bytes(data[:2], "little")
    if not is_wide(first):
        return decode_thumb(first, None)
    if len(data) < 4:
        raise ValueError(f"Thumb halfword {first:#06x} starts a 32-bit instruction; "
                         "4 bytes are needed")
    return decode_thumb(first, int.from_bytes(data[2:4], "little"))
