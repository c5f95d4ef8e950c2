"""Rendering shared by the data, state and context commands: pure functions, no session.

Everything here takes values (registers, decoded instructions, memory words) and a
``symbolize(address) -> "sym+off" | None`` callable, and returns text or styled tokens
(``[(style, text), ...]``, styles from :data:`armdbg.commands.context.STYLES`).  Plain
output is the tokens' text joined, which is what the tests compare.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from armdbg.isa.conditions import COND_AL, condition_name, condition_passed
from armdbg.isa.cpsr import decode as decode_cpsr
from armdbg.isa.disasm import Instruction
from armdbg.isa.itstate import (
    in_it_block,
    is_it_instruction,
    itstate_from_cpsr,
    itstate_from_it_instruction,
    remaining_conditions,
)

Symbolize = Callable[[int], "str | None"]
Token = tuple[str, str]

# gdb's `info registers` columns (infcmd.c default_print_one_register_info): room for
# "0x", 16 hex digits and two spaces.
VALUE_COLUMN_1 = 15
VALUE_COLUMN_2 = VALUE_COLUMN_1 + 2 + 16 + 2

# gdb's ARM register types (features/arm/arm-core.xml): sp is a data pointer, pc a code
# pointer, everything else a 32-bit int whose natural form is signed decimal.
_DATA_POINTER_REGISTERS = frozenset({"sp"})
_CODE_POINTER_REGISTERS = frozenset({"pc"})

_CONDITIONS = "eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al"
_BRANCH = re.compile(rf"^(?:b|bl|blx)(?:{_CONDITIONS})?(?:\.w|\.n)?$|^cbn?z$")
_TARGET = re.compile(r"#(-?0x[0-9a-f]+|-?\d+)$")


def plain(tokens: Sequence[Token]) -> str:
    """The text of styled tokens, as a plain writer prints them."""
    return "".join(text for _, text in tokens)


def address_label(address: int, symbolize: Symbolize) -> str:
    """``0x80008030 <do_something+4>`` or just the hex, as gdb's print_address."""
    name = symbolize(address)
    return f"{address:#x} <{name}>" if name else f"{address:#x}"


# --------------------------------------------------------------------------- registers


def pad_to_column(text: str, column: int) -> str:
    """gdb's pad_to_column: at least one space, then spaces up to ``column``."""
    text += " "
    return text + " " * (column - len(text)) if len(text) < column else text


def natural_register_value(name: str, value: int, symbolize: Symbolize) -> str:
    """The last column of ``info registers``: the register's value in its own type."""
    value &= 0xFFFFFFFF
    if name in _CODE_POINTER_REGISTERS:
        return address_label(value, symbolize)
    if name in _DATA_POINTER_REGISTERS:
        return f"{value:#x}"
    if name == "cpsr":
        # Shown decoded, the way gdb shows x86's eflags ("[ IF ZF PF ]").
        return decode_cpsr(value)
    return str(value - (1 << 32) if value >> 31 else value)


def register_info_line(name: str, value: int, symbolize: Symbolize,
                       canonical: str | None = None) -> str:
    """One ``info registers`` line: ``r0             0x0                 0``.

    ``name`` is shown; ``canonical`` (``sp`` for ``r13``) decides the value's type.
    """
    line = pad_to_column(name, VALUE_COLUMN_1) + f"{value & 0xFFFFFFFF:#x}"
    return pad_to_column(line, VALUE_COLUMN_2) + natural_register_value(
        canonical or name, value, symbolize)


# Compact register grid of the context display: four general registers a row, then
# lr, pc (symbolized) and cpsr (decoded) on their own lines.
_GRID_ROWS = (("r0", "r1", "r2", "r3"), ("r4", "r5", "r6", "r7"),
              ("r8", "r9", "r10", "r11"), ("r12", "sp"))
CHANGED_MARK = "*"


def _register_cell(name: str, value: int, changed: bool) -> list[Token]:
    label = (CHANGED_MARK if changed else "") + name
    style = "changed" if changed else "register"
    return [(style, f"{label:>5}"), ("", " "), ("changed" if changed else "number",
                                                 f"{value & 0xFFFFFFFF:#010x}")]


def register_grid(registers: Mapping[str, int], changed: set[str] | frozenset[str],
                  symbolize: Symbolize) -> list[list[Token]]:
    """The context display's register section; changed registers carry ``*``."""
    lines: list[list[Token]] = []
    for row in _GRID_ROWS:
        tokens: list[Token] = []
        for index, name in enumerate(row):
            if index:
                tokens.append(("", "   "))
            tokens += _register_cell(name, registers[name], name in changed)
        lines.append(tokens)
    for name in ("lr", "pc"):
        tokens = _register_cell(name, registers[name], name in changed)
        symbol = symbolize(registers[name] & 0xFFFFFFFE)
        if symbol:
            tokens += [("", " "), ("symbol", f"<{symbol}>")]
        lines.append(tokens)
    tokens = _register_cell("cpsr", registers["cpsr"], "cpsr" in changed)
    tokens += [("", " "), ("comment", decode_cpsr(registers["cpsr"]))]
    lines.append(tokens)
    return lines


# --------------------------------------------------------------------------- instructions


def raw_hex(insn: Instruction) -> str:
    """gdb 13's ``/r`` bytes: the instruction as its own units (ARM words, Thumb halfwords)."""
    raw = insn.raw
    if not insn.thumb and len(raw) == 4:
        return f"{int.from_bytes(raw, 'little'):08x}"
    if insn.thumb and len(raw) % 2 == 0:
        return " ".join(f"{int.from_bytes(raw[i:i + 2], 'little'):04x}"
                        for i in range(0, len(raw), 2))
    return raw_bytes(insn)


def raw_bytes(insn: Instruction) -> str:
    """gdb 13's ``/b`` bytes: memory order, one byte at a time."""
    return " ".join(f"{b:02x}" for b in insn.raw)


def instruction_tokens(insn: Instruction, symbolize: Symbolize) -> list[Token]:
    """Mnemonic and operands; branch targets read ``0x80008070 <main>`` as in gdb."""
    if not insn.op_str:
        return [("mnemonic", insn.mnemonic)]
    operands = insn.op_str
    target: list[Token] = []
    if _BRANCH.match(insn.mnemonic):
        match = _TARGET.search(operands)
        if match is not None:
            address = int(match.group(1), 0) & 0xFFFFFFFF
            operands = operands[:match.start()]
            target = [("address", f"{address:#x}")]
            name = symbolize(address)
            if name:
                target += [("", " "), ("symbol", f"<{name}>")]
    return [("mnemonic", insn.mnemonic), ("", "\t"), ("", operands), *target]


def instruction_text(insn: Instruction, symbolize: Symbolize) -> str:
    return plain(instruction_tokens(insn, symbolize))


PC_MARKER = "=> "
NO_MARKER = "   "


def disassembly_line(insn: Instruction, label: str, *, at_pc: bool, symbolize: Symbolize,
                     raw: str | None = None, mark: tuple[int, bool] | None = None,
                     note: str | None = None) -> list[Token]:
    """One gdb disassembly line: ``=> 0x80008030 <+0>:\\tpush\\t{r4, lr}``.

    ``label`` is what goes between the address and the colon (``<+4>``,
    ``<main+4>`` or empty).  ``raw`` is the ``/r`` or ``/b`` text.  ``mark`` is
    (condition, executes) for an instruction whose condition armdbg evaluates against the
    current flags; it is appended as ``; executes`` or ``; skipped``.  ``note`` is a
    further comment about the address (a kprobe there, and the instruction it covers).
    """
    tokens: list[Token] = [("marker", PC_MARKER) if at_pc else ("", NO_MARKER),
                           ("address", f"{insn.address:#x}")]
    if label:
        tokens += [("", " "), ("symbol", label)]
    tokens.append(("", ":\t"))
    if raw is not None:
        tokens += [("comment", raw), ("", "\t")]
    tokens += instruction_tokens(insn, symbolize)
    if mark is not None:
        cond, executes = mark
        word = "executes" if executes else "skipped"
        tokens += [("", "\t"), ("executes" if executes else "skipped",
                                f"; {condition_name(cond)}: {word}")]
    if note:
        tokens += [("", "\t"), ("probe", f"; {note}")]
    return tokens


def condition_marks(insns: Sequence[Instruction], pc: int, thumb: bool,
                    cpsr: int) -> dict[int, tuple[int, bool]]:
    """Which coming instructions are conditional, and whether each executes now.

    In Thumb state that is the current IT block: the rest of it when PC is inside one
    (ITSTATE from CPSR), or the block an IT instruction at PC opens.  In ARM state it is
    the instruction at PC when its condition field is not AL.  The prediction uses the
    flags as they are now; an instruction inside the block that sets flags (``cmp``)
    can change what follows.
    """
    index = next((i for i, insn in enumerate(insns) if insn.address == pc), None)
    if index is None:
        return {}
    at_pc = insns[index]
    marks: dict[int, tuple[int, bool]] = {}
    if not thumb:
        cond = at_pc.raw[3] >> 4 if len(at_pc.raw) == 4 else COND_AL
        if cond < COND_AL:
            marks[pc] = (cond, condition_passed(cond, cpsr))
        return marks
    itstate = itstate_from_cpsr(cpsr)
    first = index
    if not in_it_block(itstate):
        halfword = int.from_bytes(at_pc.raw[:2], "little") if len(at_pc.raw) == 2 else 0
        if not is_it_instruction(halfword):
            return marks
        itstate = itstate_from_it_instruction(halfword)
        first = index + 1
    for insn, cond in zip(insns[first:], remaining_conditions(itstate)):
        marks[insn.address] = (cond, condition_passed(cond, cpsr))
    return marks


# --------------------------------------------------------------------------- stack & headings


def stack_lines(sp: int, words: Sequence[int], symbolize: Symbolize) -> list[list[Token]]:
    """``sp+8   0x8040fff8:\\t0x8000808c <main+28>``: the words at SP, symbolized."""
    lines = []
    for index, word in enumerate(words):
        offset = index * 4
        tokens: list[Token] = [("register", f"{'sp+' + str(offset):<6}"), ("", " "),
                               ("address", f"{sp + offset:#x}"), ("", ":\t"),
                               ("number", f"{word:#010x}")]
        name = symbolize(word)
        if name:
            tokens += [("", " "), ("symbol", f"<{name}>")]
        lines.append(tokens)
    return lines


def heading(title: str, width: int) -> list[Token]:
    """``---[ regs ]------...`` spanning ``width`` columns."""
    text = f"---[ {title} ]"
    return [("heading", text + "-" * max(3, width - len(text)))]


def rule(width: int) -> list[Token]:
    return [("heading", "-" * width)]
