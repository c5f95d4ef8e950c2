"""The command language (define, if/while, source) and set/show, through a real App.

Transcripts (tests/transcripts/script_*, set_*) cover the output users see; these
tests cover what a transcript cannot: Ctrl-C in a loop, state left behind after
errors, nested files in separate directories, Enter-repeat, interactive prompts.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from armdbg.app import App
from armdbg.commands.blocks import ListSource
from armdbg.commands.context import Context
from armdbg.commands.registry import CommandSet, CommandSpec, Registry
from armdbg.commands.scripting import format_body, scripting_state, split_user_args
from armdbg.commands.settings_cmds import find_setting
from armdbg.errors import ArmdbgError, UsageError
from armdbg.script import ScriptError
from armdbg.settings import Settings


@pytest.fixture
def app() -> App:
    out = io.StringIO()
    app = App(stdout=out, stderr=out)
    app.load_initial(None)
    return app


def output(app: App) -> str:
    stream = app.stdout
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def run(app: App, text: str, *, from_tty: bool = False) -> None:
    """Run lines as a command file would (bodies read from the same lines)."""
    app.dispatcher.run_lines(text.strip("\n").splitlines(), app.context(from_tty=from_tty))


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(("text", "expected"), [
    ("", []),
    ("a b  c", ["a", "b", "c"]),
    ('"two words" 3', ['"two words"', "3"]),
    ("'x y' z", ["'x y'", "z"]),
    ("a\\ b c", ["a\\ b", "c"]),          # gdb keeps the backslash in the argument
    ('"it\'s" x', ['"it\'s"', "x"]),       # a quote inside the other kind of quotes
    ("\tx\t", ["x"]),
])
def test_user_arguments_split_like_gdb(text: str, expected: list[str]) -> None:
    assert split_user_args(text) == expected


def test_show_user_reindents_nested_bodies_and_drops_comments() -> None:
    body = ["echo a", "# a comment", "", "if $x", "while 1", "loop_break", "end", "else",
            "echo b", "end"]
    assert format_body(body) == [
        "  echo a",
        "  if $x",
        "    while 1",
        "      loop_break",
        "    end",
        "  else",
        "    echo b",
        "  end",
    ]


# --------------------------------------------------------------------------- Ctrl-C


def _interrupting_command(after: int) -> tuple[CommandSet, list[int]]:
    """A command that counts its calls and raises KeyboardInterrupt (Ctrl-C) at ``after``."""
    calls: list[int] = []
    extra = CommandSet(owner="tests")

    @extra.command("tick")
    def tick(ctx: Context, args: str) -> None:
        """Count, then act like a Ctrl-C."""
        calls.append(1)
        if len(calls) >= after:
            raise KeyboardInterrupt

    return extra, calls


def test_ctrl_c_breaks_out_of_an_endless_while_loop(app: App) -> None:
    extra, calls = _interrupting_command(after=3)
    app.registry.add_set(extra)
    limit = sys.getrecursionlimit()
    with pytest.raises(KeyboardInterrupt):
        run(app, "define spin\n  while 1\n    tick\n  end\nend\nspin")
    assert len(calls) == 3
    state = scripting_state(app.session)
    assert (state.call_depth, state.loop_depth) == (0, 0)
    assert sys.getrecursionlimit() == limit
    # The session is usable afterwards: loops and loop_break work again.
    run(app, "set $i = 0\nwhile 1\n  set $i = $i + 1\n  if $i == 2\n    loop_break\n  end\nend")
    assert app.session.convenience["i"].value == 2
    with pytest.raises(UsageError, match="only be used inside"):
        run(app, "loop_break")


def test_loop_break_in_a_user_command_does_not_leave_the_callers_loop(app: App) -> None:
    run(app, "define brk\n  loop_break\nend")
    with pytest.raises(UsageError, match='"loop_break" can only be used inside'):
        run(app, "while 1\n  brk\nend")
    assert scripting_state(app.session).loop_depth == 0


# --------------------------------------------------------------------------- errors


def test_an_error_stops_the_definition_and_the_depth_is_restored(app: App) -> None:
    run(app, "define bad\n  echo one\\n\n  nosuch\n  echo two\\n\nend")
    with pytest.raises(UsageError, match='Undefined command: "nosuch"'):
        run(app, "bad")
    assert output(app) == "one\n"
    assert scripting_state(app.session).call_depth == 0


def test_deep_but_legal_recursion_fits_and_the_limit_is_enforced(app: App) -> None:
    run(app, "define down\n  if $arg0 > 0\n    down $arg0-1\n  end\n  set $n = $n + 1\nend\n"
             "set $n = 0\ndown 600")
    assert app.session.convenience["n"].value == 601
    run(app, "set max-user-call-depth 20")
    with pytest.raises(ArmdbgError, match="Max user call depth exceeded"):
        run(app, "down 30")
    assert scripting_state(app.session).call_depth == 0


def test_unlimited_depth_still_ends_in_one_line_error(app: App) -> None:
    run(app, "set max-user-call-depth unlimited\ndefine forever\n  forever\nend")
    with pytest.raises(ArmdbgError, match="Max user call depth exceeded"):
        run(app, "forever")
    assert scripting_state(app.session).call_depth == 0


def test_nested_source_reports_the_inner_file_and_line(app: App, tmp_path: Path) -> None:
    inner = tmp_path / "lib" / "inner.cmd"
    inner.parent.mkdir()
    inner.write_text("echo inner\\n\nnosuch-command\necho not reached\\n\n")
    outer = tmp_path / "outer.cmd"
    outer.write_text(f"echo outer\\n\nsource {inner}\necho outer goes on\\n\n")
    failures = app.run_file(outer, keep_going=True)
    assert failures == 1
    assert output(app) == (f"outer\ninner\n{inner}:2: Undefined command: \"nosuch-command\".  "
                           'Try "help".\nouter goes on\n')


def test_source_stops_at_the_first_error_even_under_keep_going(app: App,
                                                               tmp_path: Path) -> None:
    script = tmp_path / "s.cmd"
    script.write_text("nosuch\necho not reached\\n\n")
    with pytest.raises(ScriptError) as caught:
        run(app, f"source {script}")
    assert str(caught.value).startswith(f"{script}:1: Undefined command")
    assert output(app) == ""


def test_source_of_a_missing_file_is_an_error_when_typed(app: App, tmp_path: Path) -> None:
    with pytest.raises(ArmdbgError, match=r"nope\.cmd: No such file or directory\.$"):
        app.run_line(f"source {tmp_path}/nope.cmd", from_tty=True)


def test_a_file_that_sources_itself_forever_is_one_error(app: App, tmp_path: Path) -> None:
    script = tmp_path / "loop.cmd"
    script.write_text(f"source {script}\n")
    with pytest.raises(ArmdbgError, match="nested too deeply"):
        app.run_line(f"source {script}")


# --------------------------------------------------------------------------- define


def test_enter_repeats_a_user_command_unless_it_says_dont_repeat(app: App) -> None:
    run(app, "define again\n  echo a\\n\nend\ndefine once\n  dont-repeat\n  echo o\\n\nend")
    app.run_line("again 1", from_tty=True)
    assert app.dispatcher.repeat_line() == "again 1"
    app.run_line("once", from_tty=True)
    assert app.dispatcher.repeat_line() is None
    app.run_line("again", from_tty=True)
    assert app.dispatcher.repeat_line() == "again"


def test_define_at_the_prompt_explains_how_to_end(app: App) -> None:
    body = ListSource(["echo hi\\n", "end"])
    app.run_line("define hi", from_tty=True, input=body)
    assert output(app) == ('Type commands for definition of "hi".\n'
                           'End with a line saying just "end".\n')
    app.run_line("hi")
    assert output(app).endswith("hi\n")


def test_redefinition_asks_only_under_confirm_on(app: App) -> None:
    run(app, "define twice\n  echo 1\\n\nend\ndefine twice\n  echo 2\\n\nend")
    assert output(app) == ""
    run(app, "set confirm on\ndefine twice\n  echo 3\\n\nend\ndefine echo\n  dont-repeat\nend")
    assert output(app) == (
        'Redefine command "twice"? (y or n) [answered Y; input not from terminal]\n'
        'Really redefine built-in command "echo"? (y or n) [answered Y; input not from '
        "terminal]\n")
    before = output(app)
    app.run_line("echo not printed: echo is now the user's command")
    assert output(app) == before


def test_answering_no_keeps_the_old_definition(app: App) -> None:
    run(app, "define keep\n  echo old\\n\nend\nset confirm on")
    answers = ListSource(["n", "echo new\\n", "end"])
    with pytest.raises(ArmdbgError, match=r'Command "keep" not redefined\.'):
        app.run_line("define keep", from_tty=True, input=answers)
    app.run_line("keep")
    assert output(app).endswith("old\n")


def test_a_user_command_can_be_a_subcommand_of_a_prefix(app: App) -> None:
    run(app, "define info mine\n  echo mine\\n\nend\ninfo mi")
    assert output(app) == "mine\n"
    with pytest.raises(UsageError, match=r'"echo" is not a prefix command\.'):
        run(app, "define echo sub\nend")


def test_registry_replace_takes_an_alias_without_changing_shared_specs() -> None:
    def cmd(ctx: Context, args: str) -> None:
        """A command."""

    shared = CommandSpec("quit", cmd, aliases=("q", "exit"))
    registry = Registry()
    registry.add(shared)
    registry.add(CommandSpec("info", cmd, prefix=True))
    registry.add(CommandSpec("info mem", cmd))
    user = CommandSpec("q", cmd, category="user-defined")
    assert registry.replace(user) is None
    assert registry.resolve("q")[0] is user
    assert registry.resolve("exit")[0].name == "quit"
    assert shared.aliases == ("q", "exit")          # the module's spec is untouched
    assert registry.find("quit").aliases == ("exit",)
    # Replacing a prefix command keeps its subcommands.
    new_info = CommandSpec("info", cmd, category="user-defined")
    registry.replace(new_info)
    assert registry.resolve("info mem")[0].name == "info mem"
    assert registry.resolve("info")[0] is new_info
    assert sorted(s.name for s in registry.specs()) == ["info", "info mem", "q", "quit"]


# --------------------------------------------------------------------------- set / show


def _settings() -> Settings:
    settings = Settings()
    settings.declare("confirm", "bool", False, "Whether to confirm")
    settings.declare("context", "bool", True, "Showing the context")
    settings.declare("print elements", "uint", 200, "Limit on elements")
    settings.declare("print pretty", "bool", False, "Pretty printing")
    settings.declare("pagination", "bool", False, "Pagination")
    return settings


@pytest.mark.parametrize(("text", "name", "rest"), [
    ("confirm off", "confirm", "off"),
    ("conf off", "confirm", "off"),
    ("print elements 4", "print elements", "4"),
    ("pr el 4", "print elements", "4"),
    ("print", "print", ""),                 # a group
    ("pa", "pagination", ""),
])
def test_setting_names_resolve_word_by_word(text: str, name: str, rest: str) -> None:
    match = find_setting(_settings(), text, "set")
    assert match is not None
    assert (match.name, match.rest) == (name, rest)


@pytest.mark.parametrize("text", ["x = 3", "$i = 0", "{int}0x80200000 = 1", "*ptr = 2",
                                  "nosuch 1"])
def test_anything_else_is_an_expression(text: str) -> None:
    assert find_setting(_settings(), text, "set") is None


def test_ambiguous_and_unknown_setting_words_are_gdb_errors() -> None:
    settings = _settings()
    settings.declare("print pascal", "bool", False, "Pascal")
    with pytest.raises(UsageError) as caught:
        find_setting(settings, "con 1", "set")
    assert str(caught.value) == 'Ambiguous set command "con 1": confirm, context.'
    with pytest.raises(UsageError) as caught:
        find_setting(settings, "print p on", "set")
    assert str(caught.value) == 'Ambiguous set print command "p on": pascal, pretty.'
    with pytest.raises(UsageError) as caught:
        find_setting(settings, "print nosuch", "show")
    assert str(caught.value) == 'Undefined show print command: "nosuch".  Try "help show print".'


def test_set_args_is_what_the_next_run_passes(app: App) -> None:
    run(app, "set args one  two")
    assert app.session.program_args == ["one", "two"]
    app.session.reload()
    assert app.session.semihosting.cmdline.endswith("one two")
    run(app, "show args")
    assert output(app) == 'Argument list to give program being debugged when it is started ' \
                          'is "one  two".\n'


def test_info_set_is_show_and_lists_every_setting(app: App) -> None:
    run(app, "show")
    everything = output(app)
    run(app, "info set")
    assert output(app) == everything * 2
    names = [line.split(":  ")[0] for line in everything.splitlines()]
    assert names == sorted([*app.session.settings.names(), "args"], key=str.split)


def test_show_version_names_armdbg_and_its_engines(app: App) -> None:
    from armdbg import __version__

    run(app, "show version")
    first, _, third = output(app).splitlines()
    assert first == f"armdbg {__version__}"
    assert third.startswith("Unicorn ") and "Capstone" in third and "Keystone" in third


def test_set_debug_on_shows_tracebacks_of_internal_errors(app: App) -> None:
    from armdbg.commands.dispatch import format_error

    run(app, "set debug on")
    assert app.session.settings["debug"] is True
    try:
        raise ValueError("boom")
    except ValueError as err:
        assert "Traceback" in format_error(err, app.session.settings["debug"])
