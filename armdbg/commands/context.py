"""What a command receives: the session, where to write, and where more lines come from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from armdbg.errors import ArmdbgError
from armdbg.output import Output

if TYPE_CHECKING:
    from armdbg.commands.dispatch import Dispatcher
    from armdbg.session import Session


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
