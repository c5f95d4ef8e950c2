"""``plugin list|load|unload|reload``: the session's plugins (see armdbg.plugins)."""

from __future__ import annotations

from armdbg.commands.context import Context
from armdbg.commands.registry import CommandSet
from armdbg.errors import UsageError
from armdbg.plugins import PluginManager

commands = CommandSet()


def manager_of(ctx: Context) -> PluginManager:
    """The session's plugin manager (the App makes it; a bare session gets one here)."""
    manager = ctx.session.extensions.get("plugins")
    if manager is None:
        manager = PluginManager(ctx.session, ctx.dispatcher)
    return manager  # type: ignore[no-any-return]


def _name(args: str, command: str) -> str:
    words = args.split()
    if len(words) != 1:
        raise UsageError(f"Usage: plugin {command} NAME")
    return words[0]


@commands.command("plugin", category="plugins", prefix=True,
                  usage="plugin list|load|unload|reload [NAME]")
def cmd_plugin(ctx: Context, args: str) -> None:
    """Manage plugins: list them, load, unload or reload one.

    Plugins come from the bundled plugins/ directory, each --plugin-dir DIR,
    ~/.config/armdbg/plugins and installed packages (entry point group armdbg.plugins);
    the first of a name wins.  Without a subcommand, the same as "plugin list".
    """
    if args.strip():
        raise UsageError(f'Undefined plugin command: "{args.strip()}".  Try "help plugin".')
    cmd_plugin_list(ctx, "")


@commands.command("plugin list", category="plugins", usage="plugin list")
def cmd_plugin_list(ctx: Context, args: str) -> None:
    """List the plugins found, with their state and where they come from.

    State is loaded, faulted (an error disabled it: "plugin reload NAME" tries again),
    failed (its last load failed) or not loaded (AUTOLOAD = False plugins wait for
    "plugin load NAME" or --plugin NAME).
    """
    if args.strip():
        raise UsageError("plugin list takes no arguments.")
    rows = manager_of(ctx).rows()
    if not rows:
        ctx.out.line("No plugins.")
        return
    width = max(4, *(len(row.name) for row in rows))
    ctx.out.line(f"{'Name':<{width}}  {'State':<10}  {'Source':<11}  Description")
    for row in rows:
        ctx.out.line(f"{row.name:<{width}}  {row.state:<10}  {row.source:<11}  "
                     f"{row.summary}".rstrip())
        if row.detail:
            ctx.out.line(f"{'':<{width}}  {row.detail}")


@commands.command("plugin load", category="plugins", usage="plugin load NAME")
def cmd_plugin_load(ctx: Context, args: str) -> None:
    """Load a plugin by name (one that is not loaded, e.g. AUTOLOAD = False)."""
    loaded = manager_of(ctx).load(_name(args, "load"))
    ctx.out.line(f"Plugin {loaded.name} loaded ({loaded.candidate.source}).")


@commands.command("plugin unload", category="plugins", usage="plugin unload NAME")
def cmd_plugin_unload(ctx: Context, args: str) -> None:
    """Unload a plugin: its commands, settings, probes, handlers and sections go away."""
    loaded = manager_of(ctx).unload(_name(args, "unload"))
    ctx.out.line(f"Plugin {loaded.name} unloaded.")


@commands.command("plugin reload", category="plugins", usage="plugin reload NAME")
def cmd_plugin_reload(ctx: Context, args: str) -> None:
    """Unload a plugin and load it again from its file as it is now.

    Edits to the file are picked up without restarting the session; a plugin that an
    error disabled starts afresh.  A plugin that is not loaded is simply loaded.
    """
    loaded = manager_of(ctx).reload(_name(args, "reload"))
    ctx.out.line(f"Plugin {loaded.name} reloaded ({loaded.candidate.source}).")
