"""``set`` and ``show``: settings, assignments, program arguments, convenience variables.

gdb's ``set`` is two commands in one.  ``set NAME VALUE`` changes a setting when the
first word is a setting's name or an unambiguous abbreviation of one (multi-word
settings such as ``print elements`` are matched a word at a time); otherwise the whole
argument is an expression, normally an assignment (``set $i = $i + 1``, ``set {int}
ADDR = 5``, ``set $r0 = 1``).  ``set var EXPR`` always means the expression, for
variables named like a setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING

from armdbg import __version__, expr, formats
from armdbg.commands.context import Context
from armdbg.commands.evaluation import evaluate
from armdbg.commands.registry import CommandSet, split_word
from armdbg.errors import ArmdbgError, MemoryAccessError, UsageError
from armdbg.settings import Setting, Settings

if TYPE_CHECKING:
    from armdbg.session import Session

commands = CommandSet()

ARGS_DOC = "Argument list to give program being debugged when it is started"


# --------------------------------------------------------------------------- resolving names


@dataclass(frozen=True)
class SettingMatch:
    """What the words at the start of a ``set``/``show`` argument name."""

    name: str            # "print elements", or a group such as "print"
    rest: str            # text after the name: the value
    setting: Setting | None  # None for a group of multi-word settings


def find_setting(settings: Settings, text: str, command: str) -> SettingMatch | None:
    """The setting (or group) ``text`` starts with, gdb abbreviations allowed.

    None when the first word names nothing (for ``set`` that means an expression).
    An ambiguous abbreviation, or an unknown word after a group, is an error worded
    as gdb words it.
    """
    chosen: list[str] = []
    rest = text
    while True:
        word, after = split_word(rest)
        if not word:
            if not chosen:
                return None
            group = " ".join(chosen)
            raise UsageError(f'Undefined {command} {group} command: "{rest.strip()}".  '
                             f'Try "help {command} {group}".')
        level = sorted({name.split()[len(chosen)] for name in settings.names()
                        if name.split()[:len(chosen)] == chosen
                        and len(name.split()) > len(chosen)})
        if word in level:
            found = word
        else:
            matches = [name for name in level if name.startswith(word)]
            if len(matches) > 1:
                where = " ".join([command, *chosen])
                raise UsageError(f'Ambiguous {where} command "{rest.strip()}": '
                                 f'{", ".join(matches)}.')
            if not matches:
                if not chosen:
                    return None
                group = " ".join(chosen)
                raise UsageError(f'Undefined {command} {group} command: "{word}".  '
                                 f'Try "help {command} {group}".')
            found = matches[0]
        chosen.append(found)
        name = " ".join(chosen)
        if name in settings.names():
            return SettingMatch(name, after.strip(), settings.find(name))
        if not after.strip():
            return SettingMatch(name, "", None)
        rest = after


def settings_in_group(settings: Settings, group: str) -> list[str]:
    words = group.split()
    return [name for name in settings.names() if name.split()[:len(words)] == words]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def setting_usage(setting: Setting, command: str = "set") -> str:
    if command == "show":
        return f"show {setting.name}"
    value = {"bool": "on|off", "int": "N", "uint": "N|unlimited",
             "enum": "|".join(setting.choices)}.get(setting.kind, "TEXT")
    return f"set {setting.name} {value}"


def setting_rows(session: Session, command: str) -> list[tuple[str, str]]:
    """``(full name, summary)`` of every setting as a ``set``/``show`` subcommand, for help."""
    verb = "Set" if command == "set" else "Show"
    rows = [(f"{command} {name}", f"{verb} {_lower_first(session.settings.find(name).doc)}.")
            for name in session.settings.names()]
    groups = {name.split()[0] for name in session.settings.names() if " " in name}
    verb_ing = "setting" if command == "set" else "showing"
    for group in sorted(groups):
        rows.append((f"{command} {group}", f"Generic command for {verb_ing} {group} settings."))
    return rows


# --------------------------------------------------------------------------- set


def _apply_setting(ctx: Context, match: SettingMatch) -> None:
    setting = match.setting
    assert setting is not None
    text = match.rest
    if not text:
        if setting.kind == "uint":
            raise UsageError('Argument required (integer to set it to, or "unlimited").')
        if setting.kind == "int":
            raise UsageError("Argument required (integer to set it to.).")
        if setting.kind == "enum":
            raise UsageError("Requires an argument. Valid arguments are "
                             f"{', '.join(setting.choices)}.")
    if setting.kind in ("int", "uint") and text and text.lower() != "unlimited":
        # gdb reads a number setting as an expression: "set height 2*24" works.
        try:
            int(text, 0)
        except ValueError:
            text = str(evaluate(ctx, text).value)
    ctx.session.settings.set(match.name, text)


def assign(ctx: Context, text: str) -> None:
    """gdb's ``set EXPR``: evaluate for its effect, warning if it cannot have one."""
    if not text.strip():
        raise ArmdbgError("Argument required (expression to compute).")
    node = expr.parse(text)
    if not isinstance(node, expr.Assign | expr.IncDec | expr.Comma):
        ctx.out.token_line([("warning", "warning: Expression is not an assignment "
                                        "(and might have no effect)")])
    evaluate(ctx, text)


@commands.command("set", category="data", prefix=True, complete=("setting", "expression"),
                  usage="set VAR = EXP | set SETTING VALUE")
def cmd_set(ctx: Context, args: str) -> None:
    """Evaluate expression EXP and assign result to variable VAR.
    Usage: set VAR = EXP
    VAR may be a debugger "convenience" variable (names starting with $), a
    register ($r0, $sp, $pc, $cpsr...), or memory: {int}ADDR, *(char *)ADDR.
    EXP is any valid expression.
    Use "set variable" for variables with names identical to set subcommands.

    With a subcommand, this command modifies parts of the armdbg environment.
    You can see these environment settings with the "show" command.
    """
    match = find_setting(ctx.session.settings, args, "set")
    if match is None:
        assign(ctx, args)
        return
    if match.setting is None:
        names = ", ".join(n.split()[-1] for n in settings_in_group(ctx.session.settings,
                                                                    match.name))
        raise UsageError(f'"set {match.name}" must be followed by the name of a '
                         f"subcommand: {names}.")
    _apply_setting(ctx, match)


@commands.command("set variable", category="data", aliases=("var",),
                  usage="set variable VAR = EXP", complete=("expression",))
def cmd_set_variable(ctx: Context, args: str) -> None:
    """Evaluate expression EXP and assign result to variable VAR.
    Usage: set variable VAR = EXP
    VAR may be a debugger "convenience" variable (names starting with $), a
    register, or memory ({int}ADDR).  EXP is any valid expression.
    This may usually be abbreviated to simply "set".
    """
    assign(ctx, args)


def _args_text(session: Session) -> str:
    stored = session.extensions.get("program-args-text")
    if isinstance(stored, str) and stored.split() == session.program_args:
        return stored
    return " ".join(session.program_args)


@commands.command("set args", category="running", usage="set args [ARGS...]")
def cmd_set_args(ctx: Context, args: str) -> None:
    """Set argument list to give program being debugged when it is started.
    Follow this command with any number of args, to be passed to the program
    (as its semihosting command line) by the next "run".
    """
    ctx.session.program_args = args.split()
    # Kept as typed, for "show args", as gdb keeps the string.
    ctx.session.extensions["program-args-text"] = args.strip()


# --------------------------------------------------------------------------- show


def _show_line(session: Session, name: str) -> str:
    if name == "args":
        return f'{ARGS_DOC} is "{_args_text(session)}".'
    return session.settings.describe(name)


def show_all(ctx: Context, names: list[str] | None = None) -> None:
    """gdb's ``show`` with no argument: ``NAME:  description`` for every setting."""
    settings = ctx.session.settings
    if names is None:
        names = sorted([*settings.names(), "args"], key=str.split)
    for name in names:
        ctx.out.line(f"{name}:  {_show_line(ctx.session, name)}")


@commands.command("show", category="status", prefix=True, usage="show [SETTING]",
                  complete=("setting",))
def cmd_show(ctx: Context, args: str) -> None:
    """Generic command for showing things about the debugger.
    With no argument, show every setting.
    """
    if not args.strip():
        show_all(ctx)
        return
    match = find_setting(ctx.session.settings, args, "show")
    if match is None:
        word = split_word(args)[0] or args.strip()
        raise UsageError(f'Undefined show command: "{word}".  Try "help show".')
    if match.setting is None:
        show_all(ctx, settings_in_group(ctx.session.settings, match.name))
        return
    ctx.out.line(ctx.session.settings.describe(match.name))


@commands.command("info set", category="status", usage="info set")
def cmd_info_set(ctx: Context, args: str) -> None:
    """Show all settings (the same as "show" with no argument)."""
    show_all(ctx)


@commands.command("show args", category="running", usage="show args")
def cmd_show_args(ctx: Context, args: str) -> None:
    """Show argument list to give program being debugged when it is started.
    Follow this command with any number of args, to be passed to the program.
    """
    ctx.out.line(_show_line(ctx.session, "args"))


def format_convenience(session: Session, value: expr.Value) -> str:
    def read_byte(address: int) -> int:
        return session.read_memory(address, 1)[0]

    try:
        return formats.format_value(value, None, session.symbolize, read_byte=read_byte)
    except (ArmdbgError, MemoryAccessError) as err:
        return f"<error: {err}>"


@commands.command("show convenience", category="status", aliases=("conv",),
                  usage="show convenience")
def cmd_show_convenience(ctx: Context, args: str) -> None:
    """Debugger convenience ("$foo") variables.
    Convenience variables are created when you assign them values;
    thus, "set $foo=1" gives "$foo" the value 1.  Values may be any type.

    A few convenience variables are given values automatically:
    "$_" holds the last address examined with "x",
    "$__" holds the contents of the last address examined with "x".
    """
    variables = ctx.session.convenience
    if not variables:
        ctx.out.line("No debugger convenience values now defined.")
        ctx.out.line('Convenience variables have names starting with "$";')
        ctx.out.line('use "set" as in "set $foo = 5" to define them.')
        return
    # Newest first, as gdb lists them.
    for name in reversed(list(variables)):
        ctx.out.line(f"${name} = {format_convenience(ctx.session, variables[name])}")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


@commands.command("show version", category="support", usage="show version")
def cmd_show_version(ctx: Context, args: str) -> None:
    """Show what version of armdbg this is."""
    import platform

    ctx.out.line(f"armdbg {__version__}")
    ctx.out.line("A gdb-style debugger for Linux kprobes experiments on an emulated "
                 "ARM32 machine.")
    ctx.out.line(f"Unicorn {_version('unicorn')}, Capstone {_version('capstone')}, "
                 f"Keystone {_version('keystone-engine')}, "
                 f"prompt_toolkit {_version('prompt_toolkit')}, "
                 f"Python {platform.python_version()}.")
