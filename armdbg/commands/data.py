"""Examining data: ``x``, ``print``, ``output``, ``printf`` and ``display``.

The formats themselves are :mod:`armdbg.formats`; this module adds what needs the
session: reading memory, gdb's sticky ``x`` defaults and continuation, the value
history (``$1``, ``$``, ``$$N``), ``$_``/``$__``, and the auto-display list shown after
every stop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from armdbg import expr
from armdbg.commands.context import Context
from armdbg.commands.evaluation import evaluate
from armdbg.commands.registry import CommandSet
from armdbg.errors import ArmdbgError, ExpressionError, MemoryAccessError, UsageError
from armdbg.formats import (
    SIZE_LETTERS,
    FormatSpec,
    check_print_format,
    examine_defaults,
    format_address,
    format_memory_lines,
    format_string_at,
    format_value,
    items_per_line,
    parse_format_spec,
)
from armdbg.frames import code_is_thumb, decode_at
from armdbg.machine.stops import StopReason
from armdbg.views import disassembly_line

if TYPE_CHECKING:
    from armdbg.session import Session

commands = CommandSet()

# The types of what ``x`` examined, as gdb names them (builtin_int8 .. builtin_int64).
_UNIT_TYPES = {
    "b": expr.CType("int8_t", 1, True),
    "h": expr.CType("int16_t", 2, True),
    "w": expr.CType("int32_t", 4, True),
    "g": expr.CType("int64_t", 8, True),
}
# Strings longer than this stop (with "...") even under "set print elements unlimited".
_STRING_HARD_LIMIT = 65536


def attach(session: Session) -> None:
    def on_stop(ctx: Context | None = None, event: Any = None, **_: Any) -> None:
        if ctx is None or (event is not None and event.reason is StopReason.EXITED):
            return
        show_displays(ctx)

    session.events.subscribe("stop", on_stop)


# --------------------------------------------------------------------------- helpers


def split_format(args: str) -> tuple[FormatSpec | None, str]:
    """``/4xw $sp`` -> (spec, "$sp"); the spec ends where letters and digits do."""
    text = args.strip()
    if not text.startswith("/"):
        return None, text
    end = 1
    if end < len(text) and text[end] == "-":
        end += 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return parse_format_spec(text[1:end]), text[end:].strip()


def _read_byte(session: Session) -> Callable[[int], int]:
    def read_byte(address: int) -> int:
        return session.read_memory(address, 1)[0]

    return read_byte


def _string_limit(session: Session) -> int:
    limit = int(session.settings["print elements"])
    return limit if limit else _STRING_HARD_LIMIT


def format_for_print(session: Session, value: expr.Value, fmt: str | None) -> str:
    return format_value(value, fmt, session.symbolize, read_byte=_read_byte(session))


def _history(session: Session) -> list[expr.Value]:
    history: list[expr.Value] = session.extensions.setdefault("value-history", [])
    return history


# --------------------------------------------------------------------------- x


@dataclass
class ExamineState:
    """gdb's sticky ``x`` state (printcmd.c last_format, last_size, last_count, next_address)."""

    last_format: str = "x"
    last_size: str = "w"
    last_count: int = 1
    next_address: int | None = None


def examine_state(session: Session) -> ExamineState:
    state: ExamineState = session.extensions.setdefault("examine", ExamineState())
    return state


@dataclass(frozen=True)
class Examined:
    """The last item ``x`` showed: its address, type and contents (None when not read)."""

    address: int
    ctype: expr.CType
    contents: int | None


def examine(ctx: Context, address: int, fmt: str, size: str, count: int) -> Examined | None:
    """Print ``count`` items at ``address`` like gdb's do_examine; advance next_address.

    An unreadable item ends the output the way gdb's does: the line so far, then the
    error (``0x0:\\t`` followed by ``Cannot access memory at address 0x0``).
    """
    if count < 0 and fmt in ("s", "i"):
        # gdb reads strings and instructions backwards with line tables and heuristics.
        raise UsageError(f"armdbg cannot examine backwards with format '{fmt}'.")
    if fmt == "s":
        return _examine_strings(ctx, address, count)
    if fmt == "i":
        return _examine_instructions(ctx, address, count)
    return _examine_memory(ctx, address, fmt, size, count)


def _examine_memory(ctx: Context, address: int, fmt: str, size: str,
                    count: int) -> Examined | None:
    session = ctx.session
    state = examine_state(session)
    unit = SIZE_LETTERS[size]
    backwards = count < 0
    count = abs(count)
    start = (address - count * unit) & 0xFFFFFFFF if backwards else address
    per_line = items_per_line(unit)
    where, left = start, count
    last: bytes | None = None
    while left > 0:
        items = min(per_line, left)
        try:
            data = session.read_memory(where, items * unit)
        except MemoryAccessError:
            _partial_memory_line(ctx, where, items, fmt, unit)
            raise  # _partial_memory_line raises with the item's address; not reached
        for line in format_memory_lines(where, data, fmt, unit, session.symbolize):
            ctx.out.line(line)
        last = data[-unit:]
        where = (where + items * unit) & 0xFFFFFFFF
        left -= items
    # Enter after x/-N keeps going backwards, as in gdb.
    state.next_address = start if backwards else where
    if last is None:
        return None
    ctype = _UNIT_TYPES[size]
    return Examined((where - unit) & 0xFFFFFFFF, ctype,
                    ctype.wrap(int.from_bytes(last, "little")))


def _partial_memory_line(ctx: Context, where: int, items: int, fmt: str, unit: int) -> None:
    session = ctx.session
    good = b""
    for index in range(items):
        item = (where + index * unit) & 0xFFFFFFFF
        try:
            good += session.read_memory(item, unit)
        except MemoryAccessError:
            if good:
                text = format_memory_lines(where, good, fmt, unit, session.symbolize)[0]
            else:
                text = format_address(where, session.symbolize) + ":"
            ctx.out.write(text + "\t")
            raise MemoryAccessError(item) from None


def _examine_strings(ctx: Context, address: int, count: int) -> Examined | None:
    session = ctx.session
    failed: list[int] = []
    read = _read_byte(session)

    def read_byte(where: int) -> int:
        try:
            return read(where)
        except MemoryAccessError:
            failed.append(where)
            raise

    examined = None
    where = address
    for _ in range(max(count, 0)):
        failed.clear()
        text, length = format_string_at(read_byte, where, _string_limit(session))
        ctx.out.line(f"{format_address(where, session.symbolize)}:\t{text}")
        examined = Examined(where, expr.CHAR, None)
        where = (where + length) & 0xFFFFFFFF
        if failed and "<error: " in text:
            break  # gdb shows the error in place; the next string would start there again
    examine_state(session).next_address = where
    return examined


def _examine_instructions(ctx: Context, address: int, count: int) -> Examined | None:
    session = ctx.session
    thumb = bool(address & 1) or code_is_thumb(session, address)
    address &= ~1
    insns, end = decode_at(session, address, max(count, 0), thumb)
    pc = session.machine.pc
    for insn in insns:
        name = session.symbolize(insn.address)
        ctx.out.token_line(disassembly_line(insn, f"<{name}>" if name else "",
                                            at_pc=insn.address == pc,
                                            symbolize=session.symbolize))
    examine_state(session).next_address = end
    if len(insns) < count:
        ctx.out.write(("=> " if end == pc else "   ")
                      + format_address(end, session.symbolize) + ":\t")
        raise MemoryAccessError(end)
    if not insns:
        return None
    return Examined(insns[-1].address, _UNIT_TYPES["b"], None)


def _x_repeat(ctx: Context, args: str) -> str:
    """Enter continues where the last ``x`` stopped, with the same count and format."""
    return "x"


@commands.command("x", category="data", usage="x[/FMT] [ADDRESS]", repeat=_x_repeat,
                  complete=("expression",))
def cmd_x(ctx: Context, args: str) -> None:
    """Examine memory: x/FMT ADDRESS.

    FMT is a repeat count, a format letter and a size letter, in any order after the
    count.  Formats: o(octal), x(hex), d(decimal), u(unsigned decimal), t(binary),
    f(float), a(address), i(instruction), c(char), s(string) and z(hex, zero padded
    on the left).  Sizes: b(byte), h(halfword), w(word), g(giant, 8 bytes).
    The format and size are remembered; the default is x/1xw.  With no ADDRESS, x goes
    on after the last thing it showed, and so does pressing Enter.
    $_ is set to the last address examined and $__ to its contents.
    x/i decodes ARM or Thumb as the code at that address is (CPSR.T at PC).
    """
    session = ctx.session
    state = examine_state(session)
    spec, text = split_format(args)
    fmt, size = examine_defaults(spec or FormatSpec(), state.last_format, state.last_size)
    if fmt == "i" and (spec is None or spec.size is None):
        size = state.last_size  # gdb keeps the previous size across x/i
    if spec is not None and spec.count_given:
        count = spec.count
    elif spec is None and not text:
        count = state.last_count
    else:
        count = 1
    if text:
        address = expr.value_as_address(evaluate(ctx, text))
    elif state.next_address is not None:
        address = state.next_address
    else:
        raise ArmdbgError("Argument required (starting display address).")
    state.last_count = count
    examined = examine(ctx, address, fmt, size, count)
    state.last_format = fmt
    state.last_size = "b" if fmt == "s" else size
    if examined is not None:
        session.convenience["_"] = expr.Value(examined.address, expr.pointer_to(examined.ctype))
        if examined.contents is None:
            session.convenience.pop("__", None)  # gdb voids $__ for values it did not read
        else:
            session.convenience["__"] = expr.Value(examined.contents, examined.ctype)


# --------------------------------------------------------------------------- print, output


@commands.command("print", category="data", aliases=("p", "inspect"),
                  usage="print[/FMT] [EXPR]", repeat=True, complete=("expression",))
def cmd_print(ctx: Context, args: str) -> None:
    """Print value of expression EXPR, and record it in the value history as $N.

    /FMT is one format letter (x d u o t a c f s z).  With no EXPR, the last value is
    shown again.  $, $$ and $$N are the last values, $N the Nth one.
    """
    session = ctx.session
    spec, text = split_format(args)
    fmt = check_print_format(spec, "print") if spec is not None else None
    history = _history(session)
    if text:
        value = evaluate(ctx, text)
    elif history:
        value = history[-1]
    else:
        raise ExpressionError("The history is empty.")
    shown = format_for_print(session, value, fmt)
    history.append(value.rvalue())
    ctx.out.line(f"${len(history)} = {shown}")


@commands.command("output", category="data", usage="output[/FMT] EXPR",
                  complete=("expression",))
def cmd_output(ctx: Context, args: str) -> None:
    """Like "print" but don't put in value history and don't print newline."""
    spec, text = split_format(args)
    fmt = check_print_format(spec, "output") if spec is not None else None
    ctx.out.write(format_for_print(ctx.session, evaluate(ctx, text), fmt))


# --------------------------------------------------------------------------- printf

_ESCAPES = {"\\": "\\", "a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t", "v": "\v", '"': '"'}


@dataclass(frozen=True)
class _Conversion:
    """One ``%...`` of a printf format, as gdb's format_pieces classifies it."""

    flags: str
    width: str
    precision: str | None
    length: str
    conversion: str


def _parse_conversion(fmt: str, start: int) -> tuple[_Conversion, int]:
    """Parse the specifier after the ``%`` at ``start - 1``; gdb's checks and messages."""
    i = start
    flags = ""
    while i < len(fmt) and fmt[i] in "0-+ #":
        flags += fmt[i]
        i += 1
    j = i
    while i < len(fmt) and fmt[i].isdigit():
        i += 1
    width = fmt[j:i]
    precision = None
    if i < len(fmt) and fmt[i] == ".":
        i += 1
        j = i
        while i < len(fmt) and fmt[i].isdigit():
            i += 1
        precision = fmt[j:i]
    length = ""
    if fmt.startswith("ll", i):
        length = "ll"
    elif fmt.startswith("DD", i):
        length = "DD"
    elif i < len(fmt) and fmt[i] in "hlLHDz":
        length = fmt[i]
    i += len(length)
    conv = fmt[i] if i < len(fmt) else ""
    bad = False
    long_count = length.count("l")
    if conv in ("u", "o", "x", "X", "d", "i"):
        bad = (conv == "u" and "#" in flags) or (conv in "uoxX" and bool(set(flags) & set(" +"))) \
            or length == "L"
    elif conv == "c":
        bad = long_count > 1 or length in ("h", "L") or precision is not None \
            or bool(set(flags) & set("0 +"))
    elif conv == "p":
        bad = bool(length) or precision is not None or bool(set(flags) & set("#0 +"))
    elif conv == "s":
        bad = long_count > 1 or length in ("h", "L") or bool(set(flags) & set("0 +"))
    elif conv in ("e", "f", "g", "E", "G"):
        bad = bool(long_count) or length == "h"
    elif conv == "V":
        # gdb's extension: the value as "print" shows it (options in [...] not supported).
        bad = bool(flags or width or length) or precision is not None
    elif conv == "*":
        raise ExpressionError("`*' not supported for precision or width in printf")
    elif conv == "n":
        raise ExpressionError("Format specifier `n' not supported in printf")
    elif conv == "":
        raise ExpressionError("Incomplete format specifier at end of format string")
    else:
        raise ExpressionError(f"Unrecognized format specifier '{conv}' in printf")
    if bad:
        raise ExpressionError(f"Inappropriate modifiers to format specifier '{conv}' in printf")
    return _Conversion(flags, width, precision, length, conv), i + 1


def parse_printf_format(fmt: str) -> list[str | _Conversion]:
    """Literal text and conversions, in order (``%%`` becomes a literal ``%``)."""
    pieces: list[str | _Conversion] = []
    literal = ""
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char != "%":
            literal += char
            i += 1
            continue
        if fmt.startswith("%%", i):
            literal += "%"
            i += 2
            continue
        if literal:
            pieces.append(literal)
            literal = ""
        conversion, i = _parse_conversion(fmt, i + 1)
        pieces.append(conversion)
    if literal:
        pieces.append(literal)
    return pieces


def _split_printf(text: str) -> tuple[str, list[str]]:
    """The format string (escapes processed) and the argument expressions' texts."""
    s = text.lstrip()
    if not s:
        raise ArmdbgError("Argument required (format-control string and values to print).")
    if s[0] != '"':
        raise ExpressionError("Bad format string, missing '\"'.")
    i = 1
    chars = []
    while i < len(s) and s[i] != '"':
        char = s[i]
        i += 1
        if char == "\\" and i < len(s):
            escape = s[i]
            i += 1
            if escape not in _ESCAPES:
                raise ExpressionError(
                    f"Unrecognized escape character \\{escape} in format string.")
            chars.append(_ESCAPES[escape])
        else:
            chars.append(char)
    fmt = "".join(chars)
    parse_printf_format(fmt)  # gdb reports a bad specifier before a missing quote
    if i >= len(s):
        raise ExpressionError("Bad format string, non-terminated '\"'.")
    rest = s[i + 1:].strip()
    if rest and rest[0] != ",":
        raise ExpressionError("Invalid argument syntax")
    return fmt, split_arguments(rest[1:]) if rest else []


def split_arguments(text: str) -> list[str]:
    """Comma-separated expressions; commas inside (), [] and quotes do not count."""
    args: list[str] = []
    depth = 0
    quote = ""
    current = ""
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and i + 1 < len(text):
                current += text[i:i + 2]
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            args.append(current.strip())
            current = ""
            i += 1
            continue
        current += char
        i += 1
    if current.strip():
        args.append(current.strip())
    return args


def _string_literal(text: str) -> bytes | None:
    """A "..." argument (the expression evaluator has no string values)."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        out = bytearray()
        i = 1
        while i < len(text) - 1:
            if text[i] == "\\" and text[i + 1] in _ESCAPES:
                out += _ESCAPES[text[i + 1]].encode()
                i += 2
            else:
                out += text[i].encode()
                i += 1
        return bytes(out)
    return None


def _integer(value: expr.Value) -> int:
    if value.ctype.is_void:
        raise ExpressionError("Value can't be converted to integer.")
    return value.value


def _c_string(session: Session, address: int) -> bytes:
    data = bytearray()
    while len(data) < _STRING_HARD_LIMIT:
        byte = session.read_memory((address + len(data)) & 0xFFFFFFFF, 1)[0]
        if byte == 0:
            break
        data.append(byte)
    return bytes(data)


def _render(session: Session, conv: _Conversion, arg: str, value: expr.Value | None) -> str:
    """One conversion, as the C library would print it on the target (ILP32)."""
    flags = conv.flags
    spec_tail = conv.width + (f".{conv.precision}" if conv.precision is not None else "")
    letter = conv.conversion
    if letter == "s":
        literal = _string_literal(arg)
        if literal is not None:
            data = literal
        else:
            assert value is not None
            address = expr.value_as_address(value)
            if address == 0:
                return ("%" + flags + spec_tail + "s") % "(null)"
            data = _c_string(session, address)
        if conv.precision:
            data = data[:int(conv.precision)]
        return ("%" + flags + conv.width + "s") % data.decode("utf-8", errors="replace")
    assert value is not None
    if letter == "V":
        return format_for_print(session, value, None)
    number = _integer(value)
    if letter == "p":
        address = number & 0xFFFFFFFF
        if address == 0:
            return ("%" + flags + conv.width + "s") % "(nil)"
        return ("%" + flags + conv.width + "s") % f"{address:#x}"
    if letter == "c":
        return ("%" + flags + conv.width + "c") % chr(number & 0xFF)
    if letter in "efgEG":
        return ("%" + flags + spec_tail + letter) % float(number)
    bits = {"h": 16, "ll": 64}.get(conv.length, 32)
    number &= (1 << bits) - 1
    if letter in "di":
        if number >> (bits - 1):
            number -= 1 << bits
        return ("%" + flags + spec_tail + "d") % number
    if letter == "u":
        return ("%" + flags + spec_tail + "d") % number
    if "#" in flags and (letter == "o" or number == 0):
        # C's "#o" makes the first digit 0 (Python would write "0o"); "#x" of 0 is "0".
        flags = flags.replace("#", "")
        if letter == "o":
            digits = f"{number:o}"
            need = len(digits) + (0 if digits.startswith("0") else 1)
            precision = max(int(conv.precision or 0), need)
            return ("%" + flags + conv.width + f".{precision}o") % number
    return ("%" + flags + spec_tail + letter) % number


@commands.command("printf", category="data", usage='printf "FORMAT", ARG...',
                  complete=("expression",))
def cmd_printf(ctx: Context, args: str) -> None:
    """Formatted output: printf "FORMAT", ARG, ...

    Conversions %d %i %u %x %X %o %c %s %p %e %f %g and %%, with flags, width,
    precision and h/l/ll lengths as in C on the 32-bit target.  %s reads a C string
    from memory at the argument's address; %V shows a value as "print" does.
    """
    session = ctx.session
    fmt, arg_texts = _split_printf(args)
    pieces = parse_printf_format(fmt)
    conversions = [p for p in pieces if isinstance(p, _Conversion)]
    values: list[expr.Value | None] = []
    for text in arg_texts:
        values.append(None if _string_literal(text) is not None else evaluate(ctx, text))
    if len(values) != len(conversions):
        raise ExpressionError("Wrong number of arguments for specified format-string")
    out = []
    index = 0
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        out.append(_render(session, piece, arg_texts[index], values[index]))
        index += 1
    ctx.out.write("".join(out))


# --------------------------------------------------------------------------- display


@dataclass
class Display:
    number: int
    text: str
    fmt: str | None
    size: str | None          # set: shown like x (x/FMT EXPR); unset: like print
    count: int = 1
    enabled: bool = True


@dataclass
class DisplayList:
    displays: list[Display] = field(default_factory=list)
    next_number: int = 1


def display_list(session: Session) -> DisplayList:
    state: DisplayList = session.extensions.setdefault("displays", DisplayList())
    return state


def show_display(ctx: Context, display: Display) -> None:
    """One display, in gdb's do_one_display format; errors are shown in place."""
    out = ctx.out
    out.write(f"{display.number}: ")
    if display.size is not None:
        assert display.fmt is not None
        count = str(display.count) if display.count != 1 else ""
        size = display.size if display.fmt not in "is" else ""
        out.write(f"x/{count}{display.fmt}{size} {display.text}")
        out.write("\n" if display.count != 1 or display.fmt == "i" else "  ")
        try:
            value = evaluate(ctx, display.text)
            address = expr.value_as_address(value)
            if display.fmt == "i":
                address &= ~1
            examine(ctx, address, display.fmt, display.size, display.count)
        except ArmdbgError as err:
            out.line(f"<error: {err}>")
        return
    prefix = f"/{display.fmt} " if display.fmt else ""
    out.write(f"{prefix}{display.text} = ")
    try:
        shown = format_for_print(ctx.session, evaluate(ctx, display.text), display.fmt)
    except ArmdbgError as err:
        shown = f"<error: {err}>"
    out.line(shown)


def show_displays(ctx: Context) -> None:
    for display in display_list(ctx.session).displays:
        if display.enabled:
            show_display(ctx, display)


@commands.command("display", category="data", usage="display[/FMT] [EXPR]",
                  complete=("expression",))
def cmd_display(ctx: Context, args: str) -> None:
    """Print value of expression EXPR each time the program stops.

    /FMT may be used before EXPR as in the "print" command.  /FMT "i" or "s" or
    including a size-letter is allowed, as in the "x" command, and then EXPR is used to
    get the address to examine and examining is done as in the "x" command.
    With no argument, display all currently requested auto-display expressions.
    Typed at the prompt, the new expression is also shown at once.
    """
    spec, text = split_format(args)
    if not text:
        if spec is not None:
            raise ArmdbgError("Argument required (expression to compute).")
        show_displays(ctx)
        return
    fmt = spec.fmt if spec is not None else None
    size = spec.size if spec is not None else None
    count = spec.count if spec is not None else 1
    if size is not None and fmt is None:
        fmt = "x"
    if fmt in ("i", "s"):
        size = "b"
    if size is None and fmt is not None:
        check_print_format(FormatSpec(1, fmt), "display")
    expr.parse(text)  # gdb parses the expression when the display is created
    displays = display_list(ctx.session)
    display = Display(displays.next_number, text, fmt, size, count)
    displays.next_number += 1
    displays.displays.append(display)
    if ctx.from_tty:  # as gdb: typed at the prompt, shown at once; from a script, at stops
        show_display(ctx, display)


def _display_numbers(ctx: Context, args: str) -> list[int]:
    """gdb's number_or_range_parser: ``1 3-5``; junk is warned about and skipped."""
    numbers = []
    for word in args.split():
        low, dash, high = word.partition("-")
        if low.isdigit() and (not dash or high.isdigit()) and int(low) > 0:
            numbers += list(range(int(low), int(high if dash else low) + 1))
        else:
            ctx.out.line(f"warning: bad display number at or near '{word}'")
    return numbers


def _each_display(ctx: Context, args: str) -> list[Display]:
    """The displays ``args`` number (gdb's map_display_numbers), unknown ones reported."""
    displays = display_list(ctx.session).displays
    chosen = []
    for number in _display_numbers(ctx, args):
        found = [d for d in displays if d.number == number]
        if not found:
            ctx.out.line(f"No display number {number}.")
        else:
            chosen.append(found[0])
    return chosen


@commands.command("undisplay", category="data", usage="undisplay [NUM...]")
def cmd_undisplay(ctx: Context, args: str) -> None:
    """Cancel some expressions to be displayed when program stops.

    Arguments are the code numbers of the expressions to stop displaying (ranges such
    as 2-4 too).  No argument means cancel all automatic-display expressions.
    """
    displays = display_list(ctx.session).displays
    if not args.strip():
        displays.clear()
        return
    for display in _each_display(ctx, args):
        if display in displays:
            displays.remove(display)


@commands.command("delete display", category="data", usage="delete display [NUM...]")
def cmd_delete_display(ctx: Context, args: str) -> None:
    """Cancel some expressions to be displayed when program stops (same as "undisplay")."""
    cmd_undisplay(ctx, args)


def _enable_displays(ctx: Context, args: str, enabled: bool) -> None:
    targets = _each_display(ctx, args) if args.strip() else display_list(ctx.session).displays
    for display in targets:
        display.enabled = enabled


@commands.command("enable display", category="data", usage="enable display [NUM...]")
def cmd_enable_display(ctx: Context, args: str) -> None:
    """Enable some expressions to be displayed when program stops (all with no argument)."""
    _enable_displays(ctx, args, True)


@commands.command("disable display", category="data", usage="disable display [NUM...]")
def cmd_disable_display(ctx: Context, args: str) -> None:
    """Disable some expressions to be displayed when program stops (all with no argument)."""
    _enable_displays(ctx, args, False)


@commands.command("info display", category="status", usage="info display")
def cmd_info_display(ctx: Context, args: str) -> None:
    """Expressions to display when program stops, with code numbers."""
    if args.strip():
        raise UsageError("info display takes no arguments.")
    displays = display_list(ctx.session).displays
    if not displays:
        ctx.out.line("There are no auto-display expressions now.")
        return
    ctx.out.line("Auto-display expressions now in effect:")
    ctx.out.line("Num Enb Expression")
    for display in displays:
        if display.size is not None:
            shown = f"/{display.count}{display.size}{display.fmt} {display.text}"
        elif display.fmt:
            shown = f"/{display.fmt} {display.text}"
        else:
            shown = display.text
        ctx.out.line(f"{display.number}:   {'y' if display.enabled else 'n'}  {shown}")

