"""The module area allocator: where instruction slots, trampolines and armdbg's own
kretprobe trampoline live (the kernel gets them from module_alloc, close to its text)."""

from __future__ import annotations

from armdbg.errors import ArmdbgError


class ModuleArea:
    """A first-fit allocator over [start, end); freed blocks are reused."""

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end
        self._free: list[tuple[int, int]] = [(start, end)]
        self.used: dict[int, tuple[int, str]] = {}

    def allocate(self, size: int, purpose: str, align: int = 8) -> int:
        for index, (lo, hi) in enumerate(self._free):
            base = (lo + align - 1) & ~(align - 1)
            if base + size <= hi:
                pieces = []
                if lo < base:
                    pieces.append((lo, base))
                if base + size < hi:
                    pieces.append((base + size, hi))
                self._free[index:index + 1] = pieces
                self.used[base] = (size, purpose)
                return base
        raise ArmdbgError(f"module area exhausted: no room for {size} bytes ({purpose}).")

    def free(self, address: int) -> None:
        size, _ = self.used.pop(address)
        self._free.append((address, address + size))
        self._free.sort()
        merged: list[tuple[int, int]] = []
        for lo, hi in self._free:
            if merged and merged[-1][1] == lo:
                merged[-1] = (merged[-1][0], hi)
            else:
                merged.append((lo, hi))
        self._free = merged

    def owner_of(self, address: int) -> str | None:
        for base, (size, purpose) in self.used.items():
            if base <= address < base + size:
                return purpose
        return None
