"""Expressions and locations as commands use them, evaluated against a session
through :class:`armdbg.session_env.SessionEnv`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from armdbg import expr
from armdbg.errors import ArmdbgError, NoSymbolError, UsageError
from armdbg.frames import thumb_at
from armdbg.session_env import SessionEnv

if TYPE_CHECKING:
    from armdbg.commands.context import Context


def evaluate(ctx: Context, text: str) -> expr.Value:
    if not text.strip():
        raise ArmdbgError("Argument required (expression to compute).")
    return expr.evaluate(text, SessionEnv(ctx.session))


def evaluate_int(ctx: Context, text: str) -> int:
    return expr.value_as_address(evaluate(ctx, text))


def is_true(ctx: Context, text: str) -> bool:
    return expr.value_is_true(evaluate(ctx, text))


@dataclass(frozen=True)
class Location:
    address: int
    thumb: bool
    spec: str            # what the user typed, for messages


_SYMBOL_OFFSET = re.compile(r"^([A-Za-z_.$][\w.$]*)\s*(?:([+-])\s*(0[xX][0-9a-fA-F]+|\d+))?$")


def parse_location(ctx: Context, text: str) -> Location:
    """gdb's LOCATION as armdbg accepts it: ``FUNCTION``, ``SYM+OFF`` or ``*EXPRESSION``.

    Unlike gdb with debug info, a function location is its first instruction (there is
    no prologue analysis): kprobes are placed on exact instructions too.
    """
    spec = text.strip()
    if not spec:
        raise UsageError("Argument required (location).")
    session = ctx.session
    if spec.startswith("*"):
        address = evaluate_int(ctx, spec[1:])
        return Location(address & ~1, bool(address & 1) or thumb_at(session, address & ~1), spec)
    match = _SYMBOL_OFFSET.match(spec)
    if match is None:
        if spec[0].isdigit():
            raise UsageError(f'No line number information: use "*{spec}" for an address.')
        raise UsageError(f'Function "{spec}" not defined.')
    symbol = session.symbols.lookup(match.group(1))
    if symbol is None:
        raise NoSymbolError(match.group(1)) if match.group(2) else \
            UsageError(f'Function "{match.group(1)}" not defined.')
    offset = int(match.group(3), 0) if match.group(3) else 0
    address = symbol.address + (offset if match.group(2) != "-" else -offset)
    thumb = symbol.thumb if symbol.kind == "func" else thumb_at(session, address)
    return Location(address, thumb, spec)
