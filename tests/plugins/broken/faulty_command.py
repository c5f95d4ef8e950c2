"""Commands that fail: a usage error (the user's) and a bug (the plugin's)."""

AUTOLOAD = False

from armdbg.api import Context, PluginAPI, UsageError  # noqa: E402


def register(api: PluginAPI) -> None:
    @api.command("faulty-usage", usage="faulty-usage N")
    def cmd_usage(ctx: Context, args: str) -> None:
        """Insist on an argument (a UsageError is not a plugin fault)."""
        if not args.strip():
            raise UsageError("Usage: faulty-usage N")
        ctx.out.line(f"faulty-usage got {args.strip()}")

    @api.command("faulty-divide", usage="faulty-divide")
    def cmd_divide(ctx: Context, args: str) -> None:
        """Divide by zero (a bug: the plugin is disabled)."""
        ctx.out.line(str(1 // 0))
