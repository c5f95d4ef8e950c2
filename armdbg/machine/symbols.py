"""Program symbols: names to addresses and back, plus ARM/Thumb mapping ranges."""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int      # even for Thumb functions: bit 0 of the ELF value is in ``thumb``
    size: int
    thumb: bool
    kind: str         # "func", "object" or "label"


class SymbolTable:
    """Lookup both ways.  Several symbols may share a name (static functions)."""

    def __init__(self) -> None:
        self._by_name: dict[str, list[Symbol]] = {}
        self._sorted: list[Symbol] = []
        self._addresses: list[int] = []
        # ($a/$t/$d) mapping symbols: sorted (address, kind) pairs.
        self._mapping: list[tuple[int, str]] = []

    def add(self, symbol: Symbol) -> None:
        self._by_name.setdefault(symbol.name, []).append(symbol)
        index = bisect.bisect_right(self._addresses, symbol.address)
        self._addresses.insert(index, symbol.address)
        self._sorted.insert(index, symbol)

    def add_mapping(self, address: int, kind: str) -> None:
        bisect.insort(self._mapping, (address, kind))

    def __len__(self) -> int:
        return len(self._sorted)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._sorted)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def lookup_all(self, name: str) -> list[Symbol]:
        return list(self._by_name.get(name, ()))

    def lookup(self, name: str) -> Symbol | None:
        found = self._by_name.get(name)
        if not found:
            return None
        # Prefer a function over a label of the same name.
        return sorted(found, key=lambda s: s.kind != "func")[0]

    def containing(self, address: int) -> Symbol | None:
        """The symbol an address belongs to, as gdb's ``info symbol`` finds it.

        A sized symbol covers [address, address+size); a size-0 symbol (hand-written
        assembly often has those) covers up to the next symbol.
        """
        index = bisect.bisect_right(self._addresses, address) - 1
        if index < 0:
            return None
        # Sized symbols are short; looking back a bounded distance is enough.
        window = self._sorted[max(0, index - 64):index + 1]
        sized = [s for s in window if s.size and s.address <= address < s.address + s.size]
        if sized:
            return max(sized, key=lambda s: (s.kind == "func", s.address))
        nearest = self._addresses[index]
        unsized = [s for s in window if s.address == nearest and not s.size]
        if unsized:
            return max(unsized, key=lambda s: s.kind == "func")
        return None

    def symbolize(self, address: int) -> str | None:
        """``name`` or ``name+off`` (offset in decimal, as gdb prints in <...>)."""
        sym = self.containing(address)
        if sym is None:
            return None
        offset = address - sym.address
        return sym.name if offset == 0 else f"{sym.name}+{offset}"

    def is_thumb_code(self, address: int) -> bool | None:
        """Thumb-ness from mapping symbols, else from the containing function.

        Outside every symbol nothing is known (a mapping symbol's reach ends with the
        image, not at the next mapping symbol far away).
        """
        sym = self.containing(address)
        if sym is None:
            return None
        index = bisect.bisect_right(self._mapping, (address, "\x7f")) - 1
        if index >= 0 and self._mapping[index][0] >= sym.address:
            kind = self._mapping[index][1]
            if kind in ("a", "t"):
                return kind == "t"
        if sym.kind == "func":
            return sym.thumb
        return None

    def kallsyms_size(self, symbol: Symbol) -> int:
        """The size kallsyms reports: the distance to the next symbol (the ELF size for
        the last one), which is what ``%pS`` prints as ``/0xsize``."""
        index = bisect.bisect_right(self._addresses, symbol.address)
        if index < len(self._addresses):
            return self._addresses[index] - symbol.address
        return symbol.size

    def functions(self) -> list[Symbol]:
        return [s for s in self._sorted if s.kind == "func"]
