"""gdb's breakpoints and watchpoints: one numbered list, with gdb's hit rules.

A breakpoint is a trap word (gdb's own ARM or Thumb breakpoint instruction) patched
over the instruction at its address.  All breakpoints at one address share one trap:
their :class:`BreakpointSite` is the machine's trap client, and the run control
(:mod:`armdbg.runcontrol`) decides after a trap stop whether any of them stops the
program (condition, ignore count) or the run goes on.  Run control's own momentary
stops (``finish``, ``until``, ``advance``) live on sites too.

Watchpoints take their numbers from the same counter, as in gdb.  Each enabled one is
a Unicorn memory hook bounded to the watched bytes: it sees the accesses made by
emulated instructions, as a hardware watchpoint sees the CPU's.

The hit bookkeeping follows gdb (breakpoint.c, ``bpstat_check_breakpoint_conditions``
and ``bpstat_stop_status``): a false condition is no hit at all; an ignored crossing
still counts as a hit; ``enable once`` and ``enable count N`` disable the breakpoint
after the stops they allow; a temporary breakpoint is deleted once it has stopped.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from armdbg import expr
from armdbg.errors import ArmdbgError, MemoryAccessError, NoSymbolError
from armdbg.frames import thumb_at
from armdbg.machine.machine import MemoryAccess
from armdbg.machine.stops import StopEvent, StopReason
from armdbg.session_env import SessionEnv

if TYPE_CHECKING:
    from armdbg.machine.machine import Machine
    from armdbg.machine.traps import TrapSite
    from armdbg.session import Session

# Dispositions, spelled as gdb's "Disp" column shows them.
DISP_KEEP = "keep"
DISP_DELETE = "del"       # tbreak, enable delete: deleted after it stops
DISP_DISABLE = "dis"      # enable once, enable count N: disabled after its stops

# A breakpoint set by name: re-resolved when another program is loaded, as gdb re-sets
# breakpoints from their location when the symbols change.
_BY_NAME = re.compile(r"^([A-Za-z_.$][\w.$]*)\s*(?:([+-])\s*(0[xX][0-9a-fA-F]+|\d+))?$")

WATCH_WRITE = "write"
WATCH_READ = "read"
WATCH_ACCESS = "access"

# gdb's words for each kind (breakpoint.c bptype_string and the "mention" functions).
WATCH_TYPE_NAMES = {WATCH_WRITE: "hw watchpoint", WATCH_READ: "read watchpoint",
                    WATCH_ACCESS: "acc watchpoint"}
WATCH_TITLES = {WATCH_WRITE: "Hardware watchpoint", WATCH_READ: "Hardware read watchpoint",
                WATCH_ACCESS: "Hardware access (read/write) watchpoint"}


@dataclass(eq=False)
class Stoppoint:
    """What breakpoints and watchpoints have in common (gdb's ``struct breakpoint``)."""

    number: int
    spec: str                          # the location or expression as typed
    disposition: str = DISP_KEEP
    enabled: bool = True
    condition: str | None = None
    ignore_count: int = 0
    hit_count: int = 0
    enable_count: int = 0              # stops left before an "enable count" disables it
    commands: list[str] = field(default_factory=list)

    type_name: ClassVar[str] = ""

    @property
    def temporary(self) -> bool:
        return self.disposition == DISP_DELETE

    @property
    def silent(self) -> bool:
        """``silent`` as the first line of its commands: the stop is not announced."""
        return bool(self.commands) and self.commands[0].strip() == "silent"

    def register_hit(self, condition_holds: bool) -> bool:
        """Execution reached this point: update the counts, and say whether to stop."""
        if not condition_holds:
            return False
        self.hit_count += 1  # gdb counts ignored crossings as hits too
        if self.ignore_count > 0:
            self.ignore_count -= 1
            return False
        if self.disposition == DISP_DISABLE:
            self.enable_count -= 1
            if self.enable_count <= 0:
                self.enabled = False
        return True


@dataclass(eq=False)
class Breakpoint(Stoppoint):
    address: int = 0
    thumb: bool = False

    type_name: ClassVar[str] = "breakpoint"


@dataclass(eq=False)
class Watchpoint(Stoppoint):
    kind: str = WATCH_WRITE
    address: int = 0
    ctype: expr.CType = expr.INT
    old_value: expr.Value | None = None
    hook: int | None = None            # the machine's memory hook while enabled

    @property
    def type_name(self) -> str:  # type: ignore[override]
        return WATCH_TYPE_NAMES[self.kind]

    @property
    def title(self) -> str:
        return WATCH_TITLES[self.kind]

    @property
    def size(self) -> int:
        return max(self.ctype.size, 1)

    def read_value(self, session: Session) -> expr.Value:
        data = session.read_memory(self.address, self.size)
        return expr.Value.of(self.ctype, int.from_bytes(data, "little"))


@dataclass(eq=False)
class Momentary:
    """An unnumbered stop of the run control's own (gdb's bp_until / bp_finish).

    ``holds`` decides at the moment it is reached whether it really stops (the same
    frame for ``until LOCATION``); None stops always.
    """

    address: int
    thumb: bool
    holds: Callable[[], bool] | None = None


class BreakpointSite:
    """One trap word, shared by every breakpoint (and momentary stop) at an address."""

    def __init__(self, address: int, thumb: bool) -> None:
        self.address = address
        self.thumb = thumb
        self.breakpoints: list[Breakpoint] = []
        self.momentary: list[Momentary] = []
        self.inserted = False
        self.error: str | None = None  # why the trap could not be inserted

    def on_trap(self, machine: Machine, site: TrapSite) -> StopEvent:
        # Always stop: whether the breakpoints want to is decided outside Unicorn, where
        # conditions can be evaluated and the commands run.
        return StopEvent(StopReason.BREAKPOINT, site.address, machine.thumb, trap_owner=self)

    @property
    def wanted(self) -> bool:
        return bool(self.momentary) or any(b.enabled for b in self.breakpoints)

    def __repr__(self) -> str:
        return f"<BreakpointSite {self.address:#x}>"


WatchListener = Callable[[Watchpoint, MemoryAccess], None]


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> expr.Node:
    """Conditions are evaluated at every crossing: parse each text once (the trees are
    immutable)."""
    return expr.parse(text)


def check_expression(session: Session, text: str) -> None:
    """Parse ``text`` and check the program symbols it names, as gdb does when a
    condition is set (registers and memory are only read when it is evaluated)."""
    node = _parsed(text)
    for name in _symbol_names(node):
        if session.symbols.lookup(name) is None:
            raise NoSymbolError(name)


def _symbol_names(node: object) -> Iterator[str]:
    if isinstance(node, expr.Symbol):
        yield node.name
    if dataclasses.is_dataclass(node) and isinstance(node, expr.Node):
        for item in dataclasses.fields(node):
            child = getattr(node, item.name)
            if isinstance(child, expr.Node):
                yield from _symbol_names(child)


class BreakpointTable:
    """The session's breakpoints and watchpoints, and the traps and hooks behind them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.points: dict[int, Stoppoint] = {}
        self.sites: dict[int, BreakpointSite] = {}
        self.last_number = 0
        # Run control listens to watchpoint accesses; without it they are ignored.
        self.watch_listener: WatchListener | None = None
        session.events.subscribe("program-reloaded", self._on_reloaded)
        session.events.subscribe("program-loaded", self._on_loaded)

    @property
    def machine(self) -> Machine:
        return self.session.machine

    # ------------------------------------------------------------------ listing

    def __iter__(self) -> Iterator[Stoppoint]:
        return iter(sorted(self.points.values(), key=lambda p: p.number))

    def find(self, number: int) -> Stoppoint | None:
        return self.points.get(number)

    def get(self, number: int) -> Stoppoint:
        point = self.points.get(number)
        if point is None:
            raise ArmdbgError(f"No breakpoint number {number}.")
        return point

    def breakpoints_at(self, address: int) -> list[Breakpoint]:
        site = self.sites.get(address)
        return list(site.breakpoints) if site is not None else []

    def watchpoints(self) -> list[Watchpoint]:
        return [p for p in self if isinstance(p, Watchpoint)]

    # ------------------------------------------------------------------ creating

    def _next_number(self) -> int:
        self.last_number += 1
        # gdb's $bpnum: the number of the last breakpoint or watchpoint set.
        self.session.convenience["bpnum"] = expr.Value.of(expr.INT, self.last_number)
        return self.last_number

    def add_breakpoint(self, address: int, thumb: bool, spec: str, *,
                       temporary: bool = False, condition: str | None = None) -> Breakpoint:
        bp = Breakpoint(self._next_number(), spec,
                        disposition=DISP_DELETE if temporary else DISP_KEEP,
                        condition=condition, address=address, thumb=thumb)
        self.points[bp.number] = bp
        site = self.sites.get(address)
        if site is None:
            site = self.sites[address] = BreakpointSite(address, thumb)
        site.breakpoints.append(bp)
        self._sync_site(site)
        return bp

    def add_watchpoint(self, kind: str, address: int, ctype: expr.CType, spec: str, *,
                       condition: str | None = None) -> Watchpoint:
        wp = Watchpoint(self._next_number(), spec, condition=condition, kind=kind,
                        address=address, ctype=ctype)
        self.points[wp.number] = wp
        self._refresh_value(wp)
        self._sync_watch(wp)
        return wp

    # ------------------------------------------------------------------ changing

    def delete(self, point: Stoppoint) -> None:
        if self.points.pop(point.number, None) is None:
            return
        point.enabled = False
        if isinstance(point, Breakpoint):
            site = self.sites.get(point.address)
            if site is not None and point in site.breakpoints:
                site.breakpoints.remove(point)
                self._sync_site(site)
        elif isinstance(point, Watchpoint):
            self._sync_watch(point)

    def set_enabled(self, point: Stoppoint, enabled: bool) -> None:
        point.enabled = enabled
        self._sync(point)

    def register_hit(self, point: Stoppoint, condition_holds: bool) -> bool:
        """:meth:`Stoppoint.register_hit`, with the trap or hook following its state."""
        was_enabled = point.enabled
        stops = point.register_hit(condition_holds)
        if point.enabled != was_enabled:
            self._sync(point)
        return stops

    def condition_holds(self, point: Stoppoint) -> tuple[bool, str | None]:
        """Evaluate the condition now; an error counts as true, as in gdb, and comes
        back as the message gdb prints before stopping."""
        if point.condition is None:
            return True, None
        try:
            value = expr.evaluate_node(_parsed(point.condition), SessionEnv(self.session))
            return expr.value_is_true(value), None
        except ArmdbgError as err:
            return True, f"Error in testing condition for breakpoint {point.number}:\n{err}"

    def clear_hit_counts(self) -> None:
        """gdb's ``run`` starts every count from zero."""
        for point in self.points.values():
            point.hit_count = 0

    def refresh_watch_values(self) -> None:
        """What each watchpoint compares with: the value at the start of a resume (so a
        value changed by ``set var`` while stopped is not reported as the program's)."""
        for wp in self.watchpoints():
            self._refresh_value(wp)

    def _refresh_value(self, wp: Watchpoint) -> None:
        try:
            wp.old_value = wp.read_value(self.session)
        except MemoryAccessError:
            wp.old_value = None

    # ------------------------------------------------------------------ momentary stops

    def add_momentary(self, address: int, thumb: bool,
                      holds: Callable[[], bool] | None = None) -> Momentary:
        stop = Momentary(address, thumb, holds)
        site = self.sites.get(address)
        if site is None:
            site = self.sites[address] = BreakpointSite(address, thumb)
        site.momentary.append(stop)
        self._sync_site(site)
        if not site.inserted:
            self.remove_momentary(stop)
            raise ArmdbgError(site.error or f"Cannot insert breakpoint at {address:#x}.")
        return stop

    def remove_momentary(self, stop: Momentary) -> None:
        site = self.sites.get(stop.address)
        if site is not None and stop in site.momentary:
            site.momentary.remove(stop)
            self._sync_site(site)

    # ------------------------------------------------------------------ traps and hooks

    def _sync(self, point: Stoppoint) -> None:
        if isinstance(point, Breakpoint):
            site = self.sites.get(point.address)
            if site is not None:
                self._sync_site(site)
        elif isinstance(point, Watchpoint):
            self._sync_watch(point)

    def _sync_site(self, site: BreakpointSite) -> None:
        """Insert or remove the trap to match the site's enabled breakpoints (gdb takes
        disabled breakpoints out of memory)."""
        if site.wanted and not site.inserted:
            self._insert(site)
        elif not site.wanted and site.inserted:
            self.machine.remove_trap(site.address, site)
            site.inserted = False
        if not site.breakpoints and not site.momentary:
            self.sites.pop(site.address, None)

    def _insert(self, site: BreakpointSite) -> None:
        try:
            trap = self.machine.insert_trap(site.address, site.thumb, site)
        except ArmdbgError as err:
            site.error = str(err)
            return
        # A gdb breakpoint stops before the instruction runs, while a kprobe's handlers
        # run as part of running it: ours is asked first, whoever arrived first.
        trap.entries.sort(key=lambda entry: entry.client is not site)
        site.inserted = True
        site.error = None

    def lift(self, site: BreakpointSite) -> None:
        """Take the trap out for a moment (to step over it, as gdb does)."""
        if site.inserted:
            self.machine.remove_trap(site.address, site)
            site.inserted = False

    def restore(self, site: BreakpointSite) -> None:
        if self.sites.get(site.address) is site and site.wanted and not site.inserted:
            self._insert(site)

    def insertion_failures(self) -> list[tuple[Breakpoint, str]]:
        """Try again to insert traps that could not be; what still fails, by breakpoint."""
        failures = []
        for site in list(self.sites.values()):
            if site.wanted and not site.inserted:
                self._insert(site)
                if not site.inserted:
                    failures += [(b, site.error or "") for b in site.breakpoints if b.enabled]
        return sorted(failures, key=lambda f: f[0].number)

    def _sync_watch(self, wp: Watchpoint) -> None:
        wanted = wp.enabled and wp.number in self.points
        if wanted and wp.hook is None:
            def on_access(_machine: Machine, access: MemoryAccess, wp: Watchpoint = wp) -> None:
                if self.watch_listener is not None:
                    self.watch_listener(wp, access)

            wp.hook = self.machine.add_memory_hook(
                wp.address, wp.address + wp.size, on_access,
                reads=wp.kind in (WATCH_READ, WATCH_ACCESS),
                writes=wp.kind in (WATCH_WRITE, WATCH_ACCESS))
        elif not wanted and wp.hook is not None:
            self.machine.remove_memory_hook(wp.hook)
            wp.hook = None

    def _on_reloaded(self, **_payload: object) -> None:
        # The reload took every trap out with the old image; put ours back.  Memory
        # hooks belong to the machine, not the image, and stay.
        for site in list(self.sites.values()):
            site.inserted = False
            site.momentary.clear()
            self._sync_site(site)

    def _on_loaded(self, **_payload: object) -> None:
        """Another program: breakpoints set by name move to that name's new address."""
        for point in list(self.points.values()):
            if not isinstance(point, Breakpoint):
                continue
            match = _BY_NAME.match(point.spec)
            symbol = self.session.symbols.lookup(match.group(1)) if match else None
            if match is None or symbol is None:
                continue
            offset = int(match.group(3), 0) if match.group(3) else 0
            address = symbol.address + (-offset if match.group(2) == "-" else offset)
            if address != point.address:
                thumb = symbol.thumb if symbol.kind == "func" else thumb_at(self.session,
                                                                            address)
                self._move(point, address, thumb)

    def _move(self, bp: Breakpoint, address: int, thumb: bool) -> None:
        old = self.sites.get(bp.address)
        if old is not None and bp in old.breakpoints:
            old.breakpoints.remove(bp)
            self._sync_site(old)
        bp.address, bp.thumb = address, thumb
        site = self.sites.get(address)
        if site is None:
            site = self.sites[address] = BreakpointSite(address, thumb)
        site.breakpoints.append(bp)
        self._sync_site(site)
