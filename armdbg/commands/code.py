"""Changing the code: ``asm`` (assemble into memory) and loading programs (``file``, ``load``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from armdbg.commands.context import Context
from armdbg.commands.evaluation import evaluate_int
from armdbg.commands.registry import CommandSet
from armdbg.errors import ArmdbgError, LoadError, UsageError
from armdbg.frames import ASM_MODES, code_is_thumb
from armdbg.isa.asm import assemble
from armdbg.isa.disasm import decode_many
from armdbg.machine.loaders import Program, load_elf, load_raw
from armdbg.views import instruction_text, raw_hex

if TYPE_CHECKING:
    from armdbg.session import Session

commands = CommandSet()


def attach(session: Session) -> None:
    def forget_overwritten(**_: object) -> None:
        """Reloading rewrites the image's segments; code asm put elsewhere stays."""
        program = session.program
        modes = session.extensions.get(ASM_MODES)
        if program is None or not modes:
            return
        modes[:] = [(start, end, thumb) for start, end, thumb in modes
                    if not any(start < s.address + s.memsize and s.address < end
                               for s in program.segments)]

    session.events.subscribe("program-reloaded", forget_overwritten)

_ASM_USAGE = "asm [--thumb|--arm] ADDR 'INSN; INSN; ...'"


# --------------------------------------------------------------------------- asm


def _parse_asm(args: str) -> tuple[bool | None, str, str]:
    """(thumb or None for "the address's mode", address text, instructions)."""
    text = args.strip()
    thumb: bool | None = None
    while text.startswith("--"):
        word, _, text = text.partition(" ")
        text = text.strip()
        if word == "--thumb":
            thumb = True
        elif word == "--arm":
            thumb = False
        else:
            raise UsageError(f"asm: unknown option {word}. Usage: {_ASM_USAGE}")
    quote_at = min((i for i in (text.find("'"), text.find('"')) if i >= 0), default=-1)
    if quote_at >= 0:
        quote = text[quote_at]
        close = text.rfind(quote)
        if close == quote_at:
            raise UsageError(f"asm: unterminated {quote}quote. Usage: {_ASM_USAGE}")
        address, code = text[:quote_at].strip(), text[quote_at + 1:close]
        if text[close + 1:].strip():
            raise UsageError(f"asm: text after the closing quote. Usage: {_ASM_USAGE}")
    else:
        address, _, code = text.partition(" ")
    if not address or not code.strip():
        raise UsageError(f"Argument required (address and instructions). Usage: {_ASM_USAGE}")
    return thumb, address, code


@commands.command("asm", category="data", usage=_ASM_USAGE, complete=("location",))
def cmd_asm(ctx: Context, args: str) -> None:
    """Assemble instructions into memory at ADDR and show what was written.

    Instructions are separated by ';' or newlines; program symbols can be used as
    addresses (bl do_something).  The instruction set is the one of the code at ADDR
    (symbols and $a/$t mapping symbols, else CPSR.T) unless --thumb or --arm says
    otherwise; an odd ADDR means Thumb.  gdb breakpoints at ADDR stay inserted: the new
    instruction lands under them.
    """
    session = ctx.session
    thumb, address_text, code = _parse_asm(args)
    address = evaluate_int(ctx, address_text)
    if thumb is None:
        thumb = bool(address & 1) or code_is_thumb(session, address & ~1)
    address &= ~1

    def resolve(name: str) -> int | None:
        symbol = session.symbols.lookup(name)
        return symbol.address if symbol is not None else None

    warnings: list[str] = []
    encoding = assemble(code, address, thumb, resolve=resolve, warnings=warnings)
    for warning in warnings:
        ctx.out.line(warning)
    session.write_memory(address, encoding)
    # Remembered so that x/i, disassemble and the context decode it in the same set.
    session.extensions.setdefault(ASM_MODES, []).append(
        (address, address + len(encoding), thumb))
    for insn in decode_many(encoding, address, thumb):
        ctx.out.line(f"{insn.address:#x}:\t{raw_hex(insn)}\t"
                     f"{instruction_text(insn, session.symbolize)}")


# --------------------------------------------------------------------------- loading


def _resolve_path(session: Session, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else session.cwd / path


def _load(session: Session, text: str, loader: Callable[[Path], Program]) -> Program:
    """Run a loader; errors name the file as the user typed it."""
    path = _resolve_path(session, text)
    try:
        return loader(path)
    except LoadError as err:
        raise LoadError(str(err).replace(str(path), text, 1)) from None


def _section_ranges(path: Path) -> list[tuple[int, int, str]]:
    """Allocated ELF sections, for ``info symbol``'s "in section .text"."""
    from elftools.elf.elffile import ELFFile

    ranges = []
    with open(path, "rb") as handle:
        for section in ELFFile(handle).iter_sections():
            if section["sh_flags"] & 0x2 and section["sh_size"]:  # SHF_ALLOC
                ranges.append((section["sh_addr"], section["sh_addr"] + section["sh_size"],
                               section.name))
    return ranges


def _perms(perms: str) -> str:
    return "".join(letter if letter in perms else "-" for letter in "rwx")


def _summary(program: Program) -> str:
    """gdb's load summary ("Start address 0x81b5, load size 38472"), with the segments."""
    entry = f"{program.entry:#x}" + (" (Thumb)" if program.entry & 1 else "")
    size = sum(len(s.data) for s in program.segments)
    runs: list[list[int | str]] = []  # [start, end, perms]; adjacent segments merged
    for segment in sorted(program.segments, key=lambda s: s.address):
        perms = _perms(segment.perms)
        if runs and runs[-1][1] == segment.address and runs[-1][2] == perms:
            runs[-1][1] = segment.address + segment.memsize
        else:
            runs.append([segment.address, segment.address + segment.memsize, perms])
    segments = ", ".join(f"{start:#x}-{end:#x} {perms}" for start, end, perms in runs)
    return f"Start address {entry}, load size {size}: {segments}"


def _load_elf(ctx: Context, text: str) -> None:
    session = ctx.session
    if not text:
        raise UsageError("Argument required (executable file name).")
    program = _load(session, text, load_elf)
    ctx.out.line(f"Reading symbols from {program.name}...")
    try:
        ranges = _section_ranges(_resolve_path(session, text))
    except Exception:  # sections only refine "info symbol"; pyelftools already read it
        ranges = []
    session.load(program)
    session.extensions["sections"] = {"program": program, "ranges": ranges}
    ctx.out.line(_summary(program))


@commands.command("file", category="files", usage="file FILE", complete=("file",))
def cmd_file(ctx: Context, args: str) -> None:
    """Use FILE as the program: load its segments and symbols (same as "load elf FILE").

    The machine is reset and PC set to the entry point, as a fresh "run" would.
    """
    _load_elf(ctx, args.strip())


@commands.command("load", category="files", prefix=True, usage="load [elf FILE | raw FILE ADDR]",
                  complete=("file",))
def cmd_load(ctx: Context, args: str) -> None:
    """Load a program into the machine: "load elf FILE" or "load raw FILE ADDR [--thumb]".

    "load FILE" is "load elf FILE"; "load" alone loads the current program again.
    """
    text = args.strip()
    if text:
        _load_elf(ctx, text)
        return
    session = ctx.session
    if session.program is None:
        raise ArmdbgError("No executable file specified.")
    session.reload()
    ctx.out.line(_summary(session.program))


@commands.command("load elf", category="files", usage="load elf FILE", complete=("file",))
def cmd_load_elf(ctx: Context, args: str) -> None:
    """Load a 32-bit little-endian ARM ELF file: segments, symbols, entry point."""
    _load_elf(ctx, args.strip())


@commands.command("load raw", category="files", usage="load raw FILE ADDR [--thumb]",
                  complete=("file",))
def cmd_load_raw(ctx: Context, args: str) -> None:
    """Load a raw binary at ADDR; execution starts there (in Thumb state with --thumb)."""
    words = args.split()
    thumb = "--thumb" in words
    words = [w for w in words if w != "--thumb"]
    if len(words) != 2:
        raise UsageError("Usage: load raw FILE ADDR [--thumb]")
    file_text, address_text = words
    address = evaluate_int(ctx, address_text)
    session = ctx.session
    program = _load(session, file_text, lambda path: load_raw(path, address & ~1, thumb))
    ctx.out.line(f"Loading {program.name} at {address & ~1:#x}...")
    session.load(program)
    session.extensions.pop("sections", None)
    ctx.out.line(_summary(program))
