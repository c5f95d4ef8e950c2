"""The persistent command history: ``~/.armdbg_history``, bounded by ``history size``.

The path is, first found: ``--history FILE``; ``$ARMDBG_HISTORY`` (empty = keep no
file); ``~/.armdbg_history``.  Like gdb, the file is cut to the last ``history size``
commands (0 = unlimited), here when the shell starts and when it ends.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from prompt_toolkit.history import FileHistory, History, InMemoryHistory

DEFAULT_NAME = ".armdbg_history"
ENV_VAR = "ARMDBG_HISTORY"


def history_path(option: str | Path | None = None,
                 environ: Mapping[str, str] | None = None) -> Path | None:
    """Where history is kept, or None for a session without a history file."""
    if option is not None:
        return Path(option).expanduser() if str(option) else None
    environ = os.environ if environ is None else environ
    if ENV_VAR in environ:
        value = environ[ENV_VAR]
        return Path(value).expanduser() if value else None
    return Path.home() / DEFAULT_NAME


class BoundedFileHistory(FileHistory):
    """A FileHistory that loads at most ``limit()`` entries (0 = all)."""

    def __init__(self, path: Path, limit: Callable[[], int]) -> None:
        super().__init__(str(path))
        self.path = path
        self.limit = limit

    def load_history_strings(self) -> Iterable[str]:
        limit = self.limit()
        for count, entry in enumerate(super().load_history_strings()):  # newest first
            if limit and count >= limit:
                return
            yield entry

    def trim(self) -> None:
        """Rewrite the file with only the newest ``limit()`` entries."""
        limit = self.limit()
        if not limit or not self.path.exists():
            return
        entries = list(FileHistory(str(self.path)).load_history_strings())
        if len(entries) <= limit:
            return
        keep = reversed(entries[:limit])
        text = "".join("\n" + "".join(f"+{line}\n" for line in entry.split("\n"))
                       for entry in keep)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.path)


def open_history(path: Path | None, limit: Callable[[], int]) -> History:
    """The history for a prompt; an unusable file degrades to in-memory history."""
    if path is None:
        return InMemoryHistory()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError:
        return InMemoryHistory()
    history = BoundedFileHistory(path, limit)
    try:
        history.trim()
    except OSError:
        pass
    return history
