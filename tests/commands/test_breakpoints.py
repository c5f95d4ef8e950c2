"""Breakpoint and watchpoint model: gdb's hit bookkeeping, traps, and the messages gdb
prints only for commands typed at the terminal (transcripts run from files, where gdb
is quiet, so those are checked here)."""

from __future__ import annotations

import pytest
from shell import output, tty

from armdbg.app import App
from armdbg.breakpoints import (
    DISP_DELETE,
    DISP_DISABLE,
    Breakpoint,
    Stoppoint,
    Watchpoint,
    check_expression,
)
from armdbg.commands.breakpoints import (
    command_lines,
    describe_others,
    split_condition,
    table_of,
)
from armdbg.errors import ArmdbgError, NoSymbolError, UsageError
from armdbg.machine.machine import GDB_ARM_BREAKPOINT, GDB_THUMB_BREAKPOINT

DO_SOMETHING = 0x80008030
THUMB_ITBLOCKS = 0x80008150








# --------------------------------------------------------------------------- hit rules


def point(**changes: object) -> Stoppoint:
    bp = Breakpoint(1, "do_something")
    for name, value in changes.items():
        setattr(bp, name, value)
    return bp


def test_a_false_condition_is_no_hit_at_all() -> None:
    bp = point(ignore_count=2)
    assert not bp.register_hit(False)
    assert (bp.hit_count, bp.ignore_count) == (0, 2)


def test_ignored_crossings_count_as_hits() -> None:
    bp = point(ignore_count=2)
    assert [bp.register_hit(True) for _ in range(3)] == [False, False, True]
    assert (bp.hit_count, bp.ignore_count) == (3, 0)


def test_enable_once_disables_after_the_stop_not_after_ignored_crossings() -> None:
    bp = point(disposition=DISP_DISABLE, enable_count=1, ignore_count=1)
    assert not bp.register_hit(True)
    assert bp.enabled
    assert bp.register_hit(True)
    assert not bp.enabled


def test_enable_count_allows_that_many_stops() -> None:
    bp = point(disposition=DISP_DISABLE, enable_count=3)
    stops = [bp.register_hit(True) for _ in range(3)]
    assert stops == [True, True, True]
    assert not bp.enabled
    assert bp.hit_count == 3


def test_temporary_and_silent() -> None:
    assert point(disposition=DISP_DELETE).temporary
    assert point(commands=["silent", "continue"]).silent
    assert not point(commands=["echo silent\\n"]).silent


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(("text", "expected"), [
    ("do_something", ("do_something", None)),
    ("do_something if $r0 == 5", ("do_something", "$r0 == 5")),
    ("*0x80008030 if($r0)", ("*0x80008030", "($r0)")),
    ("if $r0", ("", "$r0")),
    ("verify_it", ("verify_it", None)),
])
def test_split_condition(text: str, expected: tuple[str, str | None]) -> None:
    assert split_condition(text) == expected


def test_an_empty_condition_is_an_error() -> None:
    with pytest.raises(UsageError, match="boolean expression"):
        split_condition("main if")


def test_conditions_are_checked_for_unknown_symbols_when_set(app: App) -> None:
    check_expression(app.session, "$r0 == 5 && *(int *)&calls > 1")
    with pytest.raises(NoSymbolError):
        check_expression(app.session, "$r0 == nosuch")


def test_number_lists(app: App) -> None:
    for number in range(4):
        app.run_line(f"break *{DO_SOMETHING + 4 * number:#x}")
    app.run_line("delete 2-3")
    assert [p.number for p in table_of(app.session)] == [1, 4]
    app.run_line("disable $bpnum")
    assert not table_of(app.session).get(4).enabled
    with pytest.raises(UsageError, match="inverted range"):
        app.run_line("delete 4-1")
    with pytest.raises(UsageError, match="Bad breakpoint number 'x'"):
        app.run_line("disable x")


def test_missing_numbers_are_reported_and_skipped(app: App) -> None:
    app.run_line("break main")
    output(app)
    app.run_line("disable 7 1")
    assert output(app) == "No breakpoint number 7.\n"
    assert not table_of(app.session).get(1).enabled
    with pytest.raises(ArmdbgError, match=r"No breakpoint number 7\."):
        app.run_line("condition 7 1")


# --------------------------------------------------------------------------- display


def test_describe_other_breakpoints() -> None:
    one = Breakpoint(1, "x")
    two = Breakpoint(2, "x", enabled=False)
    three = Breakpoint(3, "x")
    assert describe_others([one], 0x10) == "Note: breakpoint 1 also set at pc 0x10."
    assert describe_others([one, two], 0x10) == \
        "Note: breakpoints 1 and 2 (disabled) also set at pc 0x10."
    assert describe_others([one, two, three], 0x10) == \
        "Note: breakpoints 1, 2 (disabled) and 3 also set at pc 0x10."


def test_commands_are_listed_with_nested_blocks_indented() -> None:
    body = ["silent", "if $r0 == 1", "echo one\\n", "else", "while 0", "echo x\\n", "end",
            "end", "continue"]
    assert command_lines(body) == [
        "        silent",
        "        if $r0 == 1",
        "          echo one\\n",
        "        else",
        "          while 0",
        "            echo x\\n",
        "          end",
        "        end",
        "        continue",
    ]


# --------------------------------------------------------------------------- from_tty messages


def test_note_for_a_second_breakpoint_at_the_same_pc(app: App) -> None:
    assert tty(app, "break do_something") == "Breakpoint 1 at 0x80008030\n"
    assert tty(app, "tbreak *0x80008030") == (
        "Note: breakpoint 1 also set at pc 0x80008030.\n"
        "Temporary breakpoint 2 at 0x80008030\n")
    app.run_line("break do_something")  # from a file: no note, as in gdb
    assert output(app) == "Breakpoint 3 at 0x80008030\n"


def test_ignore_and_condition_messages(app: App) -> None:
    app.run_line("break do_something")
    assert tty(app, "ignore 1 3") == "Will ignore next 3 crossings of breakpoint 1.\n"
    assert tty(app, "ignore 1 1") == "Will ignore next crossing of breakpoint 1.\n"
    assert tty(app, "ignore 1 -4") == "Will stop next time breakpoint 1 is reached.\n"
    assert tty(app, "condition 1 $r0 == 3") == ""
    assert tty(app, "condition 1") == "Breakpoint 1 now unconditional.\n"
    app.run_line("ignore 1 5")
    assert output(app) == ""
    assert table_of(app.session).get(1).ignore_count == 5


def test_bpnum_is_the_last_number_given(app: App) -> None:
    app.run_line("break main")
    app.run_line("watch calls")
    app.run_line("print $bpnum")
    assert output(app).endswith("$1 = 2\n")


# --------------------------------------------------------------------------- traps


def word_at(app: App, address: int, size: int = 4) -> bytes:
    return app.session.machine.read_memory(address, size)


def test_traps_follow_enable_disable_delete_and_are_hidden_from_reads(app: App) -> None:
    original = word_at(app, DO_SOMETHING)
    app.run_line("break do_something")
    app.run_line("break do_something")
    assert word_at(app, DO_SOMETHING) == GDB_ARM_BREAKPOINT
    assert app.session.read_memory(DO_SOMETHING, 4) == original
    app.run_line("disable 1")
    assert word_at(app, DO_SOMETHING) == GDB_ARM_BREAKPOINT  # 2 still wants it
    app.run_line("disable 2")
    assert word_at(app, DO_SOMETHING) == original
    app.run_line("enable")
    assert word_at(app, DO_SOMETHING) == GDB_ARM_BREAKPOINT
    app.run_line("delete")
    assert word_at(app, DO_SOMETHING) == original


def test_thumb_breakpoints_use_the_thumb_word(app: App) -> None:
    app.run_line("break thumb_itblocks")
    assert word_at(app, THUMB_ITBLOCKS, 2) == GDB_THUMB_BREAKPOINT


def test_breakpoints_survive_run_and_program_reloads(app: App) -> None:
    app.run_line("break do_something")
    app.run_line("run")
    app.run_line("run")
    assert word_at(app, DO_SOMETHING) == GDB_ARM_BREAKPOINT
    assert "Breakpoint 1, 0x80008030 in do_something ()" in output(app)
    assert table_of(app.session).get(1).hit_count == 1  # run counts from zero
    app.session.reload()  # anyone's reload ("load"), not only run's
    assert word_at(app, DO_SOMETHING) == GDB_ARM_BREAKPOINT


def test_a_trap_that_cannot_be_inserted_aborts_the_resume(app: App) -> None:
    app.run_line("break *0x10")
    assert output(app) == "Breakpoint 1 at 0x10\n"
    with pytest.raises(ArmdbgError) as failure:
        app.run_line("continue")
    assert str(failure.value) == ("Warning:\nCannot insert breakpoint 1.\n"
                                  "Cannot access memory at address 0x10\n\nCommand aborted.")
    app.run_line("delete")
    app.run_line("stepi")
    assert output(app) == "0x80008004 in _start ()\n"


def test_watchpoint_hooks_follow_enable_and_delete(app: App) -> None:
    machine = app.session.machine
    app.run_line("watch calls")
    wp = table_of(app.session).get(1)
    assert isinstance(wp, Watchpoint)
    assert wp.hook is not None and wp.hook in machine._memory_hooks
    app.run_line("disable 1")
    assert wp.hook is None
    app.run_line("enable 1")
    app.run_line("delete 1")
    assert wp.hook is None and not machine._memory_hooks


def test_watching_unreadable_memory_is_allowed(app: App) -> None:
    app.run_line("watch *(int *)0")
    assert output(app) == "Hardware watchpoint 1: *(int *)0\n"
    assert table_of(app.session).get(1).old_value is None  # type: ignore[attr-defined]
