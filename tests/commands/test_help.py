"""help and apropos: generated from declarations, and unbreakable by a bad declaration.

The layouts are pinned by transcripts (tests/transcripts/help_*); these tests check
the contract with the rest of armdbg: every command is reachable from help, and a
plugin's broken declaration still lists.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from armdbg.app import App
from armdbg.commands.context import Context
from armdbg.commands.help import spec_summary
from armdbg.commands.registry import CATEGORIES, CommandSet, CommandSpec
from armdbg.errors import UsageError


@pytest.fixture
def app() -> App:
    out = io.StringIO()
    app = App(stdout=out, stderr=out)
    app.load_initial(None)
    return app


def run(app: App, line: str) -> str:
    stream = app.stdout
    assert isinstance(stream, io.StringIO)
    start = len(stream.getvalue())
    app.run_line(line)
    return stream.getvalue()[start:]


class _BrokenParser:
    """A plugin's parser whose usage line raises."""

    def usage_line(self) -> str:
        raise RuntimeError("broken usage")

    def parse(self, text: str) -> str:
        return text


def _undocumented(ctx: Context, args: Any) -> None:
    pass


def _odd_doc(ctx: Context, args: Any) -> None:
    pass


_odd_doc.__doc__ = 42  # type: ignore[assignment]


def _plugin_app(app: App) -> App:
    plugin = CommandSet(owner="plugin")
    plugin.command("zzbare", category="plugins")(_undocumented)
    plugin.command("zzodd", category="frobs")(_odd_doc)
    plugin.specs.append(CommandSpec("zzparsed", _undocumented, category="plugins",
                                    parser=_BrokenParser()))  # type: ignore[arg-type]
    app.registry.add_set(plugin)
    return app


def test_a_broken_plugin_declaration_still_lists(app: App) -> None:
    _plugin_app(app)
    listing = run(app, "help plugins")
    assert "zzbare -- This command is not documented.\n" in listing
    assert "zzparsed -- This command is not documented.\n" in listing
    assert run(app, "help zzparsed") == "This command is not documented.\nUsage: zzparsed\n"
    assert run(app, "help zzodd") == "This command is not documented.\nUsage: zzodd\n"
    # A category armdbg does not know is listed too.
    assert "frobs -- Commands in the frobs category.\n" in run(app, "help")
    assert "zzodd -- This command is not documented.\n" in run(app, "help frobs")
    assert "zzbare -- This command is not documented." in run(app, "help all")
    assert run(app, "apropos zzpars") == "zzparsed -- This command is not documented.\n"


def test_every_command_is_in_help_all_under_its_class(app: App) -> None:
    everything = run(app, "help all")
    sections: dict[str, list[str]] = {}
    current = ""
    for line in everything.splitlines():
        if line.startswith("Command class: "):
            current = line[len("Command class: "):]
            sections[current] = []
        elif " -- " in line:
            sections[current].append(line.split(" -- ")[0].split(", ")[0])
    for spec in app.registry.specs():
        assert spec.name in sections[spec.category], spec.name
    assert set(CATEGORIES) <= set(sections)


def test_every_builtin_command_documents_itself(app: App) -> None:
    undocumented = [s.name for s in app.registry.specs() if not s.doc]
    assert undocumented == []


def test_help_command_shows_usage_unless_the_docstring_has_one(app: App) -> None:
    echo = run(app, "help echo").splitlines()
    assert echo[0] == spec_summary(app.registry.find("echo"))
    assert echo[1] == "Usage: echo TEXT"
    apropos = run(app, "help apropos").splitlines()
    assert [line for line in apropos if line.startswith("Usage:")] == [
        "Usage: apropos [-v] REGEXP"]


def test_help_of_a_prefix_lists_its_subcommands(app: App) -> None:
    text = run(app, "help info")
    assert "\nList of info subcommands:\n\n" in text
    assert "info mem -- " in text
    assert text.endswith('Command name abbreviations are allowed if unambiguous.\n')


def test_help_finds_commands_by_alias_and_abbreviation(app: App) -> None:
    assert run(app, "help h") == run(app, "help help")
    assert run(app, "help show conv") == run(app, "help show convenience")
    assert run(app, "help show conv").startswith("show convenience, show conv\n")
    assert run(app, "help doc") == run(app, "help document")


def test_help_of_a_class_by_unique_prefix(app: App) -> None:
    assert run(app, "help user") == run(app, "help user-defined")


def test_unknown_names_are_gdb_errors(app: App) -> None:
    with pytest.raises(UsageError, match=r'^Undefined command: "nosuch"\.  Try "help"\.$'):
        run(app, "help nosuch")
    with pytest.raises(UsageError, match=r'^Undefined info command: "zz"\.  Try "help info"\.$'):
        run(app, "help info zz")


def test_apropos_searches_aliases_and_documentation(app: App) -> None:
    assert "help, h -- Print list of commands.\n" in run(app, "apropos ^h$")
    assert "while -- " in run(app, "apropos LOOP_BREAK")
    assert run(app, "apropos qqqzzz-nothing") == ""


def test_apropos_lists_settings_as_set_and_show_commands(app: App) -> None:
    text = run(app, "apropos call depth")
    assert "set max-user-call-depth -- Set the max call depth" in text
    assert "show max-user-call-depth -- Show the max call depth" in text


def test_user_commands_belong_to_their_own_app(app: App) -> None:
    other = App(stdout=io.StringIO(), stderr=io.StringIO())
    app.dispatcher.run_lines(["define mine", "echo x", "end", "document mine", "Mine.", "end"],
                             app.context())
    assert "\nmine -- Mine.\n" in run(app, "help user-defined")
    assert "mine" not in run(other, "help user-defined")
    with pytest.raises(UsageError):
        run(other, "help mine")
