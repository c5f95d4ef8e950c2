"""Keystone and Capstone as armdbg wraps them (armdbg.isa.asm, armdbg.isa.disasm).

Expected encodings are worked out by hand from the ARM ARM's encoding diagrams (A8.8),
so the tests notice Keystone's radix trap (keystone #481: plain numbers read as hex)
instead of repeating whatever the wrapper produces.
"""

from __future__ import annotations

import pytest

from armdbg.errors import AssemblyError
from armdbg.isa.asm import assemble, split_statements
from armdbg.isa.disasm import (
    decode_many,
    decode_one,
    instruction_size,
    thumb_is_wide,
)
from armdbg.isa.itstate import advance
from armdbg.isa.program import assemble_program

BASE = 0x8000


def words(code: bytes) -> list[int]:
    return [int.from_bytes(code[i:i + 4], "little") for i in range(0, len(code), 4)]


def halves(code: bytes) -> list[int]:
    return [int.from_bytes(code[i:i + 2], "little") for i in range(0, len(code), 2)]


# ------------------------------------------------------------------ number literals

@pytest.mark.parametrize(("text", "word"), [
    # MOV (immediate) A1: cond 0011 101S 0000 Rd imm12
    ("mov r0, #10", 0xE3A0000A),            # decimal ten, not 0x10
    ("mov r0, #0x10", 0xE3A00010),
    ("mov r0, #010", 0xE3A00008),           # GNU as: leading 0 is octal
    ("mov r0, #0", 0xE3A00000),
    ("mov r0, #'A'", 0xE3A00041),
    ("mov r2, #-1", 0xE3E02000),            # becomes MVN r2, #0
    # ADD (immediate) A1: cond 0010 100S Rn Rd imm12
    ("add r0, r0, #100", 0xE2800064),
    ("add r0, r1, #255", 0xE28100FF),
    # LDR (immediate) A1: cond 010P U0W1 Rn Rt imm12
    ("ldr r0, [r1, #16]", 0xE5910010),
    # ADD (register) A1 with LSL #3
    ("add r0, r1, r2, lsl #3", 0xE0810182),
    ("mov r0, r1, lsl #12", 0xE1A00601),
])
def test_arm_number_literals(text: str, word: int) -> None:
    assert words(assemble(text, BASE, False)) == [word]


def test_data_directives_use_decimal_and_hex() -> None:
    assert words(assemble(".word 10, 0x10, 010", BASE, False)) == [10, 16, 8]
    assert assemble(".byte 255, 0x7f", BASE, False) == b"\xff\x7f"
    assert assemble(".asciz \"a;b@c//d\"", BASE, False) == b"a;b@c//d\x00"
    assert assemble(".ascii \"10 0x10\"", BASE, False) == b"10 0x10"


@pytest.mark.parametrize(("text", "halfwords"), [
    ("movs r0, #10", [0x200A]),             # MOVS T1: 00100 Rd imm8
    ("adds r1, #200", [0x31C8]),            # ADDS T2: 00110 Rdn imm8
    ("cmp r3, #99", [0x2B63]),              # CMP T1: 00101 Rn imm8
    ("lsls r0, r1, #3", [0x00C8]),          # LSLS T1: 00000 imm5 Rm Rd
])
def test_thumb_number_literals(text: str, halfwords: list[int]) -> None:
    assert halves(assemble(text, BASE, True)) == halfwords


# ------------------------------------------------------------------ labels and symbols

def test_branches_to_labels() -> None:
    # B A1: cond 1010 imm24, target = PC + 8 + imm24*4
    assert words(assemble("b .", BASE, False)) == [0xEAFFFFFE]
    assert words(assemble("loop: subs r0, r0, #1; bne loop", BASE, False)) == \
        [0xE2500001, 0x1AFFFFFD]


def test_numeric_local_labels() -> None:
    assert words(assemble("1:\nsubs r0, r0, #1\nbne 1b", BASE, False)) == \
        [0xE2500001, 0x1AFFFFFD]
    # 1f is the next definition, 1b the latest one at or before the statement.
    code = assemble("b 1f\nnop\n1: nop\n1: b 1b\nb 1b", BASE, False)
    assert words(code) == [0xEA000000,            # b 0x8008
                           0xE320F000, 0xE320F000,
                           0xEAFFFFFE,            # b . (0x800c)
                           0xEAFFFFFD]            # b 0x800c
    with pytest.raises(AssemblyError, match=r"instruction 1 `bne 1b': undefined local label"):
        assemble("bne 1b", BASE, False)


def test_program_symbols_become_addresses() -> None:
    table = {"main": 0x9000, "do_something": 0x8100}
    # BL A1: imm24 = (0x9000 - (0x8000 + 8)) / 4 = 0x3fe
    assert words(assemble("bl main", BASE, False, resolve=table.get)) == [0xEB0003FE]
    assert words(assemble("b do_something", BASE, False, resolve=table.get)) == [0xEA00003E]
    # ldr =symbol puts the address in a literal pool after the code.
    code = words(assemble("ldr r0, =main", BASE, False, resolve=table.get))
    assert code[1:] == [0x9000]
    with pytest.raises(AssemblyError, match="instruction 1 `bl nowhere'"):
        assemble("bl nowhere", BASE, False, resolve=table.get)


def test_resolver_is_not_asked_about_registers_mnemonics_or_conditions() -> None:
    asked: list[str] = []

    def greedy(name: str) -> int:
        asked.append(name)
        return 0x12345678

    text = ("push {r4, lr}; mov r0, r1; add r0, sp, r2, lsl #3; msr cpsr_c, r0; "
            "mrs r1, apsr; mcr p15, 0, r0, c1, c0, 0; x: b x; itete eq; "
            "addeq r0, r0, r0; addne r0, r0, r0; addeq r0, r0, r0; addne r0, r0, r0")
    assert assemble(text, BASE, True, resolve=greedy) == assemble(text, BASE, True)
    assert asked == []


def test_labels_defined_in_the_text_win_over_program_symbols() -> None:
    code = assemble("main: b main", BASE, False, resolve=lambda n: 0x9000)
    assert words(code) == [0xEAFFFFFE]


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize(("text", "thumb", "message"), [
    ("mov r0, #1\nfoo r1\nmov r2, #2", False,
     "cannot assemble instruction 2 `foo r1': invalid mnemonic"),
    # The statement is quoted as written (not as rewritten for Keystone: #0x493e0).
    ("mov r0, #300000", False, "cannot assemble instruction 1 `mov r0, #300000': "
                               "invalid operand"),
    ("loop: subs r0, #1; bne loop; bad r9", False,
     "cannot assemble instruction 3 `bad r9': invalid mnemonic"),
    # Keystone returns no code and no error for this one.
    ("it eq\nadds r0, r0, #1", True,
     "cannot assemble instruction 2 `adds r0, r0, #1': rejected in this context"),
    # Keystone would hang on this one.
    (".asciz \"abc", False, "cannot assemble instruction 1 `.asciz \"abc': "
                            "missing closing quote"),
    ("", False, "nothing to assemble"),
    ("  @ only a comment", False, "nothing to assemble"),
    ("label_only:", False, "nothing to assemble"),
])
def test_errors_name_the_failing_statement(text: str, thumb: bool, message: str) -> None:
    with pytest.raises(AssemblyError) as caught:
        assemble(text, BASE, thumb)
    assert str(caught.value).startswith(message)


def test_it_context_error_explains_the_rule() -> None:
    with pytest.raises(AssemblyError, match=r"must carry its slot's condition"):
        assemble("itt ne\naddne r0, r0, r1\nmov r1, r2", BASE, True)


def test_split_statements() -> None:
    assert split_statements("mov r0, #1 @ comment ; not a statement\n"
                            ".ascii \"@;//\" ; nop // c\n\n  ; ;") == \
        ["mov r0, #1", ".ascii \"@;//\"", "nop"]
    assert split_statements("mov r0, #';'; nop") == ["mov r0, #';'", "nop"]
    assert split_statements('.asciz "open; still') == ['.asciz "open; still']


# ------------------------------------------------------------------ disassembly

def test_instruction_sizes() -> None:
    for first in (0b11101, 0b11110, 0b11111):
        halfword = first << 11
        assert thumb_is_wide(halfword)
        assert instruction_size(halfword.to_bytes(2, "little") + b"\0\0", True) == 4
    for first in range(0b11101):
        assert not thumb_is_wide(first << 11)
    assert instruction_size(b"\x0a\x20", True) == 2
    assert instruction_size(b"\0\0\0\0", False) == 4


def test_decode_arm_and_thumb() -> None:
    insn = decode_one((0xE2800064).to_bytes(4, "little"), BASE, False)
    assert (insn.mnemonic, insn.op_str, insn.size, insn.thumb) == \
        ("add", "r0, r0, #0x64", 4, False)
    assert insn.text == "add\tr0, r0, #0x64"
    insn = decode_one((0x200A).to_bytes(2, "little"), BASE, True)
    assert (insn.mnemonic, insn.op_str, insn.size) == ("movs", "r0, #0xa", 2)
    wide = decode_one(assemble("adds.w r0, r1, #1", BASE, True), BASE, True)
    assert wide.size == 4 and wide.mnemonic == "adds.w"


def test_undecodable_words_are_bad_and_skipped() -> None:
    bad = decode_one(b"\xff\xff\xff\xff", BASE, False)
    assert not bad.valid and bad.size == 4 and bad.raw == b"\xff\xff\xff\xff"
    data = assemble("mov r0, #1", BASE, False) + b"\xff\xff\xff\xff" + \
        assemble("mov r1, #2", BASE + 8, False)
    listing = decode_many(data, BASE, False)
    assert [(i.address, i.mnemonic) for i in listing] == \
        [(BASE, "mov"), (BASE + 4, "(bad)"), (BASE + 8, "mov")]
    assert len(decode_many(data, BASE, False, count=2)) == 2
    # gdb's breakpoint words are permanently undefined, and decode as such.
    assert decode_one((0xE7F001F0).to_bytes(4, "little"), BASE, False).mnemonic == "udf"
    assert decode_one((0xDE01).to_bytes(2, "little"), BASE, True).mnemonic == "udf"


BLOCK = "itete eq\naddeq r0, r0, #1\nsubne r0, #1\nmoveq r1, r2\ncmpne r0, r1\nadds r0, #1"


def test_it_block_read_in_one_pass() -> None:
    code = assemble(BLOCK, BASE, True)
    listing = decode_many(code, BASE, True)
    assert [i.mnemonic for i in listing] == ["itete", "addeq", "subne", "moveq", "cmpne",
                                             "adds"]


def test_it_context_from_itstate() -> None:
    code = assemble(BLOCK, BASE, True)
    state = code[0]                      # itete eq: ITSTATE 0x0b
    assert state == 0x0B
    expected = ["addeq", "subne", "moveq", "cmpne"]
    for slot, mnemonic in enumerate(expected):
        at = 2 + 2 * slot
        inside = decode_one(code[at:], BASE + at, True, itstate=state)
        assert inside.mnemonic == mnemonic
        assert inside.address == BASE + at and inside.size == 2
        # The rest of the block, read from this slot on.
        rest = decode_many(code[at:], BASE + at, True, itstate=state)
        assert [i.mnemonic for i in rest] == expected[slot:] + ["adds"]
        state = advance(state)
    assert state == 0
    # Without IT context the same halfwords are the flag-setting 16-bit forms.
    assert decode_one(code[2:], BASE + 2, True).mnemonic == "adds"
    assert decode_one(code[4:], BASE + 4, True).mnemonic == "subs"


def test_it_context_does_not_leak_between_calls() -> None:
    code = assemble(BLOCK, BASE, True)
    assert decode_one(code, BASE, True).mnemonic == "itete"
    assert decode_one(code[2:], BASE + 2, True).mnemonic == "adds"
    assert decode_one(code[2:], BASE + 2, True, itstate=0x0B).mnemonic == "addeq"
    assert decode_one(code[2:], BASE + 2, True).mnemonic == "adds"


def test_it_context_for_a_wide_slot_and_for_arm() -> None:
    code = assemble("itt hi\naddshi.w r0, r1, #1\nmovhi r2, r3", BASE, True)
    wide = decode_one(code[2:], BASE + 2, True, itstate=code[0])
    assert (wide.mnemonic, wide.size) == ("addshi.w", 4)
    arm = assemble("add r0, r0, r0", BASE, False)
    assert decode_one(arm, BASE, False, itstate=0x0B).mnemonic == "add"


# ------------------------------------------------------------------ multi-unit programs

def test_program_units_symbols_and_cross_references() -> None:
    source = """
.org 0x80008000
.arm
.func start
    bl helper
    blx thumb_fn
    b .
.endfunc
.func helper
    bx lr
.endfunc
.thumb
.func thumb_fn
    bx lr
.endfunc
.org 0x80200000
.object counter
    .word 7
.endobject
"""
    program = assemble_program(source, 0x80008000)
    symbols = {s.name: s for s in program.symbols}
    assert [(s.name, s.address, s.size, s.thumb, s.kind) for s in program.symbols] == [
        ("start", 0x80008000, 12, False, "func"),
        ("helper", 0x8000800C, 4, False, "func"),
        ("thumb_fn", 0x80008010, 2, True, "func"),
        ("counter", 0x80200000, 4, False, "object"),
    ]
    assert program.address_of("helper") == 0x8000800C
    start_code = dict(program.chunks)[0x80008000]
    listing = decode_many(start_code, 0x80008000, False)
    assert listing[0].op_str == f"#{symbols['helper'].address:#x}"
    assert (listing[1].mnemonic, listing[1].op_str) == ("blx", f"#{symbols['thumb_fn'].address:#x}")
    assert dict(program.chunks)[0x80200000] == (7).to_bytes(4, "little")


def test_program_layout_settles_when_a_branch_grows() -> None:
    # With its target unknown, "b b_func" first fits 16 bits; once b_func is known to be
    # 4 KiB away it needs b.w, which moves b_func: the layout must be redone.
    source = ".thumb\n.func a\n    b b_func\n    .space 4094\n.endfunc\n" \
             ".func b_func\n    bx lr\n.endfunc\n"
    program = assemble_program(source, 0x80008000)
    target = program.address_of("b_func")
    branch = decode_one(dict(program.chunks)[0x80008000], 0x80008000, True)
    assert (branch.mnemonic, branch.op_str) == ("b.w", f"#{target:#x}")
    assert target == 0x80008000 + 4 + 4094 + 2   # after a (4098 bytes), word-aligned


@pytest.mark.parametrize(("source", "message"), [
    ("mov r0, #1\n", "line 1: `mov r0, #1' outside .func/.object"),
    (".func f\n    nop\n", "line 1: f is not closed"),
    ("\n.func f\n    nop\n    bogus r1\n.endfunc\n",
     "f (line 2): cannot assemble instruction 2 `bogus r1': invalid mnemonic"),
])
def test_program_errors(source: str, message: str) -> None:
    with pytest.raises(AssemblyError) as caught:
        assemble_program(source, 0x80008000)
    assert str(caught.value) == message


def test_keystone_warnings_come_back_as_one_line_each(capfd: pytest.CaptureFixture[str]) -> None:
    """LLVM prints warnings straight to fd 2 in three lines; assemble hands them over."""
    warnings: list[str] = []
    code = assemble("stmia r1, {r0, r2, pc}", 0x1000, False, warnings=warnings)
    assert code == bytes.fromhex("058081e8")
    assert warnings == ["warning: use of SP or PC in the list is deprecated "
                        "(stmia r1, {r0, r2, pc})"]
    assert capfd.readouterr().err == ""
