"""armdbg's default, kernel-like memory map.

Modelled on a 32-bit ARM Linux kernel built with a 2G/2G split (PAGE_OFFSET
0x80000000): the kernel image starts at PAGE_OFFSET + 0x8000 and modules, where the
kernel allocates kprobe instruction slots and optprobe trampolines, live in the 16 MiB
just below PAGE_OFFSET -- within reach of a ``b`` from the kernel text.  A "far" region
64 MiB above the text holds code that no module-area trampoline can reach with one
branch (the optprobe range limit of the seed thread).  Vectors are high (0xffff0000), as
on Linux.
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE = 0x1000


@dataclass(frozen=True)
class RegionSpec:
    name: str
    start: int
    size: int
    perms: str  # any of "rwx"
    purpose: str


VECTORS = RegionSpec("vectors", 0xFFFF0000, 0x1000, "rx", "exception vectors (armdbg's own)")
MODULES = RegionSpec("modules", 0x7F000000, 0x01000000, "rwx",
                     "module area: kprobe slots and optprobe trampolines")
TEXT = RegionSpec("text", 0x80000000, 0x00200000, "rwx", "kernel text (image loads at 0x80008000)")
DATA = RegionSpec("data", 0x80200000, 0x00100000, "rw", "kernel data")
HEAP = RegionSpec("heap", 0x80300000, 0x00100000, "rw", "heap reported by SYS_HEAPINFO")
STACK = RegionSpec("stack", 0x80400000, 0x00010000, "rw", "stack (grows down from 0x80410000)")
FAR = RegionSpec("far", 0x84000000, 0x00010000, "rwx", "code beyond branch range of modules")

DEFAULT_REGIONS = (VECTORS, MODULES, TEXT, DATA, HEAP, STACK, FAR)

TEXT_BASE = 0x80008000
STACK_TOP = STACK.start + STACK.size
BRANCH_RANGE = 32 * 1024 * 1024
