"""Latency histograms of kprobe hits, by breakpoint and optimized path.

Commands:

  hitstats on PROBE       measure each hit of PROBE: a kprobe number or name, or a
                          location (SYM, SYM+OFF, *ADDR) where hitstats registers a
                          kprobe of its own
  hitstats off PROBE      stop measuring it (hitstats' own probe is unregistered)
  hitstats show [PROBE]   the histograms, per path, of the hits measured so far
  hitstats reset          forget the measurements (keep measuring)

Settings: ``hitstats bars unicode|ascii`` (the characters bars are drawn with) and
``hitstats histogram handler|hit-to-hit`` (which measurement the histograms show; both
are summarized).

What is measured, per hit:

* host ns of the handler path: the time the probe's pre_handler takes, measured around
  it by a wrapper (``api.wrap_pre_handler``).  On the jump path it includes loading
  pt_regs from the trampoline's frame when the handler reads registers; a probe with
  no handler measures what calling through the handler slot costs.
* hit-to-hit ns: the host time from one hit's handler to the next one's on the same
  path -- the rest of that hit's path (the single-step, or the trampoline's tail) plus
  the program's own work between hits.  Intervals across a stop are not counted.
* emulated instructions: derived from the code of the path (``api.probe_status``), not
  counted: 2 through the breakpoint (the trap word and the single-stepped original
  instruction), 23 or 24 through the jump (the branch, 20 trampoline instructions,
  armdbg's callback stub, and the original instruction -- single-stepped, or run in
  the trampoline and followed by the branch back).

Which path a hit took comes from the probe's ``nhit_bp``/``nhit_jump`` counters, which
the engine increments before any handler runs.  The histograms have 1-2-5 buckets
(100 ns, 200 ns, 500 ns, 1 us...).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from armdbg.api import ArmdbgError, Context, Kprobe, PluginAPI, PtRegs, UsageError

PATHS = ("breakpoint", "jump")
BAR_WIDTH = 40
UNICODE_BLOCKS = " ▏▎▍▌▋▊▉█"


@dataclass
class PathSamples:
    handler_ns: list[int] = field(default_factory=list)
    interval_ns: list[int] = field(default_factory=list)


@dataclass
class ProbeStats:
    probe: Kprobe
    own: bool                            # hitstats registered the probe itself
    remove: Callable[[], None]           # takes the wrapper off
    paths: dict[str, PathSamples] = field(
        default_factory=lambda: {path: PathSamples() for path in PATHS})
    seen_bp: int = 0
    seen_jump: int = 0
    last_end: int | None = None          # host ns when the previous hit's handler ended
    last_path: str | None = None

    def sync(self) -> None:
        """Start counting paths from the probe's counters as they are now."""
        self.seen_bp, self.seen_jump = self.probe.nhit_bp, self.probe.nhit_jump


# --------------------------------------------------------------------------- histograms


def bucket_edges(limit: int = 10**10) -> list[int]:
    """1-2-5 edges: 1, 2, 5, 10, 20, 50 ... ns."""
    edges, decade = [], 1
    while decade <= limit:
        edges += [decade, 2 * decade, 5 * decade]
        decade *= 10
    return edges


EDGES = bucket_edges()


def bucket_of(ns: int) -> int:
    index = 0
    while index + 1 < len(EDGES) and EDGES[index + 1] <= ns:
        index += 1
    return index


def format_ns(ns: float) -> str:
    for unit, size in (("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if ns >= size:
            value = ns / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{ns:.0f} ns"


def bar(count: int, largest: int, unicode: bool) -> str:
    if largest <= 0 or count <= 0:
        return ""
    eighths = max(1, round(count * BAR_WIDTH * 8 / largest))
    if not unicode:
        return "#" * max(1, eighths // 8)
    return UNICODE_BLOCKS[-1] * (eighths // 8) + (UNICODE_BLOCKS[eighths % 8]
                                                  if eighths % 8 else "")


def histogram_lines(samples: list[int], unicode: bool) -> list[str]:
    """One line per bucket from the smallest to the largest sample."""
    if not samples:
        return []
    counts: dict[int, int] = {}
    for ns in samples:
        index = bucket_of(ns)
        counts[index] = counts.get(index, 0) + 1
    low, high = min(counts), max(counts)
    largest = max(counts.values())
    lines = []
    for index in range(low, high + 1):
        count = counts.get(index, 0)
        label = f"{format_ns(EDGES[index]):>7} - {format_ns(EDGES[index + 1]):<7}"
        lines.append(f"      {label} |{bar(count, largest, unicode):<{BAR_WIDTH}}| {count}")
    return lines


def percentile(sorted_samples: list[int], fraction: float) -> int:
    index = min(len(sorted_samples) - 1, int(fraction * len(sorted_samples)))
    return sorted_samples[index]


def summary_line(what: str, samples: list[int]) -> str:
    ordered = sorted(samples)
    return (f"    {what}: min {format_ns(ordered[0])}, median {format_ns(percentile(ordered, 0.5))}"
            f", p99 {format_ns(percentile(ordered, 0.99))}, max {format_ns(ordered[-1])}")


# --------------------------------------------------------------------------- the plugin


def register(api: PluginAPI) -> None:
    bars = api.setting("hitstats bars", "enum", "unicode",
                       "Drawing of hitstats' histogram bars",
                       choices=("unicode", "ascii"))
    drawn = api.setting("hitstats histogram", "enum", "handler",
                        "What hitstats' histograms show",
                        choices=("handler", "hit-to-hit"))
    measured: dict[int, ProbeStats] = {}

    def measure(stats: ProbeStats) -> Callable[..., Any]:
        def around(probe: Kprobe, regs: PtRegs, call_original: Callable[[], Any]) -> Any:
            path = "jump" if probe.nhit_jump != stats.seen_jump else "breakpoint"
            stats.sync()
            start = time.perf_counter_ns()
            result = call_original()
            end = time.perf_counter_ns()
            samples = stats.paths[path]
            samples.handler_ns.append(end - start)
            if stats.last_end is not None and stats.last_path == path:
                samples.interval_ns.append(start - stats.last_end)
            stats.last_end, stats.last_path = end, path
            return result

        return around

    def forget_intervals(_event: object) -> None:
        # Time spent stopped (at a prompt, in a script) is not a hit's cost.
        for stats in measured.values():
            stats.last_end = None

    api.on("stop", forget_intervals)

    def find(key: str) -> Kprobe | None:
        try:
            return api.probe(key)
        except ArmdbgError:
            return None  # not a probe's number or name

    def measured_probe(key: str) -> ProbeStats:
        probe = find(key)
        if probe is None or probe.id not in measured:
            raise UsageError(f"hitstats: {key} is not being measured.")
        return measured[probe.id]

    @api.command("hitstats", usage="hitstats on|off|show|reset [PROBE]")
    def cmd_hitstats(ctx: Context, args: str) -> None:
        """Latency histograms of kprobe hits, by breakpoint and optimized path.

        "hitstats on PROBE" starts measuring a kprobe (by number or name; a location
        gets a kprobe of hitstats' own), "hitstats show" draws what was measured.
        """
        if args.strip():
            raise UsageError(f'Undefined hitstats command: "{args.strip()}".  '
                             'Try "help hitstats".')
        cmd_show(ctx, "")

    @api.command("hitstats on", usage="hitstats on PROBE", complete=("location",))
    def cmd_on(ctx: Context, args: str) -> None:
        """Measure each hit of PROBE (a kprobe number or name, or a location)."""
        key = args.strip()
        if not key:
            raise UsageError("Usage: hitstats on PROBE")
        probe = find(key)
        own = probe is None
        if probe is None:
            probe = api.kprobe(key, name=f"hitstats_{len(measured) + 1}")
        if probe.id in measured:
            raise UsageError(f"hitstats: kprobe {probe.id} ({probe.name}) is already measured.")
        stats = ProbeStats(probe, own, lambda: None)
        stats.sync()
        stats.remove = api.wrap_pre_handler(probe, measure(stats))
        measured[probe.id] = stats
        where = api.symbolize(probe.addr or 0)
        ctx.out.line(f"Measuring hits of kprobe {probe.id} ({probe.name}) at "
                     f"{probe.addr:#010x}{f' <{where}>' if where else ''}.")

    @api.command("hitstats off", usage="hitstats off PROBE")
    def cmd_off(ctx: Context, args: str) -> None:
        """Stop measuring PROBE (a kprobe hitstats registered itself goes away)."""
        stats = measured_probe(args.strip())
        stats.remove()
        if stats.own:
            api.unregister(stats.probe)
        del measured[stats.probe.id]
        ctx.out.line(f"No longer measuring kprobe {stats.probe.id} ({stats.probe.name}).")

    @api.command("hitstats reset", usage="hitstats reset")
    def cmd_reset(ctx: Context, args: str) -> None:
        """Forget all measurements; the probes stay measured."""
        for stats in measured.values():
            stats.paths = {path: PathSamples() for path in PATHS}
            stats.last_end = None
            stats.sync()
        ctx.out.line("hitstats: measurements cleared.")

    @api.command("hitstats show", usage="hitstats show [PROBE]")
    def cmd_show(ctx: Context, args: str) -> None:
        """Draw the histograms of PROBE's hits (of every measured probe by default)."""
        key = args.strip()
        chosen = [measured_probe(key)] if key else list(measured.values())
        if not chosen:
            ctx.out.line('hitstats: no probe is measured (use "hitstats on PROBE").')
            return
        for stats in chosen:
            show_probe(ctx, stats, bars.value == "unicode")

    def show_probe(ctx: Context, stats: ProbeStats, unicode: bool) -> None:
        probe = stats.probe
        total = sum(len(p.handler_ns) for p in stats.paths.values())
        where = api.symbolize(probe.addr or 0)
        status = api.probe_status(probe)
        state = "optimized" if status.optimized else "on the breakpoint path"
        ctx.out.line(f"kprobe {probe.id} ({probe.name}) at {probe.addr:#010x}"
                     f"{f' <{where}>' if where else ''}: {total} hits measured, "
                     f"now {state}")
        instructions = {"breakpoint": status.breakpoint_instructions,
                        "jump": status.jump_instructions}
        for path in PATHS:
            samples = stats.paths[path]
            count = len(samples.handler_ns)
            emulated = instructions[path]
            cost = (f"{emulated} emulated instructions per hit (from the path's code)"
                    if emulated is not None else "cannot be optimized")
            ctx.out.line(f"  {path} path: {count} hits; {cost}")
            if not count:
                continue
            ctx.out.line(summary_line("handler", samples.handler_ns))
            if samples.interval_ns:
                ctx.out.line(summary_line("hit-to-hit", samples.interval_ns))
            chosen = samples.interval_ns if drawn.value == "hit-to-hit" else samples.handler_ns
            if chosen:
                ctx.out.line(f"    {drawn.value} histogram:")
            for line in histogram_lines(chosen, unicode):
                ctx.out.line(line)
