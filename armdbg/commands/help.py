"""``help`` and ``apropos``, generated from the command declarations.

Everything shown comes from the registry: a command's docstring (first line = the
summary in lists, the rest = ``help CMD``), its usage line, aliases, category and
subcommands; settings appear as ``set``/``show`` subcommands, as they do in gdb.  A
declaration that is broken (no docstring, a usage that raises) still lists: help must
work for every plugin, good or bad.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

from armdbg.commands.context import Context
from armdbg.commands.registry import CATEGORIES, CommandSet, CommandSpec, Registry
from armdbg.commands.settings_cmds import find_setting, setting_rows, setting_usage
from armdbg.errors import UsageError

commands = CommandSet()

UNDOCUMENTED = "This command is not documented."
# Commands whose subcommands include the session's settings.
SETTING_PREFIXES = ("set", "show")

FOOTER = (
    'Type "apropos word" to search for commands related to "word".',
    'Type "apropos -v word" for full documentation of commands related to "word".',
    "Command name abbreviations are allowed if unambiguous.",
)
CLASS_EXTRA = {
    "user-defined": ("The commands in this class are those defined by the user.",
                     'Use the "define" command to define a command.'),
}


# --------------------------------------------------------------------------- safe accessors


def spec_doc(spec: CommandSpec) -> str:
    """The docstring, dedented; "" when missing or not text."""
    try:
        doc = spec.func.__doc__
    except Exception:  # a plugin's odd callable must not break help
        return ""
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def spec_summary(spec: CommandSpec) -> str:
    doc = spec_doc(spec)
    if not doc:
        return UNDOCUMENTED
    first = doc.splitlines()[0].rstrip()
    return first if first.endswith(".") else first + "."


def spec_usage(spec: CommandSpec) -> str:
    try:
        usage = spec.usage_line()
    except Exception:  # a plugin's broken parser must not break help
        return spec.name
    return usage if isinstance(usage, str) and usage else spec.name


def spec_names(spec: CommandSpec) -> str:
    """``break, b`` or ``info breakpoints, info b``: the name, then its aliases."""
    parent = spec.words[:-1]
    return ", ".join([spec.name, *(" ".join([*parent, alias]) for alias in spec.aliases)])


def category_description(category: str) -> str:
    return CATEGORIES.get(category) or f"Commands in the {category} category"


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class Row:
    """One ``NAMES -- SUMMARY`` line of a listing, with what apropos searches."""

    name: str
    names: str
    summary: str
    doc: str
    category: str

    @property
    def key(self) -> list[str]:
        return self.name.split()

    def line(self) -> str:
        return f"{self.names} -- {self.summary}"


def spec_row(spec: CommandSpec) -> Row:
    return Row(spec.name, spec_names(spec), spec_summary(spec), spec_doc(spec), spec.category)


def is_prefix(registry: Registry, spec: CommandSpec) -> bool:
    return spec.prefix or bool(registry.subcommands(spec.name))


def subcommand_rows(ctx: Context, spec: CommandSpec) -> list[Row]:
    """Direct subcommands of a prefix command (and the settings under set/show)."""
    rows = [spec_row(sub) for sub in ctx.dispatcher.registry.subcommands(spec.name)]
    if spec.name in SETTING_PREFIXES:
        taken = {row.name for row in rows}
        # Only the first level, as gdb lists subcommands: "set print", not
        # "set print elements".
        rows += [Row(name, name, summary, summary, spec.category)
                 for name, summary in setting_rows(ctx.session, spec.name)
                 if name not in taken and len(name.split()) == 2]
    return sorted(rows, key=lambda row: row.key)


def all_rows(ctx: Context) -> list[Row]:
    registry = ctx.dispatcher.registry
    rows: dict[str, Row] = {}
    for spec in registry.specs():
        rows[spec.name] = spec_row(spec)
        if spec.name in SETTING_PREFIXES:
            for name, summary in setting_rows(ctx.session, spec.name):
                rows.setdefault(name, Row(name, name, summary, summary, spec.category))
    return sorted(rows.values(), key=lambda row: row.key)


def class_rows(ctx: Context, category: str) -> list[Row]:
    """A class's commands, each prefix command followed by its subcommands (as gdb)."""
    registry = ctx.dispatcher.registry
    rows: dict[str, Row] = {}
    for spec in registry.specs():
        if spec.category != category:
            continue
        rows[spec.name] = spec_row(spec)
        if is_prefix(registry, spec):
            for row in subcommand_rows(ctx, spec):
                rows.setdefault(row.name, row)
    return sorted(rows.values(), key=lambda row: row.key)


def categories(ctx: Context) -> list[str]:
    used = {spec.category for spec in ctx.dispatcher.registry.specs()}
    return sorted(set(CATEGORIES) | used)


# --------------------------------------------------------------------------- help


def _help_classes(ctx: Context) -> None:
    ctx.out.line("List of classes of commands:")
    ctx.out.line()
    for category in categories(ctx):
        ctx.out.line(f"{category} -- {category_description(category)}.")
    ctx.out.line()
    ctx.out.line('Type "help" followed by a class name for a list of commands in that class.')
    ctx.out.line('Type "help all" for the list of all commands.')
    ctx.out.line('Type "help" followed by command name for full documentation.')
    for line in FOOTER:
        ctx.out.line(line)


def _help_all(ctx: Context) -> None:
    rows = all_rows(ctx)
    for category in categories(ctx):
        ctx.out.line()
        ctx.out.line(f"Command class: {category}")
        ctx.out.line()
        for row in rows:
            if row.category == category:
                ctx.out.line(row.line())


def _help_class(ctx: Context, category: str) -> None:
    ctx.out.line(f"{category_description(category)}.")
    for line in CLASS_EXTRA.get(category, ()):
        ctx.out.line(line)
    ctx.out.line()
    ctx.out.line("List of commands:")
    ctx.out.line()
    for row in class_rows(ctx, category):
        ctx.out.line(row.line())
    ctx.out.line()
    ctx.out.line('Type "help" followed by command name for full documentation.')
    for line in FOOTER:
        ctx.out.line(line)


def _list_subcommands(ctx: Context, prefix: str, rows: list[Row]) -> None:
    ctx.out.line()
    ctx.out.line(f"List of {prefix} subcommands:")
    ctx.out.line()
    for row in rows:
        ctx.out.line(row.line())
    ctx.out.line()
    ctx.out.line(f'Type "help {prefix}" followed by {prefix} subcommand name '
                 "for full documentation.")
    for line in FOOTER:
        ctx.out.line(line)


def _help_setting(ctx: Context, spec: CommandSpec, rest: str) -> None:
    """``help set print elements``, ``help show confirm``, ``help set print``."""
    match = find_setting(ctx.session.settings, rest, spec.name)
    if match is None:
        word = rest.split()[0]
        raise UsageError(f'Undefined {spec.name} command: "{word}".  Try "help {spec.name}".')
    if match.setting is None:
        prefix = f"{spec.name} {match.name}"
        rows = [Row(name, name, summary, summary, spec.category)
                for name, summary in setting_rows(ctx.session, spec.name)
                if name.startswith(prefix + " ")
                and len(name.split()) == len(prefix.split()) + 1]
        ctx.out.line(f"Generic command for {'setting' if spec.name == 'set' else 'showing'} "
                     f"{match.name} settings.")
        _list_subcommands(ctx, prefix, rows)
        return
    verb = "Set" if spec.name == "set" else "Show"
    doc = match.setting.doc
    ctx.out.line(f"{verb} {doc[:1].lower()}{doc[1:]}.")
    if spec.name == "set":
        ctx.out.line(f"Usage: {setting_usage(match.setting)}")


def _help_command(ctx: Context, spec: CommandSpec, rest: str) -> None:
    if rest:
        if spec.name in SETTING_PREFIXES:
            _help_setting(ctx, spec, rest)
            return
        word = rest.split()[0]
        raise UsageError(f'Undefined {spec.name} command: "{word}".  Try "help {spec.name}".')
    if spec.aliases:
        ctx.out.line(spec_names(spec))
    doc_lines = (spec_doc(spec) or UNDOCUMENTED).splitlines()
    ctx.out.line(doc_lines[0])
    has_usage = any(line.lstrip().startswith("Usage:") for line in doc_lines)
    if spec.category != "user-defined" and not has_usage:
        ctx.out.line(f"Usage: {spec_usage(spec)}")
    for line in doc_lines[1:]:
        ctx.out.line(line)
    if is_prefix(ctx.dispatcher.registry, spec):
        _list_subcommands(ctx, spec.name, subcommand_rows(ctx, spec))


def _find_category(ctx: Context, word: str) -> str | None:
    matches = [c for c in categories(ctx) if c.startswith(word)]
    return matches[0] if len(matches) == 1 else None


@commands.command("help", category="support", aliases=("h",),
                  usage="help [COMMAND | CLASS | all]", complete=("command",))
def cmd_help(ctx: Context, args: str) -> None:
    """Print list of commands.
    With no argument, list the classes of commands.  "help CLASS" lists the
    commands of a class, "help all" every command, and "help COMMAND" shows the
    full documentation of a command (or of a setting: "help set print elements").
    """
    text = args.strip()
    if not text:
        _help_classes(ctx)
        return
    if text == "all":
        _help_all(ctx)
        return
    if text in categories(ctx):
        _help_class(ctx, text)
        return
    try:
        spec, rest = ctx.dispatcher.registry.resolve(text)
    except UsageError as err:
        if not str(err).startswith("Undefined command"):
            raise
        category = _find_category(ctx, text)
        if category is None:
            raise
        _help_class(ctx, category)
        return
    if spec is None:
        raise UsageError(f'Undefined command: "{text}".  Try "help".')
    _help_command(ctx, spec, rest)


# --------------------------------------------------------------------------- apropos


@commands.command("apropos", category="support", usage="apropos [-v] REGEXP")
def cmd_apropos(ctx: Context, args: str) -> None:
    """Search for commands matching a REGEXP.
    Usage: apropos [-v] REGEXP
    Flag -v indicates to produce a verbose output, showing full documentation
    of the matching commands.  The search ignores case and looks at command
    names, aliases and documentation.
    """
    text = args.strip()
    verbose = False
    if text == "-v" or text.startswith(("-v ", "-v\t")):
        verbose = True
        text = text[2:].strip()
    if not text:
        raise UsageError("REGEXP string is empty")
    try:
        pattern = re.compile(text, re.IGNORECASE)
    except re.error as err:
        raise UsageError(f"Error in regular expression: {err}") from None
    for row in all_rows(ctx):
        names = row.names.split(", ")
        if not (any(pattern.search(name) for name in names) or pattern.search(row.doc)):
            continue
        if verbose:
            ctx.out.line()
            ctx.out.line(row.names)
            ctx.out.line(row.doc or UNDOCUMENTED)
        else:
            ctx.out.line(row.line())
