"""Built-in commands, one module per family, each exposing a ``commands`` CommandSet.

A module may also define ``attach(session)``: called once per session, it subscribes
to events (e.g. the context display on "stop") and declares the family's settings.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from armdbg.commands.registry import CommandSet, Registry

BUILTIN_MODULES = (
    "armdbg.commands.support",
    "armdbg.commands.memory",
    "armdbg.commands.state",
    "armdbg.commands.context_view",  # before data: the context shows before the displays
    "armdbg.commands.data",
    "armdbg.commands.code",
    "armdbg.commands.kprobes",
    "armdbg.commands.tracing",
    "armdbg.commands.breakpoints",
    "armdbg.commands.running",
    "armdbg.commands.session_cmds",
    "armdbg.commands.scripting",
    "armdbg.commands.settings_cmds",
    "armdbg.commands.help",
    "armdbg.commands.plugins_cmd",
)


def builtin_sets() -> list[CommandSet]:
    sets = []
    for name in BUILTIN_MODULES:
        module = importlib.import_module(name)
        sets.append(module.commands)
    return sets


def attach_all(session: object) -> None:
    for name in BUILTIN_MODULES:
        module = importlib.import_module(name)
        attach = getattr(module, "attach", None)
        if attach is not None:
            attach(session)


def build_registry(extra: Iterable[CommandSet] = ()) -> Registry:
    return Registry([*builtin_sets(), *extra])
