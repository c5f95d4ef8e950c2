"""Wiring: a Session, the command registry and dispatcher, and where output goes.

The CLI, the tests' transcript runner and embedders all build an :class:`App`; the
REPL (``armdbg.ui``) is only attached when a terminal session is wanted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from armdbg.commands import attach_all, build_registry
from armdbg.commands.context import Context, LineSource
from armdbg.commands.dispatch import Dispatcher, format_error
from armdbg.errors import ArmdbgError
from armdbg.machine.loaders import load_elf, load_raw
from armdbg.plugins import PluginManager
from armdbg.script import ScriptError, run_file
from armdbg.session import Session
from armdbg.ui.output import ColorOutput


class App:
    def __init__(self, *, stdout: TextIO | None = None, stderr: TextIO | None = None,
                 color: bool = False, plugin_dirs: list[str] | None = None,
                 cwd: Path | None = None, history_path: str | None = None) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.color = color  # colour for "set color auto": a terminal, no --no-color/NO_COLOR
        self.history_path = history_path  # --history FILE (the REPL's default otherwise)
        self.out = ColorOutput(self._write, self.color_enabled)
        self.session = Session(self.out, cwd=cwd)
        self.registry = build_registry()
        attach_all(self.session)
        self.dispatcher = Dispatcher(self.registry, self.session)
        self.session.extensions["app"] = self
        self.plugin_dirs = plugin_dirs or []
        # Plugins (armdbg.plugins): the manager exists in every App so that "plugin ..."
        # works; the CLI loads the plugins at startup with load_plugins().
        self.plugins = PluginManager(self.session, self.dispatcher, dirs=self.plugin_dirs)
        self.quit_requested: int | None = None
        # Where notify() prints while the REPL runs (above a prompt being typed).
        self.notify_sink: Callable[[str], None] | None = None
        self.session.events.subscribe("notify", lambda text, **_: self.notify(text))

    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def color_enabled(self) -> bool:
        session = getattr(self, "session", None)  # output written while it is built
        setting = session.settings["color"] if session is not None else "auto"
        return self.color if setting == "auto" else setting == "on"

    def notify(self, text: str) -> None:
        """Asynchronous news (a probe got optimized), from any thread, on a line of its own."""
        if not text.endswith("\n"):
            text += "\n"
        sink = self.notify_sink
        if sink is not None:
            sink(text)
        else:
            self.out.write(text)

    def context(self, *, from_tty: bool = False, location: str = "",
                input: LineSource | None = None) -> Context:
        return Context(self.session, self.out, self.dispatcher, input, from_tty=from_tty,
                       location=location)

    # ------------------------------------------------------------------ loading

    def load_initial(self, file: str | None, *, raw: str | None = None, thumb: bool = False,
                     program_args: list[str] | None = None) -> None:
        self.session.program_args = list(program_args or [])
        if file is None:
            self.session.load_demo()
        elif raw is not None:
            try:
                address = int(raw, 0)
            except ValueError:
                raise ArmdbgError(f'--raw: "{raw}" is not an address') from None
            self.session.load(load_raw(Path(file), address, thumb))
        else:
            self.session.load(load_elf(Path(file)))

    def load_plugins(self, names: list[str] | None = None, *, user: bool = True) -> None:
        """Load the plugins that autoload, then ``names`` (``--plugin``); each problem
        (a conflict, a plugin that fails to load) is one line on stderr.  ``user=False``
        (``--nx``) leaves out ~/.config/armdbg/plugins and installed entry points."""
        self.plugins.user = user
        for line in self.plugins.autoload(names or ()):
            self.stderr.write(line + "\n")
        self.stderr.flush()

    # ------------------------------------------------------------------ running commands

    def run_line(self, line: str, *, from_tty: bool = False, location: str = "",
                 input: LineSource | None = None) -> None:
        """Run one line; errors propagate (callers decide how to report them).

        ``input`` is where a command that takes a body (``define``) reads its lines.
        """
        self.dispatcher.execute(line, self.context(from_tty=from_tty, location=location,
                                                   input=input))

    def run_line_reporting(self, line: str, *, from_tty: bool = False) -> bool:
        """Run one line and print a failure as one line on stderr; True on success."""
        try:
            self.run_line(line, from_tty=from_tty)
            return True
        except (Exception, KeyboardInterrupt) as err:
            self.report(err)
            return False

    def report(self, err: BaseException) -> None:
        if isinstance(err, ScriptError):
            self.stderr.write(f"{err}\n")
        else:
            self.stderr.write(format_error(err, bool(self.session.settings["debug"])) + "\n")
        self.stderr.flush()

    def run_file(self, path: Path, *, keep_going: bool = False) -> int:
        return run_file(path, self.context(), keep_going=keep_going, on_error=self.report)

    def run_file_reporting(self, path: Path, *, keep_going: bool = True) -> None:
        try:
            self.run_file(path, keep_going=keep_going)
        except Exception as err:  # reported as one line, never raised raw
            self.report(err)

    def batch_exit_status(self) -> int:
        code = self.session.exit_code
        return code if code is not None else 0

    # ------------------------------------------------------------------ interactive

    def interact(self, *, interactive: bool) -> int:
        if interactive:
            from armdbg.ui.repl import run_repl

            return run_repl(self)
        source = _StdinSource()
        ctx = self.context()
        ctx.input = source
        while (line := source.read_line("")) is not None:
            try:
                self.dispatcher.execute(line, ctx)
            except (Exception, KeyboardInterrupt) as err:
                self.report(err)
            if self.quit_requested is not None:
                return self.quit_requested
        return 0


class _StdinSource:
    """Commands piped on standard input; bodies of define/if/while read from it too."""

    def read_line(self, prompt: str) -> str | None:
        line = sys.stdin.readline()
        return line.rstrip("\n") if line else None
