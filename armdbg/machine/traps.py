"""Trap sites: addresses where an undefined-instruction word has been patched into code.

gdb-style breakpoints and kprobes both stop the CPU by patching an undefined
instruction over the original, as Linux and gdb do on real ARM hardware.  Unicorn calls
its invalid-instruction hook with the CPU state of that moment -- including correct IT
bits inside a Thumb IT block, which no code hook provides (unicorn #853) -- and skips a
trap word sitting in a condition-failed IT slot exactly as hardware treats it as a NOP.

Several clients may share one address (a gdb breakpoint and a kprobe): the site keeps
the true original bytes once, writes the word of its first "visible" client (a kprobe's
breakpoint is real memory content; a gdb breakpoint is hidden from reads), and asks the
clients in order what a hit means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, Union

if TYPE_CHECKING:
    from armdbg.machine.machine import Machine
    from armdbg.machine.stops import StopEvent


class _Service:
    """Returned by ``on_trap``: stop the CPU and call ``service`` outside Unicorn."""

    def __repr__(self) -> str:
        return "SERVICE"


SERVICE = _Service()
TrapAction = Union["StopEvent", _Service, None]


class TrapClient(Protocol):
    """Whoever owns a trap word.  ``on_trap`` runs inside the Unicorn hook.

    Return a StopEvent to stop the machine at the trap; None after having moved the CPU
    state past the trapped instruction (the machine resumes at the new PC); or
    :data:`SERVICE` to have ``service(machine, site)`` called once Unicorn has returned,
    where the client may single-step (``Machine.raw_step``) or run emulated code.
    """

    def on_trap(self, machine: Machine, site: TrapSite) -> TrapAction: ...


@dataclass
class TrapClientEntry:
    client: TrapClient
    word: bytes
    shadowed: bool


@dataclass
class TrapSite:
    address: int
    thumb: bool
    original: bytes          # the true original bytes under the trap word
    entries: list[TrapClientEntry] = field(default_factory=list)
    inserted: bool = False
    # Set when a client stopped the machine here: resuming must not ask the clients
    # that already had their say again, only service the rest.
    stopped_by: TrapClient | None = None

    @property
    def clients(self) -> list[TrapClient]:
        return [e.client for e in self.entries]

    @property
    def word(self) -> bytes:
        """The word in memory: a visible (unshadowed) client's if any, else the first."""
        for entry in self.entries:
            if not entry.shadowed:
                return entry.word
        return self.entries[0].word

    @property
    def shadowed(self) -> bool:
        """Reads hide the trap word only when every client is a hidden one."""
        return all(e.shadowed for e in self.entries)

    @property
    def client(self) -> TrapClient:
        return self.entries[0].client


class TrapTable:
    """At most one site per address; each site lists its clients in arrival order."""

    def __init__(self) -> None:
        self._sites: dict[int, TrapSite] = {}

    def __contains__(self, address: int) -> bool:
        return address in self._sites

    def get(self, address: int) -> TrapSite | None:
        return self._sites.get(address)

    def add(self, site: TrapSite) -> None:
        self._sites[site.address] = site

    def remove(self, address: int) -> TrapSite | None:
        return self._sites.pop(address, None)

    def sites(self) -> list[TrapSite]:
        return list(self._sites.values())

    def shadow(self, address: int, data: bytes) -> bytes:
        """Replace hidden trap words inside [address, address+len) with the originals."""
        if not self._sites:
            return data
        end = address + len(data)
        buf = bytearray(data)
        for site in self._sites.values():
            if not (site.shadowed and site.inserted):
                continue
            lo = max(site.address, address)
            hi = min(site.address + len(site.original), end)
            for a in range(lo, hi):
                buf[a - address] = site.original[a - site.address]
        return bytes(buf)
