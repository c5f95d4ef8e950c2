"""gdb's command language: ``define``/``document``, ``if``/``while``, ``source``.

User-defined commands are ordinary registry entries (category "user-defined") whose
function runs the stored body through the dispatcher with ``$arg0``.. and ``$argc``
bound, so they abbreviate, repeat on Enter and show in ``help`` like built-ins.
Loop control is exceptions: ``loop_break``/``loop_continue`` raise, the innermost
``while`` catches.  The state that outlives one command (definitions, call depth)
lives in ``session.extensions["scripting"]``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from armdbg.commands.blocks import OPENERS, split_else
from armdbg.commands.context import Context, EndOfInput
from armdbg.commands.evaluation import is_true
from armdbg.commands.registry import CommandFunc, CommandSet, CommandSpec, RepeatPolicy
from armdbg.errors import ArmdbgError, UsageError
from armdbg.script import run_file

if TYPE_CHECKING:
    from armdbg.session import Session

commands = CommandSet()

USER_CATEGORY = "user-defined"
UNDOCUMENTED = "User-defined."  # gdb's help text for a command nobody documented
# Python frames one level of user-command nesting can take (the command, run_lines,
# run_source, execute, plus if/while bodies in between); used to give deep but
# legal recursion (gdb allows 1024 levels) room under Python's recursion limit.
FRAMES_PER_CALL = 24


class LoopBreak(ArmdbgError):
    """``loop_break``: caught by the innermost ``while``."""


class LoopContinue(ArmdbgError):
    """``loop_continue``: caught by the innermost ``while``."""


@dataclass
class UserCommand:
    name: str
    body: list[str]
    doc: str = UNDOCUMENTED


@dataclass
class ScriptingState:
    definitions: dict[str, UserCommand] = field(default_factory=dict)
    call_depth: int = 0      # user commands running now, for max-user-call-depth
    loop_depth: int = 0      # while loops running in the current user command
    dont_repeat: bool = False


def scripting_state(session: Session) -> ScriptingState:
    state = session.extensions.get("scripting")
    if not isinstance(state, ScriptingState):
        state = ScriptingState()
        session.extensions["scripting"] = state
    return state


def attach(session: Session) -> None:
    session.settings.declare("max-user-call-depth", "uint", 1024,
                             "The max call depth for user-defined commands")
    scripting_state(session)


# --------------------------------------------------------------------------- helpers


def split_user_args(text: str) -> list[str]:
    """gdb's ``user_args``: words split at blanks, except inside quotes or after ``\\``.

    Quotes and backslashes are kept in the words, as gdb keeps them: ``foo "a b"``
    makes ``$arg0`` the five characters ``"a b"``.
    """
    args: list[str] = []
    index = 0
    while index < len(text):
        while index < len(text) and text[index] in " \t":
            index += 1
        if index >= len(text):
            break
        start = index
        quote = ""
        escaped = False
        while index < len(text):
            char = text[index]
            if not (quote or escaped) and char in " \t":
                break
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif quote:
                if char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            index += 1
        args.append(text[start:index])
    return args


def _valid_name_char(char: str) -> bool:
    # A subset of gdb's valid_cmd_char_p: '.' is left out because the registry ends
    # a command word there.
    return char.isalnum() or char in "-_"


def _command_name(ctx: Context, text: str) -> str:
    """The full name ``define``/``document`` act on; prefix words must be prefix commands."""
    words = text.split()
    if not words:
        raise UsageError("Argument required (name of command to define).")
    last = words[-1]
    for index, char in enumerate(last):
        if not _valid_name_char(char):
            raise UsageError(f'Junk in argument list: "{last[index:]}"')
    if len(words) == 1:
        return last
    registry = ctx.dispatcher.registry
    prefix_text = " ".join(words[:-1])
    spec, rest = registry.resolve(prefix_text)
    if spec is None or rest or not (spec.prefix or registry.subcommands(spec.name)):
        raise UsageError(f'"{prefix_text}" is not a prefix command.')
    return f"{spec.name} {last}"


def _existing(ctx: Context, name: str) -> CommandSpec | None:
    """The command (or alias) spelled exactly ``name``, not a prefix match."""
    words = name.split()
    for spec in ctx.dispatcher.registry.specs():
        if spec.name == name:
            return spec
        if spec.words[:-1] == words[:-1] and words[-1] in spec.aliases:
            return spec
    return None


def warn(ctx: Context, text: str) -> None:
    ctx.out.token_line([("warning", f"warning: {text}")])


def query(ctx: Context, question: str) -> bool:
    """gdb's y/n query: asked only under ``set confirm on``; answered Y off a terminal."""
    if not ctx.session.settings["confirm"]:
        return True
    if ctx.from_tty and ctx.input is not None:
        while True:
            answer = ctx.input.read_line(f"{question}(y or n) ")
            if answer is None:
                return True
            word = answer.strip().lower()
            if word in ("y", "yes", ""):
                return True
            if word in ("n", "no"):
                return False
            ctx.out.line("Please answer y or n.")
    ctx.out.line(f"{question}(y or n) [answered Y; input not from terminal]")
    return True


def _read_raw_body(ctx: Context) -> list[str]:
    """Lines up to a line that is just ``end``, not parsed (``document`` text)."""
    if ctx.input is None:
        raise ArmdbgError('this command needs a body of lines ending in "end"')
    lines: list[str] = []
    while True:
        line = ctx.input.read_line(">")
        if line is None:
            raise EndOfInput('End of input inside a block: missing "end".')
        if line.strip() == "end":
            return lines
        lines.append(line.rstrip())


def _is_code(line: str) -> bool:
    text = line.strip()
    return bool(text) and not text.startswith("#")


def format_body(body: list[str], indent: int = 1) -> list[str]:
    """A body re-indented two spaces per level, as gdb's ``show user`` prints it."""
    lines: list[str] = []
    depth = indent
    for raw in body:
        if not _is_code(raw):
            continue
        text = raw.strip()
        word = text.split(None, 1)[0]
        if word == "end":
            depth = max(indent, depth - 1)
            lines.append("  " * depth + text)
        elif word == "else":
            lines.append("  " * max(indent, depth - 1) + text)
        else:
            lines.append("  " * depth + text)
            if word in OPENERS:
                depth += 1
    return lines


@contextmanager
def _recursion_room(depth: int) -> Iterator[None]:
    """Let ``depth`` levels of user commands fit under Python's recursion limit."""
    old = sys.getrecursionlimit()
    wanted = old + depth * FRAMES_PER_CALL
    if depth and wanted > old:
        sys.setrecursionlimit(wanted)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


# --------------------------------------------------------------------------- define


def make_user_command(definition: UserCommand) -> CommandFunc:
    """The registry function that runs ``definition``'s body."""

    def user_command(ctx: Context, args: str) -> None:
        state = scripting_state(ctx.session)
        if ctx.from_tty:
            state.dont_repeat = False
        limit = ctx.session.settings["max-user-call-depth"]
        if limit and state.call_depth >= limit:
            raise ArmdbgError("Max user call depth exceeded -- command aborted.")
        outermost = state.call_depth == 0
        saved_loops = state.loop_depth
        state.call_depth += 1
        # loop_break in the body must not reach a while loop of the caller.
        state.loop_depth = 0
        try:
            if outermost:
                with _recursion_room(limit or 0):
                    ctx.dispatcher.run_lines(list(definition.body), ctx,
                                             args=split_user_args(args))
            else:
                ctx.dispatcher.run_lines(list(definition.body), ctx,
                                         args=split_user_args(args))
        except RecursionError:
            if not outermost:
                raise
            raise ArmdbgError("Max user call depth exceeded -- command aborted.") from None
        finally:
            state.call_depth -= 1
            state.loop_depth = saved_loops

    user_command.__doc__ = definition.doc
    user_command.__name__ = f"user_command_{definition.name.replace(' ', '_')}"
    return user_command


def _repeat_policy(name: str) -> RepeatPolicy:
    """Enter repeats a user command (as in gdb) unless its body ran ``dont-repeat``."""

    def policy(ctx: Context, rest: str) -> str | None:
        if scripting_state(ctx.session).dont_repeat:
            return None
        return f"{name} {rest}".rstrip()

    return policy


@commands.command("define", category="support", usage="define NAME", complete=("command",))
def cmd_define(ctx: Context, args: str) -> None:
    """Define a new command name.  Command name is argument.
    Definition appears on following lines, one command per line.
    End with a line of just "end".
    Use the "document" command to give documentation for the new command.
    Commands defined in this way may accept an unlimited number of arguments
    accessed via $arg0 .. $argN.  $argc tells how many arguments have
    been passed.
    """
    # As gdb: a bad name is reported before the body is read (the lines that follow
    # then run as commands, as they would in gdb).
    name = _command_name(ctx, args)
    state = scripting_state(ctx.session)
    old = _existing(ctx, name)
    agreed = True
    if old is not None:
        if old.category == USER_CATEGORY:
            agreed = query(ctx, f'Redefine command "{name}"? ')
        else:
            agreed = query(ctx, f'Really redefine built-in command "{name}"? ')
    if ctx.from_tty and agreed:
        ctx.out.line(f'Type commands for definition of "{name}".')
        ctx.out.line('End with a line saying just "end".')
    body = ctx.read_body()
    if not agreed:
        raise ArmdbgError(f'Command "{name}" not redefined.')
    previous = state.definitions.get(name)
    definition = UserCommand(name, body, previous.doc if previous else UNDOCUMENTED)
    state.definitions[name] = definition
    ctx.dispatcher.registry.replace(CommandSpec(
        name, make_user_command(definition), category=USER_CATEGORY,
        repeat=_repeat_policy(name), owner="user"))


@commands.command("document", category="support", usage="document NAME",
                  complete=("command",))
def cmd_document(ctx: Context, args: str) -> None:
    """Document a user-defined command.
    Give command name as argument.  Give documentation on following lines.
    End with a line of just "end".
    """
    if ctx.from_tty:
        ctx.out.line(f'Type documentation for "{args.strip()}".')
        ctx.out.line('End with a line saying just "end".')
    # gdb reads the text before it looks at the name: a bad name must not leave the
    # text to be run as commands.
    lines = _read_raw_body(ctx)
    name = _command_name(ctx, args)
    registry = ctx.dispatcher.registry
    try:
        spec, rest = registry.resolve(name)
    except UsageError:
        spec, rest = None, ""
    if spec is None or rest:
        raise UsageError(f'Undefined command: "{name}".')
    state = scripting_state(ctx.session)
    definition = state.definitions.get(spec.name)
    if spec.category != USER_CATEGORY or definition is None:
        raise UsageError(f'Command "{name}" is built-in.')
    definition.doc = "\n".join(lines)
    # The spec's function carries the text help shows (CommandSpec.doc).
    spec.func.__doc__ = definition.doc or UNDOCUMENTED


@commands.command("show user", category="support", usage="show user [NAME]",
                  complete=("command",))
def cmd_show_user(ctx: Context, args: str) -> None:
    """Show definitions of user defined commands.
    Argument is the name of the user defined command.
    With no argument, show definitions of all user defined commands.
    """
    state = scripting_state(ctx.session)
    if args.strip():
        spec, rest = ctx.dispatcher.registry.resolve(args)
        if spec is None or rest:
            raise UsageError(f'Undefined command: "{args.strip()}".  Try "help".')
        if spec.name not in state.definitions or spec.category != USER_CATEGORY:
            raise UsageError("Not a user command.")
        names = [spec.name]
    else:
        names = sorted(state.definitions, key=str.split)
    for name in names:
        ctx.out.line(f'User command "{name}":')
        lines = format_body(state.definitions[name].body)
        for line in lines:
            ctx.out.line(line)
        if lines:
            ctx.out.line()


@commands.command("dont-repeat", category="support", usage="dont-repeat")
def cmd_dont_repeat(ctx: Context, args: str) -> None:
    """Don't repeat this command.
    Primarily used inside of user-defined commands that should not be repeated when
    hitting return.
    """
    scripting_state(ctx.session).dont_repeat = True
    ctx.dispatcher.last_repeat = None


# --------------------------------------------------------------------------- if / while


@commands.command("if", category="support", usage="if EXPRESSION", complete=("expression",))
def cmd_if(ctx: Context, args: str) -> None:
    """Execute nested commands once IF the conditional expression is non zero.
    The conditional expression must follow the word `if' and must in turn be
    followed by a new line.  The nested commands must be entered one per line,
    and should be terminated by the word 'else' or `end'.  If an else clause
    is used, the same rules apply to its nested commands as to the first ones.
    """
    body = ctx.read_body()
    if not args.strip():
        raise UsageError("if command requires an argument.")
    then, other = split_else(body)
    chosen = then if is_true(ctx, args) else other
    if chosen:
        ctx.dispatcher.run_lines(chosen, ctx)


@commands.command("while", category="support", usage="while EXPRESSION",
                  complete=("expression",))
def cmd_while(ctx: Context, args: str) -> None:
    """Execute nested commands WHILE the conditional expression is non zero.
    The conditional expression must follow the word `while' and must in turn be
    followed by a new line.  The nested commands must be entered one per line,
    and should be terminated by the word `end'.  Inside the loop, "loop_break"
    leaves it and "loop_continue" goes on with the next test of the condition.
    Ctrl-C interrupts a loop that does not end.
    """
    body = ctx.read_body()
    if not args.strip():
        raise UsageError("while command requires an argument.")
    state = scripting_state(ctx.session)
    state.loop_depth += 1
    try:
        while is_true(ctx, args):
            try:
                ctx.dispatcher.run_lines(body, ctx)
            except LoopBreak:
                break
            except LoopContinue:
                continue
    finally:
        state.loop_depth -= 1


@commands.command("loop_break", category="support", usage="loop_break")
def cmd_loop_break(ctx: Context, args: str) -> None:
    """Leave the innermost "while" loop."""
    if scripting_state(ctx.session).loop_depth == 0:
        raise UsageError('"loop_break" can only be used inside a "while" loop.')
    raise LoopBreak('"loop_break" outside a "while" loop.')


@commands.command("loop_continue", category="support", usage="loop_continue")
def cmd_loop_continue(ctx: Context, args: str) -> None:
    """Go on with the next iteration of the innermost "while" loop."""
    if scripting_state(ctx.session).loop_depth == 0:
        raise UsageError('"loop_continue" can only be used inside a "while" loop.')
    raise LoopContinue('"loop_continue" outside a "while" loop.')


@commands.command("end", category="support", usage="end")
def cmd_end(ctx: Context, args: str) -> None:
    """Ends a list of commands or actions.
    Several commands allow you to enter a list of commands or actions.
    Entering "end" on a line by itself is the normal way to terminate
    such a list.

    Note: the "end" command cannot be used at the armdbg prompt.
    """
    raise UsageError("This command cannot be used at the top level.")


# --------------------------------------------------------------------------- source


@commands.command("source", category="support", usage="source FILE", complete=("file",))
def cmd_source(ctx: Context, args: str) -> None:
    """Read commands from a file named FILE.
    The first command that fails stops the file; the error names FILE:LINE.
    A relative FILE is found from the current directory.

    Note that the file ".armdbgrc" in your home directory is read automatically
    in this way when armdbg is started (unless -nx is given).
    """
    text = args.strip()
    if not text:
        raise UsageError("source command requires file name of file to source.")
    path = Path(os.path.expanduser(text))
    if not path.exists():
        # gdb: an error when typed, only a warning from a script, which goes on.
        if ctx.from_tty:
            raise ArmdbgError(f"{text}: No such file or directory.")
        warn(ctx, f"{text}: No such file or directory")
        return
    try:
        run_file(path, ctx, keep_going=False)
    except RecursionError:
        raise ArmdbgError(f"{text}: command files nested too deeply.") from None
