"""The one path every command line takes: REPL, command files, ``-ex``, rc files, bodies."""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

from armdbg.commands.blocks import ListSource
from armdbg.commands.context import Context, LineSource
from armdbg.commands.registry import Registry
from armdbg.errors import ArmdbgError, UsageError

if TYPE_CHECKING:
    from armdbg.session import Session


def list_subcommands(ctx: Context, prefix: str, args: str) -> None:
    """What a bare prefix command (``info``, ``mem``, ``kprobes`` ...) does, as gdb: an
    unknown word is an error; no word lists the subcommands."""
    if args.strip():
        raise UsageError(f'Undefined {prefix} command: "{args.strip()}".  '
                         f'Try "help {prefix}".')
    names = sorted(s.words[-1] for s in ctx.dispatcher.registry.subcommands(prefix))
    ctx.out.line(f'"{prefix}" must be followed by the name of a {prefix} command.')
    ctx.out.line(f"List of {prefix} subcommands: " + ", ".join(names) + ".")


def is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def format_error(err: BaseException, debug: bool) -> str:
    """The one line a user sees for a failed command (plus a traceback under debug)."""
    if isinstance(err, ArmdbgError):
        text = str(err)
    elif isinstance(err, KeyboardInterrupt):
        text = "Quit"
    else:
        text = f"armdbg internal error: {type(err).__name__}: {err} (set debug on for details)"
        if debug:
            text = f"armdbg internal error: {type(err).__name__}: {err}"
    if debug and not isinstance(err, KeyboardInterrupt):
        text = "".join(traceback.format_exception(err)).rstrip() + "\n" + text
    return text


class Dispatcher:
    def __init__(self, registry: Registry, session: Session) -> None:
        self.registry = registry
        self.session = session
        self.last_line: str | None = None
        self.last_repeat: str | None = None

    def execute(self, line: str, ctx: Context) -> None:
        """Run one command line; errors propagate as exceptions to the caller."""
        if not line.strip() or is_comment(line):
            return
        if ctx.args is not None and "$arg" in line:
            line = substitute_args(line, ctx.args)
        spec, rest = self.registry.resolve(line)
        if spec is None:
            word = line.split()[0]
            names = ", ".join(s.words[-1] for s in self.registry.subcommands(word))
            raise ArmdbgError(f'"{word}" must be followed by the name of a subcommand: {names}.')
        args = spec.parse_args(rest)
        if ctx.from_tty:
            self.last_line = line
            self.last_repeat = None
        spec.func(ctx, args)
        if ctx.from_tty:
            if spec.repeat is True:
                self.last_repeat = line
            elif callable(spec.repeat):
                self.last_repeat = spec.repeat(ctx, rest)

    def repeat_line(self) -> str | None:
        """What an empty line at the prompt runs (gdb's Enter-repeat)."""
        return self.last_repeat

    def run_lines(self, lines: list[str], ctx: Context, origin: str = "",
                  args: list[str] | None = None) -> None:
        """Run a body (definition, loop, breakpoint commands); the first error stops it."""
        source = ListSource(lines, origin)
        self.run_source(source, ctx, args=args)

    def run_source(self, source: LineSource, ctx: Context, *, args: list[str] | None = None,
                   origin: str = "") -> None:
        inner = Context(ctx.session, ctx.out, self, source, from_tty=False,
                        location=origin or ctx.location,
                        args=ctx.args if args is None else args)
        while True:
            line = source.read_line("")
            if line is None:
                return
            if isinstance(source, ListSource) and source.origin:
                inner.location = f"{source.origin}:{source.line_number}"
            self.execute(line, inner)


def substitute_args(line: str, args: list[str]) -> str:
    """gdb's ``$argc`` and ``$arg0``.. inside a user-defined command."""
    import re

    def value(match: re.Match[str]) -> str:
        if match.group(0) == "$argc":
            return str(len(args))
        index = int(match.group(1))
        if index >= len(args):
            raise ArmdbgError(f"Missing argument {index} in user function.")
        return args[index]

    return re.sub(r"\$argc|\$arg(\d+)", value, line)
