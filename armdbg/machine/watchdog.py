"""A stopwatch that ends an ``emu_start`` at a deadline, on one long-lived thread.

``emu_start(timeout=...)`` starts a new timer thread on every call -- about 200 us each,
measured with unicorn 2.1.4 on this project's machines -- which a run cut into slices
(a timer due, a probe hit per slice) would pay again and again.  Here a slice re-arms
an absolute deadline; the thread is woken only when a deadline moves earlier than the
one it sleeps towards (waking it costs a GIL hand-over, ~300 us under load), and a
disarmed or re-armed deadline found on waking is simply waited for again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Watchdog:
    def __init__(self, stop: Callable[[int], None]) -> None:
        self._stop = stop              # called with the generation it fired for
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._wake_at: float | None = None  # what the thread sleeps towards
        self._generation = 0
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float) -> int:
        """Stop the run at ``deadline`` (time.monotonic()); returns its generation."""
        with self._cond:
            self._generation += 1
            self._deadline = deadline
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="armdbg-watchdog",
                                                daemon=True)
                self._thread.start()
            elif self._wake_at is None or deadline < self._wake_at - 0.001:
                self._cond.notify()
            return self._generation

    def disarm(self) -> None:
        with self._cond:
            self._deadline = None

    def _loop(self) -> None:
        with self._cond:
            while True:
                if self._deadline is None:
                    self._wake_at = None
                    self._cond.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._wake_at = self._deadline
                    self._cond.wait(remaining)
                    continue
                self._deadline = None
                self._stop(self._generation)
