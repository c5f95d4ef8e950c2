"""Declarations that help and completion must survive.

An odd docstring, none at all, a parser whose usage raises, an unknown category.
"""

from armdbg.api import ArgParser, Context, PluginAPI


class BadUsageParser(ArgParser):
    def format_usage(self) -> str:
        raise RuntimeError("usage is broken")


def register(api: PluginAPI) -> None:
    def odd(ctx: Context, args: str) -> None:
        ctx.out.line("odd ran")

    odd.__doc__ = 42  # type: ignore[assignment]
    api.command("odd-doc", category="weird-category")(odd)

    @api.command("no-doc")
    def no_doc(ctx: Context, args: str) -> None:
        ctx.out.line("no-doc ran")

    parser = BadUsageParser("bad-usage")
    parser.add_argument("--flag", action="store_true")

    @api.command("bad-usage", parser=parser)
    def bad_usage(ctx: Context, args: object) -> None:
        """A command whose parser cannot describe itself."""
        ctx.out.line("bad-usage ran")
