"""``armdbg [FILE] [-x CMDFILE]... [-ex CMD]... [--batch] [--nx]``: start a session."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from armdbg import __version__
from armdbg.app import App
from armdbg.errors import ArmdbgError
from armdbg.script import ScriptError


class _Ordered(argparse.Action):
    """Keep -x and -ex in command-line order, as gdb runs them."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        kind = "file" if option_string in ("-x", "--command") else "ex"
        namespace.actions.append((kind, values))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="armdbg",
        description="A gdb-style debugger for Linux kprobes experiments on an emulated ARM32 "
                    "machine.  With no FILE the embedded demo image is loaded.")
    parser.add_argument("file", nargs="?", help="ELF file or raw image (with --raw ADDR)")
    parser.add_argument("program_args", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("-x", "--command", action=_Ordered, metavar="CMDFILE",
                        help="execute commands from CMDFILE")
    parser.add_argument("-ex", "--eval-command", action=_Ordered, metavar="CMD",
                        help="execute a single command")
    parser.add_argument("--batch", "-batch", action="store_true",
                        help="run the commands, then exit (status 1 if one failed)")
    parser.add_argument("--keep-going", action="store_true",
                        help="in batch mode, go on after a failing command")
    parser.add_argument("--nx", "-nx", action="store_true", help="do not read ~/.armdbgrc")
    parser.add_argument("--raw", metavar="ADDR", help="load FILE as a raw image at ADDR")
    parser.add_argument("--thumb", action="store_true", help="a raw image starts in Thumb state")
    parser.add_argument("--no-color", action="store_true", help="plain text output")
    parser.add_argument("--history", metavar="FILE",
                        help="command history file of the interactive shell (default: "
                             "$ARMDBG_HISTORY, else ~/.armdbg_history; empty: none)")
    parser.add_argument("--plugin-dir", action="append", default=[], metavar="DIR",
                        help="load plugins from DIR as well")
    parser.add_argument("--plugin", action="append", default=[], metavar="NAME",
                        help="load plugin NAME too (one that does not autoload)")
    parser.add_argument("--version", action="version", version=f"armdbg {__version__}")
    parser.set_defaults(actions=[])
    return parser


def main(argv: list[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None, stdin_is_tty: bool | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    options = build_parser().parse_args(argv)
    color = not options.no_color and "NO_COLOR" not in os.environ and stdout.isatty()
    app = App(stdout=stdout, stderr=stderr, color=color, plugin_dirs=options.plugin_dir,
              history_path=options.history)
    try:
        app.load_initial(options.file, raw=options.raw, thumb=options.thumb,
                         program_args=options.program_args)
    except ArmdbgError as err:
        stderr.write(f"{err}\n")
        if options.batch:
            return 1
    # Plugins after the program (they may probe its symbols), before any command;
    # --nx leaves out the user's own plugins as it leaves out ~/.armdbgrc.
    app.load_plugins(options.plugin, user=not options.nx)
    if not options.nx:
        rc = Path.home() / ".armdbgrc"
        if rc.is_file():
            app.run_file_reporting(rc, keep_going=True)
    failed = False
    for kind, value in options.actions:
        try:
            if kind == "file":
                failures = app.run_file(Path(value), keep_going=options.keep_going)
                failed = failed or failures > 0
            else:
                app.run_line(value, location="")
        except ScriptError as err:
            stderr.write(f"{err}\n")
            failed = True
            if options.batch and not options.keep_going:
                return 1
        except (Exception, KeyboardInterrupt) as err:  # one line, never a traceback
            app.report(err)
            failed = True
            if options.batch and (not options.keep_going or isinstance(err, KeyboardInterrupt)):
                return 1
        if app.quit_requested is not None:
            return app.quit_requested
    if options.batch:
        if failed:
            return 1
        return app.batch_exit_status()
    interactive = stdin_is_tty if stdin_is_tty is not None else sys.stdin.isatty()
    return app.interact(interactive=interactive)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
