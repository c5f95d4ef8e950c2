"""Running the program: run, start, starti, continue, stepi, nexti, step, next, finish,
until, advance, jump, kill -- and reporting each stop the way gdb does.

The engine (:mod:`armdbg.runcontrol`) returns a :class:`Stop`; this module prints it
(``Breakpoint 1, 0x80008030 in do_something ()``), publishes the "stop" event (the
context display and ``display`` expressions show themselves on it), then runs the
commands of the breakpoints that stopped the program.  A command in such a list that
resumes the program ends the list, and the commands of the next stop run after it in
the same loop, as in gdb (breakpoint.c bpstat_do_actions): a ``commands ... continue
... end`` hit a thousand times does not nest a thousand deep.

Without debug information gdb's ``step`` and ``next`` step until the function returns
("Single stepping until exit from function X, which has no line number information."),
stepping over calls, and ``until`` without argument steps until PC passes its
current value (no going back in a loop).  Messages gdb prints only for commands typed
at the terminal ("Starting program:", "Continuing.", "Run till exit from ...") are
printed only then here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from armdbg import formats
from armdbg.breakpoints import Stoppoint
from armdbg.commands.blocks import ListSource
from armdbg.commands.breakpoints import create_breakpoint, ignore_message, table_of
from armdbg.commands.context import Context
from armdbg.commands.evaluation import evaluate_int, parse_location
from armdbg.commands.registry import CommandSet
from armdbg.commands.scripting import query
from armdbg.errors import ArmdbgError, UsageError
from armdbg.machine.stops import StopEvent, StopReason
from armdbg.output import Token
from armdbg.runcontrol import RunControl, Stop, WatchTrigger
from armdbg.session import ProgramState

if TYPE_CHECKING:
    from armdbg.session import Session

commands = CommandSet()

# gdb's descriptions of the signals armdbg's machine reports (gdb/common/signals.def).
SIGNAL_NAMES = {
    "SIGSEGV": "Segmentation fault",
    "SIGILL": "Illegal instruction",
    "SIGBUS": "Bus error",
    "SIGTRAP": "Trace/breakpoint trap",
    "SIGINT": "Interrupt",
    "SIGSYS": "Bad system call",
    "SIGALRM": "Alarm clock",
    "SIGFPE": "Arithmetic exception",
    "SIGABRT": "Aborted",
}


def run_control(session: Session) -> RunControl:
    """The session's run control (made on first use, with the breakpoint table)."""
    control = session.extensions.get("runcontrol")
    if control is None:
        control = session.extensions["runcontrol"] = RunControl(session, table_of(session))
    return control  # type: ignore[no-any-return]


def attach(session: Session) -> None:
    session.settings.declare(
        "run-timeout", "uint", 0,
        "Time limit in seconds for each command that runs the program")
    run_control(session)


# --------------------------------------------------------------------------- reporting


def function_name(session: Session, pc: int) -> str:
    symbol = session.symbols.containing(pc)
    return symbol.name if symbol is not None else "??"


def location_tokens(session: Session, pc: int) -> list[Token]:
    """gdb's frame line without debug info: ``0x80008030 in do_something ()``
    (addresses of a 32-bit target padded to 8 digits)."""
    return [("address", f"0x{pc:08x}"), ("", " in "),
            ("symbol", function_name(session, pc)), ("", " ()")]


def exit_line(code: int | None) -> str:
    """gdb's words; the status is printed in octal with a leading 0 ("0%o")."""
    if not code:
        return "[Inferior 1 (process 1) exited normally]"
    return f"[Inferior 1 (process 1) exited with code 0{code:o}]"


def signal_detail(session: Session, event: StopEvent) -> str | None:
    """armdbg's own line under gdb's "Program received signal": what the machine saw."""
    if event.reason is StopReason.TIMEOUT:
        seconds = session.settings["run-timeout"]
        return f"Time limit of {seconds} seconds reached (set run-timeout)."
    headline = f"Program received signal {event.signal}, {SIGNAL_NAMES.get(event.signal or '')}"
    text = " ".join(event.description.split())  # one line, no tabs from disassembly
    if not text or text == headline + ".":
        return None
    if text.startswith(headline + " (") and text.endswith(")."):
        inner = text[len(headline) + 2:-2]
        first = inner.split(None, 1)[0] if inner.split() else ""
        if first.isalpha():
            inner = inner[0].upper() + inner[1:]
        return inner + "."
    if text.startswith("Program stopped: "):
        text = text[len("Program stopped: "):]
        return text[0].upper() + text[1:]
    return text


def _value_text(session: Session, value: object) -> str:
    if value is None:
        return "<unreadable>"
    return formats.format_value(value, None, session.symbolize)  # type: ignore[arg-type]


def _trigger_lines(session: Session, trigger: WatchTrigger) -> list[str]:
    wp = trigger.watchpoint
    lines = ["", f"{wp.title} {wp.number}: {wp.spec}", ""]
    if trigger.old is not None or (wp.kind == "write"):
        lines += [f"Old value = {_value_text(session, trigger.old)}",
                  f"New value = {_value_text(session, trigger.new)}"]
    else:
        lines.append(f"Value = {_value_text(session, trigger.new)}")
    return lines


def announce(ctx: Context, stop: Stop) -> None:
    """Print what gdb prints when the program stops."""
    session = ctx.session
    out = ctx.out
    event = stop.event
    reason = event.reason
    if reason is StopReason.EXITED:
        out.line(exit_line(event.exit_code))
        return
    location = location_tokens(session, event.pc)
    for trigger in stop.triggers:
        for line in _trigger_lines(session, trigger):
            out.line(line)
    shown = [bp for bp in stop.breakpoints if not bp.silent] or stop.breakpoints
    if shown:
        kind = "Temporary breakpoint" if shown[0].temporary else "Breakpoint"
        out.token_line([("", f"\n{kind} {shown[0].number}, "), *location])
        return
    if event.signal is not None and reason in (StopReason.SIGNAL, StopReason.INTERRUPTED,
                                               StopReason.TIMEOUT, StopReason.SVC):
        out.line("")
        out.line(f"Program received signal {event.signal}, "
                 f"{SIGNAL_NAMES.get(event.signal, event.signal)}.")
        detail = signal_detail(session, event)
        if detail:
            out.line(detail)
    elif reason is StopReason.TRAP and event.description:
        out.line("")
        out.line(event.description)
    out.token_line(location)


def publish_stop(session: Session, ctx: Context, event: StopEvent) -> None:
    """``publish("stop", ctx=ctx, event=event)`` for the context display and displays."""
    session.events.publish("stop", ctx=ctx, event=event)


@dataclass
class _Actions:
    """Breakpoint commands in progress (see the module docstring)."""

    running: bool = False
    proceeded: bool = False
    deferred: list[list[str]] = field(default_factory=list)


def _actions(session: Session) -> _Actions:
    state = session.extensions.get("breakpoint-actions")
    if state is None:
        state = session.extensions["breakpoint-actions"] = _Actions()
    return state  # type: ignore[no-any-return]


def _bodies(points: list[Stoppoint]) -> list[list[str]]:
    bodies = []
    for point in points:
        body = point.commands[1:] if point.silent else list(point.commands)
        if body:
            bodies.append(body)
    return bodies


def report(ctx: Context, stop: Stop) -> None:
    """Announce a stop, tell the "stop" subscribers, then run breakpoint commands."""
    session = ctx.session
    for message in stop.messages:
        ctx.out.line(message)
    if not stop.silent:
        announce(ctx, stop)
        publish_stop(session, ctx, stop.event)
    actions = _actions(session)
    bodies = _bodies(stop.points)
    if actions.running:
        # A command of an earlier stop resumed the program: it ends that list, and
        # this stop's commands run next, from the loop below (not nested).
        actions.proceeded = True
        actions.deferred = bodies
        return
    while bodies:
        actions.running, actions.proceeded, actions.deferred = True, False, []
        try:
            for body in bodies:
                _run_body(ctx, body, actions)
                if actions.proceeded:
                    break
        finally:
            actions.running = False
        bodies = actions.deferred if actions.proceeded else []


def _run_body(ctx: Context, body: list[str], actions: _Actions) -> None:
    source = ListSource(body)
    inner = Context(ctx.session, ctx.out, ctx.dispatcher, source, from_tty=False,
                    location=ctx.location, args=ctx.args)
    while True:
        line = source.read_line("")
        if line is None or actions.proceeded:
            return
        ctx.dispatcher.execute(line, inner)


# --------------------------------------------------------------------------- arguments


def _count(ctx: Context, args: str) -> int:
    if not args.strip():
        return 1
    count = evaluate_int(ctx, args)
    return count if count < 1 << 31 else count - (1 << 32)


# --------------------------------------------------------------------------- run, kill


def _restart(ctx: Context, args: str) -> RunControl:
    """What run, start and starti share: the program, its arguments, a fresh image."""
    session = ctx.session
    if session.program is None:
        raise ArmdbgError('No executable file specified.\nUse the "file" command.')
    control = run_control(session)
    if ctx.from_tty and session.state == ProgramState.STOPPED and not query(
            ctx, "The program being debugged has been started already.\n"
                 "Start it from the beginning? "):
        raise ArmdbgError("Program not restarted.")
    if args.strip():
        session.program_args = args.split()
    control.restart()
    return control


@commands.command("run", category="running", aliases=("r",), usage="run [ARGUMENTS]")
def cmd_run(ctx: Context, args: str) -> None:
    """Start the program from the beginning: a fresh copy of its image, then continue.

    ARGUMENTS, when given, become the program's command line (semihosting
    SYS_GET_CMDLINE) for this and later runs.  Breakpoints stay, and are hit from the
    first instruction on; their hit counts start again from zero.
    """
    session = ctx.session
    control = _restart(ctx, args)
    if ctx.from_tty and session.program is not None:
        command_line = " ".join([session.program.name, *session.program_args])
        ctx.out.line(f"Starting program: {command_line}")
    report(ctx, control.cont())


@commands.command("start", category="running", usage="start [ARGUMENTS]")
def cmd_start(ctx: Context, args: str) -> None:
    """Start the program and stop at the beginning of main (a temporary breakpoint)."""
    create_breakpoint(ctx, "main", temporary=True)
    cmd_run(ctx, args)


@commands.command("starti", category="running", usage="starti [ARGUMENTS]")
def cmd_starti(ctx: Context, args: str) -> None:
    """Start the program and stop at its first instruction."""
    session = ctx.session
    _restart(ctx, args)
    machine = session.machine
    ctx.out.line("")
    ctx.out.line("Program stopped.")
    ctx.out.token_line(location_tokens(session, machine.pc))
    publish_stop(session, ctx, StopEvent(StopReason.STEP, machine.pc, machine.thumb))


@commands.command("kill", category="running", aliases=("k",), usage="kill")
def cmd_kill(ctx: Context, args: str) -> None:
    """Kill the program: it is no longer running, "run" starts it again.

    Memory shows the program's image as loaded (as gdb shows the executable file's).
    """
    control = run_control(ctx.session)
    control.require_running()
    if not query(ctx, "Kill the program being debugged? "):
        raise ArmdbgError("Not confirmed.")
    control.kill()
    ctx.out.line("[Inferior 1 (process 1) killed]")


# --------------------------------------------------------------------------- continue, jump


@commands.command("continue", category="running", aliases=("c", "cont", "fg"), repeat=True,
                  usage="continue [N]")
def cmd_continue(ctx: Context, args: str) -> None:
    """Continue the program being debugged.

    With N, the breakpoint the program stopped at is ignored N-1 more times, so that
    it stops at its Nth crossing.  Right after loading, the program starts at its first
    instruction (as after gdb's "starti").
    """
    control = run_control(ctx.session)
    control.require_running()
    if args.strip():
        count = _count(ctx, args)
        points = control.ignore_last_stop(max(count - 1, 0))
        if ctx.from_tty:
            notes = "".join(ignore_message(p, p.ignore_count) + "  " for p in points)
            if not points:
                ctx.out.line("Not stopped at any breakpoint; argument ignored.")
            ctx.out.line(notes + "Continuing.")
    elif ctx.from_tty:
        ctx.out.line("Continuing.")
    report(ctx, control.cont())


@commands.command("jump", category="running", aliases=("j",), usage="jump LOCATION",
                  complete=("location",))
def cmd_jump(ctx: Context, args: str) -> None:
    """Continue program being debugged at specified line or address.

    LOCATION is a function, SYMBOL+OFFSET or *ADDRESS.  A breakpoint at LOCATION stops
    the program at once, before the instruction there runs (as in gdb).
    """
    control = run_control(ctx.session)
    control.require_running()
    if not args.strip():
        raise UsageError("Argument required (starting address).")
    location = parse_location(ctx, args)
    if ctx.from_tty:
        ctx.out.line(f"Continuing at {location.address:#x}.")
    report(ctx, control.jump(location.address, location.thumb))


# --------------------------------------------------------------------------- stepping


@commands.command("stepi", category="running", aliases=("si",), repeat=True,
                  usage="stepi [N]")
def cmd_stepi(ctx: Context, args: str) -> None:
    """Step one instruction exactly (N times with an argument).

    Each slot of a Thumb IT block is one step, a skipped one too.  Arriving at a
    breakpoint reports it (the instruction there has not run yet).
    """
    control = run_control(ctx.session)
    control.require_running()
    report(ctx, control.stepi(_count(ctx, args)))


@commands.command("nexti", category="running", aliases=("ni",), repeat=True,
                  usage="nexti [N]")
def cmd_nexti(ctx: Context, args: str) -> None:
    """Step one instruction, but proceed through subroutine calls (bl, blx).

    A call runs until it returns to the instruction after it (in this frame: recursive
    calls returning there first do not count), unless something stops it before.
    """
    control = run_control(ctx.session)
    control.require_running()
    report(ctx, control.nexti(_count(ctx, args)))


def _step_function(ctx: Context, args: str) -> None:
    control = run_control(ctx.session)
    control.require_running()
    for _ in range(max(_count(ctx, args), 1)):
        symbol = control.function_at_pc()
        if symbol is None:
            raise ArmdbgError("Cannot find bounds of current function")
        ctx.out.line(f"Single stepping until exit from function {symbol.name},")
        ctx.out.line("which has no line number information.")
        start, end = control.function_range(symbol)
        stop = control.step_range(start, end)
        if stop.reason is not StopReason.STEP:
            break
    report(ctx, stop)


@commands.command("step", category="running", aliases=("s",), repeat=True, usage="step [N]")
def cmd_step(ctx: Context, args: str) -> None:
    """Step program until it leaves the current function (there are no source lines).

    armdbg's programs have no line information, so, as gdb does in such functions,
    "step" steps until the function returns, stepping over the calls it makes (a
    breakpoint inside them still stops the program).
    """
    _step_function(ctx, args)


@commands.command("next", category="running", aliases=("n",), repeat=True, usage="next [N]")
def cmd_next(ctx: Context, args: str) -> None:
    """Step program, proceeding through subroutine calls (as "step": no line information).
    """
    _step_function(ctx, args)


@commands.command("finish", category="running", aliases=("fin",), repeat=True,
                  usage="finish")
def cmd_finish(ctx: Context, args: str) -> None:
    """Execute until the current function returns (to the caller, in its frame).

    The return address comes from the function's prologue (where it saved LR) or from
    LR.  Without debug information there is no return type, so, as gdb, no value is
    printed ($r0 holds it).
    """
    control = run_control(ctx.session)
    control.require_running()
    if args.strip():
        raise UsageError('The "finish" command does not take any arguments.')
    caller = control.caller_frame()
    if caller is None:
        raise ArmdbgError('"finish" not meaningful in the outermost frame.')
    if ctx.from_tty:
        ctx.out.token_line([("", "Run till exit from #0  "),
                            *location_tokens(ctx.session, ctx.session.machine.pc)])
    report(ctx, control.finish(caller))


@commands.command("until", category="running", aliases=("u",), repeat=True,
                  usage="until [LOCATION]", complete=("location",))
def cmd_until(ctx: Context, args: str) -> None:
    """Continue until a location in the current frame, or past the current instruction.

    Without argument: step (over calls) until PC is past the current instruction or
    the function returns -- at the end of a loop, the loop runs to its end.  With
    LOCATION: run until LOCATION is reached in the current frame, or the current
    function returns.
    """
    control = run_control(ctx.session)
    control.require_running()
    if args.strip():
        location = parse_location(ctx, args)
        report(ctx, control.advance(location.address, location.thumb, same_frame=True))
        return
    symbol = control.function_at_pc()
    if symbol is None:
        raise ArmdbgError("Execution is not within a known function.")
    report(ctx, control.step_range(symbol.address, ctx.session.machine.pc + 1))


@commands.command("advance", category="running", usage="advance LOCATION",
                  complete=("location",))
def cmd_advance(ctx: Context, args: str) -> None:
    """Continue until LOCATION is reached (in any frame) or the current function returns.
    """
    control = run_control(ctx.session)
    control.require_running()
    if not args.strip():
        raise UsageError("Argument required (a location).")
    location = parse_location(ctx, args)
    report(ctx, control.advance(location.address, location.thumb, same_frame=False))
