"""Run control: what transcripts cannot show (terminal-only messages, interrupts, time
limits, watchpoint precision inside IT blocks) and the pure helpers."""

from __future__ import annotations

import pytest
from shell import output, tty

from armdbg.app import App
from armdbg.commands.running import exit_line, run_control, signal_detail
from armdbg.errors import ArmdbgError
from armdbg.isa.asm import assemble
from armdbg.isa.disasm import decode_one
from armdbg.machine.stops import StopEvent, StopReason
from armdbg.runcontrol import is_call
from armdbg.session import ProgramState

DO_SOMETHING = 0x80008030
LOOP_FOREVER = 0x8000802C   # _start's final "b ."
SCRATCH = 0x80100000        # unused kernel text: room for test code
CALLS = 0x80200000








# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(("source", "thumb", "call"), [
    ("bl 0x1000", False, True),
    ("blx r3", False, True),
    ("blne 0x1000", False, True),
    ("bls 0x1000", False, False),
    ("blt 0x1000", False, False),
    ("ble 0x1000", False, False),
    ("b 0x1000", False, False),
    ("bx lr", False, False),
    ("bl 0x1000", True, True),
    ("blx ip", True, True),
])
def test_calls_that_nexti_steps_over(source: str, thumb: bool, call: bool) -> None:
    insn = decode_one(assemble(source, 0x800, thumb), 0x800, thumb)
    assert is_call(insn) is call


@pytest.mark.parametrize(("code", "line"), [
    (0, "[Inferior 1 (process 1) exited normally]"),
    (None, "[Inferior 1 (process 1) exited normally]"),
    (3, "[Inferior 1 (process 1) exited with code 03]"),
    (8, "[Inferior 1 (process 1) exited with code 010]"),
    (42, "[Inferior 1 (process 1) exited with code 052]"),
    (255, "[Inferior 1 (process 1) exited with code 0377]"),
])
def test_exit_status_is_octal_with_a_leading_zero(code: int | None, line: str) -> None:
    assert exit_line(code) == line


@pytest.mark.parametrize(("signal", "description", "detail"), [
    ("SIGSEGV", "Program received signal SIGSEGV, Segmentation fault "
                "(write to unmapped memory at 0x00000000).",
     "Write to unmapped memory at 0x00000000."),
    ("SIGILL", "Program received signal SIGILL, Illegal instruction (e7f000f0: udf\t#0).",
     "e7f000f0: udf #0."),
    ("SIGINT", "Program received signal SIGINT, Interrupt.", None),
    ("SIGSYS", "Program stopped: unhandled SVC 0x12.", "Unhandled SVC 0x12."),
])
def test_signal_detail(app: App, signal: str, description: str, detail: str | None) -> None:
    event = StopEvent(StopReason.SIGNAL, 0, False, signal=signal, description=description)
    assert signal_detail(app.session, event) == detail


# --------------------------------------------------------------------------- terminal messages


def test_messages_gdb_prints_only_at_the_terminal(app: App) -> None:
    app.run_line("break do_something")
    assert tty(app, "run") == ("Starting program: demo\n"
                               "armdbg demo: calling do_something 1000 times\n\n"
                               "Breakpoint 1, 0x80008030 in do_something ()\n")
    assert tty(app, "continue 3") == (
        "Will ignore next 2 crossings of breakpoint 1.  Continuing.\n\n"
        "Breakpoint 1, 0x80008030 in do_something ()\n")
    assert tty(app, "finish") == ("Run till exit from #0  0x80008030 in do_something ()\n"
                                  "0x8000808c in main ()\n")
    assert tty(app, "continue 2") == (
        "Not stopped at any breakpoint; argument ignored.\nContinuing.\n\n"
        "Breakpoint 1, 0x80008030 in do_something ()\n")
    app.run_line("delete")
    assert tty(app, "jump *0x80008098") == "Continuing at 0x80008098.\n" + "\n".join([
        "armdbg demo: done", "[Inferior 1 (process 1) exited normally]", ""])


def test_run_arguments_become_the_command_line(app: App) -> None:
    app.run_line("tbreak main")
    assert tty(app, "run alpha beta").startswith("Starting program: demo alpha beta\n")
    assert app.session.program_args == ["alpha", "beta"]


# --------------------------------------------------------------------------- states


def test_states_and_exitcode(app: App) -> None:
    session = app.session
    assert session.state == ProgramState.LOADED
    app.run_line("stepi")
    assert session.state == ProgramState.STOPPED
    app.run_line("continue")
    assert session.state == ProgramState.EXITED
    assert session.exit_code == 0
    assert session.convenience["_exitcode"].value == 0
    app.run_line("tbreak main")
    app.run_line("run")
    assert session.state == ProgramState.STOPPED
    app.run_line("kill")
    assert session.state == ProgramState.EXITED
    assert session.machine.pc == 0x80008000  # a fresh image, as gdb reads the file
    with pytest.raises(ArmdbgError, match=r"The program is not being run\."):
        app.run_line("stepi")


# --------------------------------------------------------------------------- interrupt, timeout


def test_an_interrupt_stops_the_run_and_leaves_it_resumable(app: App) -> None:
    session = app.session
    app.run_line("break do_something if $r0 == 1")
    control = run_control(session)
    table = control.table
    evaluations = 0
    real = table.condition_holds

    def holds(point):  # type: ignore[no-untyped-def]
        # Ctrl-C arrives while run control is between two runs (a false condition):
        # the next emu_start returns at once, at a consistent state.
        nonlocal evaluations
        evaluations += 1
        if evaluations == 5:
            session.machine.interrupt()
        return real(point)

    table.condition_holds = holds  # type: ignore[method-assign]
    app.run_line("run")
    assert output(app).endswith("\nProgram received signal SIGINT, Interrupt.\n"
                                "0x80008030 in do_something ()\n")
    assert session.machine.read_register("r0") == 996
    app.run_line("continue")
    assert output(app).endswith("\nBreakpoint 1, 0x80008030 in do_something ()\n")
    assert session.machine.read_register("r0") == 1
    assert table.get(1).hit_count == 1


def test_an_interrupt_stops_stepping(app: App) -> None:
    app.run_line("tbreak *0x80008094")
    app.run_line("run")
    output(app)
    app.session.machine.interrupt()
    app.run_line("until")
    assert output(app) == ("\nProgram received signal SIGINT, Interrupt.\n"
                           "0x80008094 in main ()\n")
    app.run_line("until")
    assert output(app) == "0x80008098 in main ()\n"


def test_run_timeout_stops_a_program_that_never_ends(app: App) -> None:
    app.session.settings.set_value("run-timeout", 0.05)  # the setting holds seconds
    app.run_line(f"jump *{LOOP_FOREVER:#x}")  # "b ." never ends
    assert output(app) == ("\nProgram received signal SIGALRM, Alarm clock.\n"
                           "Time limit of 0.05 seconds reached (set run-timeout).\n"
                           "0x8000802c in _start ()\n")
    assert app.session.state == ProgramState.STOPPED


# --------------------------------------------------------------------------- watchpoints


IT_STORE = """
    movs r0, #5
    movw r1, #0
    movt r1, #0x8020
    movw r2, #8
    movt r2, #0x8020
    cmp r0, #5
    itte eq
    addeq r0, #1
    streq r0, [r1]
    addne r0, #7
    adds r0, #1
    str r0, [r2]
    adds r0, #1
    b lab
    nop
lab:
    adds r0, #1
    b .
"""


def test_a_watched_store_inside_an_it_block_stops_right_after_it(app: App) -> None:
    """Unicorn runs past an IT-block access before it honours the stop; run control
    undoes what ran after it (see armdbg.runcontrol)."""
    session = app.session
    machine = session.machine
    code = assemble(IT_STORE, SCRATCH, True)
    session.write_memory(SCRATCH, code)
    machine.set_pc(SCRATCH, True)
    app.run_line("watch *(int *)0x80200000")
    app.run_line("continue")
    assert output(app).endswith("Old value = 0\nNew value = 6\n0x8010001a in ?? ()\n")
    store = SCRATCH + 0x18
    assert machine.pc == store + 2
    assert machine.read_register("r0") == 6
    assert machine.read_u32(CALLS + 8) == 0  # the later store was undone
    app.run_line("stepi")  # the block's "addne" slot, skipped
    assert machine.pc == store + 4 and machine.read_register("r0") == 6
    app.run_line("watch *(int *)0x80200008")
    app.run_line("continue")
    assert output(app).endswith("Old value = 0\nNew value = 7\n0x80100020 in ?? ()\n")
    assert machine.read_register("r0") == 7


def test_a_write_that_keeps_the_value_does_not_stop(app: App) -> None:
    session = app.session
    code = assemble("""
        movw r1, #0
        movt r1, #0x8020
        movs r0, #0
        str r0, [r1]
        movs r0, #9
        str r0, [r1]
        b .
    """, SCRATCH, False)
    session.write_memory(SCRATCH, code)
    session.machine.set_pc(SCRATCH, False)
    app.run_line("watch calls")
    app.run_line("continue")
    assert output(app).endswith("Old value = 0\nNew value = 9\n0x80100018 in ?? ()\n")


def test_stepping_onto_a_breakpoint_after_a_watch_stop_reports_it(app: App) -> None:
    app.run_line("break *0x80008048")
    app.run_line("watch calls")
    app.run_line("run")
    text = output(app)
    assert "New value = 1\n\nBreakpoint 1, 0x80008048 in do_something ()\n" in text


def test_confirmations_under_set_confirm_on(app: App) -> None:
    app.run_line("set confirm on")
    app.run_line("break do_something")
    app.run_line("run")
    assert tty(app, "run").startswith(
        "The program being debugged has been started already.\n"
        "Start it from the beginning? (y or n) [answered Y; input not from terminal]\n"
        "Starting program: demo\n")
    assert tty(app, "delete") == \
        "Delete all breakpoints? (y or n) [answered Y; input not from terminal]\n"
    assert tty(app, "kill") == ("Kill the program being debugged? (y or n) "
                                "[answered Y; input not from terminal]\n"
                                "[Inferior 1 (process 1) killed]\n")


def test_stepping_a_return_after_a_run_stops_at_the_return_address(app: App) -> None:
    # The blocks of main's loop were translated by the runs; a single step of the
    # return must not run on through them (unicorn #1606).
    app.run_line("break *0x80008050")  # pop {r4, pc}
    app.run_line("run")
    app.run_line("continue")
    output(app)
    app.run_line("stepi")
    assert output(app) == "0x8000808c in main ()\n"
