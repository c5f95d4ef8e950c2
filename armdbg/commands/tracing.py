"""ftrace from the shell: ``echo ... > /sys/kernel/tracing/...``, ``cat``, ``ls``, the
native ``kprobe event`` family, and ``ftrace`` for the trace buffer."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from armdbg.commands.context import Context
from armdbg.commands.dispatch import list_subcommands
from armdbg.commands.kprobes import kernel_list_line, list_order, set_optimization
from armdbg.commands.probe_env import ProbeFetchEnv
from armdbg.commands.registry import CommandSet
from armdbg.errors import ArmdbgError, UsageError
from armdbg.tracing.formats import task_comm
from armdbg.tracing.probe_events import ProbeEvents, TracingError
from armdbg.tracing.tracefs import TRACING, TraceFS

if TYPE_CHECKING:
    from armdbg.session import Session

commands = CommandSet()

_REDIRECT = re.compile(r"^(?P<text>.*?)\s*(?P<op>>>?)\s*(?P<path>[^\s>]+)\s*$", re.S)


def attach(session: Session) -> None:
    system = session.extensions["kprobes"]

    def comm() -> str:
        return task_comm(session.program.name if session.program else "demo")

    events = ProbeEvents(system, session.machine, lambda: session.symbols,
                         lambda regs, retval: ProbeFetchEnv(session, regs, retval), comm)

    def kprobe_list() -> str:
        ctx = _bare_context(session)
        return "".join(kernel_list_line(ctx, p) + "\n" for p in list_order(system.kprobes))

    def optimization(on: bool) -> None:
        set_optimization(_bare_context(session), on)

    session.extensions["tracing"] = TraceFS(events, system, lambda: session.symbols, comm,
                                            kprobe_list, optimization)


def _bare_context(session: Session) -> Context:
    app = session.extensions.get("app")
    if app is not None:
        return app.context()
    raise ArmdbgError("no application context")


def tracefs(ctx: Context) -> TraceFS:
    return ctx.session.extensions["tracing"]


def redirect(text: str) -> tuple[str, str, bool] | None:
    """``TEXT > PATH`` / ``TEXT >> PATH`` aimed at a virtual file, shell-unquoted."""
    match = _REDIRECT.match(text)
    if match is None or not TraceFS.is_virtual(match.group("path")):
        return None
    body = match.group("text").strip()
    try:
        words = shlex.split(body)
    except ValueError as err:
        raise UsageError(f"echo: {err}") from None
    return " ".join(words), match.group("path"), match.group("op") == ">>"


def write_virtual(ctx: Context, text: str, path: str, append: bool) -> None:
    tracefs(ctx).write(path, text + "\n", append=append)


@commands.command("cat", category="tracing", usage="cat PATH...", complete=("file",))
def cmd_cat(ctx: Context, args: str) -> None:
    """Print tracefs, debugfs and procfs files (kprobe_events, trace, kprobes/list ...).

    cat trace_pipe prints the events recorded so far, consuming them, then runs the
    program and prints each event as it arrives until the machine stops (or Ctrl-C).
    """
    paths = shlex.split(args)
    if not paths:
        raise UsageError("cat: missing file operand. Usage: cat PATH...")
    fs = tracefs(ctx)
    for path in paths:
        if not TraceFS.is_virtual(path):
            raise ArmdbgError(f"cat: {path}: only /sys and /proc files of the emulated "
                              "kernel can be read")
        if TraceFS.normalize(path) == f"{TRACING}/trace_pipe":
            trace_pipe(ctx)
            continue
        try:
            ctx.out.write(fs.read(path))
        except TracingError as err:  # a read error, worded as cat words it
            raise ArmdbgError(f"cat: {path}: {os.strerror(err.errno)}") from None


def trace_pipe(ctx: Context) -> None:
    fs = tracefs(ctx)
    ctx.out.write(fs.read(f"{TRACING}/trace_pipe"))
    if ctx.session.state == "exited":
        return
    buffer = fs.events.buffer

    def reader(record: object) -> None:
        ctx.out.line(fs.trace_lines([record])[0])

    buffer.readers.append(reader)
    try:
        ctx.run("continue")
    finally:
        buffer.readers.remove(reader)


@commands.command("ls", category="tracing", usage="ls [DIR]", complete=("file",))
def cmd_ls(ctx: Context, args: str) -> None:
    """List a directory of the virtual tracefs, debugfs or procfs."""
    path = args.strip() or TRACING
    if not TraceFS.is_virtual(path):
        raise ArmdbgError(f"ls: {path}: only /sys and /proc of the emulated kernel are listed")
    names = tracefs(ctx).listing(path)
    if names is None:
        raise ArmdbgError(f"ls: cannot access '{path}': No such file or directory")
    for name in names:
        ctx.out.line(name)


# ---------------------------------------------------------------------- kprobe event


@commands.command("kprobe event", category="tracing", prefix=True,
                  usage="kprobe event DEFINITION")
def cmd_kprobe_event(ctx: Context, args: str) -> None:
    """Define a kprobe event, as a line written to kprobe_events (appending).

    Same syntax as the kernel: p[:[GRP/]EVENT] SYM[+offs]|ADDR [FETCHARGS] or
    r[MAXACTIVE][:[GRP/]EVENT] SYM [FETCHARGS].  The event starts disabled; enable it
    with `kprobe event enable EVENT`.
    """
    text = args.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    if not text:
        raise UsageError("Usage: kprobe event DEFINITION")
    event = tracefs(ctx).events.command(text)
    if event is not None:
        ctx.out.line(f"Event {event.group}/{event.name} on kprobe {event.kprobe.id} "
                     f"({ctx.session.describe_address(event.kprobe.addr or 0)}), disabled.")


def _event(ctx: Context, name: str):  # type: ignore[no-untyped-def]
    group, _, event_name = name.strip().rpartition("/")
    found = tracefs(ctx).events.find(event_name, group or None)
    if found is None:
        raise ArmdbgError(f'No kprobe event "{name.strip()}".')
    return found


@commands.command("kprobe event enable", category="tracing", usage="kprobe event enable EVENT")
def cmd_kprobe_event_enable(ctx: Context, args: str) -> None:
    """Enable an event (echo 1 > events/GROUP/EVENT/enable)."""
    tracefs(ctx).events.set_enabled(_event(ctx, args), True)


@commands.command("kprobe event disable", category="tracing",
                  usage="kprobe event disable EVENT")
def cmd_kprobe_event_disable(ctx: Context, args: str) -> None:
    """Disable an event (echo 0 > events/GROUP/EVENT/enable)."""
    tracefs(ctx).events.set_enabled(_event(ctx, args), False)


@commands.command("kprobe event delete", category="tracing", usage="kprobe event delete EVENT")
def cmd_kprobe_event_delete(ctx: Context, args: str) -> None:
    """Delete a (disabled) event (echo -:EVENT >> kprobe_events)."""
    event = _event(ctx, args)
    tracefs(ctx).events.command(f"-:{event.group}/{event.name}")


@commands.command("info kprobe-events", category="tracing", usage="info kprobe-events")
def cmd_info_events(ctx: Context, args: str) -> None:
    """kprobe events: their kprobe_events line, state, hits and misses."""
    events = tracefs(ctx).events.events
    if not events:
        ctx.out.line("No kprobe events.")
        return
    for event in events:
        state = "enabled" if event.enabled else "disabled"
        ctx.out.line(f"{event.definition.text}")
        ctx.out.line(f"    {state}, kprobe {event.kprobe.id}, hits {event.hits}, "
                     f"missed {event.missed}")


# ---------------------------------------------------------------------- ftrace


@commands.command("ftrace", category="tracing", prefix=True,
                  usage="ftrace show|pipe|clear|save FILE|on|off|profile")
def cmd_ftrace(ctx: Context, args: str) -> None:
    """The trace buffer: show, pipe, clear, save FILE, on, off, profile."""
    list_subcommands(ctx, "ftrace", args)


@commands.command("ftrace show", category="tracing", usage="ftrace show")
def cmd_ftrace_show(ctx: Context, args: str) -> None:
    """Print the trace (cat trace)."""
    ctx.out.write(tracefs(ctx).read(f"{TRACING}/trace"))


@commands.command("ftrace pipe", category="tracing", usage="ftrace pipe")
def cmd_ftrace_pipe(ctx: Context, args: str) -> None:
    """Consume the trace and follow it while the program runs (cat trace_pipe)."""
    trace_pipe(ctx)


@commands.command("ftrace clear", category="tracing", usage="ftrace clear")
def cmd_ftrace_clear(ctx: Context, args: str) -> None:
    """Empty the trace buffer (echo > trace)."""
    tracefs(ctx).events.buffer.clear()


@commands.command("ftrace on", category="tracing", usage="ftrace on")
def cmd_ftrace_on(ctx: Context, args: str) -> None:
    """Resume recording (echo 1 > tracing_on)."""
    tracefs(ctx).events.buffer.on = True


@commands.command("ftrace off", category="tracing", usage="ftrace off")
def cmd_ftrace_off(ctx: Context, args: str) -> None:
    """Pause recording (echo 0 > tracing_on)."""
    tracefs(ctx).events.buffer.on = False


@commands.command("ftrace profile", category="tracing", usage="ftrace profile")
def cmd_ftrace_profile(ctx: Context, args: str) -> None:
    """Hits and misses per event (cat kprobe_profile)."""
    ctx.out.write(tracefs(ctx).read(f"{TRACING}/kprobe_profile"))


@commands.command("ftrace save", category="tracing", usage="ftrace save FILE",
                  complete=("file",))
def cmd_ftrace_save(ctx: Context, args: str) -> None:
    """Write the trace, as `cat trace` shows it, to a host file."""
    name = args.strip()
    if not name:
        raise UsageError("Argument required (file name).")
    path = Path(name) if Path(name).is_absolute() else ctx.session.cwd / name
    fs = tracefs(ctx)
    text = fs.read(f"{TRACING}/trace")
    try:
        path.write_text(text)
    except OSError as err:
        raise ArmdbgError(f"{name}: {err.strerror or err}.") from None
    ctx.out.line(f"Saved {len(fs.events.buffer.records)} events to {name}.")
