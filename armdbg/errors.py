"""The one exception tree armdbg raises.

Every error a user can cause is an :class:`ArmdbgError`; the command dispatcher turns
it into a single line.  Anything else escaping a command is a bug in armdbg and is shown
as one line too (with the traceback only under ``set debug on``).
"""

from __future__ import annotations


class ArmdbgError(Exception):
    """Base of every error armdbg reports to the user as one line."""


class UsageError(ArmdbgError):
    """A command was given arguments it cannot accept."""


class ExpressionError(ArmdbgError):
    """An expression could not be parsed or evaluated."""


class NoSymbolError(ExpressionError):
    """A name is not a symbol, register or convenience variable."""

    def __init__(self, name: str) -> None:
        super().__init__(f'No symbol "{name}" in current context.')
        self.name = name


class MemoryAccessError(ArmdbgError):
    """Emulated memory at an address cannot be read or written."""

    def __init__(self, address: int) -> None:
        super().__init__(f"Cannot access memory at address {address:#x}")
        self.address = address


class AssemblyError(ArmdbgError):
    """Keystone could not assemble an instruction."""


class LoadError(ArmdbgError):
    """A program image could not be loaded."""


class MachineError(ArmdbgError):
    """The emulated machine cannot do what was asked (bad region, not running, ...)."""
