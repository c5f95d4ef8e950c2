"""register() declares a command, a setting and a kprobe, then raises."""

from armdbg.api import Context, PluginAPI


def register(api: PluginAPI) -> None:
    @api.command("bad-register-cmd")
    def cmd(ctx: Context, args: str) -> None:
        """Never reachable: register() fails after declaring it."""

    api.setting("bad-register value", "int", 1, "A value that must not stay declared")
    api.kprobe("do_something", name="bad_register_probe")
    raise ValueError("boom in register")
