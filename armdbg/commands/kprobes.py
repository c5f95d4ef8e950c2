"""kprobe, kretprobe, kprobes and ``info kprobes``: Linux kprobes from the shell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from armdbg.commands.context import Context
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
    return text + flags


def probe_state(ctx: Context, probe: Kprobe) -> str:
    manager = system_of(ctx).kprobes
    site = manager.sites.get(probe.addr or -1)
    if probe.faulted:
        return "handler-faulted"
    if probe.disabled:
        return "disabled"
    if manager.all_disarmed:
        return "disarmed (all)"
    return "armed" if site is not None and site.armed else "disarmed"


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
    ctx.out.line(f"{'kprobes/list':<44}  {'Num':>3}  {'Name':<24} {'Hits':>8} {'Missed':>7}  State")
    for probe in list_order(manager):
        ctx.out.line(f"{kernel_list_line(ctx, probe):<44}  {probe.id:>3}  {probe.name:<24} "
                     f"{probe.nhit:>8} {probe.nmissed:>7}  {probe_state(ctx, probe)}")
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
    raise UsageError(f'Undefined kprobes command: "{args}".  Try "help kprobes".'
                     if args else '"kprobes" must be followed by enable or disable.')


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
