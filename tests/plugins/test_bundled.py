"""The bundled plugins against fixture programs (timing-dependent output is checked
here; the deterministic output is in tests/transcripts/plugin_*.cmd)."""

from __future__ import annotations

import re
from types import ModuleType

import pytest

from .conftest import FIXTURES, Shell


def bundled(shell: Shell, name: str) -> ModuleType:
    module = shell.plugins.loaded[name].module
    assert module is not None
    return module


# --------------------------------------------------------------------------- hitstats


def median_ns(line: str) -> float:
    match = re.search(r"median (\S+) (ns|us|ms|s)\b", line)
    assert match is not None, line
    return float(match[1]) * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[match[2]]


def test_hitstats_splits_1000_hits_by_path_with_optimization_half_way() -> None:
    shell = Shell(user=False)
    assert shell.run("kprobe do_something") == \
        "kprobe 1 (p_do_something_0) at 0x80008030 <do_something>\n"
    assert shell.run("hitstats on 1") == \
        "Measuring hits of kprobe 1 (p_do_something_0) at 0x80008030 <do_something>.\n"
    # 500 calls through the breakpoint, then optimize, then 500 through the jump.
    shell.run("break *main+28")
    shell.run("ignore 1 499")
    shell.run("run")
    shell.run("delete 1")
    assert "optimized" in shell.run("kprobes wait-optimizer")
    shell.run("continue")
    probe = shell.session.extensions["kprobes"].kprobes.find(1)
    assert (probe.nhit, probe.nhit_bp, probe.nhit_jump) == (1000, 500, 500)
    text = shell.run("hitstats show")
    lines = text.splitlines()
    assert lines[0] == ("kprobe 1 (p_do_something_0) at 0x80008030 <do_something>: "
                        "1000 hits measured, now optimized")
    assert lines[1] == ("  breakpoint path: 500 hits; 2 emulated instructions per hit "
                        "(from the path's code)")
    jump = lines.index("  jump path: 500 hits; 24 emulated instructions per hit "
                       "(from the path's code)")
    for block in (lines[2:jump], lines[jump + 1:]):
        assert re.fullmatch(r"    handler: min \S+ \w+, median \S+ \w+, p99 \S+ \w+, "
                            r"max \S+ \w+", block[0])
        assert block[1].startswith("    hit-to-hit: min ")
        assert block[2] == "    handler histogram:"
        bars = block[3:]
        counts = [int(line.rsplit("| ", 1)[1]) for line in bars]
        assert sum(counts) == 500
        assert all(re.fullmatch(r"      +\S+ \w+ - \S+ +\w+ *\|[█▏▎▍▌▋▊▉ ]{40}\| \d+", line)
                   for line in bars), bars
        # The fullest bucket's bar is the full width.
        assert any("█" * 40 in line for line in bars)
    # Hit-to-hit intervals: the breakpoint path costs more than the jump.
    medians = [median_ns(line) for line in lines if "hit-to-hit" in line]
    assert medians[0] > medians[1]
    shell.run("set hitstats bars ascii")
    shell.run("set hitstats histogram hit-to-hit")
    ascii_text = shell.run("hitstats show 1")
    assert "█" not in ascii_text and "#" in ascii_text
    assert "    hit-to-hit histogram:" in ascii_text
    assert shell.run("hitstats reset") == "hitstats: measurements cleared.\n"
    assert "0 hits measured" in shell.run("hitstats show")


def test_hitstats_on_a_location_registers_its_own_probe() -> None:
    shell = Shell(user=False)
    assert shell.run("hitstats on cond_first") == \
        "Measuring hits of kprobe 1 (hitstats_1) at 0x80008054 <cond_first>.\n"
    shell.run("run")
    assert shell.run("hitstats show hitstats_1").startswith(
        "kprobe 1 (hitstats_1) at 0x80008054 <cond_first>: 1 hits measured")
    assert shell.run("hitstats off hitstats_1") == \
        "No longer measuring kprobe 1 (hitstats_1).\n"
    assert shell.run("info kprobes") == "No kprobes.\n"


def test_hitstats_unload_gives_the_probe_its_handler_back() -> None:
    shell = Shell(user=False)
    shell.run("kprobe do_something --log %r0")
    probe = shell.session.extensions["kprobes"].kprobes.find(1)
    handler = probe.pre_handler
    shell.run("hitstats on 1")
    assert probe.pre_handler is not handler
    shell.run("plugin unload hitstats")
    assert probe.pre_handler is handler


def test_hitstats_histogram_helpers() -> None:
    hitstats = bundled(Shell(user=False), "hitstats")
    assert hitstats.EDGES[:7] == [1, 2, 5, 10, 20, 50, 100]
    assert hitstats.bucket_of(1) == 0 and hitstats.bucket_of(199) == 6
    assert hitstats.bucket_of(200) == 7
    assert [hitstats.format_ns(n) for n in (100, 1000, 1500, 2_000_000, 3 * 10**9)] == \
        ["100 ns", "1 us", "1.5 us", "2 ms", "3 s"]
    assert hitstats.bar(8, 8, True) == "█" * 40
    assert hitstats.bar(1, 80, True) == "▌"      # half a character
    assert hitstats.bar(1, 1000, False) == "#"   # never invisible
    assert hitstats.bar(0, 10, True) == ""
    lines = hitstats.histogram_lines([150, 160, 700, 30_000], True)
    assert [line.split("|")[0].strip() for line in lines] == [
        "100 ns - 200 ns", "200 ns - 500 ns", "500 ns - 1 us", "1 us - 2 us", "2 us - 5 us",
        "5 us - 10 us", "10 us - 20 us", "20 us - 50 us"]
    assert [int(line.rsplit(" ", 1)[1]) for line in lines] == [2, 0, 1, 0, 0, 0, 0, 1]


# --------------------------------------------------------------------------- ftracer


@pytest.mark.parametrize("flavour", ["arm", "thumb"])
def test_ftracer_fib_recursion(flavour: str) -> None:
    shell = Shell(file=FIXTURES / f"calls-{flavour}.elf", user=False)
    shell.run("set ftracer args 1")
    assert shell.run("ftracer start fib") == 'ftracer: tracing 1 function matching "fib".\n'
    output = shell.run("run")
    assert "fib(15) = 610\n" in output
    graph = shell.run("ftracer show").splitlines()
    assert graph[0] == "fib(r0=0xf) {"
    assert graph[-2] == "} = 0x262"     # fib(15) = 610
    assert graph[-1] == "ftracer: 987 calls."
    # Returns match their calls at every depth: fib(n) = F(n).
    fibs = [0, 1]
    while len(fibs) < 16:
        fibs.append(fibs[-1] + fibs[-2])
    leaves = [re.fullmatch(r" *fib\(r0=(0x[0-9a-f]+)\) = (0x[0-9a-f]+)", line)
              for line in graph]
    for match in filter(None, leaves):
        assert int(match[2], 16) == fibs[int(match[1], 16)]
    depth = max(len(line) - len(line.lstrip()) for line in graph) // 2
    assert depth == 14   # fib(15) down to fib(1) through fib(n-1)


def test_ftracer_every_function_leaves_the_program_alone() -> None:
    plain = Shell(file=FIXTURES / "calls-thumb.elf", user=False)
    expected = plain.run("run")
    shell = Shell(file=FIXTURES / "calls-thumb.elf", user=False)
    started = shell.run("ftracer start")
    assert re.fullmatch(r'ftracer: tracing \d+ functions matching "\*"\.\n', started)
    assert shell.run("run") == expected
    graph = shell.run("ftracer show --max-depth 2").splitlines()
    assert graph[0] == "_mainCRTStartup(r0=0x0, r1=0x0, r2=0x0, r3=0x0) {"
    assert any(line.startswith("  main(r0=0x1, ") and line.endswith(" calls]")
               for line in graph)
    assert shell.run("ftracer stop").startswith("ftracer: stopped (")
    assert shell.run("info kprobes") == "No kprobes.\n"


def test_ftracer_graph_helper() -> None:
    ftracer = bundled(Shell(user=False), "ftracer")
    Call = ftracer.Call
    leaf = Call("leaf", (1,), 0x100, ret=2, returned=True)
    inner = Call("inner", (3, 4), 0x108, ret=5, returned=True, children=[leaf])
    open_call = Call("outer", (), 0x110, children=[inner])
    assert ftracer.graph_lines([open_call], None, None) == [
        "outer() {", "  inner(r0=0x3, r1=0x4) {", "    leaf(r0=0x1) = 0x2", "  } = 0x5",
        "} = ?"]
    assert ftracer.graph_lines([open_call], 2, None) == [
        "outer() {", "  inner(r0=0x3, r1=0x4) = 0x5  [+1 call]", "} = ?"]
    assert ftracer.graph_lines([open_call], None, 2) == ["outer() {",
                                                        "  inner(r0=0x3, r1=0x4) {"]


# --------------------------------------------------------------------------- itviz


def test_itviz_at_every_slot_agrees_with_cpsr() -> None:
    """Step through thumb_itblocks: at each slot of each block the computed ITSTATE
    matches CPSR, and "executes" matches what the CPU then does."""
    shell = Shell(user=False)
    shell.run("break thumb_itblocks")
    shell.run("run")
    checked = 0
    while True:
        pc = shell.session.machine.pc
        if not 0x80008150 <= pc < 0x80008170:  # up to the final bx lr
            break
        table = shell.run("itviz")
        if "=> 0x" in table and "ITSTATE in CPSR at PC" in table:
            assert "matches" in table
            row = next(line for line in table.splitlines() if line.startswith("=>"))
            executes = re.split(r"  +", row)[3]
            before = shell.session.machine.registers()
            shell.run("stepi")
            after = shell.session.machine.registers()
            changed = {k for k in before if before[k] != after[k]} - {"pc", "cpsr"}
            assert (executes == "yes") == bool(changed), (row, changed)
            checked += 1
        else:
            shell.run("stepi")
    assert checked == 10  # the slots of itete, ittet and ite


def test_itviz_helpers() -> None:
    itviz = bundled(Shell(user=False), "itviz")
    assert itviz.flags_text(0x60000000) == "nZCv"
    assert itviz.state_text(0x0B) == "0x0b  next eq, 4 left"
    assert itviz.state_text(0x00) == "0x00  (block done)"


# --------------------------------------------------------------------------- syscalls


@pytest.mark.parametrize("flavour", ["arm", "thumb"])
def test_syscalls_runs_linux_hello(flavour: str) -> None:
    shell = Shell(file=FIXTURES / f"linux_hello-{flavour}.elf", plugins=["syscalls"],
                  user=False)
    output = shell.run("run")
    expected = (FIXTURES / "linux_hello.expected").read_text()
    note = re.search(r"\n\[syscalls\] unknown system call 999 at 0x[0-9a-f]+ <c_start\+\d+>: "
                     r"returning -ENOSYS\n", output)
    assert note is not None
    assert output.replace(note[0], "") == \
        expected + "[Inferior 1 (process 1) exited with code 07]\n"
    status = int((FIXTURES / "linux_hello.status").read_text())
    assert shell.session.exit_code == status == 7
    assert shell.app.batch_exit_status() == 7
