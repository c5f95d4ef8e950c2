"""Machine state: ``info registers``, ``info it``, ``info symbol``, ``disassemble``, ``backtrace``.

Also the code-reading helpers the data and context commands share: decoding at an
address in the right instruction set, and a function's extent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from armdbg.commands.context import Context
from armdbg.commands.evaluation import evaluate_int, thumb_at
from armdbg.commands.registry import CommandSet
from armdbg.errors import ArmdbgError, MemoryAccessError, UsageError
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

# Longest extent assumed for a size-0 symbol with nothing after it.
_UNSIZED_LIMIT = 0x1000


def attach(session: Session) -> None:
    session.settings.declare(
        "backtrace past-main", "bool", False,
        "Whether backtraces should continue past \"main\"")


# --------------------------------------------------------------------------- reading code


def readable(session: Session, address: int, size: int) -> bytes:
    """The readable prefix of [address, address+size), gdb breakpoints hidden."""
    try:
        return session.read_memory(address, size)
    except MemoryAccessError as err:
        if not address < err.address < address + size:
            return b""
        return session.read_memory(address, err.address - address)


ASM_MODES = "asm-modes"


def code_is_thumb(session: Session, address: int) -> bool:
    """The instruction set at ``address``.

    CPSR.T at PC; else the set ``asm`` last wrote there with; else the containing
    function's; else mapping symbols; else CPSR.T.
    """
    if address == session.machine.pc:
        return session.machine.thumb
    for start, end, thumb in reversed(session.extensions.get(ASM_MODES, [])):
        if start <= address < end:
            return bool(thumb)
    symbol = function_at(session, address)
    if symbol is not None:
        return symbol.thumb
    return thumb_at(session, address)


def decode_at(session: Session, address: int, count: int, thumb: bool | None = None,
              ) -> tuple[list[Instruction], int]:
    """Up to ``count`` instructions from ``address`` in one Capstone pass.

    At PC, a Thumb IT block in progress is decoded as it executes (ITSTATE from CPSR).
    Returns the instructions that were fully readable and the address after them; a
    short list means memory ran out there.
    """
    machine = session.machine
    if thumb is None:
        thumb = code_is_thumb(session, address)
    itstate = itstate_from_cpsr(machine.cpsr) if thumb and address == machine.pc else 0
    data = readable(session, address, count * 4)
    insns = [i for i in decode_many(data, address, thumb, count, itstate)
             if i.address + i.size <= address + len(data)]
    end = insns[-1].address + insns[-1].size if insns else address
    return insns, end


def function_extent(session: Session, symbol: Symbol) -> tuple[int, int]:
    """[start, end) of a function: its size, or up to the next symbol when unsized."""
    if symbol.size:
        return symbol.address, symbol.address + symbol.size
    following = [s.address for s in session.symbols if s.address > symbol.address]
    end = min(following) if following else symbol.address + _UNSIZED_LIMIT
    return symbol.address, min(end, symbol.address + _UNSIZED_LIMIT)


def function_at(session: Session, address: int) -> Symbol | None:
    symbol = session.symbols.containing(address)
    return symbol if symbol is not None and symbol.kind == "func" else None


def decode_function(session: Session, symbol: Symbol, end: int | None = None,
                    ) -> list[Instruction]:
    """A function's instructions in one pass from its start (IT blocks read right)."""
    start, stop = function_extent(session, symbol)
    stop = stop if end is None else min(stop, end)
    data = readable(session, start, stop - start)
    return [i for i in decode_many(data, start, symbol.thumb)
            if i.address + i.size <= start + len(data)]


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


# --------------------------------------------------------------------------- backtrace

_REGISTER_NAMES = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12", "r13": "sp",
                   "r14": "lr", "r15": "pc"}
_CONDITIONS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls",
               "ge", "lt", "gt", "le", "al")
_KNOWN = {"push", "pop", "stmdb", "stmfd", "ldm", "ldmia", "ldmfd", "vpush", "vpop", "sub",
          "subw", "add", "addw", "mov", "str", "ldr", "b", "bl", "blx", "bx", "cbz", "cbnz",
          "tbb", "tbh"}
_IMMEDIATE = re.compile(r"#(-?(?:0x[0-9a-f]+|\d+))")


def _base_mnemonic(mnemonic: str) -> tuple[str, bool]:
    """``pushne.w`` -> (``push``, conditional), ``bls`` -> ``b``, ``subs`` -> ``sub``."""
    name = mnemonic.split(".")[0]
    if name in _KNOWN:
        return name, name in ("cbz", "cbnz")
    if name[-2:] in _CONDITIONS and name[:-2] in _KNOWN:
        return name[:-2], name[-2:] != "al"
    if name.endswith("s") and name[:-1] in ("sub", "add", "mov"):
        return name[:-1], False
    return name, False


def _writes_pc(base: str, ops: list[str], op_str: str) -> bool:
    if base in ("b", "bx", "cbz", "cbnz", "tbb", "tbh") or (ops and ops[0] == "pc"):
        return True
    return base in ("pop", "ldm", "ldmia", "ldmfd") and "pc" in _register_list(op_str)


def _register_list(op_str: str) -> list[str]:
    inside = op_str[op_str.find("{") + 1:op_str.find("}")]
    return [_REGISTER_NAMES.get(r.strip(), r.strip()) for r in inside.split(",") if r.strip()]


def _operands(op_str: str) -> list[str]:
    return [_REGISTER_NAMES.get(o.strip(), o.strip()) for o in op_str.split(",")]


def _immediate(text: str) -> int | None:
    match = _IMMEDIATE.search(text)
    return int(match.group(1), 0) if match else None


@dataclass
class FrameLayout:
    """What a function's prologue did to the stack, as far as it ran before ``pc``.

    Offsets are relative to SP at the function's entry (the caller's SP, gdb's CFA).
    """

    sp_offset: int | None = 0                           # SP now minus SP at entry
    saved: dict[str, int] = field(default_factory=dict)  # register -> where it was saved
    frame_register: str | None = None                   # r7/r11 when set up from SP
    frame_offset: int = 0                               # its value minus SP at entry
    from_sp: dict[str, int] = field(default_factory=dict)  # mov ip, sp and the like


def analyze_prologue(insns: list[Instruction], pc: int) -> FrameLayout:
    """Follow the stack adjustments of the instructions before ``pc``.

    Like gdb's arm_analyze_prologue: pushes and stores of registers, SP arithmetic, the
    frame pointer set up from SP (r11 in ARM code, r7 in Thumb), and pops when PC is
    already in an epilogue.  A conditional branch or return is passed over (PC is on
    its fall-through path, as after gcc's shrink-wrapped ``cmp r0, #1; bxle lr``); the
    scan stops at the first unconditional one that is not a call, where the code stops
    being straight-line.  An SP change it cannot follow makes ``sp_offset`` None (the
    frame pointer, if any, then locates the frame).
    """
    layout = FrameLayout()
    for insn in insns:
        if insn.address >= pc:
            break
        base, conditional = _base_mnemonic(insn.mnemonic)
        ops = _operands(insn.op_str)
        if _writes_pc(base, ops, insn.op_str):
            if conditional:
                continue
            break
        offset = layout.sp_offset
        amount: int | None
        if base in ("push", "stmdb", "stmfd") and (base == "push" or ops[0] == "sp!"):
            regs = _register_list(insn.op_str)
            if offset is not None:
                offset -= 4 * len(regs)
                for index, reg in enumerate(sorted(regs, key=_register_number)):
                    layout.saved[reg] = offset + 4 * index
            layout.sp_offset = offset
        elif base in ("pop", "ldm", "ldmia", "ldmfd") and (base == "pop" or ops[0] == "sp!"):
            regs = _register_list(insn.op_str)
            if offset is not None:
                layout.sp_offset = offset + 4 * len(regs)
            for reg in regs:
                layout.saved.pop(reg, None)
        elif base in ("vpush", "vpop"):
            regs = _register_list(insn.op_str)
            size = 8 if regs and regs[0].startswith("d") else 4
            if offset is not None:
                change = size * len(regs)
                layout.sp_offset = offset - change if base == "vpush" else offset + change
        elif base == "str" and ops[1:2] == ["[sp"] and insn.op_str.endswith("]!"):
            amount = _immediate(insn.op_str) or 0
            if offset is not None:
                layout.sp_offset = offset + amount
                layout.saved[ops[0]] = offset + amount
        elif base == "ldr" and ops[1:2] == ["[sp]"] and ops[0] != "pc":
            amount = _immediate(insn.op_str) or 0
            if offset is not None:
                layout.sp_offset = offset + amount
            layout.saved.pop(ops[0], None)
        elif ops[0] == "sp" and base in ("sub", "subw", "add", "addw") \
                and (len(ops) == 2 or ops[1] == "sp"):
            # sub sp, sp, #8 (ARM) or sub sp, #8 (Thumb); a register amount is unknown.
            amount = _immediate(ops[-1]) if ops[-1].startswith("#") else None
            if amount is None or offset is None:
                layout.sp_offset = None
            else:
                layout.sp_offset = offset - amount if base.startswith("sub") else offset + amount
        elif base in ("add", "mov") and ops[0] in ("r7", "r11", "r12") and ops[1:2] == ["sp"]:
            amount = _immediate(insn.op_str) if base == "add" else 0
            if offset is not None and amount is not None and len(ops) <= 3:
                layout.from_sp[ops[0]] = offset + amount
                if ops[0] in ("r7", "r11"):
                    layout.frame_register, layout.frame_offset = ops[0], offset + amount
        elif base == "sub" and ops[0] in ("r7", "r11") and len(ops) == 3 \
                and ops[1] in layout.from_sp:
            amount = _immediate(ops[2])
            if amount is not None:
                layout.frame_register = ops[0]
                layout.frame_offset = layout.from_sp[ops[1]] - amount
        elif ops and ops[0] == "sp":
            layout.sp_offset = None  # mov sp, r7; sub sp, sp, r3; ...
    return layout


def _register_number(name: str) -> int:
    order = {"sp": 13, "lr": 14, "pc": 15}
    return order.get(name, int(name[1:]) if name[1:].isdigit() else 16)


@dataclass(frozen=True)
class Frame:
    level: int
    pc: int
    function: Symbol | None


_MAX_FRAMES = 4096


class _Stop(Exception):
    """Unwinding cannot go further; the message follows "Backtrace stopped: "."""


def _unwind_one(session: Session, level: int, registers: dict[str, int],
                symbol: Symbol | None) -> dict[str, int]:
    """The caller's registers (pc, sp and the callee-saved ones) for one frame."""
    pc = registers["pc"]
    if symbol is None:
        if level:
            raise _Stop(f"no function symbol at {pc:#x} to analyze its frame")
        layout = FrameLayout()  # unknown code at frame 0: assume it is a leaf, as gdb does
    else:
        layout = analyze_prologue(decode_function(session, symbol, end=pc), pc)
    if layout.sp_offset is not None:
        cfa = registers["sp"] - layout.sp_offset
    elif layout.frame_register is not None:
        cfa = registers[layout.frame_register] - layout.frame_offset
    else:
        raise _Stop(f"cannot follow the stack pointer in {symbol.name if symbol else '??'}")
    caller = dict(registers)
    for reg, offset in layout.saved.items():
        try:
            caller[reg] = session.machine.read_u32((cfa + offset) & 0xFFFFFFFF)
        except MemoryAccessError as err:
            raise _Stop(str(err)) from None
    if "lr" in layout.saved:
        return_address = caller["lr"]
    elif level == 0:
        return_address = registers["lr"]
    else:
        raise _Stop("frame did not save the PC")
    caller["sp"] = cfa & 0xFFFFFFFF
    caller["pc"] = return_address & ~1
    return caller


def unwind(session: Session, limit: int | None = None) -> tuple[list[Frame], str | None]:
    """Frames from PC outwards, and why unwinding stopped (None: a normal end).

    The caller of each frame comes from where its prologue saved LR (or from LR itself
    at frame 0 when nothing was saved yet: a leaf, or PC still in the prologue).  Like
    gdb, unwinding ends quietly at a zero return address, in the program's entry
    function, and after ``main`` (``set backtrace past-main on`` goes further).
    """
    machine = session.machine
    registers = machine.registers()
    frames: list[Frame] = []
    entry = session.program.entry & ~1 if session.program is not None else None
    past_main = bool(session.settings["backtrace past-main"])
    previous: tuple[int, int] | None = None
    # One frame more than asked for tells whether "(More stack frames follow...)".
    wanted = _MAX_FRAMES if limit is None else min(limit + 1, _MAX_FRAMES)
    while len(frames) < wanted:
        pc = registers["pc"]
        level = len(frames)
        # The call instruction is just before a return address: look the caller up there.
        symbol = function_at(session, pc if level == 0 else pc - 1)
        frames.append(Frame(level, pc, symbol))
        if symbol is not None and ((symbol.name == "main" and not past_main)
                                   or (entry is not None
                                       and symbol.address <= entry < function_extent(
                                           session, symbol)[1])):
            return frames, None
        try:
            caller = _unwind_one(session, level, registers, symbol)
        except _Stop as stop:
            return frames, str(stop)
        if caller["pc"] == 0:
            return frames, None
        if (caller["pc"], caller["sp"]) == (pc, registers["sp"]) or previous == (
                caller["pc"], caller["sp"]):
            return frames, "previous frame identical to this frame (corrupt stack?)"
        if caller["sp"] < registers["sp"]:
            return frames, "previous frame inner to this frame (corrupt stack?)"
        previous = (pc, registers["sp"])
        registers = caller
    if limit is None:
        return frames, f"more than {_MAX_FRAMES} frames (corrupt stack?)"
    return frames, None


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
