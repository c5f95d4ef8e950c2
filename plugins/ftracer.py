"""Function-call tracer: kretprobes on functions, an indented call graph.

Commands:

  ftracer start [GLOB]    probe every function symbol whose name matches GLOB (shell
                          style; default: every function) and record each call with
                          its arguments and return value
  ftracer stop            remove the probes (what was recorded stays)
  ftracer show [--max-depth N] [--limit N]
                          print the call graph recorded so far
  ftracer clear           forget the recorded calls

Settings: ``ftracer args N`` (how many argument registers, r0 up to r3, each call
shows; default 4) and ``ftracer maxactive N`` (calls of one function in flight that
can be followed; more are counted as missed).

The graph reads like ftrace's function_graph tracer, with the arguments (r0-r3 at
entry, AAPCS) and the return value (r0 on return) of each call::

    fib(r0=0x3) {
      fib(r0=0x2) {
        fib(r0=0x1) = 0x1
        fib(r0=0x0) = 0x0
      } = 0x1
      fib(r0=0x1) = 0x1
    } = 0x2

A call with no traced calls inside is one line.  Under ``--max-depth N`` the calls at
depth N stand for their whole subtree (``[+K calls]`` says how many are hidden).  A
call still running when the graph is shown ends in ``} = ?``.

Each function gets one kretprobe (its entry probe is the kprobe): the entry handler
records the call, the return handler its value.  Functions the kprobes engine refuses
(an instruction it cannot single-step, a blacklisted address) are skipped and counted.
The nesting follows the stack pointer, so calls abandoned by a restart (``run``) do
not swallow the calls after them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from armdbg.api import (
    ArmdbgError,
    Context,
    Kretprobe,
    KretprobeInstance,
    PluginAPI,
    PtRegs,
    UsageError,
)

# Functions that read LR as data (libgcc's Thumb switch-table helpers find the table
# through it): a kretprobe replaces LR at entry, which would break them.
LR_READERS = ("__gnu_thumb1_case_*",)


@dataclass
class Call:
    name: str
    args: tuple[int, ...]
    sp: int                                 # SP at entry: nesting and stale calls
    ret: int | None = None
    returned: bool = False
    children: list[Call] = field(default_factory=list)

    def size(self) -> int:
        """How many calls this subtree holds below this one."""
        return sum(1 + child.size() for child in self.children)


@dataclass
class Trace:
    roots: list[Call] = field(default_factory=list)
    open: list[Call] = field(default_factory=list)   # calls in progress, outermost first
    calls: int = 0
    dropped: int = 0                                 # beyond the record limit

    def clear(self) -> None:
        self.roots, self.open, self.calls, self.dropped = [], [], 0, 0


MAX_CALLS = 200_000


def format_call(call: Call) -> str:
    args = ", ".join(f"r{index}={value:#x}" for index, value in enumerate(call.args))
    return f"{call.name}({args})"


def graph_lines(roots: list[Call], max_depth: int | None, limit: int | None) -> list[str]:
    lines: list[str] = []

    def full() -> bool:
        return limit is not None and len(lines) >= limit

    def ret_text(call: Call) -> str:
        return f"{call.ret:#x}" if call.returned and call.ret is not None else "?"

    def walk(call: Call, depth: int) -> None:
        if full():
            return
        pad = "  " * depth
        hidden = max_depth is not None and depth + 1 >= max_depth and call.children
        if not call.children or hidden:
            more = f"  [+{call.size()} call{'s' if call.size() != 1 else ''}]" if hidden else ""
            lines.append(f"{pad}{format_call(call)} = {ret_text(call)}{more}")
            return
        lines.append(f"{pad}{format_call(call)} {{")
        for child in call.children:
            walk(child, depth + 1)
        if not full():
            lines.append(f"{pad}}} = {ret_text(call)}")

    for root in roots:
        walk(root, 0)
    return lines


def register(api: PluginAPI) -> None:
    nargs = api.setting("ftracer args", "int", 4,
                        "Number of argument registers (r0..r3) ftracer shows")
    maxactive = api.setting("ftracer maxactive", "uint", 256,
                            "Calls of one function in flight that ftracer can follow")
    trace = Trace()
    probes: list[Kretprobe] = []

    def enter(name: str) -> Any:
        def entry_handler(instance: KretprobeInstance, regs: PtRegs) -> int:
            sp = regs.ARM_sp
            # Calls deeper than this one (lower SP) that never returned were abandoned.
            while trace.open and trace.open[-1].sp < sp:
                trace.open.pop()
            if trace.calls >= MAX_CALLS:
                trace.dropped += 1
                return 0
            count = max(0, min(4, int(nargs.value)))
            call = Call(name, tuple(regs[i] for i in range(count)), sp)
            (trace.open[-1].children if trace.open else trace.roots).append(call)
            trace.open.append(call)
            trace.calls += 1
            instance.data["call"] = call
            return 0

        return entry_handler

    def leave(instance: KretprobeInstance, regs: PtRegs) -> None:
        call = instance.data.get("call")
        if call is None:
            return
        call.ret = regs.ARM_r0
        call.returned = True
        if call in trace.open:
            del trace.open[trace.open.index(call):]

    def stop_probes() -> int:
        count = len(probes)
        for rp in probes:
            api.unregister(rp)
        probes.clear()
        return count

    @api.command("ftracer", usage="ftracer start [GLOB] | stop | show | clear")
    def cmd_ftracer(ctx: Context, args: str) -> None:
        """Trace function calls as an indented call graph (kretprobes on functions).

        "ftracer start fib" probes fib, "run" records its calls, "ftracer show" prints
        the graph with arguments and return values.
        """
        if args.strip():
            raise UsageError(f'Undefined ftracer command: "{args.strip()}".  '
                             'Try "help ftracer".')
        cmd_show(ctx, show_parser.parse(""))

    @api.command("ftracer start", usage="ftracer start [GLOB]", complete=("location",))
    def cmd_start(ctx: Context, args: str) -> None:
        """Probe every function matching GLOB (default: all of them) and record calls."""
        pattern = args.strip() or "*"
        if probes:
            raise UsageError('ftracer is already tracing (use "ftracer stop" first).')
        functions = [f for f in api.functions(pattern)
                     if not any(_matches(f.name, lr) for lr in LR_READERS)]
        if not functions:
            raise UsageError(f'ftracer: no function matches "{pattern}".')
        refused: list[str] = []
        for function in functions:
            try:
                # By address: static functions may share a name.
                where = f"*{function.address | int(function.thumb):#x}"
                probes.append(api.kretprobe(where, leave, enter(function.name),
                                            maxactive=max(1, min(4096, maxactive.value or 4096)),
                                            name=f"ftrace_{function.name}"))
            except ArmdbgError as err:
                refused.append(f"{function.name} ({err})")
        ctx.out.line(f"ftracer: tracing {len(probes)} function"
                     f"{'s' if len(probes) != 1 else ''} matching \"{pattern}\".")
        if refused:
            ctx.out.line(f"ftracer: {len(refused)} could not be probed, e.g. {refused[0]}")

    @api.command("ftracer stop", usage="ftracer stop")
    def cmd_stop(ctx: Context, args: str) -> None:
        """Remove ftracer's probes; the recorded calls stay for "ftracer show"."""
        missed = sum(rp.nmissed for rp in probes)
        count = stop_probes()
        ctx.out.line(f"ftracer: stopped ({count} probe{'s' if count != 1 else ''} removed, "
                     f"{trace.calls} calls recorded"
                     f"{f', {missed} missed' if missed else ''}).")

    show_parser = api.ArgParser("ftracer show")
    show_parser.add_argument("--max-depth", type=int, default=None, metavar="N",
                             help="show calls down to depth N (1: outermost only)")
    show_parser.add_argument("--limit", type=int, default=None, metavar="N",
                             help="show at most N lines")

    @api.command("ftracer show", parser=show_parser)
    def cmd_show(ctx: Context, args: Any) -> None:
        """Print the recorded call graph, with arguments and return values."""
        if args.max_depth is not None and args.max_depth < 1:
            raise UsageError("ftracer show: --max-depth must be at least 1.")
        if not trace.roots:
            ctx.out.line("ftracer: no calls recorded.")
            return
        lines = graph_lines(trace.roots, args.max_depth, args.limit)
        for line in lines:
            ctx.out.line(line)
        if args.limit is not None and len(lines) >= args.limit:
            ctx.out.line(f"... (--limit {args.limit})")
        missed = sum(rp.nmissed for rp in probes)
        notes = [f"{trace.calls} calls"]
        if missed:
            notes.append(f"{missed} missed (more than ftracer maxactive in flight)")
        if trace.dropped:
            notes.append(f"{trace.dropped} not recorded (over {MAX_CALLS})")
        ctx.out.line(f"ftracer: {', '.join(notes)}.")

    @api.command("ftracer clear", usage="ftracer clear")
    def cmd_clear(ctx: Context, args: str) -> None:
        """Forget the recorded calls (the probes stay)."""
        trace.clear()
        ctx.out.line("ftracer: cleared.")


def _matches(name: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    return fnmatchcase(name, pattern)
