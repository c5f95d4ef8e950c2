"""Data, state, code and context commands: what transcripts cannot show (Enter repeats,
the stop event, convenience values' types) and the pure parsers and the unwinder."""

from __future__ import annotations

from pathlib import Path

import pytest
from shell import output

from armdbg import expr
from armdbg.app import App
from armdbg.commands.data import parse_printf_format, split_arguments
from armdbg.commands.running import publish_stop
from armdbg.errors import ArmdbgError
from armdbg.frames import analyze_prologue, unwind
from armdbg.isa.asm import assemble
from armdbg.isa.disasm import decode_many
from armdbg.machine.stops import StopEvent, StopReason
from armdbg.machine.symbols import Symbol

FIXTURES = Path(__file__).parent.parent / "fixtures"
SCRATCH = 0x80100000        # unused kernel text: room for test code
MAIN_28 = 0x8000808C        # a return address inside main






def run(app: App, line: str, *, from_tty: bool = False) -> str:
    output(app)
    app.run_line(line, from_tty=from_tty)
    return output(app)


def enter(app: App) -> str:
    """What pressing Enter at the prompt runs and prints."""
    line = app.dispatcher.repeat_line()
    assert line is not None
    return run(app, line, from_tty=True)


# --------------------------------------------------------------------------- x


def test_enter_after_x_continues_with_the_same_count_and_format(app: App) -> None:
    assert run(app, "x/2xw 0x80008000", from_tty=True) == \
        "0x80008000 <_start>:\t0xe300d000\t0xe348d041\n"
    assert app.dispatcher.repeat_line() == "x"
    assert enter(app) == "0x80008008 <_start+8>:\t0xeb000018\t0xe24dd008\n"
    assert enter(app) == "0x80008010 <_start+16>:\t0xe3001026\t0xe3401002\n"


def test_enter_after_x_i_continues_disassembling(app: App) -> None:
    run(app, "x/2i $pc", from_tty=True)
    assert enter(app) == ("   0x80008008 <_start+8>:\tbl\t0x80008070 <main>\n"
                          "   0x8000800c <_start+12>:\tsub\tsp, sp, #8\n")


def test_x_remembers_format_and_size_but_not_count(app: App) -> None:
    run(app, "x/3xb 0x80008000")
    assert run(app, "x 0x80008004") == "0x80008004 <_start+4>:\t0x41\n"
    # gdb keeps the previous size across x/i, so x/x afterwards is still bytes.
    run(app, "x/i 0x80008000")
    assert run(app, "x/x 0x80008000") == "0x80008000 <_start>:\t0x00\n"


def test_x_sets_underscore_variables_with_types(app: App) -> None:
    run(app, "x/2xh 0x80008000")
    last = app.session.convenience["_"]
    assert last.value == 0x80008002
    assert last.ctype.name == "int16_t *"
    contents = app.session.convenience["__"]
    assert (contents.value, contents.ctype.name) == (-0x1D00, "int16_t")  # 0xe300
    run(app, "x/s 0x800080fc")
    assert app.session.convenience["_"].ctype == expr.pointer_to(expr.CHAR)
    assert "__" not in app.session.convenience  # x/s does not read a value: $__ is void


def test_x_error_keeps_the_partial_line_like_gdb(app: App) -> None:
    output(app)
    with pytest.raises(ArmdbgError, match="Cannot access memory at address 0x80410000"):
        app.run_line("x/3xw 0x8040fff8")
    assert output(app) == "0x8040fff8:\t0x00000000\t0x00000000\t"


# --------------------------------------------------------------------------- disassemble


def test_enter_after_a_disassembly_range_continues_with_the_next(app: App) -> None:
    run(app, "disassemble /r 0x80008030,+8", from_tty=True)
    assert app.dispatcher.repeat_line() == "disassemble /r 0x80008038,+8"
    assert enter(app) == ("Dump of assembler code from 0x80008038 to 0x80008040:\n"
                          "   0x80008038 <do_something+8>:\te3484020\tmovt\tr4, #0x8020\n"
                          "   0x8000803c <do_something+12>:\te5941000\tldr\tr1, [r4]\n"
                          "End of assembler dump.\n")


def test_enter_after_disassembling_a_function_does_nothing(app: App) -> None:
    run(app, "disassemble main", from_tty=True)
    assert app.dispatcher.repeat_line() is None


def test_disassemble_hides_breakpoint_words(app: App) -> None:
    run(app, "break do_something")
    assert "push\t{r4, lr}" in run(app, "disassemble do_something")


# --------------------------------------------------------------------------- print, printf


def test_print_records_rvalues_in_the_history(app: App) -> None:
    run(app, "set $r0 = 5")
    assert run(app, "p $r0") == "$1 = 5\n"
    run(app, "set $r0 = 6")
    assert run(app, "p $1") == "$2 = 5\n"
    assert app.session.extensions["value-history"][0].register is None


def test_printf_format_pieces() -> None:
    pieces = parse_printf_format("a=%-5d%%b=%#x %s\n")
    assert pieces[0] == "a="
    assert (pieces[1].flags, pieces[1].width, pieces[1].conversion) == ("-", "5", "d")
    assert pieces[2] == "%b="
    assert (pieces[3].flags, pieces[3].conversion) == ("#", "x")
    assert pieces[4] == " "
    assert pieces[5].conversion == "s"
    assert pieces[6] == "\n"


@pytest.mark.parametrize(("text", "args"), [
    ("1, 2", ["1", "2"]),
    ("f(1, 2), $r0", ["f(1, 2)", "$r0"]),
    ("\"a, b\", ','", ["\"a, b\"", "','"]),
    ("a[1,2] ,b", ["a[1,2]", "b"]),
    ("", []),
])
def test_printf_arguments_split_at_top_level_commas(text: str, args: list[str]) -> None:
    assert split_arguments(text) == args


# --------------------------------------------------------------------------- stop event


def test_display_typed_at_the_prompt_is_shown_at_once(app: App) -> None:
    assert run(app, "display/i $pc", from_tty=True) == \
        "1: x/i $pc\n=> 0x80008000 <_start>:\tmovw\tsp, #0\n"
    assert run(app, "display $r0") == ""  # from a script: at the next stop, as gdb does
    assert app.dispatcher.repeat_line() is None


def test_displays_follow_the_context_on_every_stop(app: App) -> None:
    run(app, "display/x $sp")
    run(app, "set context on")
    text = run(app, "stepi")
    assert text.index("---[ regs ]") < text.index("---[ code (arm) ]") \
        < text.index("---[ stack ]") < text.index("1: /x $sp = 0x0")
    # The stepped "movw sp, #0" changed sp (and pc): both are marked.
    assert "  *sp 0x00000000" in text
    assert "  *pc 0x80008004 <_start+4>" in text
    assert "   r0 0x00000000" in text


def test_nothing_is_shown_after_the_program_exits(app: App) -> None:
    run(app, "display $r0")
    run(app, "set context on")
    ctx = app.context()
    output(app)
    publish_stop(app.session, ctx, StopEvent(StopReason.EXITED, 0, False, exit_code=0))
    assert output(app) == ""
    publish_stop(app.session, ctx, StopEvent(StopReason.STEP, 0x80008000, False))
    assert "1: $r0 = 0" in output(app)


def test_context_command_compares_with_the_previous_stop(app: App) -> None:
    run(app, "stepi")
    run(app, "stepi")  # movt sp: sp changes again, pc too
    run(app, "set $r3 = 7")
    text = run(app, "context regs")
    assert "*r3 0x00000007" in text
    assert "*sp 0x80410000" in text


# --------------------------------------------------------------------------- backtrace


def _function(app: App, name: str, source: str, thumb: bool) -> int:
    """Assemble a function at SCRATCH with a symbol; return the address after it."""
    code = assemble(source, SCRATCH, thumb)
    app.session.write_memory(SCRATCH, code)
    app.session.symbols.add(Symbol(name, SCRATCH, len(code), thumb, "func"))
    return SCRATCH + len(code)


def _enter_function(app: App, thumb: bool, steps: int) -> None:
    machine = app.session.machine
    machine.write_register("sp", 0x8040FF00)
    machine.write_register("lr", MAIN_28)
    machine.write_register("r3", 16)
    machine.set_pc(SCRATCH, thumb)
    for _ in range(steps):
        assert machine.step().reason is StopReason.STEP


def test_apcs_frame_pointer_finds_the_caller_after_alloca(app: App) -> None:
    _function(app, "apcs", "mov ip, sp; push {fp, ip, lr, pc}; sub fp, ip, #4; "
                           "sub sp, sp, r3; nop; bx lr", thumb=False)
    _enter_function(app, thumb=False, steps=4)
    frames, stopped = unwind(app.session)
    assert [(f.pc, f.function.name if f.function else None) for f in frames] == \
        [(SCRATCH + 16, "apcs"), (MAIN_28, "main")]
    assert stopped is None


def test_thumb_r7_frame_pointer(app: App) -> None:
    _function(app, "t7", "push {r4, r7, lr}; add r7, sp, #4; sub.w sp, sp, r3; nop; bx lr",
              thumb=True)
    _enter_function(app, thumb=True, steps=3)
    assert run(app, "bt") == ("#0  0x80100008 in t7 ()\n"
                              "#1  0x8000808c in main ()\n")


def test_prologue_analysis_of_plain_stack_frames() -> None:
    code = assemble("push {r4, r5, lr}; sub sp, sp, #16; str r0, [sp]; nop", SCRATCH, False)
    insns = decode_many(code, SCRATCH, False)
    layout = analyze_prologue(insns, SCRATCH + 12)
    assert layout.sp_offset == -28
    assert layout.saved == {"r4": -12, "r5": -8, "lr": -4}
    # At the first instruction nothing has run yet: the caller is in LR.
    assert analyze_prologue(insns, SCRATCH) == analyze_prologue([], SCRATCH)


def test_prologue_analysis_passes_conditional_returns() -> None:
    # gcc's shrink-wrapping: an early conditional return before the push.
    code = assemble("cmp r0, #1; bxle lr; push {r4, lr}; nop", SCRATCH, False)
    layout = analyze_prologue(decode_many(code, SCRATCH, False), SCRATCH + 12)
    assert (layout.sp_offset, layout.saved) == (-8, {"r4": -8, "lr": -4})
    code = assemble("cmp r0, #1; it le; pople {r4, pc}; nop", SCRATCH, True)
    insns = decode_many(code, SCRATCH, True)
    assert analyze_prologue(insns, SCRATCH + 8).sp_offset == 0


def test_prologue_analysis_follows_an_epilogue_and_stops_at_branches() -> None:
    code = assemble("push {r4, lr}; pop {r4, lr}; bx lr", SCRATCH, False)
    layout = analyze_prologue(decode_many(code, SCRATCH, False), SCRATCH + 8)
    assert (layout.sp_offset, layout.saved) == (0, {})
    code = assemble("push {r4, lr}; b 0x80100010; sub sp, sp, #8; nop", SCRATCH, False)
    layout = analyze_prologue(decode_many(code, SCRATCH, False), SCRATCH + 12)
    assert layout.sp_offset == -8  # the sub after the jump is not straight-line code


# --------------------------------------------------------------------------- asm, load


def test_asm_remembers_the_instruction_set_of_what_it_wrote(app: App) -> None:
    run(app, "asm --thumb 0x80100000 'movs r0, #1; bx lr'")
    run(app, "asm --thumb main 'movs r0, #1; bx lr'")
    assert run(app, "x/i 0x80100000") == "   0x80100000:\tmovs\tr0, #1\n"
    assert run(app, "x/i main") == "   0x80008070 <main>:\tmovs\tr0, #1\n"
    # A reload rewrites the image (main is ARM again); code outside it stays.
    app.session.reload()
    assert run(app, "x/i 0x80100000") == "   0x80100000:\tmovs\tr0, #1\n"
    assert run(app, "x/i main") == "   0x80008070 <main>:\tpush\t{r4, r5, r6, lr}\n"


def test_asm_failure_writes_nothing(app: App) -> None:
    before = app.session.read_memory(0x80100000, 8)
    with pytest.raises(ArmdbgError, match="instruction 2 `nosuch r0'"):
        app.run_line("asm 0x80100000 'nop; nosuch r0'")
    assert app.session.read_memory(0x80100000, 8) == before


def test_load_elf_keeps_section_names_for_info_symbol(app: App) -> None:
    run(app, f"file {FIXTURES / 'hello-arm.elf'}")
    assert run(app, "info symbol &__mprec_tens") == "__mprec_tens in section .rodata\n"
    assert run(app, "info symbol _global_impure_ptr") == \
        "_global_impure_ptr in section .rodata\n"
    assert run(app, "info symbol main") == "main in section .text\n"


def test_load_errors_name_the_file_as_typed(app: App, tmp_path: Path) -> None:
    app.session.cwd = tmp_path
    (tmp_path / "text.bin").write_text("not an elf")
    with pytest.raises(ArmdbgError, match=r"^text\.bin: not an ELF file"):
        app.run_line("load elf text.bin")
    run(app, "load raw text.bin 0x80100000")
    assert app.session.machine.pc == 0x80100000
