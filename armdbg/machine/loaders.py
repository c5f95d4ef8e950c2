"""Program images: ELF files (pyelftools), raw binaries, and the embedded demo.

A :class:`Program` is what was loaded -- segments, symbols, entry -- kept so that
``run`` can restore a fresh copy, as gdb re-runs a program from its file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from armdbg.errors import ArmdbgError, LoadError
from armdbg.isa.program import assemble_program
from armdbg.machine.layout import HEAP, PAGE, STACK_TOP, TEXT_BASE
from armdbg.machine.machine import Machine
from armdbg.machine.symbols import Symbol, SymbolTable

EM_ARM = 40
HEAP_SIZE = 0x100000  # mapped right after an image that brings its own memory layout


@dataclass(frozen=True)
class Segment:
    address: int
    data: bytes
    memsize: int
    perms: str


@dataclass
class Program:
    name: str
    entry: int                  # bit 0 set for a Thumb entry point
    segments: list[Segment] = field(default_factory=list)
    symbols: SymbolTable = field(default_factory=SymbolTable)

    @property
    def end(self) -> int:
        return max((s.address + s.memsize for s in self.segments), default=0)


def _page_down(value: int) -> int:
    return value & ~(PAGE - 1)


def _page_up(value: int) -> int:
    return (value + PAGE - 1) & ~(PAGE - 1)


def install(machine: Machine, program: Program) -> tuple[int, int]:
    """Map what the segments need, write them (bss zeroed) and point PC at the entry.

    Returns the (heap_base, heap_limit) that semihosting's SYS_HEAPINFO should report:
    newlib grows its heap upward from the image's end, so the page after a low image is
    mapped as a heap region.
    """
    for number, seg in enumerate(program.segments):
        _ensure_mapped(machine, seg.address, seg.memsize, seg.perms,
                       f"{program.name}#{number}")
        machine.write_memory(seg.address, seg.data + bytes(seg.memsize - len(seg.data)))
    heap_base, heap_limit = HEAP.start, HEAP.start + HEAP.size
    after_image = _page_up(program.end)
    if machine.region_of(after_image) is None:
        # An image outside armdbg's map (newlib's default 0x8000 link): its heap starts
        # at its end, so give it memory there.
        _ensure_mapped(machine, after_image, HEAP_SIZE, "rw", f"{program.name}-heap")
        heap_base, heap_limit = after_image, after_image + HEAP_SIZE
    machine.reset_cpu()
    machine.write_register("sp", STACK_TOP)
    machine.set_pc(program.entry & ~1, bool(program.entry & 1))
    return heap_base, heap_limit


def _ensure_mapped(machine: Machine, address: int, size: int, perms: str, name: str) -> None:
    """Map the pages of [address, address+size) that no region covers yet."""
    start, end = _page_down(address), _page_up(address + max(size, 1))
    page = start
    while page < end:
        region = machine.region_of(page)
        if region is not None:
            page = region.end
            continue
        run_end = page
        while run_end < end and machine.region_of(run_end) is None:
            run_end += PAGE
        label = name
        suffix = 1
        while any(r.name == label for r in machine.regions):
            suffix += 1
            label = f"{name}.{suffix}"
        machine.map_region(label, page, run_end - page, perms or "rwx", "loaded image")
        page = run_end


def load_elf(path: Path) -> Program:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    try:
        with open(path, "rb") as handle:
            elf = ELFFile(handle)
            if elf["e_machine"] != "EM_ARM" or elf.elfclass != 32:
                raise LoadError(f"{path}: not a 32-bit ARM ELF file")
            if not elf.little_endian:
                raise LoadError(f"{path}: big-endian ARM is not supported")
            program = Program(Path(path).name, elf["e_entry"])
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                    continue
                flags = seg["p_flags"]
                perms = ("r" if flags & 4 else "") + ("w" if flags & 2 else "") + \
                        ("x" if flags & 1 else "")
                program.segments.append(Segment(seg["p_vaddr"], seg.data(), seg["p_memsz"],
                                                perms))
            symtab = elf.get_section_by_name(".symtab")
            if isinstance(symtab, SymbolTableSection):
                _read_symbols(symtab, program.symbols)
    except OSError as err:
        raise LoadError(f"{path}: {err.strerror or err}") from None
    except ELFError as err:
        raise LoadError(f"{path}: not an ELF file ({err})") from None
    if not program.segments:
        raise LoadError(f"{path}: no loadable segments")
    return program


def _read_symbols(symtab: object, table: SymbolTable) -> None:
    for sym in symtab.iter_symbols():  # type: ignore[attr-defined]
        name = sym.name
        kind = sym["st_info"]["type"]
        value = sym["st_value"]
        if sym["st_shndx"] == "SHN_UNDEF" or not name:
            continue
        if name.startswith("$"):
            # ARM ELF mapping symbols: $a (ARM code), $t (Thumb code), $d (data).
            tag = name[1:2]
            if tag in ("a", "t", "d"):
                table.add_mapping(value, tag)
            continue
        if kind == "STT_FUNC":
            table.add(Symbol(name, value & ~1, sym["st_size"], bool(value & 1), "func"))
        elif kind == "STT_OBJECT":
            table.add(Symbol(name, value, sym["st_size"], False, "object"))
        elif kind == "STT_NOTYPE" and sym["st_shndx"] != "SHN_ABS":
            table.add(Symbol(name, value, 0, False, "label"))


def load_raw(path: Path, address: int, thumb: bool = False) -> Program:
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise LoadError(f"{path}: {err.strerror or err}") from None
    if not data:
        raise LoadError(f"{path}: empty file")
    return Program(Path(path).name, address | int(thumb),
                   [Segment(address, data, len(data), "rwx")])


def demo_program() -> Program:
    """The embedded demo, assembled by Keystone at start-up (a few milliseconds)."""
    source = resources.files("armdbg.machine").joinpath("demo.s").read_text()
    try:
        assembled = assemble_program(source, TEXT_BASE)
    except ArmdbgError as err:  # a broken demo is a bug in armdbg, say so plainly
        raise LoadError(f"the embedded demo does not assemble: {err}") from None
    program = Program("demo", assembled.address_of("_start"))
    for address, code in assembled.chunks:
        program.segments.append(Segment(address, code, len(code), "rwx"))
    starts = {sym.address for sym in assembled.symbols}
    for sym in assembled.symbols:
        program.symbols.add(Symbol(sym.name, sym.address, sym.size, sym.thumb, sym.kind))
        kind = ("t" if sym.thumb else "a") if sym.kind == "func" else "d"
        program.symbols.add_mapping(sym.address, kind)
        if sym.address + sym.size not in starts:
            # Where a unit's code ends, so is its ARM/Thumb-ness ($d, as an assembler
            # would put before a literal pool).
            program.symbols.add_mapping(sym.address + sym.size, "d")
    return program
