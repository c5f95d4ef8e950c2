"""kprobe, kretprobe, kprobes and ``info kprobes``: Linux kprobes from the shell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from armdbg.commands.context import Context
from armdbg.commands.dispatch import list_subcommands
from armdbg.commands.evaluation import parse_location
from armdbg.commands.registry import ArgParser, CommandSet
from armdbg.errors import ArmdbgError, UsageError
from armdbg.kprobes.core import Kprobe, KprobeManager
from armdbg.kprobes.kretprobe import Kretprobe
from armdbg.kprobes.regs import PtRegs
from armdbg.kprobes.system import KprobeSystem
from armdbg.machine.stops import StopEvent, StopReason

if TYPE_CHECKING:
    from armdbg.session import Session

commands = CommandSet()


def attach(session: Session) -> None:
    system = KprobeSystem(session.machine, lambda: session.symbols, session.events)
    session.extensions["kprobes"] = system

    def handler_error(probe: Kprobe, error: BaseException) -> None:
        session.out.line(f"[kprobes] handler of {probe.name} raised {type(error).__name__}: "
                         f"{error}; its handlers are disabled.")

    session.events.subscribe("kprobe-handler-error", handler_error)
    session.extensions.setdefault("code-notes", []).append(
        lambda address: probe_note(session, address))

    def optimized(probe: Kprobe, trampoline: int) -> None:
        session.notify(f"[kprobes] {probe.name} at {probe.addr:#010x} optimized "
                       f"(trampoline {trampoline:#010x})")

    def unoptimized(probe: Kprobe) -> None:
        session.notify(f"[kprobes] {probe.name} at {probe.addr:#010x} unoptimized")

    session.events.subscribe("kprobe-optimized", optimized)
    session.events.subscribe("kprobe-unoptimized", unoptimized)

    optimizer = system.optimizer
    declare = session.settings.declare
    declare("kprobes hz", "uint", optimizer.hz, "Jiffies per second of the kprobes clock (HZ)",
            on_change=lambda v: setattr(optimizer, "hz", v or 1))
    declare("kprobes optimize-delay", "uint", optimizer.delay,
            "Jiffies the optimizer waits after being kicked (OPTIMIZE_DELAY)",
            on_change=lambda v: setattr(optimizer, "delay", v))
    declare("kprobes clock", "enum", "auto",
            "The clock the optimizer runs on (auto: real at the prompt, virtual in scripts)",
            choices=("auto", "real", "virtual"),
            on_change=lambda v: apply_clock_mode(session))
    apply_clock_mode(session)
    session.events.subscribe("interactive", lambda value: apply_clock_mode(session))

    def idle(seconds: float) -> None:
        clock = session.machine.clock
        if not clock.virtual:
            clock.advance(int(seconds * 1e9))

    session.events.subscribe("idle-tick", idle)


def apply_clock_mode(session: Session) -> None:
    mode = session.settings["kprobes clock"]
    if mode == "auto":
        mode = "real" if session.interactive else "virtual"
    session.machine.clock.mode = mode


def probe_note(session: Session, address: int) -> str | None:
    """For disassembly: the probes at an address and the instruction their breakpoint
    (or optimized jump) covers."""
    from armdbg.isa.disasm import decode_one

    system: KprobeSystem = session.extensions["kprobes"]
    site = system.kprobes.sites.get(address)
    if site is None or not site.probes:
        return None
    names = ", ".join(f"{p.id} {p.name}" for p in site.probes)
    state = "optimized kprobe" if system.optimizer.is_jumping(site) else "kprobe"
    if len(site.probes) > 1:
        state += "s"
    original = decode_one(site.original, address, site.thumb).text.replace("\t", " ")
    return f"{state} {names}; original: {original}"


def system_of(ctx: Context) -> KprobeSystem:
    return ctx.session.extensions["kprobes"]


# ---------------------------------------------------------------------- listing


def hash_bucket(address: int, bits: int = 6) -> int:
    """``hash_ptr(addr, KPROBE_HASH_BITS)`` on a 32-bit kernel (hash_32): the order in
    which ``/sys/kernel/debug/kprobes/list`` walks the 64 buckets."""
    return ((address * 0x61C88647) & 0xFFFFFFFF) >> (32 - bits)


def list_order(manager: KprobeManager) -> list[Kprobe]:
    """Probes as the kernel lists them: bucket by bucket, newest site first in a
    bucket (hlist_add_head), children of an aggregate in their list order."""
    sites = sorted(manager.sites.values(),
                   key=lambda s: (hash_bucket(s.address), -_site_age(manager, s.address)))
    return [probe for site in sites for probe in site.probes]


def _site_age(manager: KprobeManager, address: int) -> int:
    for index, probe in enumerate(manager.probes):
        if probe.addr == address:
            return index
    return 0


def kernel_list_line(ctx: Context, probe: Kprobe, flags: str = "") -> str:
    """One line of ``/sys/kernel/debug/kprobes/list`` (kernel/kprobes.c report_probe)."""
    assert probe.addr is not None
    sym = ctx.session.symbols.containing(probe.addr)
    if sym is not None:
        text = f"{probe.addr:08x}  {probe.kind}  {sym.name}+{probe.addr - sym.address:#x}    "
    else:
        text = f"{probe.addr:08x}  {probe.kind}  {probe.addr:#x} "
    if probe.disabled:
        flags = "[DISABLED]" + flags
    return text + flags + optimized_flag(ctx, probe)


def probe_state(ctx: Context, probe: Kprobe) -> str:
    manager = system_of(ctx).kprobes
    site = manager.sites.get(probe.addr or -1)
    if probe.faulted:
        return "handler-faulted"
    if site is not None and system_of(ctx).optimizer.is_jumping(site):
        return "optimized" if not probe.disabled else "disabled, jump still present"
    if probe.disabled:
        return "disabled"
    if manager.all_disarmed:
        return "disarmed (all)"
    optimizer = system_of(ctx).optimizer
    if site is not None and optimizer.state(site).queued == "optimize":
        return "armed, optimizing"
    if site is None or not site.armed:
        return "disarmed"
    why_not = optimizer.blocker_label(site)
    return f"armed, not optimized: {why_not}" if why_not else "armed"


@commands.command("info kprobes", category="kprobes", usage="info kprobes")
def cmd_info_kprobes(ctx: Context, args: str) -> None:
    """List kprobes: the kernel's debugfs list format, then armdbg's own columns.

    The left part is exactly a line of /sys/kernel/debug/kprobes/list (address, type k
    or r, sym+offset, flags); the right part adds the probe's number, name, hit and
    missed counts and state.
    """
    manager = system_of(ctx).kprobes
    if not manager.probes:
        ctx.out.line("No kprobes.")
        return
    ctx.out.line(f"{'kprobes/list':<52}  {'Num':>3}  {'Name':<20} {'Hits':>7} {'BP':>7} "
                 f"{'Jump':>7} {'Missed':>6}  State")
    for probe in list_order(manager):
        ctx.out.line(f"{kernel_list_line(ctx, probe):<52}  {probe.id:>3}  {probe.name:<20} "
                     f"{probe.nhit:>7} {probe.nhit_bp:>7} {probe.nhit_jump:>7} "
                     f"{probe.nmissed:>6}  {probe_state(ctx, probe)}")
    if manager.all_disarmed:
        ctx.out.line("All kprobes are disarmed (kprobes disable).")


# ---------------------------------------------------------------------- handlers


def _log_handler(ctx: Context, text: str, is_return: bool) -> Any:
    from armdbg.tracing.fetchargs import parse_fetchargs

    fetchargs = parse_fetchargs(text, is_return=is_return)
    session = ctx.session

    def emit(probe: Kprobe, regs: PtRegs, retval: int | None = None,
             ret_addr: int | None = None) -> None:
        from armdbg.commands.probe_env import ProbeFetchEnv

        env = ProbeFetchEnv(session, regs, retval)
        values = " ".join(arg.fetch(env) for arg in fetchargs)
        where = env.symbolize_with_size(probe.addr or 0) or f"{probe.addr:#x}"
        if ret_addr is not None:
            caller = env.symbolize_with_size(ret_addr & ~1) or f"{ret_addr & ~1:#x}"
            func = session.symbols.containing(probe.addr or 0)
            where = f"{caller} <- {func.name if func else hex(probe.addr or 0)}"
        session.out.line(f"[kprobe] {probe.name}: ({where}) {values}".rstrip())

    return emit


def _stop_event(ctx: Context, probe: Kprobe, regs: PtRegs) -> StopEvent:
    name = ctx.session.describe_address(probe.addr or 0)
    return StopEvent(StopReason.TRAP, regs.ARM_pc & ~1, bool(regs.ARM_cpsr & 0x20),
                     signal="SIGTRAP", trap_owner=probe,
                     description=f"kprobe {probe.id} ({probe.name}) hit at {name}, "
                                 "before the probed instruction runs.")


# ---------------------------------------------------------------------- kprobe


_kprobe_parser = ArgParser("kprobe")
_kprobe_parser.add_argument("location", help="SYM, SYM+OFF or *ADDR")
_kprobe_parser.add_argument("--name", default="")
_kprobe_parser.add_argument("--stop", action="store_true")
_kprobe_parser.add_argument("--log", metavar="FETCHARGS", default=None)
_kprobe_parser.add_argument("--post", action="store_true")
_kprobe_parser.add_argument("--disabled", action="store_true")


@commands.command("kprobe", category="kprobes", parser=_kprobe_parser, prefix=True,
                  complete=("location",))
def cmd_kprobe(ctx: Context, args: Any) -> None:
    """Register a kprobe at LOCATION (SYM, SYM+OFF or *ADDR).

    By default the probe only counts hits.  --stop stops the machine at each hit, before
    the probed instruction runs, showing the registers as the pre_handler sees them;
    --log FETCHARGS prints a line per hit with the named values (kprobe_events syntax:
    %r0, +4(%sp), @sym, $stack1, name=%r1:u32 ...); --post adds a post_handler, which
    keeps the probe from being optimized, as in the kernel.
    Subcommands: kprobe delete|enable|disable ID|NAME.
    """
    probe = _new_probe(ctx, args.location)
    probe.name = args.name
    probe.disabled = args.disabled
    probe.needs_breakpoint = args.stop
    pre = []
    if args.log is not None:
        pre.append(_log_handler(ctx, args.log, is_return=False))
    if args.stop:
        pre.append(lambda p, regs: _stop_event(ctx, p, regs))

    def pre_handler(p: Kprobe, regs: PtRegs) -> Any:
        for handler in pre:
            result = handler(p, regs)
            if result is not None:
                return result
        return 0

    probe.pre_handler = pre_handler if pre else None
    if args.post:
        probe.post_handler = lambda p, regs, flags: None
    system_of(ctx).kprobes.register(probe)
    where = ctx.session.describe_address(probe.addr or 0)
    ctx.out.line(f"kprobe {probe.id} ({probe.name}) at {where}"
                 + (" [DISABLED]" if probe.disabled else ""))


def _new_probe(ctx: Context, spec: str) -> Kprobe:
    """A probe for SYM, SYM+OFF (checked against the symbol's size) or *ADDR."""
    location = parse_location(ctx, spec)
    if location.spec.startswith("*"):
        return Kprobe(addr=location.address | int(location.thumb))
    symbol_name = location.spec.partition("+")[0]
    symbol = ctx.session.symbols.lookup(symbol_name.strip())
    if symbol is None or "-" in location.spec:
        return Kprobe(addr=location.address | int(location.thumb))
    return Kprobe(symbol_name=symbol.name, offset=location.address - symbol.address)


def _find(ctx: Context, key: str) -> Kprobe:
    key = key.strip()
    if not key:
        raise UsageError("Argument required (kprobe number or name).")
    return system_of(ctx).kprobes.find(int(key) if key.isdigit() else key)


@commands.command("kprobe delete", category="kprobes", usage="kprobe delete ID|NAME...")
def cmd_kprobe_delete(ctx: Context, args: str) -> None:
    """Unregister kprobes (kretprobes too, by their entry probe)."""
    system = system_of(ctx)
    for key in args.split() or [""]:
        probe = _find(ctx, key)
        rp = system.kretprobes.find(probe)
        if rp is not None:
            system.kretprobes.unregister(rp)
        else:
            system.kprobes.unregister(probe)


@commands.command("kprobe enable", category="kprobes", usage="kprobe enable ID|NAME...")
def cmd_kprobe_enable(ctx: Context, args: str) -> None:
    """Enable kprobes (re-arm their breakpoints)."""
    for key in args.split() or [""]:
        system_of(ctx).kprobes.enable(_find(ctx, key))


@commands.command("kprobe disable", category="kprobes", usage="kprobe disable ID|NAME...")
def cmd_kprobe_disable(ctx: Context, args: str) -> None:
    """Disable kprobes: the probe stays registered; its breakpoint is removed."""
    for key in args.split() or [""]:
        system_of(ctx).kprobes.disable(_find(ctx, key))


# ---------------------------------------------------------------------- kretprobe


_kretprobe_parser = ArgParser("kretprobe")
_kretprobe_parser.add_argument("function")
_kretprobe_parser.add_argument("--maxactive", type=int, default=0)
_kretprobe_parser.add_argument("--name", default="")
_kretprobe_parser.add_argument("--log", metavar="FETCHARGS", default=None)


@commands.command("kretprobe", category="kprobes", parser=_kretprobe_parser,
                  complete=("location",))
def cmd_kretprobe(ctx: Context, args: Any) -> None:
    """Register a kretprobe on FUNCTION's entry; its handler runs when it returns.

    --maxactive N bounds the instances in flight (default 10, as a preemptible one-CPU
    kernel); calls beyond it are counted as missed.  --log FETCHARGS prints a line per
    return ($retval is the return value).
    """
    location = parse_location(ctx, args.function)
    if location.spec.startswith("*") or "+" in location.spec:
        symbol = ctx.session.symbols.containing(location.address)
        if symbol is None or symbol.address != location.address:
            raise ArmdbgError(f"Cannot probe {location.spec}: EINVAL: Retprobe address must "
                              "be an function entry.")
    rp = Kretprobe(addr=location.address | int(location.thumb), maxactive=args.maxactive,
                   name=args.name)
    if args.log is not None:
        emit = _log_handler(ctx, args.log, is_return=True)
        rp.handler = lambda inst, regs: emit(inst.rp.kp, regs, regs.ARM_r0, inst.ret_addr)
    system_of(ctx).kretprobes.register(rp)
    assert rp.kp is not None
    where = ctx.session.describe_address(rp.kp.addr or 0)
    ctx.out.line(f"kretprobe {rp.kp.id} ({rp.name}) on {where}, maxactive {rp.maxactive}")


# ---------------------------------------------------------------------- kprobes (global)


@commands.command("kprobes", category="kprobes", prefix=True, usage="kprobes enable|disable")
def cmd_kprobes(ctx: Context, args: str) -> None:
    """Global kprobes switches (like /sys/kernel/debug/kprobes/enabled)."""
    list_subcommands(ctx, "kprobes", args)


@commands.command("kprobes enable", category="kprobes", usage="kprobes enable")
def cmd_kprobes_enable(ctx: Context, args: str) -> None:
    """Arm every registered kprobe again (echo 1 > /sys/kernel/debug/kprobes/enabled)."""
    system_of(ctx).kprobes.set_all_armed(True)
    ctx.out.line("Kprobes globally enabled")


@commands.command("kprobes disable", category="kprobes", usage="kprobes disable")
def cmd_kprobes_disable(ctx: Context, args: str) -> None:
    """Disarm every kprobe, keeping each one's own state (echo 0 > .../enabled)."""
    system_of(ctx).kprobes.set_all_armed(False)
    ctx.out.line("Kprobes globally disabled")


# ---------------------------------------------------------------------- optprobes


def _optimizer(ctx: Context) -> Any:
    return system_of(ctx).optimizer


def optimized_flag(ctx: Context, probe: Kprobe) -> str:
    site = system_of(ctx).kprobes.sites.get(probe.addr or -1)
    return "[OPTIMIZED]" if site is not None and _optimizer(ctx).is_jumping(site) else ""


def why_text(ctx: Context, probe: Kprobe) -> str:
    """In words: is the probe optimized, queued, or why not."""
    system = system_of(ctx)
    site = system.kprobes.sites.get(probe.addr or -1)
    if site is None:
        return "not registered"
    optimizer = system.optimizer
    state = optimizer.state(site)
    if state.jumping:
        assert state.trampoline is not None
        unoptimizing = " (queued for unoptimization)" if state.queued == "unoptimize" else ""
        return f"optimized: jumps to the trampoline at {state.trampoline.address:#010x}" \
               f"{unoptimizing}"
    blocker = optimizer.blocker(site)
    if blocker is not None:
        return f"not optimized: {blocker}"
    if state.queued == "optimize":
        due = ctx.session.machine.clock.next_due()
        left = "" if due is None else \
            f", due in {max(0, due - ctx.session.machine.clock.now) / 1e6:.1f} ms"
        return f"queued: waiting for the optimizer (OPTIMIZE_DELAY {optimizer.delay} " \
               f"jiffies at HZ {optimizer.hz}{left})"
    return "not optimized"


@commands.command("kprobe why", category="kprobes", usage="kprobe why ID|NAME")
def cmd_kprobe_why(ctx: Context, args: str) -> None:
    """Say whether a probe is optimized, waiting for the optimizer, or why not."""
    probe = _find(ctx, args)
    ctx.out.line(f"kprobe {probe.id} ({probe.name}): {why_text(ctx, probe)}.")


@commands.command("kprobe history", category="kprobes", usage="kprobe history ID|NAME")
def cmd_kprobe_history(ctx: Context, args: str) -> None:
    """A probe's state changes (registered, queued, optimized, ...) with clock stamps."""
    probe = _find(ctx, args)
    ctx.out.line(f"kprobe {probe.id} ({probe.name}):")
    for stamp, text in probe.history:
        ctx.out.line(f"  [{stamp // 1_000_000_000:5d}.{stamp % 1_000_000_000 // 1000:06d}] {text}")


@commands.command("info trampoline", category="kprobes", usage="info trampoline ID|NAME")
def cmd_info_trampoline(ctx: Context, args: str) -> None:
    """Disassemble a probe's optprobe trampoline with the kernel template's labels."""
    from armdbg.isa.disasm import decode_one
    from armdbg.kprobes import opt_arm

    probe = _find(ctx, args)
    system = system_of(ctx)
    site = system.kprobes.sites.get(probe.addr or -1)
    trampoline = system.optimizer.trampoline_words(site) if site is not None else None
    if trampoline is None:
        raise ArmdbgError(f"kprobe {probe.id} ({probe.name}) has no trampoline: "
                          f"{why_text(ctx, probe)}.")
    machine = ctx.session.machine
    where = ctx.session.describe_address(probe.addr or 0)
    kind = "direct execution of the original instruction" if trampoline.direct_exec else \
        "the original instruction single-stepped in the callback"
    ctx.out.line(f"Trampoline of kprobe {probe.id} ({probe.name}) at {where}: "
                 f"{trampoline.address:#010x}, stack_protect {trampoline.stack_protect}, {kind}")
    for index in range(opt_arm.TMPL_END):
        label = opt_arm.label_of(index)
        if label:
            ctx.out.line(f"{label}:")
        address = trampoline.word_address(index)
        data = machine.read_memory(address, 4)
        if index in (opt_arm.TMPL_VAL, opt_arm.TMPL_CALL):
            value = int.from_bytes(data, "little")
            note = f"op {value}" if index == opt_arm.TMPL_VAL else \
                "optimized_callback (armdbg's host stub)"
            text = f".word\t{value:#010x}\t@ {note}"
        else:
            text = decode_one(data, address, False).text
        ctx.out.line(f"  {address:#010x}:\t{data[::-1].hex()}\t{text}")
    jump = machine.read_memory(probe.addr or 0, 4)
    ctx.out.line(f"At the probe, {where}: {jump[::-1].hex()}\t"
                 f"{decode_one(jump, probe.addr or 0, False).text}")


@commands.command("kprobes wait-optimizer", category="kprobes", usage="kprobes wait-optimizer")
def cmd_kprobes_wait(ctx: Context, args: str) -> None:
    """Run all pending optimizer work now (wait_for_kprobe_optimizer)."""
    _optimizer(ctx).wait()


@commands.command("kprobes optimization", category="kprobes",
                  usage="kprobes optimization [on|off]")
def cmd_kprobes_optimization(ctx: Context, args: str) -> None:
    """Switch jump optimization (like /proc/sys/debug/kprobes-optimization).

    Off unoptimizes every probe and waits for the optimizer; on queues every eligible
    probe for optimization again.
    """
    from armdbg.settings import parse_bool

    optimizer = _optimizer(ctx)
    if not args.strip():
        ctx.out.line(f"Jump optimization is {'on' if optimizer.enabled else 'off'}.")
        return
    set_optimization(ctx, parse_bool(args, "kprobes optimization"))


def set_optimization(ctx: Context, on: bool) -> None:
    system = system_of(ctx)
    optimizer = system.optimizer
    optimizer.enabled = on
    for site in list(system.kprobes.sites.values()):
        optimizer.update(site)
    if on:
        ctx.out.line("Kprobes globally optimized")
    else:
        optimizer.wait()
        ctx.out.line("Kprobes globally unoptimized")


# ---------------------------------------------------------------------- bench


@commands.command("kprobes bench", category="kprobes", usage="kprobes bench [CALLS]")
def cmd_kprobes_bench(ctx: Context, args: str) -> None:
    """Run the kprobes self-test microbenchmark inside the emulator.

    Probes on a nop, on the stmdb/ldmia {r3-r11} pair (emulated fast by the kernel) and
    on stmdb/ldmia {r0-r8} (its slow path), each through the breakpoint and through an
    optimized jump, with an empty handler and with one recording a trace event.  Prints
    host ns per hit and the emulated instructions each path runs per hit, as a table
    and as bars.  The machine's registers are restored afterwards.
    """
    from armdbg.kprobes.bench import BENCH_BASE, Bench

    calls = int(args.strip() or "2000", 0)
    if calls <= 0:
        raise UsageError("kprobes bench: CALLS must be positive.")
    session = ctx.session
    machine = session.machine
    tracing = session.extensions.get("tracing")
    record = None
    if tracing is not None:
        record = tracing.events.recorder(f"p:bench/hit {BENCH_BASE:#x} arg1=%r0")
    saved = machine.uc.context_save()
    saved_buffer_on = tracing.events.buffer.on if tracing is not None else None
    total = 5 * 2 * 2
    done = [0]

    def progress(text: str) -> None:
        done[0] += 1
        ctx.out.line(f"  [{done[0]:2d}/{total}] {text}")

    try:
        results = Bench(machine, system_of(ctx), record_event=record).measure(
            calls=calls, progress=progress)
    finally:
        machine.uc.context_restore(saved)
        if tracing is not None:
            tracing.events.buffer.clear()
            tracing.events.buffer.on = saved_buffer_on
    ctx.out.line("")
    ctx.out.line(f"{'probed instruction':<26} {'path':<11} {'handler':<12} "
                 f"{'ns/hit':>9} {'insns/hit':>9}")
    for r in results:
        ctx.out.line(f"{r.probe:<26} {r.path:<11} {r.handler:<12} {r.ns_per_hit:>9.0f} "
                     f"{r.instructions_per_hit:>9d}")
    ctx.out.line("")
    widest = max((r.ns_per_hit for r in results), default=1.0) or 1.0
    for r in results:
        bar = "#" * max(1, round(40 * r.ns_per_hit / widest))
        label = f"{r.probe} {'bp' if r.path == 'breakpoint' else 'opt'}" \
                f"{'' if r.handler == 'empty' else '+trace'}"
        ctx.out.line(f"{label:<36} {bar} {r.ns_per_hit / 1000:.1f} us")
