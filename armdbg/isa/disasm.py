"""Capstone, wrapped: decode bytes into frozen :class:`Instruction` values."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import capstone


@dataclass(frozen=True)
class Instruction:
    address: int
    size: int
    raw: bytes
    mnemonic: str
    op_str: str
    thumb: bool

    @property
    def text(self) -> str:
        return f"{self.mnemonic}\t{self.op_str}" if self.op_str else self.mnemonic

    @property
    def valid(self) -> bool:
        return self.mnemonic != "(bad)"


@lru_cache(maxsize=2)
def _capstone(thumb: bool) -> capstone.Cs:
    mode = capstone.CS_MODE_THUMB if thumb else capstone.CS_MODE_ARM
    return capstone.Cs(capstone.CS_ARCH_ARM, mode)


@lru_cache(maxsize=2)
def capstone_detail(thumb: bool) -> capstone.Cs:
    """A Capstone instance with operand details (slower; for flow analysis)."""
    cs = capstone.Cs(capstone.CS_ARCH_ARM,
                     capstone.CS_MODE_THUMB if thumb else capstone.CS_MODE_ARM)
    cs.detail = True
    return cs


@lru_cache(maxsize=4096)
def may_change_flow(data: bytes, thumb: bool) -> bool:
    """Whether the instruction can write PC (a branch, a load or ALU result into PC).

    Capstone marks branches with the jump group and lists PC among the written
    registers of the rest (``pop {pc}``, ``ldr pc``, ``mov pc, lr``).  Undecodable
    bytes count as "may": they fault, and a fault moves PC too.
    """
    cs = capstone_detail(thumb)
    for insn in cs.disasm(data, 0, 1):
        _read, written = insn.regs_access()
        return (capstone.arm.ARM_REG_PC in written or capstone.CS_GRP_JUMP in insn.groups
                or capstone.CS_GRP_CALL in insn.groups or capstone.CS_GRP_RET in insn.groups)
    return True


def thumb_is_wide(first_halfword: int) -> bool:
    """A Thumb instruction is 32 bits when its first halfword starts 0b11101/11110/11111."""
    return (first_halfword >> 11) in (0b11101, 0b11110, 0b11111)


def instruction_size(data: bytes, thumb: bool) -> int:
    if not thumb:
        return 4
    return 4 if thumb_is_wide(int.from_bytes(data[:2], "little")) else 2


def decode_one(data: bytes, address: int, thumb: bool, itstate: int = 0) -> Instruction:
    """Decode the instruction at the start of ``data``; undecodable bytes give ``(bad)``.

    Capstone tracks IT blocks only within one call, so an instruction inside a block is
    decoded behind a synthetic IT instruction rebuilt from the current ITSTATE (whose
    value is exactly the encoding of an IT covering the rest of the block).  That makes
    ``adds`` inside a block read as ``addeq``, as it executes.
    """
    if thumb and itstate & 0xF:
        prefix = (0xBF00 | (itstate & 0xFF)).to_bytes(2, "little")
        decoded = list(_capstone(True).disasm(prefix + data[:4], address - 2, 2))
        if len(decoded) == 2:
            insn = decoded[1]
            return Instruction(insn.address, insn.size, bytes(insn.bytes), insn.mnemonic,
                               insn.op_str, thumb)
    for insn in _capstone(thumb).disasm(data, address, 1):
        return Instruction(insn.address, insn.size, bytes(insn.bytes), insn.mnemonic,
                           insn.op_str, thumb)
    size = min(instruction_size(data, thumb), len(data)) or len(data)
    return Instruction(address, size, bytes(data[:size]), "(bad)", "", thumb)


def decode_many(data: bytes, address: int, thumb: bool, count: int | None = None,
                itstate: int = 0) -> list[Instruction]:
    """Decode sequentially, stepping over undecodable words instead of stopping at them.

    One Capstone pass covers as much as it can so IT blocks read right; a block already
    in progress at ``address`` is described by ``itstate`` (see :func:`decode_one`).
    """
    out: list[Instruction] = []
    cs = _capstone(thumb)
    prefix = b""
    if thumb and itstate & 0xF:
        prefix = (0xBF00 | (itstate & 0xFF)).to_bytes(2, "little")
    offset = 0
    while offset < len(data) and (count is None or len(out) < count):
        chunk = prefix + data[offset:]
        skip = len(prefix)
        for insn in cs.disasm(chunk, address + offset - skip):
            if skip:
                skip = 0  # the synthetic IT
                continue
            out.append(Instruction(insn.address, insn.size, bytes(insn.bytes), insn.mnemonic,
                                   insn.op_str, thumb))
            offset += insn.size
            if count is not None and len(out) >= count:
                return out
        prefix = b""
        if offset < len(data):
            bad = decode_one(data[offset:], address + offset, thumb)
            out.append(bad)
            offset += bad.size
    return out
