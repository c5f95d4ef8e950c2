"""Emulation speed: raw Unicorn against armdbg's Machine.run() on the same ARM loops.

Two loops, each run for well over 10 million instructions:

* alu:    add/nop/nop/subs/bne (the loop of shared/reference/unicorn-notes.md; the
          0.9 target applies to it);
* memory: ldr/add/str/subs/bne on one word (Unicorn's load/store path is far slower, and
          a memory hook would show up here first).

Each loop runs two ways:

* raw:    a bare ``Uc`` in this process with armdbg's memory map, ``emu_start`` from the
          loop to its end, no hooks;
* armdbg: an ``App`` as the CLI builds it (Session with semihosting, every command
          family attached, the Machine's standard hooks), the embedded demo loaded, a
          gdb breakpoint on ``do_something`` (inserted, never reached), and
          ``session.machine.run(until=end)``.

Repetitions are interleaved (raw, armdbg, raw, armdbg, ...) so that a noisy neighbour
hurts both sides alike; the medians are compared.  Runs are kept long (tens of ms) so
that the fixed cost of a run (a few hundred microseconds of Python) does not count.
The results table goes to stdout and, unless --no-write, into benchmarks/README.md
between the RESULTS markers.

    python benchmarks/run_speed.py [--scale F] [--repeat R] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import unicorn  # noqa: E402
from unicorn import arm_const as A  # noqa: E402

from armdbg.app import App  # noqa: E402
from armdbg.isa.asm import assemble  # noqa: E402
from armdbg.machine.layout import DEFAULT_REGIONS  # noqa: E402
from armdbg.machine.stops import StopReason  # noqa: E402

LOOP_AT = 0x80100000          # in armdbg's "text" region, away from the demo image
WORD_AT = 0x80300000          # in armdbg's "heap" region
LOOPS = {
    # name: (source, instructions per pass, default passes)
    "alu": ("loop:\n add r1, r1, #1\n nop\n nop\n subs r0, r0, #1\n bne loop\n nop",
            5, 40_000_000),
    "memory": ("loop:\n ldr r1, [r3]\n add r1, r1, #1\n str r1, [r3]\n subs r0, r0, #1\n"
               " bne loop\n nop", 5, 4_000_000),
}
PERMS = {"r": unicorn.UC_PROT_READ, "w": unicorn.UC_PROT_WRITE, "x": unicorn.UC_PROT_EXEC}
README = ROOT / "benchmarks" / "README.md"
BEGIN, END = "<!-- RESULTS:BEGIN -->", "<!-- RESULTS:END -->"


def loop_code(source: str) -> tuple[bytes, int]:
    code = assemble(source, LOOP_AT, False)
    return code, LOOP_AT + len(code) - 4      # end: the final nop, never executed


def raw_runner(source: str, passes: int) -> Callable[[], float]:
    code, end = loop_code(source)
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_ARM)
    # The same memory map as armdbg's (text rwx, heap rw, ...), so that both run the
    # same code on the same kind of pages.
    for spec in DEFAULT_REGIONS:
        uc.mem_map(spec.start, spec.size, sum(PERMS[p] for p in spec.perms))
    uc.mem_write(LOOP_AT, code)

    def run() -> float:
        uc.reg_write(A.UC_ARM_REG_R0, passes)
        uc.reg_write(A.UC_ARM_REG_R1, 0)
        uc.reg_write(A.UC_ARM_REG_R3, WORD_AT)
        uc.mem_write(WORD_AT, bytes(4))
        started = time.perf_counter()
        uc.emu_start(LOOP_AT, end)
        elapsed = time.perf_counter() - started
        assert uc.reg_read(A.UC_ARM_REG_R1) == passes
        return elapsed

    return run


def armdbg_runner(source: str, passes: int) -> Callable[[], float]:
    code, end = loop_code(source)
    app = App(stdout=io.StringIO(), stderr=io.StringIO())
    app.load_initial(None)                     # the embedded demo
    app.run_line("break do_something")
    machine = app.session.machine
    target = app.session.symbols.lookup("do_something")
    assert target is not None and target.address in machine.traps, "breakpoint not inserted"
    assert app.session.semihosting.handle_svc in machine.svc_handlers
    machine.write_memory(LOOP_AT, code)

    def run() -> float:
        machine.set_pc(LOOP_AT, thumb=False)
        machine.write_register("r0", passes)
        machine.write_register("r1", 0)
        machine.write_register("r3", WORD_AT)
        machine.write_memory(WORD_AT, bytes(4))
        started = time.perf_counter()
        stop = machine.run(until=end)
        elapsed = time.perf_counter() - started
        assert stop.reason is StopReason.UNTIL, stop
        assert machine.read_register("r1") == passes
        return elapsed

    return run


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "processor\t: arm")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe_host() -> str:
    return (f"{platform.machine()} ({os.cpu_count()} CPUs), {cpu_model()}; "
            f"Python {platform.python_version()}, Unicorn {unicorn.__version__}; "
            f"load average {os.getloadavg()[0]:.2f} at start")


def table(rows: list[tuple[str, str, int, list[float]]]) -> list[str]:
    lines = ["| loop | path | instructions | runs | median s | median MIPS | best MIPS |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for loop, name, instructions, times in rows:
        median = statistics.median(times)
        lines.append(f"| {loop} | {name} | {instructions / 1e6:.0f} M | {len(times)} | "
                     f"{median:.3f} | {instructions / median / 1e6:.0f} | "
                     f"{instructions / min(times) / 1e6:.0f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the loop lengths (each stays >= 10 M instructions)")
    parser.add_argument("--repeat", type=int, default=11, help="runs of each path")
    parser.add_argument("--no-write", action="store_true", help="do not update README.md")
    options = parser.parse_args(argv)
    host = describe_host()
    rows: list[tuple[str, str, int, list[float]]] = []
    ratios: dict[str, float] = {}
    best: dict[str, float] = {}
    for loop, (source, per_pass, default) in LOOPS.items():
        passes = max(int(default * options.scale), 10_000_000 // per_pass + 1)
        raw, ours = raw_runner(source, passes), armdbg_runner(source, passes)
        raw()          # warm-up: translation, page tables
        ours()
        raw_times: list[float] = []
        our_times: list[float] = []
        for _ in range(options.repeat):
            raw_times.append(raw())
            our_times.append(ours())
        instructions = passes * per_pass
        rows.append((loop, "raw Unicorn emu_start", instructions, raw_times))
        rows.append((loop, "armdbg Machine.run()", instructions, our_times))
        ratios[loop] = statistics.median(raw_times) / statistics.median(our_times)
        best[loop] = min(raw_times) / min(our_times)
    date = datetime.date.today().isoformat()
    lines = [f"Measured {date} by `benchmarks/run_speed.py` (`make bench`).", "",
             f"Host: {host}.", "",
             *table(rows), "",
             "armdbg / raw speed ratio (medians): " +
             ", ".join(f"{loop} **{ratio:.3f}**" for loop, ratio in ratios.items()) +
             " (target >= 0.9 on the alu loop); best runs: " +
             ", ".join(f"{loop} {ratio:.3f}" for loop, ratio in best.items()) + "."]
    print("\n".join(lines))
    if not options.no_write and README.exists():
        text = README.read_text()
        block = f"{BEGIN}\n" + "\n".join(lines) + f"\n{END}"
        text, found = re.subn(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: block,
                              text, flags=re.S)
        if found:
            README.write_text(text)
            print(f"\n(results written to {README.relative_to(ROOT)})")
    return 0 if ratios["alu"] >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
