"""SIGINT during a command: stops a real Unicorn run, or aborts Python work with Quit.

The signal is sent by a helper thread with os.kill, as a terminal would, once the main
thread is inside emu_start; every run has a wall-clock limit far above what a working
interrupt takes, so a broken one fails instead of hanging.
"""

from __future__ import annotations

import io
import os
import signal
import struct
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from armdbg.app import App
from armdbg.machine.stops import StopReason
from armdbg.ui.interrupt import SigintGuard, in_run, main_thread_in_run

LOOP = struct.pack("<I", 0xEAFFFFFE)  # ARM "b ." : runs until something stops it
LIMIT = 20.0


@pytest.fixture
def app(tmp_path: Path) -> App:
    image = tmp_path / "loop.bin"
    image.write_bytes(LOOP)
    app = App(stdout=io.StringIO(), stderr=io.StringIO())
    app.load_initial(str(image), raw="0x80008000")
    return app


def _sigint_once_running(machine: Any) -> threading.Event:
    """Send SIGINT to ourselves as soon as the machine enters emu_start."""
    entered = threading.Event()
    real_emu_start = machine.uc.emu_start

    def emu_start(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        return real_emu_start(*args, **kwargs)

    machine.uc.emu_start = emu_start

    def kill() -> None:
        if entered.wait(LIMIT):
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=kill, daemon=True).start()
    return entered


def test_sigint_stops_a_run_that_never_returns_to_python(app: App) -> None:
    machine = app.session.machine
    guard = SigintGuard(lambda: machine)
    _sigint_once_running(machine)
    started = time.monotonic()
    try:
        with guard.command():
            stop = machine.run(timeout=LIMIT)
    finally:
        guard.close()
    elapsed = time.monotonic() - started
    assert stop.reason is StopReason.INTERRUPTED
    assert stop.description == "Program received signal SIGINT, Interrupt."
    assert stop.pc == 0x80008000
    assert elapsed < LIMIT / 2
    assert guard.delivered >= 1
    assert not main_thread_in_run()


def test_the_machine_runs_on_after_an_interrupt(app: App) -> None:
    machine = app.session.machine
    guard = SigintGuard(lambda: machine)
    _sigint_once_running(machine)
    try:
        with guard.command():
            machine.run(timeout=LIMIT)
    finally:
        guard.close()
    # No interrupt left pending: the next run goes on until its own limit.
    stop = machine.run(timeout=0.05)
    assert stop.reason is StopReason.TIMEOUT


def test_sigint_outside_a_run_raises_keyboard_interrupt(app: App) -> None:
    guard = SigintGuard(lambda: app.session.machine)
    with pytest.raises(KeyboardInterrupt), guard.command():
        os.kill(os.getpid(), signal.SIGINT)
        _until(lambda: False)  # the handler raises at a bytecode boundary in here
    guard.close()


def _until(condition: Any) -> None:
    """Spin (bounded) until ``condition()``: signal handlers run between bytecodes."""
    deadline = time.monotonic() + LIMIT
    while not condition() and time.monotonic() < deadline:
        pass


def test_sigint_before_the_run_of_a_resuming_command_stops_that_run(app: App) -> None:
    """Ctrl-C right after "Continuing." (run control still in Python): the program's."""
    machine = app.session.machine
    guard = SigintGuard(lambda: machine)
    try:
        with guard.command(resuming=True):
            os.kill(os.getpid(), signal.SIGINT)
            _until(lambda: guard.delivered > 0)
            stop = machine.run(timeout=LIMIT)
    finally:
        guard.close()
    assert stop.reason is StopReason.INTERRUPTED


def test_an_interrupt_no_run_took_is_dropped_after_the_command(app: App) -> None:
    machine = app.session.machine
    guard = SigintGuard(lambda: machine)
    try:
        with guard.command(resuming=True):
            os.kill(os.getpid(), signal.SIGINT)
            _until(lambda: guard.delivered > 0)
    finally:
        guard.close()
    assert guard.delivered > 0
    assert machine.run(timeout=0.05).reason is StopReason.TIMEOUT


def test_handlers_are_restored_after_the_command() -> None:
    def mine(signum: int, frame: object) -> None:
        """A handler of the embedding program."""

    old_handler = signal.signal(signal.SIGINT, mine)
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    old_wakeup = signal.set_wakeup_fd(write_fd)
    guard = SigintGuard(lambda: None)
    try:
        with guard.command():
            assert signal.getsignal(signal.SIGINT) != mine
            with guard.paused():
                assert signal.getsignal(signal.SIGINT) is mine
            assert signal.getsignal(signal.SIGINT) != mine
        assert signal.getsignal(signal.SIGINT) is mine
        assert signal.set_wakeup_fd(-1) == write_fd
    finally:
        guard.close()
        signal.set_wakeup_fd(old_wakeup)
        signal.signal(signal.SIGINT, old_handler)
        os.close(read_fd)
        os.close(write_fd)


def test_a_guard_outside_the_main_thread_does_nothing() -> None:
    guard = SigintGuard(lambda: None)
    before = signal.getsignal(signal.SIGINT)
    worker = threading.Thread(target=guard.install)
    worker.start()
    worker.join()
    assert signal.getsignal(signal.SIGINT) is before
    guard.close()


def test_in_run_looks_at_the_callers(app: App) -> None:
    import sys

    seen: list[bool] = []
    machine = app.session.machine
    real_write = machine.uc.mem_write

    def spy(*args: Any) -> Any:
        seen.append(in_run(sys._getframe()))
        return real_write(*args)

    machine.uc.mem_write = spy
    machine.write_memory(0x80008000, LOOP)
    assert seen == [True]
    assert not in_run(sys._getframe())
