"""Fakes for the pure kprobe-event layer: a kallsyms view and a machine at a hit.

The symbols are the demo image's (armdbg/machine/demo.s) plus ``dup``, a name with two
addresses.  The machine state is fixed so the expected trace text can be written out
by hand: see FakeEnv for the registers, stack and memory.
"""

from __future__ import annotations

import pytest

from armdbg.errors import MemoryAccessError

DEMO_SYMBOLS: dict[str, tuple[int, int]] = {
    "_start": (0x80008000, 48),
    "do_something": (0x80008030, 36),
    "cond_first": (0x80008054, 12),
    "print": (0x80008060, 16),
    "main": (0x80008070, 208),
    "thumb_clamp": (0x80008140, 14),
    "thumb_itblocks": (0x80008150, 34),
    "calls": (0x80200000, 4),
    "result": (0x80200004, 4),
    "far_function": (0x84000000, 8),
}


class FakeSymbols:
    """SymbolLookup over DEMO_SYMBOLS; ``dup`` exists twice (a static function)."""

    def lookup(self, name: str) -> list[int]:
        if name == "dup":
            return [0x80008030, 0x80008054]
        return [DEMO_SYMBOLS[name][0]] if name in DEMO_SYMBOLS else []

    def is_function_entry(self, address: int) -> bool:
        return any(start == address for start, _ in DEMO_SYMBOLS.values())


def symbolize_with_size(address: int) -> str | None:
    for name, (start, size) in DEMO_SYMBOLS.items():
        if start <= address < start + size:
            return f"{name}+0x{address - start:x}/0x{size:x}"
    return None


SP = 0x80301FF0
STRINGS = 0x80400000


class FakeEnv:
    """A hit on the demo image.

    r0=1, r1=&calls, r2=0xfffffffe, r3='A', r4=STRINGS ("hello\\0world\\0"),
    r5=STRINGS+0x10 (char *[3]: "hello", "world", unmapped), r6=0, r7=7,
    r8=do_something, r9=0x12345678, r10=10, fp=SP+12, ip=&result, sp=SP (16 bytes
    below the top of its 8 KiB THREAD_SIZE block), lr=main+0x34, pc=do_something,
    cpsr=0x600001d3, ORIG_r0=-1.  The stack holds &calls, STRINGS, do_something+4,
    0xdeadbeef; SP-4 holds 0xcafef00d; the word just past the block 0x11111111.
    calls=1000, result=-2; STRINGS+0x20 holds bytes 01..08.
    """

    def __init__(self) -> None:
        self.registers = {f"r{i}": 0 for i in range(11)}
        self.registers.update(
            r0=1, r1=0x80200000, r2=0xFFFFFFFE, r3=0x41, r4=STRINGS, r5=STRINGS + 0x10,
            r7=7, r8=0x80008030, r9=0x12345678, r10=10, fp=SP + 12, ip=0x80200004,
            sp=SP, lr=0x800080A4, pc=0x80008030, cpsr=0x600001D3, ORIG_r0=0xFFFFFFFF)
        self.memory: dict[int, int] = {}
        self.return_value: int | None = None
        self.task = "demo"
        self.poke(0x80200000, (1000).to_bytes(4, "little") + (0xFFFFFFFE).to_bytes(4, "little"))
        self.poke_words(SP - 16, [0, 0, 0, 0xCAFEF00D])
        self.poke_words(SP, [0x80200000, STRINGS, 0x80008034, 0xDEADBEEF])
        self.poke_words(SP + 16, [0x11111111])
        self.poke(STRINGS, b"hello\0world\0")
        self.poke_words(STRINGS + 0x10, [STRINGS, STRINGS + 6, 0x90000000])
        self.poke(STRINGS + 0x20, bytes(range(1, 9)))

    def poke(self, address: int, data: bytes) -> None:
        for i, byte in enumerate(data):
            self.memory[address + i] = byte

    def poke_words(self, address: int, words: list[int]) -> None:
        self.poke(address, b"".join(w.to_bytes(4, "little") for w in words))

    # FetchEnv
    def read_register(self, name: str) -> int:
        return self.registers[name]

    def read_memory(self, address: int, size: int) -> bytes:
        try:
            return bytes(self.memory[address + i] for i in range(size))
        except KeyError:
            raise MemoryAccessError(address) from None

    def symbol_address(self, name: str) -> int | None:
        found = DEMO_SYMBOLS.get(name)
        return found[0] if found else None

    def symbolize_with_size(self, address: int) -> str | None:
        return symbolize_with_size(address)

    def retval(self) -> int | None:
        return self.return_value

    def comm(self) -> str:
        return self.task


@pytest.fixture
def symbols() -> FakeSymbols:
    return FakeSymbols()


@pytest.fixture
def env() -> FakeEnv:
    return FakeEnv()
