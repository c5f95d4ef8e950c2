"""Support commands: echo.  (The memory map commands live in armdbg.commands.memory.)"""

from __future__ import annotations

from armdbg.commands.context import Context
from armdbg.commands.dispatch import list_subcommands
from armdbg.commands.registry import CommandSet

commands = CommandSet()


def unescape(text: str) -> str:
    """gdb's echo escapes: \\n, \\t, \\\\, \\", \\a, \\e, octal \\NNN; a trailing \\ joins."""
    out = []
    index = 0
    simple = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "a": "\a",
              "e": "\x1b", "r": "\r", "b": "\b", "f": "\f", "v": "\v", " ": " "}
    while index < len(text):
        char = text[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        index += 1
        if index >= len(text):
            break
        char = text[index]
        if char in "01234567":
            digits = text[index:index + 3]
            count = len(digits) - len(digits.lstrip("01234567"))
            out.append(chr(int(text[index:index + count], 8)))
            index += count
            continue
        out.append(simple.get(char, char))
        index += 1
    return "".join(out)


@commands.command("echo", category="support", usage="echo TEXT")
def cmd_echo(ctx: Context, args: str) -> None:
    """Print a constant string.  C escapes work: \\n ends a line, \\t is a tab.

    `echo TEXT > FILE` and `echo TEXT >> FILE` write to the emulated kernel's tracefs,
    debugfs and procfs files (/sys/kernel/tracing/kprobe_events, ...), as a shell would.
    """
    from armdbg.commands.tracing import redirect, write_virtual

    target = redirect(args)
    if target is not None:
        write_virtual(ctx, *target)
        return
    ctx.out.write(unescape(args))


@commands.command("info", category="status", prefix=True, aliases=("i", "inf"),
                  usage="info SUBCOMMAND")
def cmd_info(ctx: Context, args: str) -> None:
    """Generic command for showing things about the program being debugged."""
    list_subcommands(ctx, "info", args)
