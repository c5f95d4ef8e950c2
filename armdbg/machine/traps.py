"""Trap sites: addresses where an undefined-instruction word has been patched into code.

gdb-style breakpoints and kprobes both stop the CPU by patching an undefined
instruction over the original, as Linux and gdb do on real ARM hardware.  Unicorn calls
its invalid-instruction hook with the CPU state of that moment -- including correct IT
bits inside a Thumb IT block, which no code hook provides (unicorn #853) -- and skips a
trap word sitting in a condition-failed IT slot exactly as hardware treats it as a NOP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from armdbg.machine.machine import Machine
    from armdbg.machine.stops import StopEvent


class TrapClient(Protocol):
    """Whoever owns a trap word.  ``on_trap`` runs inside the Unicorn hook.

    Return a StopEvent to stop the machine at the trap, or None after having moved the
    CPU state past the trapped instruction (the machine then resumes at the new PC).
    """

    def on_trap(self, machine: Machine, site: TrapSite) -> StopEvent | None: ...


@dataclass
class TrapSite:
    address: int
    thumb: bool
    original: bytes          # the bytes the trap word covers
    word: bytes              # the trap word written in their place
    client: TrapClient
    shadowed: bool           # hide the trap from memory reads (gdb breakpoints) or not (kprobes)
    inserted: bool = field(default=False)


class TrapTable:
    """At most one trap word per address; its client decides what a hit means."""

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
        """Replace shadowed trap words inside [address, address+len) with the originals."""
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
