"""Helpers for plugin tests: an App with the plugins of chosen sources, and a HOME of
its own so the real ~/.config/armdbg/plugins never leaks in."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from armdbg.app import App

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).resolve().parent / "broken"
EXAMPLES = ROOT / "docs" / "examples"
FIXTURES = ROOT / "tests" / "fixtures"
RESULT = 0x80200004   # the demo's result word


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """HOME and XDG_CONFIG_HOME in tmp_path: no user plugins unless a test makes some."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    yield home


class Shell:
    """An App driven line by line; ``run`` returns what the line printed (both streams)."""

    def __init__(self, *, file: Path | None = None, dirs: list[Path] | None = None,
                 plugins: list[str] | None = None, user: bool = True,
                 context: bool = False) -> None:
        self.stream = io.StringIO()
        self.app = App(stdout=self.stream, stderr=self.stream,
                       plugin_dirs=[str(d) for d in dirs or []])
        self.app.load_initial(str(file) if file is not None else None)
        self.app.load_plugins(plugins or [], user=user)
        self.startup = self.take()
        if not context:
            self.app.run_line("set context off")

    @property
    def session(self):  # type: ignore[no-untyped-def]
        return self.app.session

    @property
    def plugins(self):  # type: ignore[no-untyped-def]
        return self.app.plugins

    def take(self) -> str:
        text = self.stream.getvalue()
        self.stream.seek(0)
        self.stream.truncate()
        return text

    def run(self, line: str) -> str:
        """Run a line; an error is reported as one line, as the CLI would."""
        self.take()
        self.app.run_line_reporting(line)
        return self.take()

    def result_word(self) -> int:
        return int.from_bytes(self.session.read_memory(RESULT, 4), "little")


def write_plugin(directory: Path, name: str, source: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    path.write_text(source)
    return path
