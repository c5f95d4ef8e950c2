"""Output colour: style tokens as ANSI when colour is on, plain text otherwise."""

from __future__ import annotations

import io

import pytest
from pygments.token import Token

from armdbg.app import App
from armdbg.cli import main
from armdbg.output import STYLES
from armdbg.ui.output import ColorOutput, render_ansi
from armdbg.ui.style import OUTPUT_COLOURS, OUTPUT_TOKENS, ArmdbgStyle, prompt_style

BLUE, CYAN, RESET_FG = "\x1b[34m", "\x1b[36m", "\x1b[39m"


def test_every_output_style_has_a_token_and_a_colour() -> None:
    assert set(OUTPUT_TOKENS) == set(STYLES)
    assert set(OUTPUT_COLOURS) == set(STYLES)
    assert all(ArmdbgStyle.style_for_token(OUTPUT_TOKENS[s])["color"] or
               ArmdbgStyle.style_for_token(OUTPUT_TOKENS[s])["bold"] for s in STYLES)
    assert OUTPUT_TOKENS["register"] is Token.Armdbg.Register


def test_render_ansi_colours_styles_and_keeps_plain_text() -> None:
    text = render_ansi([("address", "0x80008000"), ("", " "), ("register", "r0"),
                        ("", "\n")])
    assert text == f"{BLUE}0x80008000{RESET_FG} {CYAN}r0{RESET_FG}\n"


def test_unknown_style_is_plain() -> None:
    assert render_ansi([("no-such-style", "x")]) == "x"


def test_color_output_switches_per_write() -> None:
    written: list[str] = []
    state = {"on": True}
    out = ColorOutput(written.append, lambda: state["on"])
    out.token_line([("register", "pc")])
    state["on"] = False
    out.token_line([("register", "pc")])
    assert written == [f"{CYAN}pc{RESET_FG}\n", "pc\n"]


def test_app_colour_follows_the_color_setting() -> None:
    stdout = io.StringIO()
    app = App(stdout=stdout, color=True)
    app.out.tokens([("register", "r1")])
    app.session.settings.set("color", "off")
    app.out.tokens([("register", "r1")])
    app.session.settings.set("color", "auto")
    app.out.tokens([("register", "r1")])
    plain = App(stdout=io.StringIO(), color=False)
    plain.session.settings.set("color", "on")
    plain.out.tokens([("register", "r1")])
    assert stdout.getvalue() == f"{CYAN}r1{RESET_FG}r1{CYAN}r1{RESET_FG}"
    assert plain.stdout.getvalue() == f"{CYAN}r1{RESET_FG}"  # type: ignore[attr-defined]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("args", "no_color", "expect"), [
    ([], None, True), (["--no-color"], None, False), ([], "1", False)])
def test_cli_colours_a_terminal_unless_no_color(monkeypatch: pytest.MonkeyPatch,
                                                args: list[str], no_color: str | None,
                                                expect: bool) -> None:
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    seen: list[bool] = []
    monkeypatch.setattr(App, "interact",
                        lambda self, interactive: seen.append(self.color_enabled()) or 0)
    main(["--nx", *args], stdout=_Terminal(), stderr=io.StringIO(), stdin_is_tty=True)
    assert seen == [expect]


def test_prompt_style_has_the_input_colours() -> None:
    style = prompt_style()
    attrs = style.get_attrs_for_style_str("class:pygments.keyword")
    assert attrs.bold
