"""A shell on the demo image for command tests: an App writing to a buffer, and helpers
to read what it printed."""

from __future__ import annotations

import io

from armdbg.app import App


def new_app() -> App:
    app = App(stdout=io.StringIO(), stderr=io.StringIO())
    app.load_initial(None)
    app.run_line("set context off")
    return app


def output(app: App) -> str:
    """What the app printed since the last call."""
    stream = app.stdout
    assert isinstance(stream, io.StringIO)
    text = stream.getvalue()
    stream.seek(0)
    stream.truncate()
    return text


def tty(app: App, line: str) -> str:
    """Run a line as if typed at the prompt; return what it printed."""
    output(app)
    app.run_line(line, from_tty=True)
    return output(app)
