"""Ctrl-C while a command runs: stop the emulated machine, or abort the command.

Why not just Python's SIGINT handler: a run happens in the main thread inside
``uc.emu_start``, which releases the GIL and stays in C for as long as the program runs
(``b .`` runs forever).  Python only runs a signal handler when the main thread gets
back to bytecode, so the handler alone would never see the Ctrl-C.  With
``signal.set_wakeup_fd`` the C-level handler writes the signal number into a pipe the
moment the signal arrives; a watcher thread blocked on that pipe wakes up (it can take
the GIL, which emu_start released) and calls ``machine.interrupt()``, which calls
``uc.emu_stop()`` -- safe from another thread.  The run then ends with a
``StopReason.INTERRUPTED`` stop, which run control prints as gdb does.

Whether a Ctrl-C means "stop the program" or "abandon the command" is decided by
the command and by where the main thread is.  During a command that resumes the
program (category "running": continue, step, run...) and inside the code of a run in
any command (emu_start, a Unicorn hook, the machine's loop between two slices, run
control's resume loop: ``RUN_FILES``) it is ``machine.interrupt()``, which the run
honours at once or at its next ``emu_start``.  Anywhere else (a long ``while`` loop of
the command language, a slow ``x``) the Python handler raises KeyboardInterrupt, and
the command is abandoned with gdb's "Quit".  It never raises inside a run: a hook must
not raise into Unicorn, and a run cut between two slices would lose its stop.  A
Ctrl-C that no run took (it came just as the run ended) is dropped after the command,
so the next run does not stop at once.

The guard is installed only around command execution.  While prompt_toolkit owns the
terminal, Ctrl-C is a key (raw mode), and prompt_toolkit's event loop uses the wakeup
fd for itself; :meth:`SigintGuard.paused` hands it back for a nested prompt (``define``
bodies).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from armdbg import runcontrol
from armdbg.machine import machine

_STOP_WATCHER = b"\0"  # never a signal number
# Unicorn ignores an emu_stop that comes before its emu_start has set up (uc_emu_start
# resets the stop request), so a Ctrl-C in that window would be lost: while the main
# thread stays in the very same call, the watcher stops it again, every RETRY_SECONDS
# for at most RETRIES times.
RETRY_SECONDS = 0.02
RETRIES = 50
# The code of a run: the machine (emu_start, its hooks, the slices loop) and run
# control's resume loop around it (breakpoint conditions, stepping over a breakpoint).
RUN_FILES = frozenset({machine.__file__, runcontrol.__file__})


def in_run(frame: FrameType | None) -> bool:
    """Whether ``frame`` or one of its callers is the code of a run."""
    while frame is not None:
        if frame.f_code.co_filename in RUN_FILES:
            return True
        frame = frame.f_back
    return False


def _main_frame() -> FrameType | None:
    return sys._current_frames().get(threading.main_thread().ident or 0)


def main_thread_in_run() -> bool:
    """The same question from another thread, about the main thread.

    During emu_start the main thread's Python stack stays as it was at the call
    (Machine._emulate), so this sees a run in progress while Unicorn runs in C.
    """
    return in_run(_main_frame())


class SigintGuard:
    """SIGINT -> ``machine.interrupt()`` (or KeyboardInterrupt) while a command runs.

    ``with guard.command(resuming=...)`` around each command; ``resuming`` is true for
    commands that resume the program (the "running" category: continue, step, run..),
    for which every Ctrl-C is the program's, as in gdb, wherever their Python is.
    """

    def __init__(self, machine: Callable[[], Any]) -> None:
        self._machine = machine
        self._read_fd = -1
        self._write_fd = -1
        self._thread: threading.Thread | None = None
        self._installed = False
        self._resuming = False
        self._closing = threading.Event()
        self._saved_handler: Any = None
        self._saved_wakeup = -1
        self.delivered = 0  # SIGINTs passed on to the machine (for tests and debugging)

    # ------------------------------------------------------------------ lifetime

    def start(self) -> None:
        """Create the pipe and the watcher thread (once per shell)."""
        if self._thread is not None:
            return
        self._closing.clear()
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)  # set_wakeup_fd requires it
        self._thread = threading.Thread(target=self._watch, name="armdbg-sigint",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.uninstall()
        if self._thread is None:
            return
        self._closing.set()
        os.write(self._write_fd, _STOP_WATCHER)
        self._thread.join()
        os.close(self._read_fd)
        os.close(self._write_fd)
        self._thread = None

    # ------------------------------------------------------------------ delivery

    def _for_the_program(self, frame: FrameType | None) -> bool:
        return self._resuming or in_run(frame)

    def _watch(self) -> None:
        """The watcher thread: woken by the C-level handler through the pipe."""
        while True:
            try:
                data = os.read(self._read_fd, 64)
            except OSError:
                return
            if not data or _STOP_WATCHER in data:
                return
            if signal.SIGINT in data and self._installed:
                self._interrupt_run()

    def _interrupt_run(self) -> None:
        frame = _main_frame()
        if not self._for_the_program(frame):
            return  # the Python handler raises KeyboardInterrupt instead
        machine = self._machine()
        machine.interrupt()
        self.delivered += 1
        if frame is None:
            return
        position = frame.f_lasti
        for _ in range(RETRIES):
            if self._closing.wait(RETRY_SECONDS) or not self._installed:
                return
            now = _main_frame()
            if now is not frame or now.f_lasti != position:
                return  # that call returned: the stop was seen
            machine.interrupt()

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        """The Python-level handler, run by the main thread between bytecodes."""
        if self._for_the_program(frame):
            # A hook, or run code between two emu_starts: the watcher stops (or has
            # stopped) the run; interrupting again is harmless and covers a signal
            # that came in just as emu_start was entered, before the watcher looked.
            self._machine().interrupt()
            self.delivered += 1
            return
        raise KeyboardInterrupt

    def _drop_pending_interrupt(self) -> None:
        """A Ctrl-C that no run took (it came as the run was ending) must not stop the
        next command's run at once."""
        self._machine().clear_interrupt()

    # ------------------------------------------------------------------ around a command

    @contextlib.contextmanager
    def command(self, *, resuming: bool = False) -> Iterator[None]:
        delivered = self.delivered
        self._resuming = resuming
        self.install()
        try:
            yield
        finally:
            self.uninstall()
            self._resuming = False
            if self.delivered != delivered:
                self._drop_pending_interrupt()

    def install(self) -> None:
        if self._installed or threading.current_thread() is not threading.main_thread():
            return  # signals can only be routed from the main thread
        self.start()
        self._saved_handler = signal.signal(signal.SIGINT, self._on_sigint)
        self._saved_wakeup = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        self._installed = True

    def uninstall(self) -> None:
        if not self._installed:
            return
        self._installed = False
        signal.set_wakeup_fd(self._saved_wakeup)
        signal.signal(signal.SIGINT, self._saved_handler)

    def __enter__(self) -> SigintGuard:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Give SIGINT back (to a nested prompt) for the duration of the block."""
        was_installed = self._installed
        self.uninstall()
        try:
            yield
        finally:
            if was_installed:
                self.install()
