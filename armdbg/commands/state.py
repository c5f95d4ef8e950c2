"""Machine state: ``info registers``, ``info it``, ``info symbol``, ``disassemble``, ``backtrace``.

Reading code and walking frames live in armdbg/frames.py, shared with run control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from armdbg.commands.context import Context
from armdbg.commands.evaluation import evaluate_int
from armdbg.commands.registry import CommandSet
from armdbg.errors import ArmdbgError, MemoryAccessError, UsageError
from armdbg.frames import (
    Frame,
    code_is_thumb,
    decode_at,
    decode_function,
    function_at,
    function_extent,
    readable,
    unwind,
)
from armdbg.isa.conditions import condition_name
from armdbg.isa.disasm import Instruction, decode_many
from armdbg.isa.itstate import (
    describe,
    in_it_block,
    is_it_instruction,
    it_mnemonic,
    itstate_from_cpsr,
    itstate_from_it_instruction,
    remaining,
)
from armdbg.machine.machine import GENERAL_REGISTERS, Machine
from armdbg.machine.symbols import Symbol
from armdbg.views import (
    condition_marks,
    disassembly_line,
    raw_bytes,
    raw_hex,
    register_info_line,
)

if TYPE_CHECKING:
    from armdbg.session import Session

commands = CommandSet()

def attach(session: Session) -> None:
    session.settings.declare(
        "backtrace past-main", "bool", False,
        "Whether backtraces should continue past \"main\"")


# --------------------------------------------------------------------------- info registers


def _register_names(args: str) -> list[str]:
    words = args.replace(",", " ").split()
    if not words or words in (["general"], ["all"]):
        return list(GENERAL_REGISTERS)
    return [word[1:] if word.startswith("$") else word for word in words]


@commands.command("info registers", category="status", aliases=("r",),
                  usage="info registers [REGISTER...]", complete=("register",))
def cmd_info_registers(ctx: Context, args: str) -> None:
    """List of registers and their contents.

    With register names (r0 .. r15, sp, lr, pc, cpsr, and the aliases fp, ip, sb, sl),
    only those.  Columns are gdb's: name, hex, and the natural value (pc symbolized,
    cpsr decoded as N Z C V Q, GE, IT state, J E A I F T and the mode).
    """
    machine = ctx.session.machine
    for name in _register_names(args):
        canon = Machine.canonical_register(name)
        if canon is None:
            raise UsageError(f"Invalid register `{name}'")
        ctx.out.line(register_info_line(name.lower(), machine.read_register(canon),
                                        ctx.session.symbolize, canon))


@commands.command("info all-registers", category="status",
                  usage="info all-registers [REGISTER...]", complete=("register",))
def cmd_info_all_registers(ctx: Context, args: str) -> None:
    """List of all registers and their contents (the same set: no VFP/NEON state)."""
    cmd_info_registers(ctx, args)


# --------------------------------------------------------------------------- info it


def _flags(cpsr: int) -> str:
    return " ".join(letter.upper() if cpsr >> bit & 1 else letter
                    for letter, bit in (("n", 31), ("z", 30), ("c", 29), ("v", 28)))


def _find_it_instruction(session: Session, pc: int) -> Instruction | None:
    """The IT instruction whose block contains ``pc``, found by decoding the function."""
    symbol = function_at(session, pc)
    if symbol is None or not symbol.thumb:
        return None
    insns = decode_function(session, symbol, end=pc + 4)
    addresses = [i.address for i in insns]
    if pc not in addresses:
        return None
    index = addresses.index(pc)
    for back in range(1, 5):
        if index - back < 0:
            break
        insn = insns[index - back]
        halfword = int.from_bytes(insn.raw[:2], "little") if insn.size == 2 else 0
        if is_it_instruction(halfword):
            length = remaining(itstate_from_it_instruction(halfword))
            return insn if back <= length else None
    return None


def _block_lines(ctx: Context, start: int, count: int, pc: int) -> None:
    session = ctx.session
    machine = session.machine
    insns, _ = decode_at(session, start, count, thumb=True)
    marks = condition_marks(insns if start == pc else [], pc, True, machine.cpsr)
    if start != pc:
        # Listing the block an IT instruction at PC opens: decode it with the IT.
        insns, _ = decode_at(session, pc, count + 1, thumb=True)
        marks = condition_marks(insns, pc, True, machine.cpsr)
        insns = insns[1:]
    for insn in insns:
        label = session.symbolize(insn.address)
        ctx.out.token_line(disassembly_line(
            insn, f"<{label}>" if label else "", at_pc=insn.address == pc,
            symbolize=session.symbolize, mark=marks.get(insn.address),
            note=session.code_note(insn.address)))


@commands.command("info it", category="status", usage="info it")
def cmd_info_it(ctx: Context, args: str) -> None:
    """The Thumb IT block the CPU is in: ITSTATE, and which instructions will execute.

    ITSTATE is read from CPSR (IT[1:0] in bits 26:25, IT[7:2] in bits 15:10).  Each
    remaining instruction of the block is listed with its condition and whether it
    executes under the current flags.  At an IT instruction, the block it opens is shown.
    """
    if args.strip():
        raise UsageError("info it takes no arguments.")
    session = ctx.session
    machine = session.machine
    pc, cpsr = machine.pc, machine.cpsr
    itstate = itstate_from_cpsr(cpsr)
    if not machine.thumb or not in_it_block(itstate):
        ctx.out.line("Not in an IT block.")
        if machine.thumb:
            insns, _ = decode_at(session, pc, 1, thumb=True)
            halfword = (int.from_bytes(insns[0].raw, "little")
                        if insns and insns[0].size == 2 else 0)
            if is_it_instruction(halfword):
                opened = itstate_from_it_instruction(halfword)
                count = remaining(opened)
                ctx.out.line(f"The instruction at PC opens one: {it_mnemonic(opened)} "
                             f"({count} instruction{'s' if count != 1 else ''}); "
                             f"flags now {_flags(cpsr)}:")
                _block_lines(ctx, pc + 2, remaining(opened), pc)
        return
    it_insn = _find_it_instruction(session, pc)
    length = None
    if it_insn is not None:
        length = remaining(itstate_from_it_instruction(int.from_bytes(it_insn.raw, "little")))
    info = describe(itstate, cpsr, length)
    ctx.out.line(f"ITSTATE {itstate:#04x}: base condition {condition_name(info.base_condition)}, "
                 f"mask {info.mask:#07b}, current condition "
                 f"{condition_name(info.conditions[0])}")
    if it_insn is not None and length is not None:
        opened = itstate_from_it_instruction(int.from_bytes(it_insn.raw, "little"))
        ctx.out.line(f"Instruction {info.position + 1} of {length} in the block opened by "
                     f"\"{it_mnemonic(opened)}\" at {session.describe_address(it_insn.address)}")
    ctx.out.line(f"{info.remaining} instruction{'s' if info.remaining != 1 else ''} left, "
                 f"flags now {_flags(cpsr)}:")
    _block_lines(ctx, pc, info.remaining, pc)


# --------------------------------------------------------------------------- info symbol


def section_of(session: Session, address: int, symbol: Symbol) -> str:
    """The section gdb would name: from the loaded ELF's headers when known.

    Programs loaded without section headers (the demo, raw images) get ``.text`` for
    functions and executable memory, ``.data`` otherwise.
    """
    sections = session.extensions.get("sections")
    if sections is not None and sections.get("program") is session.program:
        for start, end, name in sections["ranges"]:
            if start <= address < end:
                return str(name)
    if symbol.kind == "func":
        return ".text"
    region = session.machine.region_of(address)
    if symbol.kind == "label" and region is not None and "x" in region.perms:
        return ".text"
    return ".data"


@commands.command("info symbol", category="status", usage="info symbol ADDR",
                  complete=("expression",))
def cmd_info_symbol(ctx: Context, args: str) -> None:
    """Describe what symbol is at location ADDR, e.g. "main + 4 in section .text"."""
    if not args.strip():
        raise UsageError("Argument required (address).")
    session = ctx.session
    address = evaluate_int(ctx, args)
    symbol = session.symbols.containing(address)
    if symbol is None:
        ctx.out.line(f"No symbol matches {args.strip()}.")
        return
    offset = address - symbol.address
    where = symbol.name if offset == 0 else f"{symbol.name} + {offset}"
    ctx.out.line(f"{where} in section {section_of(session, address, symbol)}")


# --------------------------------------------------------------------------- disassemble


@dataclass
class _DisassembleState:
    modifiers: str = ""
    next_address: int | None = None
    length: int = 0


def _parse_modifiers(args: str) -> tuple[str | None, str]:
    """``/r``, ``/b`` (raw bytes), ``/m`` ``/s`` (source: none here, accepted)."""
    raw: str | None = None
    text = args.strip()
    while text.startswith("/"):
        word, _, text = text[1:].partition(" ")
        text = text.strip()
        for letter in word:
            if letter in "rb":
                raw = letter
            elif letter not in "ms":
                raise UsageError("Invalid disassembly modifier.")
    return raw, text


def _split_range(text: str) -> tuple[str, str | None]:
    """Split ``START,END`` at the top-level comma (not inside parentheses)."""
    depth = 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            return text[:index].strip(), text[index + 1:].strip()
    return text.strip(), None


def _raw_text(insn: Instruction, raw: str | None) -> str | None:
    if raw == "r":
        return raw_hex(insn)
    if raw == "b":
        return raw_bytes(insn)
    return None


def _mode_runs(session: Session, start: int, end: int) -> list[tuple[int, int, bool]]:
    """Split [start, end) where the instruction set changes at a function boundary."""
    cuts = sorted({s.address for s in session.symbols.functions() if start < s.address < end})
    runs: list[tuple[int, int, bool]] = []
    run_start = start
    mode = code_is_thumb(session, start)
    for cut in cuts:
        cut_mode = code_is_thumb(session, cut)
        if cut_mode != mode:
            runs.append((run_start, cut, mode))
            run_start, mode = cut, cut_mode
    runs.append((run_start, end, mode))
    return runs


def _disassemble_function(ctx: Context, symbol: Symbol, raw: str | None) -> None:
    session = ctx.session
    pc = session.machine.pc
    start, end = function_extent(session, symbol)
    insns = decode_function(session, symbol)
    ctx.out.line(f"Dump of assembler code for function {symbol.name}:")
    for insn in insns:
        ctx.out.token_line(disassembly_line(
            insn, f"<+{insn.address - start}>", at_pc=insn.address == pc,
            symbolize=session.symbolize, raw=_raw_text(insn, raw),
            note=session.code_note(insn.address)))
    covered = insns[-1].address + insns[-1].size if insns else start
    if covered < end and not readable(session, covered, 1):
        raise MemoryAccessError(covered)
    ctx.out.line("End of assembler dump.")


def _disassemble_range(ctx: Context, start: int, end: int, raw: str | None) -> None:
    session = ctx.session
    pc = session.machine.pc
    ctx.out.line(f"Dump of assembler code from {start:#x} to {end:#x}:")
    address = start
    for run_start, run_end, thumb in _mode_runs(session, start, end):
        address = max(address, run_start)
        if address >= run_end:
            continue
        data = readable(session, address, run_end - address + 2)
        itstate = itstate_from_cpsr(session.machine.cpsr) if thumb and address == pc else 0
        for insn in decode_many(data, address, thumb, None, itstate):
            if insn.address >= run_end:
                break
            if insn.address + insn.size > address + len(data):
                raise MemoryAccessError(insn.address)
            symbol = session.symbols.containing(insn.address)
            label = f"<{symbol.name}+{insn.address - symbol.address}>" if symbol else ""
            ctx.out.token_line(disassembly_line(
                insn, label, at_pc=insn.address == pc, symbolize=session.symbolize,
                raw=_raw_text(insn, raw),
            note=session.code_note(insn.address)))
            address = insn.address + insn.size
        if address < run_end:
            raise MemoryAccessError(address)
    ctx.out.line("End of assembler dump.")
    state = ctx.session.extensions.setdefault("disassemble", _DisassembleState())
    state.next_address = address
    state.length = end - start
    state.modifiers = raw or ""


def _disassemble_repeat(ctx: Context, args: str) -> str | None:
    """Enter after a range continues with the next range of the same length."""
    _, text = _parse_modifiers(args)
    state = ctx.session.extensions.get("disassemble")
    if state is None or _split_range(text)[1] is None or state.next_address is None:
        return None
    modifiers = f" /{state.modifiers}" if state.modifiers else ""
    return f"disassemble{modifiers} {state.next_address:#x},+{state.length}"


@commands.command("disassemble", category="data",
                  usage="disassemble [/r|/b] [START[,END | ,+LENGTH] | FUNCTION]",
                  repeat=_disassemble_repeat, complete=("location",))
def cmd_disassemble(ctx: Context, args: str) -> None:
    """Disassemble a specified section of memory.

    With no argument, the function around PC; with one, the function containing that
    address; with START,END or START,+LENGTH, that range.  /r shows each instruction's
    raw encoding (ARM words, Thumb halfwords), /b its bytes in memory order.  "=>"
    marks PC.  Thumb functions decode as Thumb (symbols and $a/$t mapping symbols), in
    one pass so that instructions in IT blocks show their conditions.  Enter after a
    range continues with the next one.
    """
    session = ctx.session
    raw, text = _parse_modifiers(args)
    ctx.session.extensions.pop("disassemble", None)
    if not text:
        symbol = function_at(session, session.machine.pc)
        if symbol is None:
            raise ArmdbgError("No function contains program counter for selected frame.")
        _disassemble_function(ctx, symbol, raw)
        return
    first, second = _split_range(text)
    start = evaluate_int(ctx, first)
    if second is None:
        symbol = function_at(session, start)
        if symbol is None:
            raise ArmdbgError("No function contains specified address.")
        _disassemble_function(ctx, symbol, raw)
        return
    if second.startswith("+"):
        end = start + evaluate_int(ctx, second[1:])
    else:
        end = evaluate_int(ctx, second)
    _disassemble_range(ctx, start, end, raw)


def _frame_line(frame: Frame) -> str:
    name = frame.function.name if frame.function is not None else "??"
    # gdb prints frame addresses padded to the target's address size (print_core_address).
    return f"#{frame.level:<3}{frame.pc:#010x} in {name} ()"


@commands.command("backtrace", category="stack", aliases=("bt", "where"),
                  usage="backtrace [full] [COUNT | -COUNT]")
def cmd_backtrace(ctx: Context, args: str) -> None:
    """Print backtrace of all stack frames, or innermost COUNT frames.

    Frames are found from the saved return addresses: each function's prologue (push of
    LR, SP adjustments, frame pointer r11 in ARM code or r7 in Thumb) is analyzed up to
    the frame's PC; a leaf function or one still in its prologue returns to LR.  With a
    negative COUNT, the outermost frames.  "full" is accepted (there are no locals
    without debug information).
    """
    words = args.split()
    full = False
    count: int | None = None
    for word in words:
        if word in ("full", "-full"):
            full = True
            continue
        count = evaluate_int(ctx, word)
        if count >= 1 << 31:
            count -= 1 << 32
    session = ctx.session
    frames, stopped = unwind(session, count if count is not None and count > 0 else None)
    more = False
    if count is not None and count > 0 and len(frames) > count:
        frames, more, stopped = frames[:count], True, None
    elif count is not None and count < 0:
        frames = frames[count:]
    for frame in frames:
        ctx.out.line(_frame_line(frame))
        if full:
            ctx.out.line("No symbol table info available.")
    if more:
        ctx.out.line("(More stack frames follow...)")
    if stopped:
        ctx.out.line(f"Backtrace stopped: {stopped}")


@commands.command("info stack", category="stack", usage="info stack [COUNT]")
def cmd_info_stack(ctx: Context, args: str) -> None:
    """Backtrace of the stack, or innermost COUNT frames (same as "backtrace")."""
    cmd_backtrace(ctx, args)
