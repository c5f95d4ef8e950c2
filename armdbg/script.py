"""Command files: ``-x FILE``, ``source FILE``, ``~/.armdbgrc``.

Errors carry their place as ``FILE:LINE: message``.
"""

from __future__ import annotations

from pathlib import Path

from armdbg.commands.blocks import ListSource
from armdbg.commands.context import Context
from armdbg.errors import ArmdbgError


class ScriptError(ArmdbgError):
    """A command in a file failed; ``str()`` is ``FILE:LINE: message``."""

    def __init__(self, where: str, error: BaseException, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.error = error


class FileSource(ListSource):
    def __init__(self, path: Path, text: str) -> None:
        super().__init__(text.splitlines(), str(path))


def read_command_file(path: Path) -> FileSource:
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise ArmdbgError(f"{path}: {err.strerror or err}.") from None
    return FileSource(path, text)


def run_file(path: Path, ctx: Context, *, keep_going: bool = False,
             on_error=None) -> int:  # type: ignore[no-untyped-def]
    """Run a command file; the first failure stops it unless ``keep_going``.

    Returns the number of failed commands.  With ``keep_going`` each failure is passed
    to ``on_error(ScriptError)`` and the file goes on.
    """
    from armdbg.commands.dispatch import format_error

    source = read_command_file(path)
    inner = Context(ctx.session, ctx.out, ctx.dispatcher, source, from_tty=False,
                    args=ctx.args)
    failures = 0
    while True:
        line = source.read_line("")
        if line is None:
            return failures
        start = source.line_number
        inner.location = f"{source.origin}:{start}"
        app = ctx.session.extensions.get("app")
        if app is not None and app.quit_requested is not None:
            return failures  # `quit` ends the file, as in gdb
        try:
            ctx.dispatcher.execute(line, inner)
        except Exception as err:  # reported as one line, never raised raw
            if isinstance(err, ScriptError):
                wrapped = err
            else:
                message = format_error(err, bool(ctx.session.settings["debug"]))
                wrapped = ScriptError(f"{source.origin}:{start}", err, message)
            if not keep_going:
                raise wrapped from None
            failures += 1
            if on_error is not None:
                on_error(wrapped)
