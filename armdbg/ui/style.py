"""armdbg's colours, in one Pygments style used for both directions.

Typed input is highlighted by :mod:`armdbg.ui.lexer` (ordinary Pygments tokens); command
output carries the style names of :data:`armdbg.commands.context.STYLES`, which map to
``Token.Armdbg.*`` tokens here.  The same :class:`ArmdbgStyle` renders output as ANSI
(through a Pygments formatter) and input in prompt_toolkit (converted with
``style_from_pygments_cls``), so a colour is chosen in exactly one place.

Only the terminal's own 16 ANSI colours are used, so the user's theme decides the
actual shades, as gdb's default styles do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pygments.style import Style
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    String,
    Token,
    _TokenType,
)

from armdbg.output import STYLES

if TYPE_CHECKING:
    from prompt_toolkit.styles import BaseStyle

# "register" -> Token.Armdbg.Register, "executes" -> Token.Armdbg.Executes ...
OUTPUT_TOKENS: dict[str, _TokenType] = {
    name: getattr(Token.Armdbg, name.title().replace("-", "")) for name in STYLES
}

# Output styles, following gdb's defaults where gdb has one (address blue, function
# yellow, variable cyan) and pwndbg's habit of red for changed registers.
OUTPUT_COLOURS: dict[str, str] = {
    "address": "ansiblue",
    "symbol": "ansiyellow",
    "mnemonic": "bold",
    "register": "ansicyan",
    "changed": "bold ansired",
    "number": "ansimagenta",
    "comment": "ansibrightblack",
    "marker": "bold ansigreen",
    "error": "ansired",
    "warning": "ansiyellow",
    "heading": "bold",
    "executes": "ansigreen",
    "skipped": "ansibrightblack",
    "probe": "bold ansimagenta",
}

# Input (the command language as typed).
INPUT_COLOURS: dict[_TokenType, str] = {
    Keyword: "bold",                      # command words: break, info registers
    Keyword.Type: "ansigreen",            # /FMT after x, print, display
    Name.Attribute: "ansicyan",           # --options and -o
    Name.Variable: "ansicyan",            # $registers, $convenience
    Name: "ansiyellow",                   # symbols
    Number: "ansimagenta",
    String: "ansigreen",
    Comment: "italic ansibrightblack",
    Operator: "",
    Error: "ansired",
}

class ArmdbgStyle(Style):
    """The single source of armdbg's colours (input and output)."""

    name = "armdbg"
    background_color = ""
    styles = {  # noqa: RUF012 - Pygments reads this class attribute
        **INPUT_COLOURS,
        **{OUTPUT_TOKENS[name]: colour for name, colour in OUTPUT_COLOURS.items()},
    }


def prompt_style() -> BaseStyle:
    """The style for prompt_toolkit's input highlighting (its defaults do the menus)."""
    from prompt_toolkit.styles import style_from_pygments_cls

    return style_from_pygments_cls(ArmdbgStyle)
