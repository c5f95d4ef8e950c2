"""Where commands write: text with optional style classes.

Below the session and the command layer: the session writes the program's console
output here, commands write their results, and the UI subclass renders the styles as
colour (a plain writer drops them).
"""

from __future__ import annotations

from collections.abc import Callable

# Style classes a command may attach to text; the UI maps them to colours and a plain
# writer ignores them.
STYLES = ("address", "symbol", "mnemonic", "register", "changed", "number", "comment",
          "marker", "error", "warning", "heading", "executes", "skipped", "probe")

Token = tuple[str, str]  # (style or "", text)


class Output:
    """Collects what commands print.  The UI subclass renders styles as colour."""

    def __init__(self, sink: Callable[[str], None] | None = None) -> None:
        self._sink = sink
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        if self._sink is not None:
            self._sink(text)
        else:
            self.parts.append(text)

    def line(self, text: str = "") -> None:
        self.write(text + "\n")

    def tokens(self, tokens: list[Token]) -> None:
        """Styled text ending without a newline; plain writers drop the styles."""
        self.write("".join(text for _, text in tokens))

    def token_line(self, tokens: list[Token]) -> None:
        self.tokens(tokens + [("", "\n")])

    def text(self) -> str:
        return "".join(self.parts)
