"""What a probe's fetch arguments read: the handler's pt_regs and the machine's memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from armdbg.kprobes.regs import PtRegs

if TYPE_CHECKING:
    from armdbg.session import Session

# The emulated machine runs one task; trace lines and $comm name it after the program.
TASK_COMM_DEFAULT = "demo"


class ProbeFetchEnv:
    """armdbg.tracing.fetchargs.FetchEnv over a session and a register snapshot."""

    def __init__(self, session: Session, regs: PtRegs, retval: int | None = None) -> None:
        self.session = session
        self.regs = regs
        self._retval = retval

    def read_register(self, name: str) -> int:
        return self.regs.get(name)

    def read_memory(self, address: int, size: int) -> bytes:
        return self.session.read_memory(address, size)

    def symbol_address(self, name: str) -> int | None:
        symbol = self.session.symbols.lookup(name)
        return symbol.address if symbol is not None else None

    def symbolize_with_size(self, address: int) -> str | None:
        """``%pS``: ``sym+0xoff/0xsize``, the size as kallsyms computes it."""
        symbols = self.session.symbols
        symbol = symbols.containing(address)
        if symbol is None:
            return None
        return f"{symbol.name}+{address - symbol.address:#x}/{symbols.kallsyms_size(symbol):#x}"

    def retval(self) -> int | None:
        return self._retval

    def comm(self) -> str:
        program = self.session.program
        return (program.name if program is not None else TASK_COMM_DEFAULT)[:15]
