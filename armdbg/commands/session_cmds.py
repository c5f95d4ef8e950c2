"""Commands about the armdbg session itself: ``quit``."""

from __future__ import annotations

from armdbg.commands.context import Context
from armdbg.commands.evaluation import evaluate_int
from armdbg.commands.registry import CommandSet
from armdbg.errors import ArmdbgError

commands = CommandSet()


@commands.command("quit", category="support", aliases=("q",), usage="quit [EXPR]",
                  complete=("expression",))
def cmd_quit(ctx: Context, args: str) -> None:
    """Exit armdbg.
    Usage: quit [EXPR]
    The optional expression EXPR, if present, is evaluated and the result
    used as armdbg's exit code.  The default is zero."""
    status = evaluate_int(ctx, args) & 0xFF if args.strip() else 0
    app = ctx.session.extensions.get("app")
    if app is None:  # a session embedded without an App has nothing to leave
        raise ArmdbgError("quit: not running inside armdbg.")
    app.quit_requested = status
