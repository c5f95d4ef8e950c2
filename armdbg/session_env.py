"""The expression language's view of a session (an :class:`armdbg.expr.ExprEnv`).

The bridge from the pure expression language to the machine: registers, memory (with
gdb breakpoint words hidden, as gdb shows memory), symbols and convenience variables.
Below the command layer: breakpoint conditions are evaluated with it during runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from armdbg import expr
from armdbg.machine.machine import Machine

if TYPE_CHECKING:
    from armdbg.session import Session


class SessionEnv:
    """An :class:`armdbg.expr.ExprEnv` over a session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.convenience = session.convenience
        self.history: list[expr.Value] = session.extensions.setdefault("value-history", [])

    def read_register(self, name: str) -> int | None:
        canon = Machine.canonical_register(name)
        if canon is None:
            return None
        return self.session.machine.read_register(canon)

    def write_register(self, name: str, value: int) -> None:
        self.session.machine.write_register(name, value)

    def read_memory(self, address: int, size: int) -> bytes:
        return self.session.read_memory(address, size)

    def write_memory(self, address: int, data: bytes) -> None:
        self.session.write_memory(address, data)

    def lookup_symbol(self, name: str) -> int | None:
        symbol = self.session.symbols.lookup(name)
        return symbol.address if symbol is not None else None
