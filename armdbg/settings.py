"""Settings that ``set`` and ``show`` know: declared once, with their help text.

Plugins declare theirs through the same :meth:`Settings.declare`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from armdbg.errors import UsageError

_TRUE = {"on", "1", "yes", "enable", "true"}
_FALSE = {"off", "0", "no", "disable", "false"}


def parse_bool(text: str, name: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE or word == "":
        return True
    if word in _FALSE:
        return False
    raise UsageError(f'"on" or "off" expected for {name}, got "{text.strip()}".')


@dataclass
class Setting:
    name: str
    kind: str                 # "bool", "int", "uint" (0 = unlimited), "str" or "enum"
    default: Any
    doc: str                  # gdb style: "Whether to ...", shown as "<doc> is <value>."
    choices: tuple[str, ...] = ()
    on_change: Callable[[Any], None] | None = None
    owner: str = "armdbg"     # which plugin declared it
    value: Any = None

    def __post_init__(self) -> None:
        self.value = self.default

    def parse(self, text: str) -> Any:
        text = text.strip()
        if self.kind == "bool":
            return parse_bool(text, self.name)
        if self.kind in ("int", "uint"):
            if self.kind == "uint" and text.lower() == "unlimited":
                return 0
            try:
                value = int(text, 0)
            except ValueError:
                raise UsageError(f'integer expected for {self.name}, got "{text}".') from None
            if self.kind == "uint" and value < 0:
                raise UsageError(f"integer {value} out of range for {self.name}.")
            return value
        if self.kind == "enum":
            matches = [c for c in self.choices if c.startswith(text.lower())] if text else []
            if text.lower() in self.choices:
                return text.lower()
            if len(matches) == 1:
                return matches[0]
            raise UsageError(f'Undefined item: "{text}". Allowed: {", ".join(self.choices)}.')
        return text

    def format(self) -> str:
        if self.kind == "bool":
            return "on" if self.value else "off"
        if self.kind == "uint" and self.value == 0:
            return "unlimited"
        return str(self.value)


class Settings:
    def __init__(self) -> None:
        self._settings: dict[str, Setting] = {}

    def declare(self, name: str, kind: str, default: Any, doc: str, *,
                choices: tuple[str, ...] = (), on_change: Callable[[Any], None] | None = None,
                owner: str = "armdbg") -> Setting:
        if name in self._settings:
            raise ValueError(f"setting {name} is declared twice")
        setting = Setting(name, kind, default, doc, choices, on_change, owner)
        self._settings[name] = setting
        return setting

    def remove_owner(self, owner: str) -> None:
        for name in [n for n, s in self._settings.items() if s.owner == owner]:
            del self._settings[name]

    def names(self) -> list[str]:
        return sorted(self._settings)

    def find(self, name: str) -> Setting:
        """Exact name, or a unique prefix of one, as gdb accepts ``set pagi off``."""
        if name in self._settings:
            return self._settings[name]
        matches = [n for n in self._settings if n.startswith(name)]
        if len(matches) == 1:
            return self._settings[matches[0]]
        if not matches:
            raise UsageError(f'Undefined set/show command: "{name}".  Try "help set".')
        raise UsageError(f'Ambiguous set/show command "{name}": {", ".join(sorted(matches))}.')

    def __getitem__(self, name: str) -> Any:
        return self._settings[name].value

    def set(self, name: str, text: str) -> Setting:
        setting = self.find(name)
        value = setting.parse(text)
        setting.value = value
        if setting.on_change is not None:
            setting.on_change(value)
        return setting

    def set_value(self, name: str, value: Any) -> None:
        setting = self._settings[name]
        setting.value = value
        if setting.on_change is not None:
            setting.on_change(value)

    def describe(self, name: str) -> str:
        setting = self.find(name)
        return f"{setting.doc} is {setting.format()}."
