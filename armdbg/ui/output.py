"""An :class:`Output` that renders style names as ANSI colour when colour is on.

Commands write ``(style, text)`` tokens; whether they come out coloured is decided per
write by ``enabled()`` (``set color on|off|auto``, ``--no-color``, ``NO_COLOR``, a
terminal or not), so the same session can switch at any time.
"""

from __future__ import annotations

from collections.abc import Callable

from pygments import format as pygments_format
from pygments.formatters.terminal256 import Terminal256Formatter
from pygments.token import Token

from armdbg.output import Output
from armdbg.output import Token as StyledText
from armdbg.ui.style import OUTPUT_TOKENS, ArmdbgStyle

_FORMATTER = Terminal256Formatter(style=ArmdbgStyle)


def render_ansi(tokens: list[StyledText]) -> str:
    """``[("address", "0x8000"), ("", " ")]`` as text with ANSI colour escapes."""
    stream = [(OUTPUT_TOKENS.get(style, Token.Text) if style else Token.Text, text)
              for style, text in tokens if text]
    return pygments_format(stream, _FORMATTER)


class ColorOutput(Output):
    def __init__(self, sink: Callable[[str], None] | None = None,
                 enabled: Callable[[], bool] = lambda: True) -> None:
        super().__init__(sink)
        self.enabled = enabled

    def tokens(self, tokens: list[StyledText]) -> None:
        if self.enabled():
            self.write(render_ansi(tokens))
        else:
            super().tokens(tokens)
