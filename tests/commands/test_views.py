"""armdbg.views: pure rendering, checked against hand-written expectations."""

from __future__ import annotations

import pytest

from armdbg.isa.disasm import Instruction
from armdbg.views import (
    address_label,
    condition_marks,
    disassembly_line,
    heading,
    instruction_text,
    natural_register_value,
    pad_to_column,
    plain,
    raw_bytes,
    raw_hex,
    register_grid,
    register_info_line,
    stack_lines,
)

SYMBOLS = {0x80008030: "do_something", 0x80008034: "do_something+4",
           0x80008070: "main", 0x8000808C: "main+28"}


def symbolize(address: int) -> str | None:
    return SYMBOLS.get(address)


def arm(address: int, word: int, mnemonic: str, op_str: str = "") -> Instruction:
    return Instruction(address, 4, word.to_bytes(4, "little"), mnemonic, op_str, False)


def thumb(address: int, raw: bytes, mnemonic: str, op_str: str = "") -> Instruction:
    return Instruction(address, len(raw), raw, mnemonic, op_str, True)


# The CPSR flag bits, spelled out for the condition tests.
N, Z, C, V = 1 << 31, 1 << 30, 1 << 29, 1 << 28
T_SVC = 0x33  # Thumb, SVC mode


# --------------------------------------------------------------------------- registers


def test_pad_to_column_always_leaves_a_space() -> None:
    assert pad_to_column("r0", 15) == "r0" + " " * 13
    assert pad_to_column("x" * 20, 15) == "x" * 20 + " "


@pytest.mark.parametrize(("name", "value", "line"), [
    ("r0", 0, "r0             0x0                 0"),
    ("r1", 0xFFFFFFFF, "r1             0xffffffff          -1"),
    ("r12", 0x7FFFFFFF, "r12            0x7fffffff          2147483647"),
    ("sp", 0x80410000, "sp             0x80410000          0x80410000"),
    ("lr", 0x8000808C, "lr             0x8000808c          -2147450740"),
    ("pc", 0x80008034, "pc             0x80008034          0x80008034 <do_something+4>"),
    ("pc", 0x1000, "pc             0x1000              0x1000"),
])
def test_info_registers_line_matches_gdb_columns(name: str, value: int, line: str) -> None:
    assert register_info_line(name, value, symbolize) == line


def test_cpsr_natural_value_is_decoded() -> None:
    # N and C set, GE=0101, IT=0x0b (eq), Thumb, IRQs masked, SVC mode.
    cpsr = N | C | (0b0101 << 16) | (0x3 << 25) | (0x2 << 10) | 0x80 | 0x20 | 0x13
    assert natural_register_value("cpsr", cpsr, symbolize) == \
        "[ N z C v q GE=0101 IT=0x0b(eq) j e a I f T svc ]"
    line = register_info_line("cpsr", 0xD3, symbolize)
    assert line == "cpsr           0xd3                [ n z c v q GE=0000 j e a I F t svc ]"


def test_register_shown_by_alias_keeps_the_canonical_type() -> None:
    assert register_info_line("r15", 0x80008030, symbolize, "pc") == \
        "r15            0x80008030          0x80008030 <do_something>"
    assert register_info_line("r13", 0x80410000, symbolize, "sp") == \
        "r13            0x80410000          0x80410000"


def _registers(**changes: int) -> dict[str, int]:
    values = {f"r{i}": i for i in range(13)}
    values.update(sp=0x8040FFF0, lr=0x8000808C, pc=0x80008030, cpsr=0x600000D3)
    values.update(changes)
    return values


def test_register_grid_layout_and_change_marks() -> None:
    lines = [plain(tokens) for tokens in register_grid(_registers(), {"r5", "pc"}, symbolize)]
    assert lines == [
        "   r0 0x00000000      r1 0x00000001      r2 0x00000002      r3 0x00000003",
        "   r4 0x00000004     *r5 0x00000005      r6 0x00000006      r7 0x00000007",
        "   r8 0x00000008      r9 0x00000009     r10 0x0000000a     r11 0x0000000b",
        "  r12 0x0000000c      sp 0x8040fff0",
        "   lr 0x8000808c <main+28>",
        "  *pc 0x80008030 <do_something>",
        " cpsr 0x600000d3 [ n Z C v q GE=0000 j e a I F t svc ]",
    ]


def test_register_grid_styles_changed_registers() -> None:
    grid = register_grid(_registers(), {"r1"}, symbolize)
    styles = {text.strip(): style for style, text in grid[0] if text.strip()}
    assert styles["*r1"] == "changed"
    assert styles["0x00000001"] == "changed"
    assert styles["r0"] == "register"
    assert styles["0x00000000"] == "number"


def test_register_grid_symbolizes_thumb_lr_without_bit_0() -> None:
    lines = register_grid(_registers(lr=0x8000808D), set(), symbolize)
    assert plain(lines[4]) == "   lr 0x8000808d <main+28>"


# --------------------------------------------------------------------------- instructions


def test_raw_encodings_as_gdb_13_shows_them() -> None:
    push = arm(0x80008030, 0xE92D4010, "push", "{r4, lr}")
    assert raw_hex(push) == "e92d4010"
    assert raw_bytes(push) == "10 40 2d e9"
    wide = thumb(0x80009108, bytes([0xFF, 0xF7, 0x1A, 0xF8]), "bl", "#0x80008140")
    assert raw_hex(wide) == "f7ff f81a"
    assert raw_bytes(wide) == "ff f7 1a f8"
    assert raw_hex(thumb(0x80008142, bytes([0xB8, 0xBF]), "it", "lt")) == "bfb8"


@pytest.mark.parametrize(("mnemonic", "op_str", "text"), [
    ("bl", "#0x80008070", "bl\t0x80008070 <main>"),
    ("bne", "#0x80008034", "bne\t0x80008034 <do_something+4>"),
    ("b.w", "#0x90000000", "b.w\t0x90000000"),
    ("cbz", "r1, #0x80008030", "cbz\tr1, 0x80008030 <do_something>"),
    ("blx", "ip", "blx\tip"),
    ("mov", "r0, #0x80008070", "mov\tr0, #0x80008070"),
    ("bics", "r0, r0, #0x80008070", "bics\tr0, r0, #0x80008070"),
    ("nop", "", "nop"),
])
def test_branch_targets_are_symbolized(mnemonic: str, op_str: str, text: str) -> None:
    assert instruction_text(arm(0x80008000, 0, mnemonic, op_str), symbolize) == text


def test_disassembly_line_shapes() -> None:
    push = arm(0x80008030, 0xE92D4010, "push", "{r4, lr}")
    assert plain(disassembly_line(push, "<+0>", at_pc=True, symbolize=symbolize)) == \
        "=> 0x80008030 <+0>:\tpush\t{r4, lr}"
    assert plain(disassembly_line(push, "<do_something+0>", at_pc=False, symbolize=symbolize,
                                  raw="e92d4010")) == \
        "   0x80008030 <do_something+0>:\te92d4010\tpush\t{r4, lr}"
    assert plain(disassembly_line(push, "", at_pc=False, symbolize=symbolize)) == \
        "   0x80008030:\tpush\t{r4, lr}"
    line = disassembly_line(push, "", at_pc=False, symbolize=symbolize, mark=(0, False))
    assert plain(line).endswith("\t; eq: skipped")
    assert ("skipped", "; eq: skipped") in line
    assert ("marker", "=> ") in disassembly_line(push, "", at_pc=True, symbolize=symbolize)


def test_address_label() -> None:
    assert address_label(0x80008034, symbolize) == "0x80008034 <do_something+4>"
    assert address_label(0x10, symbolize) == "0x10"


# --------------------------------------------------------------------------- conditions


# thumb_itblocks from the demo: cmp; itete eq; addeq; subne; addeq; subne; adds.
ITBLOCK = [
    thumb(0x80008150, bytes([0x88, 0x42]), "cmp", "r0, r1"),
    thumb(0x80008152, bytes([0x0B, 0xBF]), "itete", "eq"),
    thumb(0x80008154, bytes([0x40, 0x1C]), "addeq", "r0, r0, #1"),
    thumb(0x80008156, bytes([0x40, 0x1E]), "subne", "r0, r0, #1"),
    thumb(0x80008158, bytes([0x89, 0x1C]), "addeq", "r1, r1, #2"),
    thumb(0x8000815A, bytes([0x89, 0x1E]), "subne", "r1, r1, #2"),
    thumb(0x8000815C, bytes([0x40, 0x18]), "adds", "r0, r0, r1"),
]
EQ, NE = 0, 1


def _cpsr_with_it(itstate: int, flags: int) -> int:
    return flags | T_SVC | ((itstate & 3) << 25) | ((itstate >> 2) << 10)


def test_marks_for_the_block_an_it_instruction_opens() -> None:
    marks = condition_marks(ITBLOCK, 0x80008152, True, Z | T_SVC)
    assert marks == {0x80008154: (EQ, True), 0x80008156: (NE, False),
                     0x80008158: (EQ, True), 0x8000815A: (NE, False)}
    # Z clear: the else-slots run instead.
    marks = condition_marks(ITBLOCK, 0x80008152, True, T_SVC)
    assert [executes for _, executes in marks.values()] == [False, True, False, True]


def test_marks_inside_a_block_follow_itstate() -> None:
    # Third slot of "itete eq": ITSTATE 0x0b has advanced twice, to 0x0c (2 slots left).
    marks = condition_marks(ITBLOCK, 0x80008158, True, _cpsr_with_it(0x0C, Z))
    assert marks == {0x80008158: (EQ, True), 0x8000815A: (NE, False)}


def test_no_marks_outside_blocks_or_without_pc() -> None:
    assert condition_marks(ITBLOCK, 0x80008150, True, Z | T_SVC) == {}
    assert condition_marks(ITBLOCK, 0x80008160, True, Z | T_SVC) == {}


def test_arm_conditional_at_pc_is_marked() -> None:
    addgt = arm(0x80008054, 0xC2800064, "addgt", "r0, r0, #0x64")
    suble = arm(0x80008058, 0xD2400001, "suble", "r0, r0, #1")
    # gt: Z clear and N == V.
    assert condition_marks([addgt, suble], 0x80008054, False, 0xD3) == {0x80008054: (0xC, True)}
    assert condition_marks([addgt, suble], 0x80008054, False, Z | 0xD3) == \
        {0x80008054: (0xC, False)}
    push = arm(0x80008030, 0xE92D4010, "push", "{r4, lr}")
    assert condition_marks([push], 0x80008030, False, 0xD3) == {}


# --------------------------------------------------------------------------- stack, headings


def test_stack_lines() -> None:
    lines = [plain(t) for t in stack_lines(0x8040FFF0, [0, 0x8000808C], symbolize)]
    assert lines == ["sp+0   0x8040fff0:\t0x00000000",
                     "sp+4   0x8040fff4:\t0x8000808c <main+28>"]


def test_heading_spans_the_width() -> None:
    assert plain(heading("regs", 20)) == "---[ regs ]---------"
    assert plain(heading("a very long title", 10)) == "---[ a very long title ]---"
