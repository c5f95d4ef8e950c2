"""Assemble a small multi-function program (the demo image) with Keystone.

Keystone assembles one unit in one mode and exports no symbol table, so the source is
split into units by armdbg's own directives:

    .org ADDR            place the next unit at ADDR
    .arm / .thumb        mode of the following units
    .func NAME ... .endfunc     one function: a global symbol sized to its code
    .object NAME ... .endobject one data object (".word", ".asciz", ".space" inside)

Inside a unit, Keystone's own labels and directives work.  References to other units'
names are substituted as addresses (see :mod:`armdbg.isa.asm`).  Units are laid out
again until every address is stable, so a branch whose encoding grows once its target
is known is fine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from armdbg.errors import AssemblyError
from armdbg.isa.asm import assemble


@dataclass
class Unit:
    name: str
    kind: str           # "func" or "object"
    thumb: bool
    lines: list[str]
    line_number: int
    address: int = 0
    code: bytes = b""


@dataclass(frozen=True)
class AssembledSymbol:
    name: str
    address: int
    size: int
    thumb: bool
    kind: str


@dataclass
class AssembledProgram:
    chunks: list[tuple[int, bytes]] = field(default_factory=list)
    symbols: list[AssembledSymbol] = field(default_factory=list)

    def address_of(self, name: str) -> int:
        for sym in self.symbols:
            if sym.name == name:
                return sym.address
        raise KeyError(name)


def _parse(source: str) -> list[tuple[int | None, Unit]]:
    units: list[tuple[int | None, Unit]] = []
    thumb = False
    org: int | None = None
    current: Unit | None = None
    for number, raw in enumerate(source.splitlines(), 1):
        line = re.split(r"@|//", raw, maxsplit=1)[0].strip()
        if not line:
            continue
        words = line.split()
        directive = words[0]
        if current is None:
            if directive == ".org":
                org = int(words[1], 0)
            elif directive in (".arm", ".thumb"):
                thumb = directive == ".thumb"
            elif directive in (".func", ".object"):
                current = Unit(words[1], directive[1:], thumb, [], number)
            else:
                raise AssemblyError(f"line {number}: `{line}' outside .func/.object")
            continue
        if directive in (".endfunc", ".endobject"):
            units.append((org, current))
            org = None
            current = None
        else:
            current.lines.append(line)
    if current is not None:
        raise AssemblyError(f"line {current.line_number}: {current.name} is not closed")
    return units


def assemble_program(source: str, default_base: int) -> AssembledProgram:
    placed = _parse(source)
    names = {unit.name for _, unit in placed}

    def layout(resolve: dict[str, int]) -> None:
        location = default_base
        for org, unit in placed:
            if org is not None:
                location = org
            location = (location + 3) & ~3
            unit.address = location
            try:
                unit.code = assemble("\n".join(unit.lines), location, unit.thumb,
                                     resolve=lambda n: resolve.get(n))
            except AssemblyError as err:
                raise AssemblyError(f"{unit.name} (line {unit.line_number}): {err}") from None
            location += len(unit.code)

    # Pass 1 with every name near the image, then again with the addresses the previous
    # pass found, until they stop moving: a branch that needs a longer encoding once its
    # target is known (Thumb b -> b.w) moves every unit after it.  Keystone wants plain,
    # even addresses (an odd one makes it reject a Thumb b); the source says blx where
    # it interworks.
    addresses = dict.fromkeys(names, default_base)
    for _ in range(8):
        layout(addresses)
        found = {u.name: u.address for _, u in placed}
        if found == addresses:
            break
        addresses = found
    else:
        raise AssemblyError("the program's layout does not settle (units keep changing size)")
    program = AssembledProgram()
    for _, unit in placed:
        program.chunks.append((unit.address, unit.code))
        # Data has no instruction set, whatever mode directive came before it.
        program.symbols.append(AssembledSymbol(unit.name, unit.address, len(unit.code),
                                               unit.thumb and unit.kind == "func", unit.kind))
    return program
