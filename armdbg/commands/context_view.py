"""The context display shown when the program stops: registers, code and stack.

In the spirit of pwndbg's and GEF's context, kept short: registers with the ones that
changed since the previous stop marked ``*``, the code around PC with the current IT
block's instructions marked as executing or skipped under the current flags, and the
top of the stack, symbolized.  ``set context off`` turns it off; ``set
context-sections`` picks and orders the sections; ``context`` shows it on demand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from armdbg.commands.context import Context
from armdbg.commands.registry import CommandSet
from armdbg.errors import MemoryAccessError, UsageError
from armdbg.frames import decode_at, function_at, readable
from armdbg.isa.disasm import Instruction, decode_many
from armdbg.machine.stops import StopReason
from armdbg.output import Token
from armdbg.views import (
    condition_marks,
    disassembly_line,
    heading,
    register_grid,
    rule,
    stack_lines,
)

if TYPE_CHECKING:
    from armdbg.session import Session

commands = CommandSet()

SECTIONS = ("regs", "code", "stack")
STACK_WORDS = 6
CODE_BEFORE = 3
# How far back from PC a Thumb function is decoded from its start (Thumb cannot be
# decoded backwards); further in, the code section starts at PC.
_THUMB_LOOKBACK = 0x1000


@dataclass
class ContextState:
    """Registers at the last two stops, to mark what changed."""

    last: dict[str, int] | None = None        # at the latest stop (or at load)
    reference: dict[str, int] | None = None   # at the stop before it


def context_state(session: Session) -> ContextState:
    state: ContextState = session.extensions.setdefault("context", ContextState())
    return state


def attach(session: Session) -> None:
    state = context_state(session)

    def on_reload(**_: Any) -> None:
        state.reference = None
        state.last = session.machine.registers()

    def on_stop(ctx: Context | None = None, event: Any = None, **_: Any) -> None:
        state.reference = state.last
        state.last = session.machine.registers()
        if ctx is None or not session.settings["context"]:
            return
        if event is not None and event.reason is StopReason.EXITED:
            return
        show_context(ctx, configured_sections(session, strict=False))

    session.events.subscribe("program-reloaded", on_reload)
    session.events.subscribe("stop", on_stop)


# --- plugin sections (armdbg.api context_section): an extension point.  A renderer
# returns (title, lines), or None to show nothing this time (its plugin is disabled).
# Plugin sections come after the built-in ones unless "context-sections" names them.
SectionRenderer = Callable[["Session"], "tuple[str, list[list[Token]]] | None"]


def plugin_sections(session: Session) -> dict[str, SectionRenderer]:
    sections: dict[str, SectionRenderer] = session.extensions.setdefault(
        "context-plugin-sections", {})
    return sections


def add_section(session: Session, name: str, render: SectionRenderer) -> None:
    if name in SECTIONS or name in plugin_sections(session) or not name.isidentifier():
        raise ValueError(f'context section "{name}" is taken or not a word')
    plugin_sections(session)[name] = render


def remove_section(session: Session, name: str) -> None:
    plugin_sections(session).pop(name, None)


def configured_sections(session: Session, *, strict: bool) -> list[str]:
    words = str(session.settings["context-sections"]).replace(",", " ").split()
    if strict:
        _check_sections(session, words)
    known = [w for w in words if w in SECTIONS or w in plugin_sections(session)]
    return known + [name for name in plugin_sections(session) if name not in words]


def _check_sections(session: Session, words: list[str]) -> None:
    names = [*SECTIONS, *plugin_sections(session)]
    for word in words:
        if word not in names:
            raise UsageError(f'Unknown context section "{word}".  '
                             f'Sections: {", ".join(names)}.')


def changed_registers(session: Session, registers: dict[str, int]) -> set[str]:
    state = context_state(session)
    reference = state.reference if state.reference is not None else state.last
    if reference is None:
        return set()
    return {name for name, value in registers.items() if reference.get(name) != value}


def _width(session: Session) -> int:
    return int(session.settings["width"]) or 80


def show_context(ctx: Context, sections: list[str]) -> None:
    session = ctx.session
    width = _width(session)
    extra = plugin_sections(session)
    shown = False
    for section in sections:
        render = _RENDERERS.get(section) or extra.get(section)
        result = render(session) if render is not None else None
        if result is None:
            continue  # a plugin section with nothing to show (or a removed one)
        title, lines = result
        shown = True
        ctx.out.token_line(heading(title, width))
        for line in lines:
            ctx.out.token_line(line)
    if shown:
        ctx.out.token_line(rule(width))


def _regs(session: Session) -> tuple[str, list[list[Token]]]:
    registers = session.machine.registers()
    return "regs", register_grid(registers, changed_registers(session, registers),
                                 session.symbolize)


def _thumb_window(session: Session, pc: int, before: int, after: int) -> list[Instruction]:
    """Thumb code around PC, decoded from the function's start so that it aligns."""
    symbol = function_at(session, pc)
    if symbol is not None and symbol.thumb and 0 <= pc - symbol.address <= _THUMB_LOOKBACK:
        end = pc + 4 * (after + 1)
        data = readable(session, symbol.address, end - symbol.address)
        insns = [i for i in decode_many(data, symbol.address, True)
                 if i.address + i.size <= symbol.address + len(data)]
        addresses = [i.address for i in insns]
        if pc in addresses:
            index = addresses.index(pc)
            return insns[max(0, index - before):index + after + 1]
    return decode_at(session, pc, after + 1, thumb=True)[0]


def _arm_window(session: Session, pc: int, before: int, after: int) -> list[Instruction]:
    start = max(pc - 4 * before, 0)
    known = session.symbols.containing(pc) is not None
    # Do not start in unreadable memory, in Thumb code that precedes an ARM function, or
    # (when PC is in a known function) in anonymous bytes before it.
    while start < pc and (not readable(session, start, 4)
                          or session.symbols.is_thumb_code(start)
                          or (known and session.symbols.containing(start) is None)):
        start += 4
    insns, _ = decode_at(session, start, (pc - start) // 4 + after + 1, thumb=False)
    return insns


def _code(session: Session) -> tuple[str, list[list[Token]]]:
    machine = session.machine
    pc, thumb, cpsr = machine.pc, machine.thumb, machine.cpsr
    listsize = int(session.settings["listsize"]) or 10
    after = max(listsize - CODE_BEFORE - 1, 1)
    insns = (_thumb_window if thumb else _arm_window)(session, pc, CODE_BEFORE, after)
    title = f"code ({'thumb' if thumb else 'arm'})"
    if not any(i.address == pc for i in insns):
        return title, [[("error", str(MemoryAccessError(pc)))]]
    marks = condition_marks(insns, pc, thumb, cpsr)
    lines = []
    for insn in insns:
        name = session.symbolize(insn.address)
        lines.append(disassembly_line(insn, f"<{name}>" if name else "",
                                      at_pc=insn.address == pc, symbolize=session.symbolize,
                                      mark=marks.get(insn.address),
            note=session.code_note(insn.address)))
    return title, lines


def _stack(session: Session) -> tuple[str, list[list[Token]]]:
    sp = session.machine.read_register("sp")
    words = []
    for index in range(STACK_WORDS):
        try:
            words.append(int.from_bytes(session.read_memory(sp + 4 * index, 4), "little"))
        except MemoryAccessError as err:
            if not words:
                return "stack", [[("error", str(err))]]
            break
    return "stack", stack_lines(sp, words, session.symbolize)


_RENDERERS = {"regs": _regs, "code": _code, "stack": _stack}


@commands.command("context", category="status", usage="context [on|off | SECTION...]")
def cmd_context(ctx: Context, args: str) -> None:
    """Show the context display: registers, code around PC, stack.

    With section names (regs, code, stack), only those.  "context off" and "context
    on" are short for "set context off|on", which controls the display on every stop;
    "set context-sections" chooses its sections and their order.
    """
    words = args.replace(",", " ").split()
    session = ctx.session
    if words in (["on"], ["off"]):
        session.settings.set("context", words[0])
        return
    if words:
        _check_sections(session, words)
        sections = words
    else:
        sections = configured_sections(session, strict=True)
    show_context(ctx, sections)
