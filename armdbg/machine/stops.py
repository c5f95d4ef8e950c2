"""Why the machine stopped: frozen values the engine returns and the UI renders."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class StopReason(enum.Enum):
    STEP = "step"                # a requested single step completed
    BREAKPOINT = "breakpoint"    # a gdb-style breakpoint trap
    TRAP = "trap"                # another trap owner (e.g. a kprobe with --stop) asked to stop
    UNTIL = "until"              # reached the address run() was asked to stop at
    SIGNAL = "signal"            # a fault: SIGSEGV, SIGILL, SIGBUS
    INTERRUPTED = "interrupted"  # Ctrl-C or interrupt() from another thread
    TIMEOUT = "timeout"          # the run's time limit elapsed
    EXITED = "exited"            # the program exited through semihosting
    SVC = "svc"                  # an SVC nobody handled
    WATCHPOINT = "watchpoint"    # a watched memory location was accessed


@dataclass(frozen=True)
class StopEvent:
    reason: StopReason
    pc: int
    thumb: bool
    signal: str | None = None        # "SIGSEGV", "SIGILL", "SIGBUS", "SIGINT", "SIGTRAP"
    description: str = ""            # one line saying what happened, for the user
    fault_address: int | None = None
    exit_code: int | None = None
    trap_owner: object = None        # the TrapClient that asked to stop
    svc_number: int | None = None
    watch: object = None             # watchpoint details (owner-defined)

    @property
    def running(self) -> bool:
        """Whether the program can still be resumed after this stop."""
        return self.reason is not StopReason.EXITED
