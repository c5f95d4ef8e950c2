"""Where history is kept and how ``history size`` bounds it."""

from __future__ import annotations

from pathlib import Path

from prompt_toolkit.history import FileHistory, InMemoryHistory

from armdbg.ui.history import BoundedFileHistory, history_path, open_history


def test_history_path_precedence(tmp_path: Path) -> None:
    home = Path.home() / ".armdbg_history"
    assert history_path(None, {}) == home
    assert history_path(None, {"ARMDBG_HISTORY": str(tmp_path / "h")}) == tmp_path / "h"
    assert history_path(None, {"ARMDBG_HISTORY": ""}) is None
    assert history_path(str(tmp_path / "opt"), {"ARMDBG_HISTORY": "x"}) == tmp_path / "opt"
    assert history_path("", {}) is None


def _write(path: Path, entries: list[str]) -> None:
    history = FileHistory(str(path))
    for entry in entries:
        history.store_string(entry)


def test_loading_keeps_only_the_newest_entries(tmp_path: Path) -> None:
    path = tmp_path / "h"
    _write(path, ["a", "b", "c", "d"])
    limit = {"size": 2}
    history = BoundedFileHistory(path, lambda: limit["size"])
    assert list(history.load_history_strings()) == ["d", "c"]
    limit["size"] = 0  # unlimited
    assert list(history.load_history_strings()) == ["d", "c", "b", "a"]


def test_trim_rewrites_the_file_with_the_newest_entries(tmp_path: Path) -> None:
    path = tmp_path / "h"
    _write(path, ["one", "two\nlines", "three"])
    BoundedFileHistory(path, lambda: 2).trim()
    assert list(FileHistory(str(path)).load_history_strings()) == ["three", "two\nlines"]


def test_open_history_creates_the_file_and_degrades_to_memory(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "h"
    assert isinstance(open_history(path, lambda: 10), BoundedFileHistory)
    assert path.exists()
    assert isinstance(open_history(None, lambda: 10), InMemoryHistory)
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert isinstance(open_history(blocker / "h", lambda: 10), InMemoryHistory)
