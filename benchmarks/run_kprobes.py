"""What a kprobe hit costs, as ratios measured in one run.

Measures, in one process and one after the other:

* a bare Unicorn code hook (empty Python callback) hit on a loop -- the yardstick;
* the kprobes self-test microbenchmark (``kprobes bench``): breakpoint and optimized
  hits on a nop, the stmdb/ldmia {r3-r11} pair and the {r0-r8} pair, each with an
  empty pre_handler and with one that records a trace event;
* a loop with 100 armed kprobes it never hits, against the same loop without them.

Then it checks the targets of the issues (printed, never asserted in the test suite):
an optimized hit costs at most 3 bare hooks; it is at least 3 times cheaper than a
breakpoint hit; recording an event adds at most 50% to a hit; 100 unhit probes slow a
loop by less than 10%.

Usage: python benchmarks/run_kprobes.py [--calls N] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import unicorn

from armdbg.app import App
from armdbg.kprobes.bench import BENCH_BASE, Bench, bare_hook_ns, unhit_probes_slowdown


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--markdown", type=Path, help="write the results table here")
    options = parser.parse_args()

    app = App(stdout=io.StringIO(), stderr=io.StringIO())
    app.load_initial(None)
    session = app.session
    system = session.extensions["kprobes"]
    tracing = session.extensions["tracing"]
    record = tracing.events.recorder(f"p:bench/hit {BENCH_BASE:#x} arg1=%r0")

    bare = statistics.median(bare_hook_ns(session.machine) for _ in range(3))
    results = Bench(session.machine, system, record_event=record).measure(calls=options.calls)
    slowdown = unhit_probes_slowdown(session.machine, system)

    by = {(r.probe, r.path, r.handler): r for r in results}
    lines = []
    lines.append("| probed instruction | path | handler | ns/hit | x bare hook | "
                 "emulated insns/hit |")
    lines.append("|---|---|---|---:|---:|---:|")
    for r in results:
        lines.append(f"| `{r.probe}` | {r.path} | {r.handler} | {r.ns_per_hit:,.0f} | "
                     f"{r.ns_per_hit / bare:.1f} | {r.instructions_per_hit} |")
    checks = []
    for probe in ("nop", "stmdb sp!, {r3-r11, lr}", "stmdb sp!, {r0-r8, lr}"):
        opt = by[(probe, "optimized", "empty")].ns_per_hit
        bp = by[(probe, "breakpoint", "empty")].ns_per_hit
        opt_trace = by[(probe, "optimized", "trace event")].ns_per_hit
        bp_trace = by[(probe, "breakpoint", "trace event")].ns_per_hit
        checks.append((f"`{probe}` optimized hit / bare hook", opt / bare, "<= 3"))
        checks.append((f"`{probe}` breakpoint hit / optimized hit", bp / opt, ">= 3"))
        checks.append((f"`{probe}` trace event overhead, optimized", opt_trace / opt - 1,
                       "<= +50%"))
        checks.append((f"`{probe}` trace event overhead, breakpoint", bp_trace / bp - 1,
                       "<= +50%"))
    checks.append(("100 unhit armed probes: loop time ratio", slowdown, "< 1.10"))

    header = (f"Measured {date.today().isoformat()} on {platform.machine()} "
              f"({cpu_model()}), Python {platform.python_version()}, "
              f"unicorn {unicorn.__version__}, {options.calls} calls per case.  "
              f"Bare Unicorn code hook: {bare:,.0f} ns per hit.")
    text = "\n".join([header, "", *lines, "", "| ratio | measured | target |",
                      "|---|---:|---|",
                      *(f"| {name} | {value:.2f} | {target} |" for name, value, target in
                        checks)]) + "\n"
    print(text)
    if options.markdown is not None:
        options.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
