"""Multi-line constructs: reading a body up to its ``end``, and feeding lines back.

``define``, ``document``, ``commands``, ``if`` and ``while`` take a body.  Bodies nest,
so reading one counts the openers inside it.  Running a body feeds its lines through a
:class:`ListSource`, so a nested construct reads *its* body from the same list.
"""

from __future__ import annotations

from armdbg.commands.context import EndOfInput, LineSource

OPENERS = ("if", "while", "define", "document", "commands")


def _first_word(line: str) -> str:
    word = line.strip().split(None, 1)[0] if line.strip() else ""
    return word.split("/", 1)[0]


def read_block(source: LineSource, prompt: str = ">") -> list[str]:
    body: list[str] = []
    depth = 0
    while True:
        line = source.read_line(prompt)
        if line is None:
            raise EndOfInput('End of input inside a block: missing "end".')
        word = _first_word(line)
        if word == "end":
            if depth == 0:
                return body
            depth -= 1
        elif word in OPENERS:
            depth += 1
        body.append(line)


def split_else(body: list[str]) -> tuple[list[str], list[str]]:
    """Split an ``if`` body at its own top-level ``else``."""
    depth = 0
    for index, line in enumerate(body):
        word = _first_word(line)
        if word in OPENERS:
            depth += 1
        elif word == "end":
            depth -= 1
        elif word == "else" and depth == 0:
            return body[:index], body[index + 1:]
    return body, []


class ListSource:
    """A LineSource over lines already read (a definition, a loop body)."""

    def __init__(self, lines: list[str], origin: str = "", first_line: int = 1) -> None:
        self.lines = lines
        self.position = 0
        self.origin = origin
        self.first_line = first_line

    def read_line(self, prompt: str) -> str | None:
        if self.position >= len(self.lines):
            return None
        line = self.lines[self.position]
        self.position += 1
        return line

    @property
    def line_number(self) -> int:
        return self.first_line + self.position - 1
