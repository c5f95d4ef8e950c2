"""Built-in commands, one module per family, each exposing a ``commands`` CommandSet."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from armdbg.commands.registry import CommandSet, Registry

BUILTIN_MODULES = (
    "armdbg.commands.support",
)


def builtin_sets() -> list[CommandSet]:
    sets = []
    for name in BUILTIN_MODULES:
        module = importlib.import_module(name)
        sets.append(module.commands)
    return sets


def build_registry(extra: Iterable[CommandSet] = ()) -> Registry:
    return Registry([*builtin_sets(), *extra])
