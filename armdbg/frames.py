"""Reading the program's code and walking its stack frames.

Shared by the commands (``disassemble``, ``x/i``, the context, ``backtrace``) and by run
control (``finish``, ``until`` and ``nexti`` need the caller's frame): decoding at an
address in the right instruction set, a function's extent, and an unwinder that reads
each function's prologue (pushes, SP adjustments, r11/r7 frame pointers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from armdbg.errors import MemoryAccessError
from armdbg.isa.disasm import Instruction, decode_many
from armdbg.isa.itstate import itstate_from_cpsr
from armdbg.machine.symbols import Symbol

if TYPE_CHECKING:
    from armdbg.session import Session

# Longest extent assumed for a size-0 symbol with nothing after it.
_UNSIZED_LIMIT = 0x1000


def thumb_at(session: Session, address: int) -> bool:
    """Whether code at ``address`` is Thumb: mapping symbols, then the CPU's state."""
    known = session.symbols.is_thumb_code(address)
    if known is not None:
        return known
    return session.machine.thumb


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


class UnwindStop(Exception):
    """Unwinding cannot go further; the message follows "Backtrace stopped: "."""


def unwind_one(session: Session, level: int, registers: dict[str, int],
                symbol: Symbol | None) -> dict[str, int]:
    """The caller's registers (pc, sp and the callee-saved ones) for one frame."""
    pc = registers["pc"]
    if symbol is None:
        if level:
            raise UnwindStop(f"no function symbol at {pc:#x} to analyze its frame")
        layout = FrameLayout()  # unknown code at frame 0: assume it is a leaf, as gdb does
    else:
        layout = analyze_prologue(decode_function(session, symbol, end=pc), pc)
    if layout.sp_offset is not None:
        cfa = registers["sp"] - layout.sp_offset
    elif layout.frame_register is not None:
        cfa = registers[layout.frame_register] - layout.frame_offset
    else:
        raise UnwindStop(f"cannot follow the stack pointer in {symbol.name if symbol else '??'}")
    caller = dict(registers)
    for reg, offset in layout.saved.items():
        try:
            caller[reg] = session.machine.read_u32((cfa + offset) & 0xFFFFFFFF)
        except MemoryAccessError as err:
            raise UnwindStop(str(err)) from None
    if "lr" in layout.saved:
        return_address = caller["lr"]
    elif level == 0:
        return_address = registers["lr"]
    else:
        raise UnwindStop("frame did not save the PC")
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
            caller = unwind_one(session, level, registers, symbol)
        except UnwindStop as stop:
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


