"""The machine's clock: what jiffies and delayed work (the kprobe optimizer) run on.

Two modes:

* ``real``: the clock follows host time while the machine runs, and the shell advances
  it while it waits at the prompt -- a user who sets a probe and waits sees it get
  optimized.
* ``virtual``: deterministic, for scripts and tests.  The clock advances only by
  explicit ``advance`` calls and by fixed charges for events: each kprobe hit is charged
  what it costs on hardware (about 1 us through the breakpoint, 0.3 us through an
  optimized jump, per the seed thread).  The same program and the same commands always
  give the same times.  Plain instructions are not charged: counting them would need
  Unicorn's per-instruction count hook, which costs a factor of six in speed.

Timers are one-shot callbacks due at a clock time; they run outside Unicorn, between
two ``emu_start`` calls, so they may patch code.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

NS_PER_SECOND = 1_000_000_000


@dataclass(order=True)
class Timer:
    due: int
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Clock:
    def __init__(self, mode: str = "real") -> None:
        self.mode = mode
        self.now = 0  # nanoseconds since the machine was created
        self._timers: list[Timer] = []
        self._seq = itertools.count()

    @property
    def virtual(self) -> bool:
        return self.mode == "virtual"

    def add_timer(self, delay_ns: int, callback: Callable[[], None]) -> Timer:
        timer = Timer(self.now + max(0, delay_ns), next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def cancel(self, timer: Timer) -> None:
        timer.cancelled = True

    def next_due(self) -> int | None:
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0].due if self._timers else None

    def advance(self, ns: int) -> None:
        """Move time forward and run every timer that fell due, in due order."""
        self.now += max(0, int(ns))
        self.run_due()

    def run_due(self) -> None:
        while True:
            due = self.next_due()
            if due is None or due > self.now:
                return
            timer = heapq.heappop(self._timers)
            timer.callback()

    def charge(self, ns: int) -> None:
        """Virtual mode's cost of an event (a probe hit); real mode measures instead.

        Timers that fall due run at the next point outside Unicorn (``run_due``).
        """
        if self.virtual:
            self.now += ns

    def run_all_pending(self) -> None:
        """Jump to each pending timer in turn and run it (wait_for_kprobe_optimizer)."""
        while (due := self.next_due()) is not None:
            if due > self.now:
                self.now = due
            self.run_due()
