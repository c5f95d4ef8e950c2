"""armdbg.formats against gdb 13 output.

The memory and string expectations are verbatim gdb 13 transcripts of ``x`` on
an i386 (32-bit, little-endian) image whose data starts at 0x8049000 -- the same
bytes, addresses and per-line layout an ARM32 target gives.  Value formatting
uses ARM's unsigned plain ``char``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from armdbg.errors import ExpressionError, MemoryAccessError
from armdbg.expr import (
    CHAR,
    CODE_PTR,
    INT,
    LONG_LONG,
    SHORT,
    SIGNED_CHAR,
    SYMBOL,
    UNSIGNED_CHAR,
    UNSIGNED_INT,
    UNSIGNED_LONG_LONG,
    UNSIGNED_SHORT,
    VOID,
    VOID_PTR,
    CType,
    Value,
    pointer_to,
)
from armdbg.formats import (
    FormatSpec,
    check_print_format,
    examine_defaults,
    format_address,
    format_char,
    format_memory_lines,
    format_string_at,
    format_value,
    items_per_line,
    parse_format_spec,
)

BUF = 0x8049000
BUF_BYTES = bytes(
    bytes.fromhex("48656c6c6f0a00ff 807f010203040506 0000803f00000000 0000f03f091b2227")
    # .long 0x8049000, 0x8049004, 0x8049003, 0
    + bytes([0x00, 0x90, 0x04, 0x08, 0x04, 0x90, 0x04, 0x08, 0x03, 0x90, 0x04, 0x08, 0, 0, 0, 0])
)

SYMBOLS = {0x8000_8000: "main", 0x2000_0000: "buf"}


def no_symbols(address: int) -> str | None:
    return None


def symbolize(address: int) -> str | None:
    """``main`` covers 0x80008000..0x800080ff, ``_start`` 0x8049000..0x80490ff."""
    for base, name in [(0x8000_8000, "main"), (0x804_9000, "_start"), (0x2000_0000, "buf")]:
        if base <= address < base + 0x100:
            return name if address == base else f"{name}+{address - base}"
    return None


def x(fmt: str, unit: int, offset: int, count: int) -> str:
    """Like gdb's ``x/COUNT FMT UNIT BUF+offset`` joined into one string."""
    data = BUF_BYTES[offset : offset + count * unit]
    return "\n".join(format_memory_lines(BUF + offset, data, fmt, unit, no_symbols))


# ------------------------------------------------------------------ x/NFU lines

MEMORY_CASES: list[tuple[str, int, int, int, str]] = [
    ("x", 1, 0, 16,
     "0x8049000:\t0x48\t0x65\t0x6c\t0x6c\t0x6f\t0x0a\t0x00\t0xff\n"
     "0x8049008:\t0x80\t0x7f\t0x01\t0x02\t0x03\t0x04\t0x05\t0x06"),
    ("x", 1, 0, 17,
     "0x8049000:\t0x48\t0x65\t0x6c\t0x6c\t0x6f\t0x0a\t0x00\t0xff\n"
     "0x8049008:\t0x80\t0x7f\t0x01\t0x02\t0x03\t0x04\t0x05\t0x06\n"
     "0x8049010:\t0x00"),
    ("x", 2, 0, 8,
     "0x8049000:\t0x6548\t0x6c6c\t0x0a6f\t0xff00\t0x7f80\t0x0201\t0x0403\t0x0605"),
    ("x", 2, 0, 9,
     "0x8049000:\t0x6548\t0x6c6c\t0x0a6f\t0xff00\t0x7f80\t0x0201\t0x0403\t0x0605\n"
     "0x8049010:\t0x0000"),
    ("x", 4, 0, 6,
     "0x8049000:\t0x6c6c6548\t0xff000a6f\t0x02017f80\t0x06050403\n"
     "0x8049010:\t0x3f800000\t0x00000000"),
    ("x", 8, 0, 3,
     "0x8049000:\t0xff000a6f6c6c6548\t0x0605040302017f80\n"
     "0x8049010:\t0x000000003f800000"),
    ("x", 4, 1, 3, "0x8049001:\t0x6f6c6c65\t0x80ff000a\t0x0302017f"),
    ("x", 4, 4, 3, "0x8049004:\t0xff000a6f\t0x02017f80\t0x06050403"),
    ("d", 4, 0, 4, "0x8049000:\t1819043144\t-16774545\t33652608\t100992003"),
    ("d", 1, 0, 16,
     "0x8049000:\t72\t101\t108\t108\t111\t10\t0\t-1\n"
     "0x8049008:\t-128\t127\t1\t2\t3\t4\t5\t6"),
    ("d", 2, 0, 8, "0x8049000:\t25928\t27756\t2671\t-256\t32640\t513\t1027\t1541"),
    ("d", 8, 0, 2, "0x8049000:\t-72046120361237176\t433757350076186496"),
    ("d", 4, 32, 3, "0x8049020:\t134516736\t134516740\t134516739"),
    ("u", 4, 0, 4, "0x8049000:\t1819043144\t4278192751\t33652608\t100992003"),
    ("u", 1, 0, 8, "0x8049000:\t72\t101\t108\t108\t111\t10\t0\t255"),
    ("u", 8, 0, 2, "0x8049000:\t18374697953348314440\t433757350076186496"),
    ("o", 1, 0, 8, "0x8049000:\t0110\t0145\t0154\t0154\t0157\t012\t0\t0377"),
    ("o", 4, 0, 4, "0x8049000:\t015433062510\t037700005157\t0200277600\t0601202003"),
    ("o", 4, 32, 4, "0x8049020:\t01001110000\t01001110004\t01001110003\t0"),
    ("o", 8, 0, 2, "0x8049000:\t01774000246755433062510\t030050100140200277600"),
    ("t", 1, 0, 8,
     "0x8049000:\t01001000\t01100101\t01101100\t01101100\t01101111\t00001010\t00000000"
     "\t11111111"),
    ("t", 2, 0, 2, "0x8049000:\t0110010101001000\t0110110001101100"),
    ("t", 4, 0, 4,
     "0x8049000:\t01101100011011000110010101001000\t11111111000000000000101001101111"
     "\t00000010000000010111111110000000\t00000110000001010000010000000011"),
    ("t", 8, 0, 1,
     "0x8049000:\t1111111100000000000010100110111101101100011011000110010101001000"),
    ("z", 4, 0, 4, "0x8049000:\t0x6c6c6548\t0xff000a6f\t0x02017f80\t0x06050403"),
    ("z", 1, 0, 8, "0x8049000:\t0x48\t0x65\t0x6c\t0x6c\t0x6f\t0x0a\t0x00\t0xff"),
    ("z", 2, 0, 3, "0x8049000:\t0x6548\t0x6c6c\t0x0a6f"),
    ("z", 8, 0, 2, "0x8049000:\t0xff000a6f6c6c6548\t0x0605040302017f80"),
    ("c", 1, 0, 16,
     "0x8049000:\t72 'H'\t101 'e'\t108 'l'\t108 'l'\t111 'o'\t10 '\\n'\t0 '\\000'\t-1 '\\377'\n"
     "0x8049008:\t-128 '\\200'\t127 '\\177'\t1 '\\001'\t2 '\\002'\t3 '\\003'\t4 '\\004'"
     "\t5 '\\005'\t6 '\\006'"),
    ("c", 1, 28, 4, "0x804901c:\t9 '\\t'\t27 '\\033'\t34 '\"'\t39 '\\''"),
    ("c", 4, 0, 2, "0x8049000:\t72 'H'\t111 'o'"),
    ("c", 2, 0, 2, "0x8049000:\t72 'H'\t108 'l'"),
    ("a", 4, 32, 1, "0x8049020:\t0x8049000"),
    ("a", 4, 32, 4, "0x8049020:\t0x8049000\t0x8049004\t0x8049003\t0x0"),
    ("a", 8, 32, 2, "0x8049020:\t0x8049000\t0x8049003"),
    ("a", 1, 32, 4, "0x8049020:\t0x0\t0xffffff90\t0x4\t0x8"),
    ("a", 2, 32, 4, "0x8049020:\t0xffff9000\t0x804\t0xffff9004\t0x804"),
    ("f", 4, 16, 2, "0x8049010:\t1\t0"),
    ("f", 8, 16, 2, "0x8049010:\t5.2635442471208903e-315\t3.5057819236857318e-120"),
    ("f", 1, 16, 3, "0x8049010:\t0\t0\t-128"),
    ("f", 2, 16, 3, "0x8049010:\t0\t16256\t0"),
    ("x", 4, 0, 0, ""),
]


@pytest.mark.parametrize(("fmt", "unit", "offset", "count", "expected"), MEMORY_CASES)
def test_memory_lines_match_gdb(
    fmt: str, unit: int, offset: int, count: int, expected: str
) -> None:
    assert x(fmt, unit, offset, count) == expected


def test_memory_lines_label_with_symbols() -> None:
    data = bytes(range(24))
    lines = format_memory_lines(0x8000_8000, data, "x", 4, symbolize)
    assert lines == [
        "0x80008000 <main>:\t0x03020100\t0x07060504\t0x0b0a0908\t0x0f0e0d0c",
        "0x80008010 <main+16>:\t0x13121110\t0x17161514",
    ]


def test_memory_lines_symbolic_addresses() -> None:
    data = (0x80008004).to_bytes(4, "little") + (0x1234).to_bytes(4, "little")
    lines = format_memory_lines(0x2000_0000, data, "a", 4, symbolize)
    assert lines == ["0x20000000 <buf>:\t0x80008004 <main+4>\t0x1234"]


@pytest.mark.parametrize(("unit", "per_line"), [(1, 8), (2, 8), (4, 4), (8, 2)])
def test_items_per_line(unit: int, per_line: int) -> None:
    assert items_per_line(unit) == per_line
    lines = format_memory_lines(0, bytes(unit * per_line * 2), "x", unit, no_symbols)
    assert [line.count("\t") for line in lines] == [per_line, per_line]


@pytest.mark.parametrize("fmt", ["s", "i", "q"])
def test_memory_lines_reject_other_formats(fmt: str) -> None:
    with pytest.raises(ExpressionError, match=f'Undefined output format "{fmt}".'):
        format_memory_lines(0, bytes(4), fmt, 4, no_symbols)


def test_memory_lines_reject_bad_units() -> None:
    with pytest.raises(ValueError, match="unit"):
        format_memory_lines(0, bytes(3), "x", 3, no_symbols)
    with pytest.raises(ValueError, match="whole number"):
        format_memory_lines(0, bytes(5), "x", 4, no_symbols)


# ------------------------------------------------------------------ print/FMT

FORMAT_CASES: list[tuple[CType, int, str | None, str]] = [
    # default display
    (INT, -5, None, "-5"),
    (UNSIGNED_INT, 4294967295, None, "4294967295"),
    (UNSIGNED_LONG_LONG, 2**64 - 1, None, "18446744073709551615"),
    (CHAR, 65, None, "65 'A'"),
    (CHAR, 200, None, "200 '\\310'"),
    (SIGNED_CHAR, -56, None, "-56 '\\310'"),
    (UNSIGNED_CHAR, 0, None, "0 '\\000'"),
    (CHAR, 10, None, "10 '\\n'"),
    (CHAR, 27, None, "27 '\\033'"),
    (CHAR, 7, None, "7 '\\a'"),
    (CHAR, 39, None, "39 '\\''"),
    (CHAR, 34, None, "34 '\"'"),
    (CHAR, 92, None, "92 '\\\\'"),
    (CHAR, 127, None, "127 '\\177'"),
    (CHAR, 32, None, "32 ' '"),
    (SHORT, -1, None, "-1"),
    (VOID, 0, None, "void"),
    (pointer_to(INT), 0x1000, None, "(int *) 0x1000"),
    (pointer_to(INT), 0, None, "(int *) 0x0"),
    (pointer_to(pointer_to(INT)), 0x10, None, "(int **) 0x10"),
    (VOID_PTR, 0x10, None, "(void *) 0x10"),
    (pointer_to(CHAR), 0, None, "0x0"),
    (pointer_to(UNSIGNED_CHAR), 0x10, None, "(unsigned char *) 0x10"),
    (CODE_PTR, 0x10, None, "(void (*)()) 0x10"),
    # print/x masks to the type's size, no padding
    (INT, 5, "x", "0x5"),
    (INT, -1, "x", "0xffffffff"),
    (CHAR, 255, "x", "0xff"),
    (SIGNED_CHAR, -1, "x", "0xff"),
    (SHORT, -1, "x", "0xffff"),
    (SHORT, -2, "x", "0xfffe"),
    (LONG_LONG, -1, "x", "0xffffffffffffffff"),
    (pointer_to(INT), 0x10, "x", "0x10"),
    (pointer_to(CHAR), 0x804A030, "x", "0x804a030"),
    (CHAR, 65, "x", "0x41"),
    # z pads to the size
    (INT, 5, "z", "0x00000005"),
    (CHAR, 5, "z", "0x05"),
    (LONG_LONG, 5, "z", "0x0000000000000005"),
    (UNSIGNED_LONG_LONG, 1, "z", "0x0000000000000001"),
    (SHORT, -2, "z", "0xfffe"),
    (INT, 0, "z", "0x00000000"),
    (INT, -1, "z", "0xffffffff"),
    (pointer_to(INT), 16, "z", "0x00000010"),
    # o and t
    (INT, 8, "o", "010"),
    (INT, 0, "o", "0"),
    (INT, -1, "o", "037777777777"),
    (SHORT, -1, "o", "0177777"),
    (CHAR, 8, "o", "010"),
    (UNSIGNED_LONG_LONG, 2**64 - 1, "o", "01777777777777777777777"),
    (INT, 10, "t", "1010"),
    (INT, 0, "t", "0"),
    (INT, -1, "t", "1" * 32),
    (SHORT, -1, "t", "1" * 16),
    (CHAR, 5, "t", "101"),
    (UNSIGNED_LONG_LONG, 1 << 40, "t", "1" + "0" * 40),
    (pointer_to(INT), 16, "t", "10000"),
    # d and u reinterpret the bits at the type's size
    (UNSIGNED_INT, 0xFFFFFFFF, "d", "-1"),
    (UNSIGNED_CHAR, 200, "d", "-56"),
    (CHAR, 200, "d", "-56"),
    (UNSIGNED_SHORT, 65535, "d", "-1"),
    (UNSIGNED_LONG_LONG, 2**64 - 1, "d", "-1"),
    (CHAR, 65, "d", "65"),
    (pointer_to(INT), 16, "d", "16"),
    (INT, -1, "u", "4294967295"),
    (SIGNED_CHAR, -1, "u", "255"),
    (SHORT, -1, "u", "65535"),
    (LONG_LONG, -1, "u", "18446744073709551615"),
    # a: address plus <symbol+offset>
    (INT, 0x1000, "a", "0x1000"),
    (UNSIGNED_INT, 0x8049003, "a", "0x8049003 <_start+3>"),
    (INT, -1, "a", "0xffffffff"),
    (INT, 0, "a", "0x0"),
    (CHAR, 65, "a", "0x41"),
    (pointer_to(INT), 0x80008010, "a", "0x80008010 <main+16>"),
    # c: truncate to a char of the value's signedness
    (INT, 65, "c", "65 'A'"),
    (INT, 200, "c", "-56 '\\310'"),
    (UNSIGNED_INT, 200, "c", "200 '\\310'"),
    (INT, 0x141, "c", "65 'A'"),
    (INT, -1, "c", "-1 '\\377'"),
    (UNSIGNED_INT, 1000, "c", "232 '\\350'"),
    (INT, 0, "c", "0 '\\000'"),
    (INT, 9, "c", "9 '\\t'"),
    (INT, 126, "c", "126 '~'"),
    (INT, 127, "c", "127 '\\177'"),
    (INT, 128, "c", "-128 '\\200'"),
    (SHORT, 65, "c", "65 'A'"),
    (pointer_to(INT), 65, "c", "65 'A'"),
    # f: 4- and 8-byte integers are reinterpreted as float/double; others print as integers
    (INT, 1, "f", "1.40129846e-45"),
    (INT, 3, "f", "4.20389539e-45"),
    (UNSIGNED_INT, 0x3F800000, "f", "1"),
    (CHAR, 1, "f", "1"),
    (CHAR, 65, "f", "65"),
    (UNSIGNED_CHAR, 200, "f", "200"),
    (SHORT, 3, "f", "3"),
    (SHORT, -1, "f", "-1"),
    (LONG_LONG, 1, "f", "4.9406564584124654e-324"),
    (INT, -1, "f", "-nan(0x7fffff)"),
    (UNSIGNED_LONG_LONG, 2**64 - 1, "f", "-nan(0xfffffffffffff)"),
    (LONG_LONG, 0x7FF0000000000000, "f", "inf"),
    (INT, 0x7F800000, "f", "inf"),
    (UNSIGNED_INT, 0xFF800000, "f", "-inf"),
    (INT, 0x7FC00000, "f", "nan(0x400000)"),
    (INT, 0x40490FDB, "f", "3.14159274"),
    (LONG_LONG, 0x400921FB54442D18, "f", "3.1415926535897931"),
    (LONG_LONG, 0x3FB999999999999A, "f", "0.10000000000000001"),
    (INT, 0x3DCCCCCD, "f", "0.100000001"),
    (INT, 0x47C35000, "f", "100000"),
    (INT, 0x4B189680, "f", "10000000"),
    (INT, 0x4CBEBC20, "f", "100000000"),
    (INT, 0x00800000, "f", "1.17549435e-38"),
    (INT, 0x7F7FFFFF, "f", "3.40282347e+38"),
    (INT, 0x3F000000, "f", "0.5"),
    (INT, 0x3EAAAAAB, "f", "0.333333343"),
    (INT, 0x42F6E979, "f", "123.456001"),
    (UNSIGNED_INT, 0x80000000, "f", "-0"),
    (pointer_to(INT), 16, "f", "2.24207754e-44"),
    # s is the natural display for anything that is not a string
    (INT, 65, "s", "65"),
    (CHAR, 65, "s", "65 'A'"),
    (pointer_to(INT), 16, "s", "(int *) 0x10"),
    # void ignores the format
    (VOID, 0, "x", "void"),
    (VOID, 0, "d", "void"),
]


@pytest.mark.parametrize(("ctype", "raw", "fmt", "expected"), FORMAT_CASES)
def test_format_value_matches_gdb(ctype: CType, raw: int, fmt: str | None, expected: str) -> None:
    assert format_value(Value.of(ctype, raw), fmt, symbolize) == expected


def test_code_pointers_and_symbols() -> None:
    assert format_value(Value(0x80008000, CODE_PTR), None, symbolize) == (
        "(void (*)()) 0x80008000 <main>"
    )
    assert format_value(Value(0x80008000, SYMBOL, address=0x80008000), None, symbolize) == (
        "0x80008000 <main>"
    )
    assert format_value(Value(0x80008004, pointer_to(SYMBOL)), None, symbolize) == (
        "(<symbol, no debug info> *) 0x80008004 <main+4>"
    )
    func = CType("void ()", 1, kind="func")
    assert format_value(Value(0x80008000, func, address=0x80008000), None, symbolize) == (
        "{void ()} 0x80008000 <main>"
    )
    assert format_value(Value(0x80008000, SYMBOL), "x", symbolize) == "0x80008000"
    # Data pointers get <symbol> too, as with gdb's default "print symbol on".
    assert format_value(Value(0x20000000, pointer_to(INT)), None, symbolize) == (
        "(int *) 0x20000000 <buf>"
    )


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("i", 'Format letter "i" is meaningless in "print" command.'),
        ("q", 'Undefined output format "q".'),
        ("X", 'Undefined output format "X".'),
    ],
)
def test_format_value_rejects(fmt: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        format_value(Value(1, INT), fmt, symbolize)
    assert str(info.value) == message


def test_format_char_and_address() -> None:
    assert format_char(65) == "65 'A'"
    assert format_char(-1) == "-1 '\\377'"
    assert format_address(0x80008008, symbolize) == "0x80008008 <main+8>"
    assert format_address(0x10, symbolize) == "0x10"
    assert format_address(-4, no_symbols) == "0xfffffffc"


# ------------------------------------------------------------------ strings


def reader(base: int, data: bytes) -> tuple[int, Callable[[int], int]]:
    """A read_byte over ``data`` at ``base``; anything outside is unreadable."""

    def read_byte(address: int) -> int:
        if not base <= address < base + len(data):
            raise MemoryAccessError(address)
        return data[address - base]

    return base, read_byte


STRING_CASES: list[tuple[bytes, str, int]] = [
    (b"hello\0", '"hello"', 6),
    (b"\0", '""', 1),
    (b"hello\tworld\n\"q\"\\\001\377\0", '"hello\\tworld\\n\\"q\\"\\\\\\001\\377"', 19),
    (b"aaaaaaaaaab\0", '"aaaaaaaaaab"', 12),  # 10 repeats: not compressed
    (b"a" * 11 + b"b\0", "'a' <repeats 11 times>, \"b\"", 13),
    (b"x" + b"b" * 15 + b"c\0", "\"x\", 'b' <repeats 15 times>, \"c\"", 18),
    (b"'" * 12 + b"\0", "''' <repeats 12 times>", 13),
    (b'"' * 15 + b"x\0", "'\\\"' <repeats 15 times>, \"x\"", 17),
    (b"\n" * 12 + b"\0", "'\\n' <repeats 12 times>", 13),
    (b"b" * 199 + b"c\0", "'b' <repeats 199 times>, \"c\"", 200),
    (b"b" * 200 + b"c\0", "'b' <repeats 200 times>...", 200),
    (b"x" + b"b" * 205 + b"\0", "\"x\", 'b' <repeats 199 times>...", 200),
    (b"ab" * 150 + b"\0", '"' + "ab" * 100 + '"...', 200),
    (b"end", '"end"<error: Cannot access memory at address 0x8049003>', 3),
    (b"b" * 200, "'b' <repeats 200 times>", 200),  # limit hit, next byte unreadable
]


@pytest.mark.parametrize(("data", "text", "length"), STRING_CASES)
def test_string_at_matches_gdb(data: bytes, text: str, length: int) -> None:
    base, read_byte = reader(BUF, data)
    assert format_string_at(read_byte, base) == (text, length)


def test_string_at_unreadable_start() -> None:
    _, read_byte = reader(BUF, b"")
    assert format_string_at(read_byte, 0x80492EB) == (
        "<error: Cannot access memory at address 0x80492eb>",
        0,
    )


def test_string_at_next_string_follows() -> None:
    # gdb's x/2s on "x" + 205*'b': the second string starts 200 bytes on.
    data = b"x" + b"b" * 205 + b"\0"
    base, read_byte = reader(0x8049219, data)
    _, length = format_string_at(read_byte, base)
    assert base + length == 0x80492E1
    assert format_string_at(read_byte, base + length) == ('"bbbbbb"', 7)


def test_string_at_custom_limit() -> None:
    base, read_byte = reader(BUF, b"hello world\0")
    assert format_string_at(read_byte, base, limit=5) == ('"hello"...', 5)


def test_char_pointers_show_their_string() -> None:
    base, read_byte = reader(0x804A030, b"hello\tworld\n\0")
    expected = '"hello\\tworld\\n"'
    plain = format_value(Value(base, pointer_to(CHAR)), None, no_symbols, read_byte=read_byte)
    assert plain == f"0x804a030 {expected}"
    unsigned = format_value(
        Value(base, pointer_to(UNSIGNED_CHAR)), None, no_symbols, read_byte=read_byte
    )
    assert unsigned == f"(unsigned char *) 0x804a030 {expected}"
    signed = format_value(
        Value(base, pointer_to(SIGNED_CHAR)), "s", no_symbols, read_byte=read_byte
    )
    assert signed == f"(signed char *) 0x804a030 {expected}"
    _, read_hi = reader(0x20000000, b"hi\0")
    at_buf = Value(0x20000000, pointer_to(CHAR))
    with_symbol = format_value(at_buf, None, symbolize, read_byte=read_hi)
    assert with_symbol == '0x20000000 <buf> "hi"'
    # Not at NULL, and /x shows only the pointer.
    assert format_value(Value(0, pointer_to(CHAR)), None, no_symbols, read_byte=read_byte) == "0x0"
    hexed = format_value(Value(base, pointer_to(CHAR)), "x", no_symbols, read_byte=read_byte)
    assert hexed == "0x804a030"


def test_char_pointer_to_unreadable_memory() -> None:
    _, read_byte = reader(BUF, b"")
    assert format_value(Value(0x10, pointer_to(CHAR)), None, no_symbols, read_byte=read_byte) == (
        "0x10 <error: Cannot access memory at address 0x10>"
    )


# ------------------------------------------------------------------ /NFU specs

SPEC_CASES: list[tuple[str, FormatSpec]] = [
    ("4xw", FormatSpec(4, "x", "w", count_given=True)),
    ("x", FormatSpec(1, "x", None)),
    ("", FormatSpec(1, None, None)),
    ("3i", FormatSpec(3, "i", None, count_given=True)),
    ("s", FormatSpec(1, "s", None)),
    ("wx", FormatSpec(1, "x", "w")),
    ("2xwb", FormatSpec(2, "x", "b", count_given=True)),
    ("xx", FormatSpec(1, "x", None)),
    ("xd", FormatSpec(1, "d", None)),
    ("-3xw", FormatSpec(-3, "x", "w", count_given=True)),
    ("-", FormatSpec(-1, None, None, count_given=True)),
    ("10", FormatSpec(10, None, None, count_given=True)),
    ("0xw", FormatSpec(0, "x", "w", count_given=True)),
    ("8cb", FormatSpec(8, "c", "b", count_given=True)),
    ("2g", FormatSpec(2, None, "g", count_given=True)),
    ("ah", FormatSpec(1, "a", "h")),
    ("zr", FormatSpec(1, "z", None, raw=True)),
    ("tf", FormatSpec(1, "f", None)),
    ("12345678901234567890xb", FormatSpec(12345678901234567890, "x", "b", count_given=True)),
]


@pytest.mark.parametrize(("spec", "expected"), SPEC_CASES)
def test_parse_format_spec(spec: str, expected: FormatSpec) -> None:
    assert parse_format_spec(spec) == expected


def test_parse_format_spec_default_count_and_unit() -> None:
    assert parse_format_spec("x", default_count=5).count == 5
    assert parse_format_spec("-x", default_count=5).count == -5
    assert parse_format_spec("2x", default_count=5).count == 2
    assert parse_format_spec("4xh").unit == 2
    assert parse_format_spec("x").unit is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("3xq", 'Undefined output format "q".'),
        ("3bq", 'Undefined output format "q".'),
        ("X", 'Undefined output format "X".'),
        ("4x-", 'Invalid number "4x-".'),
        ("x4", 'Invalid number "x4".'),
        ("1-2", 'Invalid number "1-2".'),
    ],
)
def test_parse_format_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_format_spec(spec)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("spec", "result"),
    [
        ("x", "x"),
        ("", None),
        ("d", "d"),
        ("r", None),
        ("xx", "x"),
        ("s", "s"),
    ],
)
def test_check_print_format_accepts(spec: str, result: str | None) -> None:
    assert check_print_format(parse_format_spec(spec)) == result


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("2x", 'Item count other than 1 is meaningless in "print" command.'),
        ("xw", 'Size letters are meaningless in "print" command.'),
        ("b", 'Size letters are meaningless in "print" command.'),
        ("2xb", 'Size letters are meaningless in "print" command.'),  # size is checked first
        ("i", 'Format letter "i" is meaningless in "print" command.'),
    ],
)
def test_check_print_format_rejects(spec: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        check_print_format(parse_format_spec(spec))
    assert str(info.value) == message


def test_check_print_format_names_the_command() -> None:
    with pytest.raises(ExpressionError, match='meaningless in "output" command'):
        check_print_format(parse_format_spec("2x"), "output")


@pytest.mark.parametrize(
    ("spec", "last_fmt", "last_size", "expected"),
    [
        ("", "x", "w", ("x", "w")),  # gdb's initial x/ defaults
        ("a", "x", "b", ("a", "w")),  # pointer size on ARM32
        ("c", "x", "w", ("c", "b")),
        ("s", "x", "w", ("s", "b")),
        ("f", "x", "h", ("f", "g")),
        ("f", "x", "w", ("f", "w")),
        ("f", "x", "g", ("f", "g")),
        ("d", "x", "g", ("d", "g")),
        ("", "d", "h", ("d", "h")),
        ("xh", "d", "w", ("x", "h")),
        ("cw", "x", "b", ("c", "w")),
        ("4", "u", "b", ("u", "b")),
    ],
)
def test_examine_defaults(
    spec: str, last_fmt: str, last_size: str, expected: tuple[str, str]
) -> None:
    assert examine_defaults(parse_format_spec(spec), last_fmt, last_size) == expected
