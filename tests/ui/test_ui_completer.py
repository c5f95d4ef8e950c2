"""Completion results for typed prefixes, called directly and through Tab."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from armdbg.app import App
from armdbg.commands.context import Context
from armdbg.commands.registry import CommandSet
from armdbg.ui.completer import CommandCompleter, completion_texts

# Commands the completion rules are written for.  Declared here only while their real
# modules do not exist yet, so these tests keep working (against the real declarations)
# when they land.
_WANTED: dict[str, dict[str, Any]] = {
    "break": {"complete": ("location",), "category": "breakpoints"},
    "x": {"complete": ("expression",), "category": "data"},
    "print": {"complete": ("expression",), "category": "data"},
    "info registers": {"category": "status"},
    "set": {"prefix": True},
    "set variable": {"complete": ("expression",), "aliases": ("var",)},
    "show": {"prefix": True},
    "source": {},
    "help": {},
    "zzalias": {"aliases": ("zzb", "zza", "z")},
}


def _noop(ctx: Context, args: Any) -> None:
    """A test stand-in."""


@pytest.fixture(scope="module")
def app() -> App:
    app = App(stdout=io.StringIO(), stderr=io.StringIO())
    app.load_initial(None)  # the demo image: do_something, calls, main, ...
    existing = set()
    for spec in app.registry.specs():
        existing.add(spec.name)
        existing.update(" ".join([*spec.words[:-1], alias]) for alias in spec.aliases)
    stand_ins = CommandSet(owner="ui-tests")
    for name, options in _WANTED.items():
        if name not in existing:
            stand_ins.command(name, **options)(_noop)
    app.registry.add_set(stand_ins)
    return app


@pytest.fixture(scope="module")
def completer(app: App) -> CommandCompleter:
    return CommandCompleter(app.registry, app.session)


def words(completer: CommandCompleter, text: str) -> list[str]:
    return completion_texts(completer.complete(text))


def test_command_names(completer: CommandCompleter) -> None:
    assert "echo" in words(completer, "ec")
    assert words(completer, "inf") == ["info"]
    assert {"break", "echo", "info", "quit"} <= set(words(completer, ""))


def test_aliases_complete_but_not_one_letter_or_abbreviating_ones(
        completer: CommandCompleter) -> None:
    assert words(completer, "zz") == ["zzalias", "zzb"]
    assert words(completer, "z") == ["zzalias", "zzb"]


def test_subcommands_after_the_prefix_command_and_its_abbreviation(
        completer: CommandCompleter) -> None:
    assert words(completer, "info r") == ["registers"]
    assert words(completer, "inf r") == ["registers"]
    assert "mem" in words(completer, "info ")


def test_info_offers_subcommands_not_symbols(completer: CommandCompleter) -> None:
    assert "main" not in words(completer, "info ")


def test_the_replacement_covers_only_the_typed_part(completer: CommandCompleter) -> None:
    [completion] = completer.complete("info r")
    assert (completion.text, completion.start_position) == ("registers", -1)


def test_registers_in_info_registers(completer: CommandCompleter) -> None:
    assert words(completer, "info registers p") == ["pc"]
    assert words(completer, "info registers r1") == ["r1", "r10", "r11", "r12", "r13", "r14",
                                                     "r15"]


def test_dollar_registers_and_convenience_variables(app: App,
                                                   completer: CommandCompleter) -> None:
    assert words(completer, "print $r1") == ["$r1", "$r10", "$r11", "$r12", "$r13", "$r14",
                                             "$r15"]
    assert "$cpsr" in words(completer, "x/4x $c")
    app.session.convenience["counter"] = object()
    try:
        assert words(completer, "print $cou") == ["$counter"]
    finally:
        del app.session.convenience["counter"]


def test_symbols_for_locations_and_expressions(completer: CommandCompleter) -> None:
    assert words(completer, "break do_s") == ["do_something"]
    assert words(completer, "x/4x &cal") == ["calls"]
    assert words(completer, "print result + cal") == ["calls"]
    assert words(completer, "break thumb_") == ["thumb_clamp", "thumb_itblocks"]


def test_numbers_complete_to_nothing(completer: CommandCompleter) -> None:
    assert words(completer, "x 0x80") == []
    assert words(completer, "print 12") == []


def test_commands_without_a_kind_fall_back_to_symbols(completer: CommandCompleter) -> None:
    assert words(completer, "echo ma") == ["main"]


def test_settings_after_set_and_show(completer: CommandCompleter) -> None:
    assert words(completer, "show pag") == ["pagination"]
    assert words(completer, "set history s") == ["history size"]
    assert "variable" in words(completer, "set v")


def test_set_also_takes_an_expression(completer: CommandCompleter) -> None:
    assert words(completer, "set result = ca") == ["calls"]
    assert words(completer, "set $pc") == ["$pc"]


def test_setting_values(completer: CommandCompleter) -> None:
    assert words(completer, "set pagination o") == ["off", "on"]
    assert words(completer, "set color ") == ["auto", "off", "on"]


def test_multi_word_setting_replaces_what_was_typed(completer: CommandCompleter) -> None:
    [completion] = completer.complete("set history s")
    assert (completion.text, completion.start_position) == ("history size", -len("history s"))


def test_help_completes_a_command_line(completer: CommandCompleter) -> None:
    assert words(completer, "help info r") == ["registers"]


def test_files_for_source(app: App, completer: CommandCompleter, tmp_path: Path) -> None:
    (tmp_path / "commands.gdb").write_text("echo hi\n")
    (tmp_path / "other.txt").write_text("")
    assert words(completer, f"source {tmp_path}/comm") == ["ands.gdb"]
    old = app.session.cwd
    app.session.cwd = tmp_path
    try:  # relative names are relative to the session's directory
        assert words(completer, "source oth") == ["er.txt"]
    finally:
        app.session.cwd = old


def test_options_of_argparse_commands(completer: CommandCompleter) -> None:
    assert words(completer, "kprobe do_something --st") == ["--stop"]


def test_unknown_commands_complete_to_nothing(completer: CommandCompleter) -> None:
    assert words(completer, "nosuch ma") == []


def test_prompt_toolkit_interface(completer: CommandCompleter) -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    document = Document("break do_s", cursor_position=len("break do_s"))
    found = list(completer.get_completions(document, CompleteEvent(completion_requested=True)))
    assert completion_texts(found) == ["do_something"]
    assert found[0].display_meta_text == "symbol"
