"""Proof that kprobes change nothing, on real programs.

The fixture programs (tests/fixtures, C compiled with gcc -O2 against newlib) run under
semihosting with probes on every function entry, on every instruction of functions
with IT blocks, and with kretprobes on every function; their console output and exit
status must be those of tests/fixtures/NAME.expected and NAME.status, and the hit counts
must equal the calls counted independently, by Unicorn code hooks (which do not touch
the code) on an unprobed run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from diff_cases import ProbeHitMismatch

from armdbg.kprobes.arch_arm import thumb_boundaries
from armdbg.kprobes.core import Kprobe, KprobeError
from armdbg.kprobes.decode import decode
from armdbg.kprobes.kretprobe import Kretprobe, KretprobeInstance
from armdbg.kprobes.regs import PtRegs
from armdbg.kprobes.system import KprobeSystem
from armdbg.machine.loaders import load_elf
from armdbg.machine.machine import Machine
from armdbg.machine.stops import StopReason
from armdbg.machine.symbols import Symbol
from armdbg.output import Output
from armdbg.session import Session

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROGRAMS = ("calls-arm", "calls-thumb", "sort-arm", "sort-thumb", "hello-arm",
            "hello-thumb")
RUN_TIMEOUT = 120.0
MAX_REJECTED = 3   # function entries the decoder may refuse (each must say why)

CALLS_FUNCTIONS = ("gcd", "fib", "min_i", "max_i", "abs_i", "clamp", "sat8", "cmp3",
                   "sign_class", "step", "loop_calls", "main")
# Calls main makes, read off calls.c (fib's recursion depends on the compiler's output
# and is counted by the code hooks instead).
CALLS_FROM_MAIN = {"gcd": 2, "min_i": 1, "max_i": 1, "abs_i": 2, "clamp": 3, "sat8": 3,
                   "cmp3": 3, "sign_class": 4, "step": 100, "loop_calls": 1, "main": 1}


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@dataclass
class Program:
    """A session with a fixture (or the demo) loaded, on the deterministic clock."""

    name: str
    session: Session
    out: Output
    system: KprobeSystem = field(init=False)

    def __post_init__(self) -> None:
        # Virtual clock, as in scripts: timers (the optimizer's delayed work) fire at
        # the same point in every run.
        self.session.machine.clock.mode = "virtual"
        self.system = KprobeSystem(self.machine, lambda: self.session.symbols,
                                   self.session.events)

    @property
    def machine(self) -> Machine:
        return self.session.machine

    def run(self, *, reload: bool = True) -> tuple[str, int | None]:
        """From a fresh copy of the image (as gdb's ``run``) to the program's exit:
        (output, status)."""
        if reload:
            self.session.reload()
        self.out.parts.clear()
        stop = self.machine.run(timeout=RUN_TIMEOUT)
        assert stop.reason is StopReason.EXITED, (
            f"{self.name}: {stop.reason.value} at {stop.pc:#x} "
            f"<{self.session.symbolize(stop.pc)}>: {stop.description}")
        return self.out.text(), stop.exit_code

    def functions(self) -> list[Symbol]:
        """Function symbols with code, one per address, in executable memory."""
        seen: set[int] = set()
        out = []
        for sym in self.session.symbols.functions():
            region = self.machine.region_of(sym.address)
            if sym.size and sym.address not in seen and region and "x" in region.perms:
                seen.add(sym.address)
                out.append(sym)
        return out

    def count_executions(self, addresses: Iterable[int]) -> tuple[str, int | None, Counter[int]]:
        """An unprobed run with a code hook on each address: how often each executed."""
        counts: Counter[int] = Counter()

        def counter(address: int) -> Callable[[Machine], None]:
            def hook(_machine: Machine) -> None:
                counts[address] += 1
            return hook

        hooks = [self.machine.add_code_hook(a, counter(a)) for a in addresses]
        try:
            output, status = self.run()
        finally:
            for hook in hooks:
                self.machine.remove_hook(hook)
        return output, status, counts


def load(name: str, tmp_path: Path) -> Program:
    out = Output()
    session = Session(out=out, cwd=tmp_path)
    if name == "demo":
        session.load_demo()
    else:
        session.load(load_elf(FIXTURES / f"{name}.elf"))
    return Program(name, session, out)


def expected(name: str) -> tuple[str, int]:
    base = name.rsplit("-", 1)[0]
    return ((FIXTURES / f"{base}.expected").read_text(),
            int((FIXTURES / f"{base}.status").read_text()))


def counting_probes(program: Program, addresses: Iterable[tuple[int, bool]], *,
                    post: bool = True) -> tuple[list[Kprobe], list[tuple[int, KprobeError]],
                                                Counter[int], Counter[int]]:
    """A kprobe per address whose handlers count hits (and read every register)."""
    pre_hits: Counter[int] = Counter()
    post_hits: Counter[int] = Counter()

    def pre(probe: Kprobe, regs: PtRegs) -> None:
        # A failing assertion in a handler marks the probe faulted and stops its
        # counting: the count comparisons then fail.
        assert regs.ARM_pc == probe.addr
        pre_hits[probe.addr or 0] += 1

    def post_handler(probe: Kprobe, regs: PtRegs, _flags: int) -> None:
        _ = [regs[i] for i in range(17)]
        post_hits[probe.addr or 0] += 1

    probes, rejected = [], []
    for address, thumb in addresses:
        try:
            probes.append(program.system.kprobes.register(Kprobe(
                addr=address | int(thumb), pre_handler=pre,
                post_handler=post_handler if post else None)))
        except KprobeError as err:
            rejected.append((address, err))
    return probes, rejected, pre_hits, post_hits


# ---------------------------------------------------------------------- function entries

@pytest.mark.parametrize("name", PROGRAMS)
def test_probe_on_every_function_entry(name: str, tmp_path: Path) -> None:
    program = load(name, tmp_path)
    text, status = expected(name)
    functions = program.functions()
    assert len(functions) > 150
    output, code, calls = program.count_executions(sym.address for sym in functions)
    assert (output, code) == (text, status), "the unprobed run is not the reference"

    probes, rejected, pre_hits, post_hits = counting_probes(
        program, ((sym.address, sym.thumb) for sym in functions))
    assert len(rejected) <= MAX_REJECTED, [str(err) for _, err in rejected]
    for _address, err in rejected:
        assert err.errno and err.why.endswith("."), str(err)
    assert len(probes) + len(rejected) == len(functions)

    for run in (1, 2):
        assert program.run() == (text, status), f"probed run {run} changed the program"
        for probe in probes:
            assert probe.addr is not None
            assert probe.nhit == run * calls[probe.addr], (probe.name, probe.nhit,
                                                          calls[probe.addr])
            assert pre_hits[probe.addr] == post_hits[probe.addr] == probe.nhit
            assert probe.nmissed == 0 and probe.faulted is None
    called = {probe.symbol_name for probe in probes if probe.nhit}
    assert "main" in called and len(called) > 20
    if name.startswith("calls"):
        by_name = {probe.symbol_name: probe.nhit // 2 for probe in probes}
        assert {f: by_name[f] for f in CALLS_FROM_MAIN} == CALLS_FROM_MAIN
        assert by_name["fib"] > 15


# ---------------------------------------------------------------------- every instruction

# (program, function, whether an IT slot right after a probed IT instruction fails at
# least once in the run: the run resumes at a probe in a failed slot, whose condition
# the engine must check itself)
IT_FUNCTIONS = [
    ("calls-thumb", "cmp3", True), ("calls-thumb", "clamp", True),
    ("calls-thumb", "sign_class", True), ("calls-thumb", "abs_i", True),
    ("calls-thumb", "min_i", False),
    ("demo", "thumb_itblocks", True), ("demo", "thumb_clamp", True),
]


@pytest.mark.parametrize(("name", "function"), [
    pytest.param(name, function, id=f"{name}-{function}")
    for name, function, _fails in IT_FUNCTIONS])
def test_probe_on_every_instruction_of_a_function_with_it_blocks(
        name: str, function: str, tmp_path: Path) -> None:
    """A probe on each instruction (IT instructions and every slot included) fires
    exactly as often as the instruction executes: a condition-failed IT slot neither
    executes (no code hook call) nor fires its probe, as with the kernel's
    thumb_check_cc.  The program's output and status must not change either way."""
    program = load(name, tmp_path)
    sym = program.session.symbols.lookup(function)
    assert sym is not None and sym.thumb
    code = program.machine.read_memory(sym.address, sym.size)
    addresses = sorted(thumb_boundaries(code, sym.address))
    it_instructions = [a for a in addresses
                       if program.machine.instruction_at(a, True).mnemonic.startswith("it")]
    assert it_instructions, "the function has no IT block"

    output, status, executed = program.count_executions(addresses)
    if name != "demo":
        assert (output, status) == expected(name)
    probes, rejected, pre_hits, post_hits = counting_probes(program,
                                                            ((a, True) for a in addresses))
    assert not rejected, [str(err) for _, err in rejected]
    assert program.run() == (output, status)
    assert all(executed[a] for a in it_instructions)
    wrong = []
    for probe in probes:
        assert probe.addr is not None and probe.faulted is None
        assert probe.nhit == pre_hits[probe.addr] == post_hits[probe.addr]
        offset = probe.addr - sym.address
        decision = decode(code[offset:offset + 4].ljust(4, b"\0"), True)
        if decision.condition != 0xE:
            # A B<c> outside an IT block fires only when taken (the kernel checks its
            # condition first), while the code hook counts every execution; the
            # differential suite checks those exactly.
            assert probe.nhit <= executed[probe.addr]
            continue
        if probe.nhit != executed[probe.addr]:
            wrong.append(f"{probe.addr:#x} {program.machine.instruction_at(probe.addr).text}"
                         f": fired {probe.nhit}, executed {executed[probe.addr]}")
    if wrong:
        raise ProbeHitMismatch("; ".join(wrong))


def test_optimized_probes_on_the_demo_change_nothing(tmp_path: Path) -> None:
    """The demo's ARM code is within branch range of the module area: probes without a
    post_handler on every instruction of do_something are optimized into jumps (after
    the optimizer's delay, here run at once), and the program still computes the same."""
    program = load("demo", tmp_path)
    sym = program.session.symbols.lookup("do_something")
    assert sym is not None and not sym.thumb
    addresses = list(range(sym.address, sym.address + sym.size, 4))
    output, status, executed = program.count_executions(addresses)
    probes, rejected, pre_hits, _ = counting_probes(
        program, ((a, False) for a in addresses), post=False)
    assert not rejected
    program.session.reload()                  # (a reload forgets the jumps)
    program.machine.clock.run_all_pending()   # wait_for_kprobe_optimizer
    sites = program.system.kprobes.sites
    optimized = [a for a in addresses if program.system.optimizer.is_jumping(sites[a])]
    assert optimized, "no probe was optimized"
    assert program.run(reload=False) == (output, status)
    for probe in probes:
        assert probe.addr is not None
        assert probe.nhit == executed[probe.addr] == pre_hits[probe.addr] == 1000
    assert sum(probe.nhit_jump for probe in probes) > 0


# ---------------------------------------------------------------------- kretprobes

@dataclass
class Returns:
    """What the kretprobe handlers saw."""

    entries: Counter[str] = field(default_factory=Counter)
    returns: Counter[str] = field(default_factory=Counter)
    fib: list[tuple[int, int]] = field(default_factory=list)   # (n, returned value)

    def entry(self, name: str) -> Callable[[KretprobeInstance, PtRegs], int]:
        def handler(instance: KretprobeInstance, regs: PtRegs) -> int:
            self.entries[name] += 1
            instance.data["n"] = regs.ARM_r0
            return 0
        return handler

    def ret(self, name: str) -> Callable[[KretprobeInstance, PtRegs], None]:
        def handler(instance: KretprobeInstance, regs: PtRegs) -> None:
            self.returns[name] += 1
            if name == "fib":
                self.fib.append((instance.data["n"], regs.regs_return_value()))
        return handler


def register_kretprobes(program: Program, symbols: Iterable[Symbol], returns: Returns,
                        maxactive: int = 0) -> list[Kretprobe]:
    rps = []
    for sym in symbols:
        rps.append(program.system.kretprobes.register(Kretprobe(
            symbol_name=sym.name, entry_handler=returns.entry(sym.name),
            handler=returns.ret(sym.name), maxactive=maxactive)))
    return rps


def _returns_at_once(program: Program, sym: Symbol) -> bool:
    """A function whose first instruction already returns (newlib's lock stubs)."""
    insn = program.machine.instruction_at(sym.address, sym.thumb)
    return insn.text.replace("\t", " ") in ("bx lr", "mov pc, lr")


@pytest.mark.parametrize("name", ["calls-arm", "calls-thumb"])
@pytest.mark.parametrize("stubs", [
    pytest.param(True, id="all"),
    pytest.param(False, id="except-return-stubs"),
])
def test_kretprobe_on_every_function(name: str, stubs: bool, tmp_path: Path) -> None:
    program = load(name, tmp_path)
    functions = [sym for sym in program.functions()
                 if stubs or not _returns_at_once(program, sym)]
    if not stubs:
        assert len(functions) < len(program.functions())  # the stubs exist
    returns = Returns()
    rps = register_kretprobes(program, functions, returns)
    assert program.run() == expected(name)

    pending = {rp.name: len(rp.instances) for rp in rps if rp.instances}
    for rp in rps:
        assert rp.kp is not None and rp.faulted is None
        # Every entry is matched: by a return, a miss, or a call still active at exit.
        assert rp.kp.nhit == rp.nhit + rp.nmissed + len(rp.instances), rp.name
        assert rp.nhit == returns.returns[rp.symbol_name or ""]
    # At exit only the call chain into _exit is still active, one level each.
    assert set(pending.values()) == {1} and len(pending) <= 8, pending
    assert "r_main_0" not in pending
    stack = program.system.kretprobes.stack
    assert len(stack) == len(pending)
    assert [i.sp for i in stack] == sorted((i.sp for i in stack), reverse=True)
    for f in CALLS_FUNCTIONS:
        assert returns.returns[f] == returns.entries[f] > 0, f
    assert sorted(set(returns.fib)) == sorted({(n, fib(n)) for n, _ in returns.fib})
    assert (15, 610) in returns.fib


@pytest.mark.parametrize("name", ["calls-arm", "calls-thumb"])
@pytest.mark.parametrize("maxactive", [1, 4, 64])
def test_kretprobe_on_recursive_fib(name: str, maxactive: int, tmp_path: Path) -> None:
    """Every fib return is matched to its own call (the value is fib(n) of the entry's
    n), and calls beyond maxactive nested instances are counted as missed."""
    program = load(name, tmp_path)
    fib_symbol = program.session.symbols.lookup("fib")
    assert fib_symbol is not None
    _, _, calls = program.count_executions([fib_symbol.address])
    returns = Returns()
    (rp,) = register_kretprobes(program, [fib_symbol], returns, maxactive=maxactive)
    assert program.run() == expected(name)
    entries = calls[fib_symbol.address]
    assert rp.kp is not None and rp.kp.nhit == entries
    assert rp.nhit + rp.nmissed == entries and not rp.instances
    assert all(value == fib(n) for n, value in returns.fib), returns.fib
    assert len(returns.fib) == rp.nhit == returns.entries["fib"]
    if maxactive == 1:
        assert rp.nmissed == entries - 1 > 0   # only the outermost call gets an instance
        assert returns.fib == [(15, 610)]
    elif maxactive == 64:
        assert rp.nmissed == 0
    else:
        assert rp.nmissed > 0
