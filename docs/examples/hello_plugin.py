"""The example of docs/plugins.md: a greeting, a call counter, a context section.

Commands:
  hello [NAME]              print a greeting ("set hello greeting WORD" changes the word)
  count-calls FUNCTION      count FUNCTION's calls with a kprobe and sum its first
                            argument (r0); the counts show in the context display, and
                            a summary is printed when the program exits
"""

from __future__ import annotations

from typing import Any

from armdbg.api import Context, Kprobe, PluginAPI, PtRegs


def register(api: PluginAPI) -> None:
    greeting = api.setting("hello greeting", "str", "hello", "The word hello greets with")
    counters: dict[str, dict[str, int]] = {}

    @api.command("hello", usage="hello [NAME]")
    def cmd_hello(ctx: Context, args: str) -> None:
        """Greet NAME (default: world).

        The greeting word is the setting "hello greeting": "set hello greeting hi".
        """
        ctx.out.line(f"{greeting.value}, {args.strip() or 'world'}!")

    parser = api.ArgParser("count-calls")
    parser.add_argument("function", metavar="FUNCTION",
                        help="a function (or SYM+OFF, *ADDR) to count calls of")

    @api.command("count-calls", parser=parser, complete=("location",))
    def cmd_count_calls(ctx: Context, args: Any) -> None:
        """Count the calls of FUNCTION with a kprobe, and sum their first argument (r0)."""
        counter = {"calls": 0, "r0_sum": 0}

        def pre_handler(probe: Kprobe, regs: PtRegs) -> int:
            counter["calls"] += 1
            counter["r0_sum"] = (counter["r0_sum"] + regs.ARM_r0) & 0xFFFFFFFF
            return 0  # go on with the probed instruction

        probe = api.kprobe(args.function, pre_handler, name=f"count_{args.function}")
        counters[probe.name] = counter
        ctx.out.line(f"Counting calls of {args.function} with kprobe {probe.id} ({probe.name}).")

    def summary() -> list[str]:
        return [f"{name}: calls {c['calls']}, r0 sum {c['r0_sum']:#x}"
                for name, c in counters.items()]

    api.context_section("calls", summary)

    def on_exit(code: int) -> None:
        for line in summary():
            api.print(f"[hello_plugin] {line}")

    api.on("exit", on_exit)

    def on_reload() -> None:
        for counter in counters.values():  # each run counts from zero
            counter.update(calls=0, r0_sum=0)

    api.on("reload", on_reload)
