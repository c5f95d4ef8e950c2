"""The REPL through prompt_toolkit's pipe input: keys in, the App's output out.

Every session ends by its own keys (Ctrl-D or ``quit``); a failsafe timer sends Ctrl-D
after FAILSAFE seconds so a broken test fails instead of hanging.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput, Output
from prompt_toolkit.output.plain_text import PlainTextOutput

from armdbg.app import App
from armdbg.commands.context import Context
from armdbg.commands.registry import CommandSet
from armdbg.ui.repl import Repl, run_repl

CTRL_C = "\x03"
CTRL_D = "\x04"
UP = "\x1b[A"
FAILSAFE = 20.0


class Recorder:
    """Test-only commands: what they were called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.bodies: list[list[str]] = []

    def command_set(self) -> CommandSet:
        commands = CommandSet(owner="ui-tests")

        @commands.command("zztick", repeat=True)
        def zztick(ctx: Context, args: str) -> None:
            """Count (repeats on Enter)."""
            self.calls.append(("zztick", args))

        @commands.command("zznext", repeat=lambda ctx, rest: f"zznext {int(rest) + 1}")
        def zznext(ctx: Context, args: str) -> None:
            """Continue from the next number on Enter, like x."""
            self.calls.append(("zznext", args))

        @commands.command("zzbody")
        def zzbody(ctx: Context, args: str) -> None:
            """Read a body up to end."""
            self.bodies.append(ctx.read_body())

        return commands


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def app(recorder: Recorder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> App:
    monkeypatch.setenv("ARMDBG_HISTORY", str(tmp_path / "history"))
    app = App(stdout=io.StringIO(), stderr=io.StringIO(), color=False)
    app.registry.add_set(recorder.command_set())
    app.load_initial(None)
    return app


@contextmanager
def terminal(output: Output | None = None) -> Iterator[PipeInput]:
    with create_pipe_input() as pipe, \
            create_app_session(input=pipe, output=output or DummyOutput()):
        failsafe = threading.Timer(FAILSAFE, lambda: pipe.send_text(CTRL_D * 5))
        failsafe.start()
        try:
            yield pipe
        finally:
            failsafe.cancel()


def run(app: App, keys: str, **repl_options: Any) -> int:
    with terminal() as pipe:
        pipe.send_text(keys)
        return Repl(app, **repl_options).run()


def stdout(app: App) -> str:
    return app.stdout.getvalue()  # type: ignore[attr-defined]


def stderr(app: App) -> str:
    return app.stderr.getvalue()  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- leaving


def test_ctrl_d_shows_quit_on_the_prompt_line_and_exits_0(app: App) -> None:
    screen = io.StringIO()
    with terminal(PlainTextOutput(screen)) as pipe:
        pipe.send_text(CTRL_D)
        assert run_repl(app) == 0
    assert "(armdbg) quit" in screen.getvalue()
    assert stdout(app) == ""


def test_ctrl_d_on_a_typed_line_deletes_instead(app: App) -> None:
    # Left, then Ctrl-D deletes the character under the cursor, as in readline.
    assert run(app, "echo ab!\x1b[D" + CTRL_D + "\n" + CTRL_D) == 0
    assert stdout(app) == "ab"


def test_quit_command_with_status(app: App) -> None:
    assert run(app, "echo before\\n\nquit 3\necho after\\n\n") == 3
    assert stdout(app) == "before\n"


def test_q_abbreviation_quits_with_0(app: App) -> None:
    assert run(app, "q\n") == 0


# ---------------------------------------------------------------------- Ctrl-C, errors


def test_ctrl_c_at_the_prompt_drops_the_line_and_keeps_the_session(app: App) -> None:
    status = run(app, "echo lost" + CTRL_C + "echo kept\\n\n" + CTRL_D)
    assert status == 0
    assert stdout(app) == "kept\n"


def test_a_failing_command_is_one_line_and_the_session_goes_on(app: App) -> None:
    assert run(app, "nosuchcmd\necho still here\\n\n" + CTRL_D) == 0
    assert stderr(app) == 'Undefined command: "nosuchcmd".  Try "help".\n'
    assert stdout(app) == "still here\n"


# ---------------------------------------------------------------------- Enter repeats


def test_enter_repeats_a_repeating_command(app: App, recorder: Recorder) -> None:
    run(app, "zztick a\n\n   \n" + CTRL_D)
    assert recorder.calls == [("zztick", "a")] * 3


def test_enter_runs_the_line_a_repeat_policy_gives(app: App, recorder: Recorder) -> None:
    run(app, "zznext 5\n\n\n" + CTRL_D)
    assert recorder.calls == [("zznext", "5"), ("zznext", "6"), ("zznext", "7")]


def test_echo_does_not_repeat_and_stops_an_earlier_repeat(app: App,
                                                          recorder: Recorder) -> None:
    run(app, "zztick\necho hi\\n\n\n\n" + CTRL_D)
    assert recorder.calls == [("zztick", "")]
    assert stdout(app) == "hi\n"


def test_enter_with_nothing_to_repeat_does_nothing(app: App) -> None:
    assert run(app, "\n\n" + CTRL_D) == 0
    assert stdout(app) == ""
    assert stderr(app) == ""


def test_gdb_abbreviations_reach_the_registry(app: App) -> None:
    run(app, "ec hi\\n\ninf me\n" + CTRL_D)
    assert stdout(app).startswith("hi\nName ")
    assert stderr(app) == ""


# ---------------------------------------------------------------------- completion, bodies


def test_tab_completes_a_command_word(app: App, recorder: Recorder) -> None:
    run(app, "zzti\t x\n" + CTRL_D)
    assert recorder.calls == [("zztick", "x")]


def test_a_body_is_read_from_the_prompt(app: App, recorder: Recorder) -> None:
    run(app, "zzbody\nfirst line\n  second\nend\necho done\\n\n" + CTRL_D)
    assert recorder.bodies == [["first line", "  second"]]
    assert stdout(app) == "done\n"


def test_ctrl_d_inside_a_body_abandons_only_the_command(app: App,
                                                        recorder: Recorder) -> None:
    run(app, "zzbody\nfirst\n" + CTRL_D + "echo next\\n\n" + CTRL_D)
    assert recorder.bodies == []
    assert 'missing "end"' in stderr(app)
    assert stdout(app) == "next\n"


# ---------------------------------------------------------------------- history


def test_history_is_saved_to_the_file_and_reloaded(app: App, recorder: Recorder,
                                                   tmp_path: Path) -> None:
    run(app, "echo one\\n\nzztick 2\n" + CTRL_D)
    saved = (tmp_path / "history").read_text()
    assert "+echo one\\n\n" in saved and "+zztick 2\n" in saved

    again = App(stdout=io.StringIO(), stderr=io.StringIO())
    again.registry.add_set(recorder.command_set())
    # Up Up: the older command, from the file.
    run(again, UP + UP + "\n" + CTRL_D)
    assert stdout(again) == "one\n"


def test_history_file_is_cut_to_history_size(app: App, tmp_path: Path) -> None:
    app.session.settings.set("history size", "2")
    run(app, "echo 1\necho 2\necho 3\necho 4\n" + CTRL_D)
    saved = (tmp_path / "history").read_text()
    assert "+echo 1" not in saved and "+echo 2" not in saved
    assert "+echo 3" in saved and "+echo 4" in saved


def test_an_explicit_history_object_is_used(app: App, tmp_path: Path) -> None:
    history = InMemoryHistory()
    run(app, "echo x\n" + CTRL_D, history=history)
    assert list(history.get_strings()) == ["echo x"]
    assert not (tmp_path / "history").exists()


# ---------------------------------------------------------------------- background


def test_idle_ticks_are_published_while_the_prompt_waits(app: App) -> None:
    seen: list[float] = []
    with terminal() as pipe:
        def tick(seconds: float) -> None:
            seen.append(seconds)
            if len(seen) == 2:
                pipe.send_text(CTRL_D)

        app.session.events.subscribe("idle-tick", tick)
        assert Repl(app).run() == 0
    assert len(seen) >= 2
    assert all(0 < seconds < FAILSAFE for seconds in seen)


def test_notify_from_another_thread_prints_above_the_prompt(app: App) -> None:
    """A probe getting optimized while the user types: the message appears on the
    terminal and the half-typed line is still there to finish."""
    screen = io.StringIO()
    message = "[kprobes] p_do_something_0 at 0x80008040 optimized (trampoline 0x7f000000)"
    state = {"sent": False}
    with terminal(PlainTextOutput(screen)) as pipe:
        def tick(seconds: float) -> None:
            if not state["sent"]:
                state["sent"] = True
                thread = threading.Thread(
                    target=lambda: app.session.events.publish("notify", text=message))
                thread.start()
                thread.join()
            elif message in screen.getvalue():
                pipe.send_text("\\n\n" + CTRL_D)

        app.session.events.subscribe("idle-tick", tick)
        pipe.send_text("echo typed before")
        assert Repl(app).run() == 0
    assert message + "\n" in screen.getvalue()
    assert stdout(app) == "typed before\n"


def test_notify_while_a_command_runs_goes_to_the_output_in_order(app: App) -> None:
    commands = CommandSet(owner="ui-tests-notify")

    @commands.command("zznotify")
    def zznotify(ctx: Context, args: str) -> None:
        """Print, publish news, print."""
        ctx.out.line("before")
        ctx.session.events.publish("notify", text="news")
        ctx.out.line("after")

    app.registry.add_set(commands)
    run(app, "zznotify\n" + CTRL_D)
    assert stdout(app) == "before\nnews\nafter\n"


def test_notify_without_a_repl_writes_to_the_app_output(app: App) -> None:
    app.notify("plain news")
    assert stdout(app) == "plain news\n"
