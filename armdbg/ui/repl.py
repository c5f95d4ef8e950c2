"""The interactive shell: ``(armdbg) `` prompt, history, completion, Ctrl-C, Enter-repeat.

Every line goes through ``app.run_line(line, from_tty=True)``, the same dispatcher as
command files, so the REPL adds only what a terminal needs:

- a PromptSession with persistent history (:mod:`armdbg.ui.history`), completion
  (:mod:`armdbg.ui.completer`) and input highlighting (:mod:`armdbg.ui.lexer`);
- Enter on an empty line runs ``dispatcher.repeat_line()`` (gdb's repeat);
- Ctrl-C at the prompt drops the line; Ctrl-C during a command stops the machine
  (:mod:`armdbg.ui.interrupt`); Ctrl-D on an empty line shows ``quit`` on it and
  leaves with status 0, as gdb does;
- news from other code (``app.notify``, the "notify" event) is printed above a prompt
  being typed, through ``patch_stdout``;
- while the prompt waits, "idle-tick" events (``seconds=``) are published about every
  100 ms, so engines with a clock of their own (the optprobe optimizer) keep time.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import History
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.lexers import DynamicLexer, PygmentsLexer
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.shortcuts import CompleteStyle

from armdbg.ui.completer import CommandCompleter
from armdbg.ui.history import BoundedFileHistory, history_path, open_history
from armdbg.ui.interrupt import SigintGuard
from armdbg.ui.lexer import lexer_class
from armdbg.ui.style import prompt_style

if TYPE_CHECKING:
    from armdbg.app import App

PROMPT = "(armdbg) "
BODY_PROMPT = ">"          # gdb's prompt for define/commands/while bodies
IDLE_TICK_SECONDS = 0.1


class Repl:
    def __init__(self, app: App, *, history: History | None = None) -> None:
        self.app = app
        self.guard = SigintGuard(lambda: app.session.machine)
        if history is None:
            path = history_path(app.history_path)
            history = open_history(path, lambda: int(app.session.settings["history size"]))
        self.history = history
        highlighter = PygmentsLexer(lexer_class(app.registry))
        self.prompt_session: PromptSession[str] = PromptSession(
            history=history,
            completer=CommandCompleter(app.registry, app.session),
            complete_while_typing=False,
            complete_style=CompleteStyle.READLINE_LIKE,  # Tab as in gdb's readline
            lexer=DynamicLexer(lambda: highlighter if app.color_enabled() else None),
            style=prompt_style(),
            include_default_pygments_style=False,
            key_bindings=self._key_bindings(),
        )
        self._at_command_prompt = False
        self._lock = threading.Lock()
        self._proxy: TextIO | None = None  # patch_stdout's stdout while prompting

    # ------------------------------------------------------------------ the loop

    def run(self) -> int:
        app = self.app
        app.notify_sink = self.notify
        app.session.interactive = True  # a person is at the prompt (clocks run in real time)
        try:
            while True:
                try:
                    line = self.prompt(PROMPT, command=True)
                except KeyboardInterrupt:
                    continue  # Ctrl-C at the prompt: drop the line
                except EOFError:
                    return 0  # Ctrl-D (the line shows "quit"), or input closed
                try:
                    self.execute(line)
                except KeyboardInterrupt:
                    continue  # a Ctrl-C between a command and the next prompt
                if app.quit_requested is not None:
                    return app.quit_requested
        finally:
            app.notify_sink = None
            self.guard.close()
            if isinstance(self.history, BoundedFileHistory):
                try:
                    self.history.trim()
                except OSError:
                    pass

    def execute(self, line: str) -> None:
        """Run a typed line (an empty one repeats the last command that repeats)."""
        if not line.strip():
            repeat = self.app.dispatcher.repeat_line()
            if not repeat:
                return
            line = repeat
        with self.guard.command(resuming=self._resumes(line)):
            try:
                self.app.run_line(line, from_tty=True, input=BodyLines(self))
            except (Exception, KeyboardInterrupt) as err:  # one line, as gdb reports
                self.app.report(err)

    def _resumes(self, line: str) -> bool:
        """Whether the line's command resumes the program (Ctrl-C is then the program's)."""
        try:
            spec, _ = self.app.registry.resolve(line)
        except Exception:  # an unknown command fails in the dispatcher, with its message
            return False
        return spec is not None and spec.category == "running"

    # ------------------------------------------------------------------ prompting

    def _key_bindings(self) -> KeyBindings:
        bindings = KeyBindings()
        empty_command_line = Condition(
            lambda: self._at_command_prompt and not get_app().current_buffer.text)

        @bindings.add("c-d", filter=empty_command_line)
        def _quit(event: KeyPressEvent) -> None:
            # gdb shows the command Ctrl-D means on the prompt line: "(armdbg) quit".
            event.current_buffer.text = "quit"
            event.app.exit(exception=EOFError())

        return bindings

    def prompt(self, message: str, *, command: bool = False) -> str:
        """One line from the terminal, with news printed above it meanwhile."""
        self._at_command_prompt = command
        with patch_stdout(raw=True):
            with self._lock:
                self._proxy = sys.stdout
            try:
                return self.prompt_session.prompt(message, pre_run=self._start_idle_ticks)
            finally:
                with self._lock:
                    self._proxy = None

    def notify(self, text: str) -> None:
        """``app.notify`` while the shell runs: from any thread, never breaking a prompt."""
        with self._lock:
            proxy = self._proxy
            if proxy is not None:
                proxy.write(text)
                proxy.flush()
                return
        self.app.out.write(text)

    def _start_idle_ticks(self) -> None:
        get_app().create_background_task(self._idle_ticks())

    async def _idle_ticks(self) -> None:
        """Publish "idle-tick" while the prompt waits (cancelled when it returns)."""
        events = self.app.session.events
        last = time.monotonic()
        while True:
            await asyncio.sleep(IDLE_TICK_SECONDS)
            now = time.monotonic()
            events.publish("idle-tick", seconds=now - last)
            last = now


class BodyLines:
    """Where ``define``/``commands``/``if``/``while`` typed at the prompt read their body."""

    def __init__(self, repl: Repl) -> None:
        self.repl = repl

    def read_line(self, prompt: str) -> str | None:
        # The nested prompt owns the terminal (and SIGINT) while it reads; Ctrl-C there
        # raises KeyboardInterrupt, which abandons the command with "Quit", as in gdb.
        with self.repl.guard.paused():
            try:
                return self.repl.prompt(prompt or BODY_PROMPT)
            except EOFError:
                return None


def run_repl(app: App) -> int:
    """Run the shell until quit or Ctrl-D; the process exit status."""
    return Repl(app).run()
