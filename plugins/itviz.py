"""A Thumb IT block as a table: conditions, what executes, ITSTATE after each.

Command:

  itviz [ADDR]   the IT block at or around PC (or ADDR, a gdb expression): the IT
                 instruction that opens it, then each instruction of the block with
                 its condition, whether it executes under the current flags, and the
                 ITSTATE after it

"At or around": the block whose IT instruction is at ADDR, or that ADDR is inside;
otherwise the next IT block after ADDR in the same function.

Setting: ``itviz context on|off`` adds the table to the context display at each stop
while PC is at or inside an IT block (off by default).

Reading the table.  ITSTATE is the 8-bit state CPSR keeps for the block (IT[7:5] the
base condition's top bits, IT[4:0] the current condition's low bit and the rest of the
mask; CPSR bits 15:10 and 26:25).  The IT instruction sets it to its own
``firstcond:mask`` byte; each slot of the block shifts the mask left, and the last
slot clears it.  "executes" applies the slot's condition to the flags as they are
now: a flag-setting instruction earlier in the block (``cmp``) can change the answer
for the slots after it, and those are marked.  When PC is inside the block, the slots
already run are marked as such, and the ITSTATE armdbg computes for PC is checked
against the one in CPSR.
"""

from __future__ import annotations

from collections.abc import Callable

from armdbg.api import (
    Context,
    Instruction,
    PluginAPI,
    Symbol,
    UsageError,
    condition_name,
    condition_passed,
    itstate,
)

FLAG_SETTERS = ("cmp", "cmn", "tst", "teq")
# Data-processing mnemonics whose "s" form sets the flags (adds, subs, movs...).
S_FORMS = ("add", "adc", "sub", "sbc", "rsb", "mov", "mvn", "and", "orr", "orn", "eor",
           "bic", "lsl", "lsr", "asr", "ror", "mul")
CONDITIONS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge",
              "lt", "gt", "le", "al")
MAX_FUNCTION_BYTES = 0x4000   # decode at most this much of a function to find blocks


def flags_text(cpsr: int) -> str:
    return "".join(letter.upper() if cpsr >> bit & 1 else letter
                   for letter, bit in (("n", 31), ("z", 30), ("c", 29), ("v", 28)))


def state_text(state: int) -> str:
    if not itstate.in_it_block(state):
        return f"{state:#04x}  (block done)"
    left = itstate.remaining(state)
    return f"{state:#04x}  next {condition_name(itstate.current_condition(state))}, {left} left"


def sets_flags(insn: Instruction) -> bool:
    """cmp/cmn/tst/teq, or the "s" form of a data-processing instruction."""
    name = insn.mnemonic.split(".")[0]
    if name[:3] in FLAG_SETTERS:
        return True
    if len(name) > 3 and name[-2:] in CONDITIONS:
        name = name[:-2]
    return name.endswith("s") and name[:-1] in S_FORMS


def it_halfword(insn: Instruction) -> int | None:
    if insn.size != 2:
        return None
    halfword = int.from_bytes(insn.raw, "little")
    return halfword if itstate.is_it_instruction(halfword) else None


def find_block(insns: list[Instruction], address: int
               ) -> tuple[int, list[Instruction], bool] | None:
    """(index of the IT instruction, the block's instructions, exact?) at or around
    ``address``; exact is False for "the next block after it"."""
    following = None
    for index, insn in enumerate(insns):
        halfword = it_halfword(insn)
        if halfword is None:
            continue
        length = itstate.block_length(halfword)
        block = insns[index + 1:index + 1 + length]
        if insn.address == address or any(i.address == address for i in block):
            return index, block, True
        if following is None and insn.address > address:
            following = (index, block, False)
    return following


def register(api: PluginAPI) -> None:
    remove_section: list[Callable[[], None]] = []

    def context_switch(on: bool) -> None:
        # The section exists only while wanted: "context-sections" lists no stale names.
        if on and not remove_section:
            remove_section.append(api.context_section("itviz", section))
        elif not on and remove_section:
            remove_section.pop()()

    api.setting("itviz context", "bool", False,
                "Showing the IT block table in the context display", on_change=context_switch)

    def function_code(address: int) -> tuple[Symbol | None, list[Instruction]]:
        symbol = api.symbol_at(address)
        if symbol is not None and symbol.kind == "func" and not symbol.thumb:
            raise UsageError(f"itviz: {address:#x} is in {symbol.name}, ARM code; "
                             "IT blocks are Thumb only.")
        start = symbol.address if symbol is not None else address
        size = symbol.size if symbol is not None and symbol.size else 64
        size = min(size, MAX_FUNCTION_BYTES, max(0, 0x100000000 - start))
        insns = api.disassemble(start, size // 2 + 1, thumb=True)
        return symbol, [i for i in insns if i.address < start + size]

    def table(address: int) -> list[str]:
        """The lines of the table, or raise UsageError when there is no block."""
        symbol, insns = function_code(address)
        found = find_block(insns, address)
        if found is None:
            inside = f" in {symbol.name}" if symbol is not None else ""
            raise UsageError(f"itviz: no IT block at or after {address:#x}{inside}.")
        index, block, exact = found
        it_insn = insns[index]
        halfword = it_halfword(it_insn)
        assert halfword is not None
        state = itstate.itstate_from_it_instruction(halfword)
        cpsr = api.read_register("cpsr")
        pc = api.read_register("pc")
        thumb = bool(cpsr & 0x20)
        addresses = [i.address for i in block]
        pc_slot = addresses.index(pc) if thumb and pc in addresses else None
        lines = []
        where = api.symbolize(it_insn.address)
        if not exact:
            lines.append(f"No IT block at {address:#x}; the next one:")
        lines.append(f"IT block at {it_insn.address:#010x}{f' <{where}>' if where else ''}: "
                     f"{itstate.it_mnemonic(state)}, {len(block)} instruction"
                     f"{'s' if len(block) != 1 else ''}; flags now {flags_text(cpsr)}")
        rows = [("=>" if pc == it_insn.address and thumb else "", it_insn, "-", "-",
                 state_text(state))]
        # Flag-setting instructions between PC and the block run before it does.
        flags_may_change = thumb and any(
            sets_flags(i) for i in insns[:index] if pc <= i.address < it_insn.address)
        for slot, insn in enumerate(block):
            cond = itstate.current_condition(state)
            state = itstate.advance(state)
            if pc_slot is not None and slot < pc_slot:
                runs = "(ran)"
            else:
                runs = "yes" if condition_passed(cond, cpsr) else "no"
                if flags_may_change:
                    runs += "?"
            if sets_flags(insn):
                flags_may_change = True
            rows.append(("=>" if slot == pc_slot else "", insn, condition_name(cond), runs,
                         state_text(state)))
        text_width = max(len(_text(row[1])) for row in rows)
        lines.append(f"   {'address':<10}  {'instruction':<{text_width}}  cond  executes  "
                     "ITSTATE after")
        for marker, insn, cond_text, runs, after in rows:
            lines.append(f"{marker:<2} {insn.address:#010x}  {_text(insn):<{text_width}}  "
                         f"{cond_text:<4}  {runs:<8}  {after}")
        if flags_may_change:
            lines.append("?: a flag-setting instruction that runs first (from PC on) may "
                         "change the flags it is tested against.")
        if pc_slot is not None:
            expected = itstate.itstate_from_it_instruction(halfword)
            for _ in range(pc_slot):
                expected = itstate.advance(expected)
            actual = itstate.itstate_from_cpsr(cpsr)
            verdict = "matches" if actual == expected else f"differs (computed {expected:#04x})"
            lines.append(f"ITSTATE in CPSR at PC: {actual:#04x}, {verdict}.")
        return lines

    @api.command("itviz", usage="itviz [ADDR]", complete=("expression",))
    def cmd_itviz(ctx: Context, args: str) -> None:
        """Show the IT block at or around PC (or ADDR) as a table.

        Each instruction of the block is listed with its condition, whether it executes
        under the current flags, and the ITSTATE after it.  With ADDR (a gdb expression,
        e.g. thumb_itblocks+14), the block at or inside ADDR, else the next one after it.
        """
        address = api.evaluate(args) if args.strip() else api.read_register("pc")
        for line in table(address & ~1):
            ctx.out.line(line)

    def section() -> list[str]:
        cpsr = api.read_register("cpsr")
        pc = api.read_register("pc")
        if not cpsr & 0x20:
            return []
        insns = api.disassemble(pc, 1, thumb=True)
        at_it = bool(insns) and it_halfword(insns[0]) is not None
        if not at_it and not itstate.in_it_block(itstate.itstate_from_cpsr(cpsr)):
            return []
        try:
            return table(pc)
        except UsageError:
            return []



def _text(insn: Instruction) -> str:
    return f"{insn.mnemonic} {insn.op_str}".strip()
