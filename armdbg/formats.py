"""gdb's output formats: ``print/FMT`` values, ``x/NFU`` memory lines, C strings.

Pure functions; the caller supplies ``symbolize(address) -> "main+4" | None``
and, where strings are shown, ``read_byte(address) -> int`` (which raises
:class:`MemoryAccessError`).  Output matches gdb 13 on a 32-bit little-endian
target: every string in the tests was checked against a native gdb 13.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass

from armdbg.errors import ExpressionError, MemoryAccessError
from armdbg.expr import ADDRESS_MASK, Value

__all__ = [
    "PRINT_ELEMENTS",
    "FormatSpec",
    "check_print_format",
    "examine_defaults",
    "format_address",
    "format_char",
    "format_memory_lines",
    "format_string_at",
    "format_value",
    "items_per_line",
    "parse_format_spec",
]

Symbolize = Callable[[int], str | None]
ReadByte = Callable[[int], int]

# gdb's "set print elements" default: strings stop after this many characters.
PRINT_ELEMENTS = 200
# gdb's "set print repeats" default: a run longer than this becomes <repeats N times>.
REPEAT_THRESHOLD = 10

FORMAT_LETTERS = frozenset("xduotacfszi")
SIZE_LETTERS = {"b": 1, "h": 2, "w": 4, "g": 8}
# Formats format_memory_lines handles; 's' and 'i' need the caller (strings, disassembly).
MEMORY_FORMATS = frozenset("xduotacfz")

_C_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}


# --------------------------------------------------------------------------- /NFU


@dataclass(frozen=True)
class FormatSpec:
    """A parsed ``/NFU``: count, format letter and size letter (``None`` if not given)."""

    count: int = 1
    fmt: str | None = None
    size: str | None = None
    raw: bool = False  # the 'r' letter (print raw, bypassing pretty-printers)
    count_given: bool = False

    @property
    def unit(self) -> int | None:
        """The size letter in bytes (b=1, h=2, w=4, g=8), or None."""
        return SIZE_LETTERS[self.size] if self.size else None


def parse_format_spec(spec: str, default_count: int = 1) -> FormatSpec:
    """Parse the text after ``/`` in ``x/4xw`` or ``p/x``.

    As in gdb's ``decode_format``: an optional ``-`` and a count come first, then
    format and size letters in any order, the last of each kind winning
    (``x/2xwb`` is bytes).  Sticky defaults are the caller's business (see
    :func:`examine_defaults`).
    """
    text = spec.strip()
    i = 0
    negative = text.startswith("-")
    if negative:
        i = 1
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    count_given = j > i or negative
    count = int(text[i:j]) if j > i else default_count
    if negative:
        count = -count
    fmt: str | None = None
    size: str | None = None
    raw = False
    for ch in text[j:]:
        if ch in SIZE_LETTERS:
            size = ch
        elif ch == "r":
            raw = True
        elif "a" <= ch <= "z" or "A" <= ch <= "Z":
            if ch not in FORMAT_LETTERS:
                raise ExpressionError(f'Undefined output format "{ch}".')
            fmt = ch
        else:
            # gdb would start parsing an expression here ("x/4-2 ..."); armdbg's
            # callers split the spec off at whitespace, so anything else is junk.
            raise ExpressionError(f'Invalid number "{text}".')
    return FormatSpec(count, fmt, size, raw, count_given)


def check_print_format(spec: FormatSpec, command: str = "print") -> str | None:
    """Validate a spec for print/output/call (gdb's ``validate_format``); return the letter."""
    if spec.size is not None:
        raise ExpressionError(f'Size letters are meaningless in "{command}" command.')
    if spec.count != 1:
        raise ExpressionError(f'Item count other than 1 is meaningless in "{command}" command.')
    if spec.fmt == "i":
        raise ExpressionError(f'Format letter "i" is meaningless in "{command}" command.')
    return spec.fmt


def examine_defaults(
    spec: FormatSpec, last_fmt: str = "x", last_size: str = "w"
) -> tuple[str, str]:
    """The (format, size letter) ``x`` uses, given gdb's sticky last ones.

    From gdb's printcmd.c ``decode_format``: ``a`` defaults to the pointer size
    (w on ARM32), ``c`` and ``s`` to bytes, ``f`` keeps a previous w/g size and
    otherwise uses g (double); everything else reuses the last size.  gdb starts
    with last format ``x`` and size ``w``.
    """
    fmt = spec.fmt or last_fmt
    if spec.size is not None:
        return fmt, spec.size
    if fmt == "a":
        return fmt, "w"
    if fmt in ("c", "s", "i"):
        return fmt, "b"
    if fmt == "f":
        return fmt, last_size if last_size in ("w", "g") else "g"
    return fmt, last_size


# --------------------------------------------------------------------------- scalars


def format_address(address: int, symbolize: Symbolize) -> str:
    """``0x8004 <main+4>``, or just ``0x8004`` when nothing is known there."""
    address &= ADDRESS_MASK
    symbol = symbolize(address)
    return f"{address:#x} <{symbol}>" if symbol else f"{address:#x}"


def _escape(code: int, quote: str) -> str:
    """One byte as gdb writes it inside ``quote``-delimited text.

    Bytes outside printable ASCII are octal escapes, as gdb does with an ASCII
    host charset (armdbg does not try to decode UTF-8).
    """
    if code in _C_ESCAPES:
        return _C_ESCAPES[code]
    if 0x20 <= code < 0x7F:
        ch = chr(code)
        return "\\" + ch if ch in (quote, "\\") else ch
    return f"\\{code:03o}"


def format_char(number: int) -> str:
    """gdb's character display: ``65 'A'``; the number keeps its sign (``-1 '\\377'``)."""
    return f"{number} '{_escape(number & 0xFF, chr(39))}'"


def _signed(bits: int, size: int) -> int:
    width = size * 8
    return bits - (1 << width) if bits >> (width - 1) else bits


def _format_float(bits: int, size: int) -> str:
    """IEEE bits as gdb prints them: %g with 9 (float) or 17 (double) digits.

    NaNs show their mantissa like glibc-backed gdb does: ``nan(0x400000)``.
    """
    if size == 4:
        number = float(struct.unpack("<f", bits.to_bytes(4, "little"))[0])
        mantissa, digits = bits & 0x7FFFFF, 9
    else:
        number = float(struct.unpack("<d", bits.to_bytes(8, "little"))[0])
        mantissa, digits = bits & 0xFFFFFFFFFFFFF, 17
    negative = bits >> (size * 8 - 1)
    if math.isnan(number):
        return f"{'-' if negative else ''}nan({mantissa:#x})"
    if math.isinf(number):
        return "-inf" if negative else "inf"
    return f"%.{digits}g" % number


def _format_scalar(
    bits: int, size: int, signed: bool, fmt: str, symbolize: Symbolize, examine: bool
) -> str:
    """One integer of ``size`` bytes (``bits`` unsigned) in format ``fmt``.

    ``examine`` is gdb's "a size letter was given" (the x command): then x and t
    are zero-padded to the size, as gdb's print_scalar_formatted does.
    """
    if fmt == "x":
        return f"0x{bits:0{size * 2}x}" if examine else f"{bits:#x}"
    if fmt == "z":
        return f"0x{bits:0{size * 2}x}"
    if fmt == "o":
        return f"0{bits:o}" if bits else "0"
    if fmt == "t":
        return f"{bits:0{size * 8}b}" if examine else f"{bits:b}"
    if fmt == "d":
        return str(_signed(bits, size))
    if fmt == "u":
        return str(bits)
    if fmt == "a":
        # gdb unpacks the value as a (possibly signed) integer, then prints it as
        # an address, so x/ab of 0x90 shows 0xffffff90 on a 32-bit target.
        number = _signed(bits, size) if signed else bits
        return format_address(number & ADDRESS_MASK, symbolize)
    if fmt == "c":
        # gdb casts to a 1-byte char of the value's signedness, then prints it.
        byte = bits & 0xFF
        return format_char(_signed(byte, 1) if signed else byte)
    if fmt == "f":
        if size in (4, 8):
            return _format_float(bits, size)
        # No float type of this size: gdb prints the integer itself.
        return str(_signed(bits, size) if signed else bits)
    raise ExpressionError(f'Undefined output format "{fmt}".')


# --------------------------------------------------------------------------- print


def format_value(
    value: Value,
    fmt: str | None,
    symbolize: Symbolize,
    *,
    read_byte: ReadByte | None = None,
) -> str:
    """What ``print/FMT`` shows after ``$N = ``.

    ``read_byte`` lets character pointers show their string (``0x8000 "hi"``), as
    gdb does; without it only the address is shown.  Simplifications: a bare
    program symbol prints as ``0x8000 <main>`` (gdb prints ``{<text variable, no
    debug info>} 0x8000 <main>``), and formats applied to a function value use
    its address (gdb would read the code bytes).
    """
    if fmt == "i":
        raise ExpressionError('Format letter "i" is meaningless in "print" command.')
    if fmt is not None and fmt not in FORMAT_LETTERS:
        raise ExpressionError(f'Undefined output format "{fmt}".')
    ctype = value.ctype
    if ctype.is_void:
        return "void"
    if fmt is None or fmt == "s":
        return _natural(value, symbolize, read_byte)
    size = ctype.size if ctype.is_integer else 4
    bits = value.value & ((1 << (size * 8)) - 1)
    return _format_scalar(bits, size, ctype.signed, fmt, symbolize, examine=False)


def _natural(value: Value, symbolize: Symbolize, read_byte: ReadByte | None) -> str:
    """gdb's default display of a value (no /FMT)."""
    ctype = value.ctype
    if ctype.is_integer:
        return format_char(value.value) if ctype.is_char else str(value.value)
    address = format_address(value.value, symbolize)
    if ctype.is_func:
        if ctype.name.startswith("<"):  # a bare symbol, see format_value's docstring
            return address
        return f"{{{ctype.name}}} {address}"
    target = ctype.target
    assert target is not None
    if target.is_char:
        # gdb omits the "(char *)" prefix for plain char only, and never reads at 0.
        prefix = "" if target.name == "char" else f"({ctype.name}) "
        if read_byte is not None and value.value != 0:
            text, _ = format_string_at(read_byte, value.value)
            return f"{prefix}{address} {text}"
        return prefix + address
    return f"({ctype.name}) {address}"


# --------------------------------------------------------------------------- strings


def _string_segments(data: bytes) -> list[str]:
    """gdb's string body: quoted runs, with long repeats as ``'a' <repeats N times>``.

    A repeated character is escaped for a double-quoted context, as gdb does
    (so a run of quotes prints ``'\\"' <repeats 15 times>`` but ``'''`` for ').
    """
    segments: list[str] = []
    singles: list[str] = []
    i = 0
    while i < len(data):
        j = i
        while j < len(data) and data[j] == data[i]:
            j += 1
        run = j - i
        if run > REPEAT_THRESHOLD:
            if singles:
                segments.append('"' + "".join(singles) + '"')
                singles = []
            segments.append(f"'{_escape(data[i], chr(34))}' <repeats {run} times>")
        else:
            singles.extend(_escape(data[i], '"') for _ in range(run))
        i = j
    if singles:
        segments.append('"' + "".join(singles) + '"')
    return segments


def format_string_at(
    read_byte: ReadByte, address: int, limit: int = PRINT_ELEMENTS
) -> tuple[str, int]:
    """A NUL-terminated string as gdb's ``x/s`` shows it, and the bytes it spans.

    The length includes the NUL when one was read, so ``address + length`` is
    where the next ``x/s`` starts.  After ``limit`` characters gdb stops; it adds
    ``...`` only if the next byte is readable and not NUL.  A read error ends the
    text with ``<error: Cannot access memory at address 0x...>``.
    """
    data = bytearray()
    error: str | None = None
    found_nul = False
    while len(data) < limit:
        where = (address + len(data)) & ADDRESS_MASK
        try:
            byte = read_byte(where) & 0xFF
        except MemoryAccessError as exc:
            error = str(exc)
            break
        if byte == 0:
            found_nul = True
            break
        data.append(byte)
    ellipsis = False
    if not found_nul and error is None:
        try:
            ellipsis = read_byte((address + len(data)) & ADDRESS_MASK) & 0xFF != 0
        except MemoryAccessError:
            ellipsis = False
    segments = _string_segments(bytes(data))
    text = ", ".join(segments)
    if not data and error is None:
        text = '""'
    if ellipsis:
        text += "..."
    if error is not None:
        text += f"<error: {error}>"
    return text, len(data) + (1 if found_nul else 0)


# --------------------------------------------------------------------------- x


def items_per_line(unit: int) -> int:
    """Items per ``x`` line: gdb's do_examine uses 8, but 4 for words and 2 for giants."""
    return {1: 8, 2: 8, 4: 4, 8: 2}[unit]


def format_memory_lines(
    start: int, data: bytes, fmt: str, unit: int, symbolize: Symbolize
) -> list[str]:
    """The lines ``x/FMT`` prints for ``data`` read at ``start`` (little-endian).

    gdb examines memory as signed integers of the unit size, which is why x/d and
    x/c of 0xff show -1 and x/f on bytes or halfwords prints integers.
    Each line is ``ADDR <sym+off>:`` then tab-separated items.
    """
    if fmt not in MEMORY_FORMATS:
        raise ExpressionError(f'Undefined output format "{fmt}".')
    if unit not in (1, 2, 4, 8):
        raise ValueError(f"unit must be 1, 2, 4 or 8 bytes, not {unit}")
    if len(data) % unit:
        raise ValueError("data is not a whole number of units")
    per_line = items_per_line(unit)
    lines: list[str] = []
    for line_start in range(0, len(data), unit * per_line):
        chunk = data[line_start : line_start + unit * per_line]
        items = [
            _format_scalar(
                int.from_bytes(chunk[k : k + unit], "little"),
                unit,
                True,
                fmt,
                symbolize,
                examine=True,
            )
            for k in range(0, len(chunk), unit)
        ]
        label = format_address(start + line_start, symbolize)
        lines.append(label + ":" + "".join("\t" + item for item in items))
    return lines
