"""Breakpoint commands: break, tbreak, delete, disable, enable, condition, ignore,
commands, watch, rwatch, awatch, and ``info breakpoints``/``info watchpoints``.

Messages gdb prints only for commands typed at the terminal (``from_tty``: "Note:
breakpoint 1 also set at pc", "Will ignore next 3 crossings", "Breakpoint 1 now
unconditional.") are printed only then here too, so command files stay as quiet as
under gdb.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from armdbg import expr
from armdbg.breakpoints import (
    DISP_DELETE,
    DISP_DISABLE,
    WATCH_ACCESS,
    WATCH_READ,
    WATCH_WRITE,
    Breakpoint,
    BreakpointTable,
    Stoppoint,
    Watchpoint,
    check_expression,
)
from armdbg.commands.blocks import OPENERS
from armdbg.commands.context import Context
from armdbg.commands.evaluation import evaluate_int, parse_location
from armdbg.commands.registry import CommandSet
from armdbg.commands.scripting import query
from armdbg.errors import ArmdbgError, UsageError
from armdbg.session_env import SessionEnv

if TYPE_CHECKING:
    from armdbg.session import Session

commands = CommandSet()

_IF = re.compile(r"(?:^|\s)if(?=\s|\(|$)")


def table_of(session: Session) -> BreakpointTable:
    """The session's breakpoint table (made on first use)."""
    table = session.extensions.get("breakpoints")
    if table is None:
        table = session.extensions["breakpoints"] = BreakpointTable(session)
    return table  # type: ignore[no-any-return]


def attach(session: Session) -> None:
    table_of(session)


# --------------------------------------------------------------------------- arguments


def split_condition(text: str) -> tuple[str, str | None]:
    """``LOCATION if COND`` -> (LOCATION, COND); the condition may not be empty."""
    match = _IF.search(text)
    if match is None:
        return text.strip(), None
    condition = text[match.end():].strip()
    if not condition:
        raise UsageError("Argument required (boolean expression).")
    return text[:match.start()].strip(), condition


def parse_numbers(ctx: Context, text: str) -> list[int]:
    """gdb's breakpoint number lists: ``1 3``, ranges ``2-5``, ``$bpnum``."""
    numbers: list[int] = []
    for word in text.split():
        if re.fullmatch(r"\d+-\d+", word):
            low, high = (int(part) for part in word.split("-"))
            if high < low:
                raise UsageError("inverted range")
            numbers.extend(range(low, high + 1))
        elif word.isdigit():
            numbers.append(int(word))
        elif word.startswith("$"):
            value = ctx.session.convenience.get(word[1:])
            if value is None or not value.ctype.is_integer:
                raise UsageError("Convenience variable must have integer value.")
            numbers.append(value.value)
        else:
            raise UsageError(f"Bad breakpoint number '{word}'")
    return numbers


def _each_point(ctx: Context, text: str) -> list[Stoppoint]:
    """The breakpoints a number list names; a missing one is reported and skipped."""
    table = table_of(ctx.session)
    points = []
    for number in parse_numbers(ctx, text):
        point = table.find(number)
        if point is None:
            ctx.out.line(f"No breakpoint number {number}.")
        else:
            points.append(point)
    return points


def _one_number(ctx: Context, word: str, what: str) -> int:
    if not word:
        raise UsageError(f"Argument required ({what}).")
    if word.isdigit():
        return int(word)
    if word.startswith("$"):
        return parse_numbers(ctx, word)[0]
    raise UsageError(f"Bad breakpoint argument: '{word}'")


# --------------------------------------------------------------------------- break


def create_breakpoint(ctx: Context, args: str, *, temporary: bool) -> None:
    session = ctx.session
    table = table_of(session)
    spec, condition = split_condition(args)
    if spec:
        location = parse_location(ctx, spec)
        address, thumb = location.address, location.thumb
    else:
        # gdb: no argument means the selected frame's PC.
        address, thumb = session.machine.pc, session.machine.thumb
        spec = f"*{address:#x}"
    if condition is not None:
        check_expression(session, condition)
    others = table.breakpoints_at(address)
    if others and ctx.from_tty:
        ctx.out.line(describe_others(others, address))
    bp = table.add_breakpoint(address, thumb, spec, temporary=temporary, condition=condition)
    kind = "Temporary breakpoint" if temporary else "Breakpoint"
    ctx.out.token_line([("", f"{kind} {bp.number} at "), ("address", f"{address:#x}")])


def describe_others(others: list[Breakpoint], address: int) -> str:
    """gdb's describe_other_breakpoints: "Note: breakpoints 1 and 2 also set at pc"."""
    words = []
    for index, bp in enumerate(others):
        left = len(others) - index - 1
        text = str(bp.number) + ("" if bp.enabled else " (disabled)")
        text += "," if left > 1 else (" and" if left == 1 else "")
        words.append(text)
    noun = "breakpoint" if len(others) == 1 else "breakpoints"
    return f"Note: {noun} {' '.join(words)} also set at pc {address:#x}."


@commands.command("break", category="breakpoints", aliases=("b", "br", "bre", "brea"),
                  usage="break [LOCATION] [if CONDITION]", complete=("location",))
def cmd_break(ctx: Context, args: str) -> None:
    """Set breakpoint at specified location.

    LOCATION is a function name, SYMBOL+OFFSET, or *ADDRESS (any expression).  Without
    one, the breakpoint is set at the current PC.  "if CONDITION" makes the breakpoint
    stop the program only when CONDITION (a C expression, e.g. $r0 == 5) is true.
    Breakpoints are gdb's breakpoint instructions patched into the code and hidden from
    memory reads.  In a Thumb IT block a breakpoint whose slot's condition fails does
    not stop: the CPU skips that slot, trap word included, as on hardware.
    """
    create_breakpoint(ctx, args, temporary=False)


@commands.command("tbreak", category="breakpoints", aliases=("tb",),
                  usage="tbreak [LOCATION] [if CONDITION]", complete=("location",))
def cmd_tbreak(ctx: Context, args: str) -> None:
    """Set a temporary breakpoint: it is deleted when the program stops there.

    Same arguments as "break".
    """
    create_breakpoint(ctx, args, temporary=True)


# --------------------------------------------------------------------------- watch


def _watch_location(session: Session, text: str) -> tuple[int, expr.CType]:
    """The bytes an expression designates, found without reading them (as gdb sets a
    watchpoint on memory it cannot read yet).  A bare program symbol means the int at
    that symbol (gdb needs debug info for that; armdbg has none to ask)."""
    node = expr.parse(text)
    env = SessionEnv(session)
    if isinstance(node, expr.Symbol):
        symbol = session.symbols.lookup(node.name)
        if symbol is None:
            raise expr.NoSymbolError(node.name)
        return symbol.address, expr.INT
    if isinstance(node, expr.Unary) and node.op == "*":
        pointer = expr.evaluate_node(node.operand, env)
        target = pointer.ctype.target
        if pointer.ctype.is_pointer and target is not None and target.is_integer:
            return expr.value_as_address(pointer), target
    if isinstance(node, expr.At) and node.ctype.is_integer:
        where = expr.evaluate_node(node.address, env)
        return expr.value_as_address(where), node.ctype
    value = expr.evaluate_node(node, env)
    if value.address is None:
        if value.register is not None or value.var is not None:
            raise UsageError(f"Cannot watch `{text}': armdbg watchpoints watch memory only.")
        raise UsageError(f"Cannot watch constant value `{text}'.")
    if not value.ctype.is_integer and not value.ctype.is_pointer:
        return value.address, expr.INT
    return value.address, value.ctype


def _create_watchpoint(ctx: Context, args: str, kind: str) -> None:
    session = ctx.session
    text, condition = split_condition(args)
    location = False
    for flag in ("-location", "-l"):
        if text == flag or text.startswith(flag + " "):
            location, text = True, text[len(flag):].strip()
            break
    if not text:
        raise ArmdbgError("Argument required (expression to compute).")
    address, ctype = _watch_location(session, text)
    if condition is not None:
        check_expression(session, condition)
    spec = f"-location {text}" if location else text
    wp = table_of(session).add_watchpoint(kind, address, ctype, spec, condition=condition)
    ctx.out.line(f"{wp.title} {wp.number}: {wp.spec}")


@commands.command("watch", category="breakpoints",
                  usage="watch [-l|-location] EXPRESSION [if CONDITION]",
                  complete=("expression",))
def cmd_watch(ctx: Context, args: str) -> None:
    """Set a watchpoint for an expression: stop when its value is changed by a write.

    EXPRESSION designates memory: *(int *)ADDRESS, {int} ADDRESS, or a data symbol
    (the 4-byte int at that symbol).  Its bytes are watched from then on (the address
    is fixed when the watchpoint is set, as with -l, which is accepted).  Like a
    hardware watchpoint it sees the CPU's accesses only: a semihosting call filling a
    buffer does not trigger it.  The program stops after the accessing instruction.
    """
    _create_watchpoint(ctx, args, WATCH_WRITE)


@commands.command("rwatch", category="breakpoints",
                  usage="rwatch [-l|-location] EXPRESSION [if CONDITION]",
                  complete=("expression",))
def cmd_rwatch(ctx: Context, args: str) -> None:
    """Set a read watchpoint for an expression: stop when it is read.

    See "help watch" for the expressions accepted.
    """
    _create_watchpoint(ctx, args, WATCH_READ)


@commands.command("awatch", category="breakpoints",
                  usage="awatch [-l|-location] EXPRESSION [if CONDITION]",
                  complete=("expression",))
def cmd_awatch(ctx: Context, args: str) -> None:
    """Set an access watchpoint for an expression: stop when it is read or written.

    See "help watch" for the expressions accepted.
    """
    _create_watchpoint(ctx, args, WATCH_ACCESS)


# --------------------------------------------------------------------------- delete, enable


def _delete(ctx: Context, args: str) -> None:
    table = table_of(ctx.session)
    points = list(table) if not args.strip() else _each_point(ctx, args)
    if not args.strip() and points and ctx.from_tty and \
            not query(ctx, "Delete all breakpoints? "):
        return
    for point in points:
        table.delete(point)


@commands.command("delete", category="breakpoints", aliases=("d",), prefix=True,
                  usage="delete [BREAKPOINT-NUMBERS]")
def cmd_delete(ctx: Context, args: str) -> None:
    """Delete all or some breakpoints and watchpoints.

    Arguments are breakpoint numbers, ranges (2-4) or $variables, separated by spaces.
    With no argument, every breakpoint and watchpoint is deleted.
    """
    _delete(ctx, args)


@commands.command("delete breakpoints", category="breakpoints",
                  usage="delete breakpoints [BREAKPOINT-NUMBERS]")
def cmd_delete_breakpoints(ctx: Context, args: str) -> None:
    """Delete all or some breakpoints or watchpoints (same as "delete")."""
    _delete(ctx, args)


def _set_enabled(ctx: Context, args: str, enabled: bool) -> None:
    table = table_of(ctx.session)
    points = list(table) if not args.strip() else _each_point(ctx, args)
    for point in points:
        table.set_enabled(point, enabled)


@commands.command("disable", category="breakpoints", aliases=("dis", "disa"), prefix=True,
                  usage="disable [BREAKPOINT-NUMBERS]")
def cmd_disable(ctx: Context, args: str) -> None:
    """Disable all or some breakpoints: they stay listed but do not stop the program.

    Arguments are breakpoint numbers, ranges or $variables; none means all.
    """
    _set_enabled(ctx, args, False)


@commands.command("disable breakpoints", category="breakpoints",
                  usage="disable breakpoints [BREAKPOINT-NUMBERS]")
def cmd_disable_breakpoints(ctx: Context, args: str) -> None:
    """Disable all or some breakpoints (same as "disable")."""
    _set_enabled(ctx, args, False)


@commands.command("enable", category="breakpoints", aliases=("en",), prefix=True,
                  usage="enable [once|delete|count N] [BREAKPOINT-NUMBERS]")
def cmd_enable(ctx: Context, args: str) -> None:
    """Enable all or some breakpoints.

    "enable once N..." disables them again after their next stop, "enable delete N..."
    deletes them after it, and "enable count COUNT N..." disables them after COUNT stops.
    """
    _set_enabled(ctx, args, True)


@commands.command("enable breakpoints", category="breakpoints",
                  usage="enable breakpoints [BREAKPOINT-NUMBERS]")
def cmd_enable_breakpoints(ctx: Context, args: str) -> None:
    """Enable all or some breakpoints (same as "enable")."""
    _set_enabled(ctx, args, True)


def _enable_with(ctx: Context, args: str, disposition: str, count: int) -> None:
    if not args.strip():
        raise UsageError("Argument required (one or more breakpoint numbers).")
    table = table_of(ctx.session)
    for point in _each_point(ctx, args):
        point.disposition = disposition
        point.enable_count = count
        table.set_enabled(point, True)


@commands.command("enable once", category="breakpoints", usage="enable once BREAKPOINT-NUMBERS")
def cmd_enable_once(ctx: Context, args: str) -> None:
    """Enable breakpoints for one stop: each is disabled after it stops the program."""
    _enable_with(ctx, args, DISP_DISABLE, 1)


@commands.command("enable delete", category="breakpoints",
                  usage="enable delete BREAKPOINT-NUMBERS")
def cmd_enable_delete(ctx: Context, args: str) -> None:
    """Enable breakpoints and make them temporary: deleted when they stop the program."""
    _enable_with(ctx, args, DISP_DELETE, 0)


@commands.command("enable count", category="breakpoints",
                  usage="enable count COUNT BREAKPOINT-NUMBERS")
def cmd_enable_count(ctx: Context, args: str) -> None:
    """Enable breakpoints for COUNT stops: each is disabled after COUNT stops."""
    words = args.split(None, 1)
    if not words:
        raise UsageError("Argument required (hit count).")
    count = evaluate_int(ctx, words[0])
    if count >= 1 << 31:
        count -= 1 << 32
    _enable_with(ctx, words[1] if len(words) > 1 else "", DISP_DISABLE, count)


# --------------------------------------------------------------------------- condition, ignore


@commands.command("condition", category="breakpoints",
                  usage="condition BREAKPOINT-NUMBER [EXPRESSION]",
                  complete=("expression",))
def cmd_condition(ctx: Context, args: str) -> None:
    """Specify breakpoint number N to break only if COND is true.

    Usage is "condition N COND": COND is an expression evaluated each time breakpoint N
    is reached; the program stops only when it is non-zero.  Without COND, breakpoint N
    becomes unconditional.  An error while evaluating COND stops the program.
    """
    words = args.strip().split(None, 1)
    word = words[0] if words else ""
    if word and not (word.isdigit() or word.startswith("$")):
        raise UsageError(f"Bad breakpoint argument: '{args.strip()}'")
    point = table_of(ctx.session).get(_one_number(ctx, word, "breakpoint number"))
    if len(words) < 2:
        point.condition = None
        if ctx.from_tty:
            ctx.out.line(f"Breakpoint {point.number} now unconditional.")
        return
    check_expression(ctx.session, words[1])
    point.condition = words[1].strip()


def ignore_message(point: Stoppoint, count: int) -> str:
    if count == 0:
        return f"Will stop next time breakpoint {point.number} is reached."
    if count == 1:
        return f"Will ignore next crossing of breakpoint {point.number}."
    return f"Will ignore next {count} crossings of breakpoint {point.number}."


@commands.command("ignore", category="breakpoints", usage="ignore BREAKPOINT-NUMBER COUNT")
def cmd_ignore(ctx: Context, args: str) -> None:
    """Set ignore-count of breakpoint number N to COUNT.

    The next COUNT times the breakpoint is reached (with its condition true) the
    program does not stop; those crossings still count as hits.
    """
    words = args.split(None, 1)
    point = table_of(ctx.session).get(_one_number(ctx, words[0] if words else "",
                                                  "a breakpoint number"))
    if len(words) < 2:
        raise UsageError("Second argument (specified ignore-count) is missing.")
    count = evaluate_int(ctx, words[1])
    if count >= 1 << 31:
        count -= 1 << 32
    point.ignore_count = max(count, 0)
    if ctx.from_tty:
        ctx.out.line(ignore_message(point, point.ignore_count))


# --------------------------------------------------------------------------- commands


@commands.command("commands", category="breakpoints",
                  usage="commands [BREAKPOINT-NUMBERS]\\n...\\nend")
def cmd_commands(ctx: Context, args: str) -> None:
    """Set commands to be executed when the given breakpoints are hit.

    Give breakpoint numbers (none: the last breakpoint set) and then the commands, one
    per line, ending with a line saying just "end".  They run after the stop has been
    reported.  "silent" as the first line means the stop is not reported; a
    "continue" (or any command resuming the program) ends them.  An empty list
    removes the commands.
    """
    session = ctx.session
    table = table_of(session)
    if args.strip():
        numbers = parse_numbers(ctx, args)
    else:
        if table.last_number == 0:
            raise ArmdbgError("No breakpoints specified.")
        numbers = [table.last_number]
    if ctx.from_tty:
        ctx.out.line(f"Type commands for breakpoint(s) {', '.join(map(str, numbers))}, "
                     "one per line.")
        ctx.out.line('End with a line saying just "end".')
    # The body is read before the numbers are checked, as gdb does: a bad number must
    # not leave the body's lines to run as commands of their own.
    body = [line.strip() for line in ctx.read_body(">")]
    for point in [table.get(number) for number in numbers]:
        point.commands = list(body)


# --------------------------------------------------------------------------- info


def command_lines(body: list[str], indent: int = 8) -> list[str]:
    """Breakpoint commands as gdb lists them: nested blocks two more spaces in."""
    lines = []
    depth = 0
    for line in body:
        word = line.split(None, 1)[0] if line.split() else ""
        if word in ("end", "else"):
            depth = max(depth - 1, 0)
        lines.append(" " * (indent + 2 * depth) + line)
        if word in OPENERS or word == "else":
            depth += 1
    return lines


def _what(ctx: Context, point: Stoppoint) -> str:
    if isinstance(point, Breakpoint):
        name = ctx.session.symbolize(point.address)
        return f"<{name}>" if name else ""
    return point.spec


def info_lines(ctx: Context, points: list[Stoppoint]) -> list[str]:
    """gdb's breakpoint table (breakpoint.c breakpoint_1): the header and the rows."""
    type_width = max([14, *(len(p.type_name) for p in points)])
    lines = ["Num     " + "Type".ljust(type_width) + " Disp Enb " + "Address".ljust(10)
             + " What"]
    for point in points:
        address = (f"0x{point.address:08x}" if isinstance(point, Breakpoint) else "")
        row = (f"{point.number:<7} {point.type_name:<{type_width}} {point.disposition:<4} "
               f"{'y' if point.enabled else 'n':<3} {address:<10} {_what(ctx, point)}")
        lines.append(row.rstrip())
        if point.condition is not None:
            lines.append(f"\tstop only if {point.condition}")
        if point.hit_count:
            plural = "" if point.hit_count == 1 else "s"
            lines.append(f"\tbreakpoint already hit {point.hit_count} time{plural}")
        if point.ignore_count:
            lines.append(f"\tignore next {point.ignore_count} hits")
        if point.disposition == DISP_DISABLE and point.enable_count > 1:
            which = "additional" if point.ignore_count else "next"
            lines.append(f"\tdisable after {which} {point.enable_count} hits")
        lines.extend(command_lines(point.commands))
    return lines


def _selected(ctx: Context, args: str, points: list[Stoppoint], what: str) -> list[Stoppoint]:
    if not args.strip():
        return points
    wanted = set(parse_numbers(ctx, args))
    chosen = [p for p in points if p.number in wanted]
    if not chosen:
        raise ArmdbgError(f"No {what} matching '{args.strip()}'.")
    return chosen


@commands.command("info breakpoints", category="breakpoints", aliases=("b", "break"),
                  usage="info breakpoints [BREAKPOINT-NUMBERS]")
def cmd_info_breakpoints(ctx: Context, args: str) -> None:
    """Status of all or some breakpoints and watchpoints.

    Columns: number, type, disposition (keep, del: deleted when hit, dis: disabled when
    hit), enabled, address and location.  Conditions, hit counts, ignore counts and the
    breakpoint's commands follow each row.
    """
    points = list(table_of(ctx.session))
    if not points and not args.strip():
        ctx.out.line("No breakpoints or watchpoints.")
        return
    for line in info_lines(ctx, _selected(ctx, args, points, "breakpoint or watchpoint")):
        ctx.out.line(line)


@commands.command("info watchpoints", category="breakpoints",
                  usage="info watchpoints [WATCHPOINT-NUMBERS]")
def cmd_info_watchpoints(ctx: Context, args: str) -> None:
    """Status of all or some watchpoints (the watchpoint rows of "info breakpoints")."""
    points: list[Stoppoint] = [p for p in table_of(ctx.session) if isinstance(p, Watchpoint)]
    if not points and not args.strip():
        ctx.out.line("No watchpoints.")
        return
    for line in info_lines(ctx, _selected(ctx, args, points, "watchpoint")):
        ctx.out.line(line)

