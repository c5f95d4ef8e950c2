"""What a command receives: the session, where to write, and where more lines come from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from armdbg.errors import ArmdbgError

if TYPE_CHECKING:
    from armdbg.commands.dispatch import Dispatcher
    from armdbg.session import Session


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


class LineSource(Protocol):
    """Where the body of ``define``/``commands``/``if``/``while`` is read from."""

    def read_line(self, prompt: str) -> str | None: ...


class EndOfInput(ArmdbgError):
    pass


@dataclass
class Context:
    session: Session
    out: Output
    dispatcher: Dispatcher
    input: LineSource | None = None
    from_tty: bool = False        # typed at the prompt (vs. a file, -ex, a definition)
    location: str = ""            # "FILE:LINE" of the command being run, for messages
    args: list[str] | None = None  # $arg0.. inside a user definition

    def read_body(self, prompt: str = ">") -> list[str]:
        """Lines up to the matching ``end``, nested blocks included (not executed)."""
        from armdbg.commands.blocks import read_block

        if self.input is None:
            raise ArmdbgError("this command needs a body of lines ending in \"end\"")
        return read_block(self.input, prompt)

    def run(self, line: str) -> None:
        """Run another command line through the same dispatcher."""
        self.dispatcher.execute(line, self)
