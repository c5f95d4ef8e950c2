"""The generic kprobes engine (kernel/kprobes.c), on the emulated machine.

Probes register at an address, several at one address aggregate, arming writes the real
breakpoint word, and a hit follows the kernel's order: condition check, re-entrancy
check, pre_handlers, single-step of the original instruction, post_handlers.

How the single-step is exact: the trap hook only asks the machine to return from
Unicorn (``SERVICE``); then, outside the emulator, handlers run and
``Machine.raw_step`` executes the original instruction at its own address with the
breakpoint lifted -- the emulator itself runs it, with its true PC, flags and ITSTATE,
so no instruction class needs simulating and none can be simulated wrongly.  The price
is a restart of ``emu_start`` per hit, which is what the jump optimization
(optprobes) then saves.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from armdbg.errors import ArmdbgError
from armdbg.isa.conditions import condition_passed
from armdbg.isa.itstate import current_condition, in_it_block, itstate_from_cpsr
from armdbg.kprobes.arch_arm import (
    MAX_STACK_SIZE,
    arm_condition_passes,
    breakpoint_bytes,
    thumb_boundaries,
)
from armdbg.kprobes.regs import PtRegs
from armdbg.machine.stops import StopEvent, StopReason
from armdbg.machine.traps import SERVICE, TrapAction, TrapSite

if TYPE_CHECKING:
    from armdbg.events import EventBus
    from armdbg.kprobes.optimizer import Optimizer
    from armdbg.machine.machine import Machine
    from armdbg.machine.symbols import SymbolTable

# What a hit costs on hardware (the seed thread: about 1 us through the breakpoint),
# charged to a virtual clock.
BREAKPOINT_HIT_NS = 1000

PreHandler = Callable[["Kprobe", PtRegs], Any]
PostHandler = Callable[["Kprobe", PtRegs, int], Any]


class KprobeError(ArmdbgError):
    """Registration refused, with the kernel's errno name and a reason."""

    def __init__(self, errno: str, where: str, why: str) -> None:
        super().__init__(f"Cannot probe {where}: {errno}: {why}")
        self.errno = errno
        self.why = why


@dataclass(eq=False)
class Kprobe:
    """One registered probe (``struct kprobe``)."""

    symbol_name: str | None = None
    offset: int = 0
    addr: int | None = None
    pre_handler: PreHandler | None = None
    post_handler: PostHandler | None = None
    name: str = ""
    disabled: bool = False
    owner: str = "armdbg"
    # Filled in by registration.
    id: int = 0
    thumb: bool = False
    nhit: int = 0
    nmissed: int = 0
    faulted: str | None = None  # a handler raised: it is no longer called
    kind: str = "k"             # "k" or "r" (the entry probe of a kretprobe), as in list
    needs_breakpoint: bool = False  # e.g. --stop: must not be optimized
    nhit_bp: int = 0            # hits through the breakpoint ...
    nhit_jump: int = 0          # ... and through an optimized jump
    history: list[tuple[int, str]] = field(default_factory=list)  # (clock ns, state)

    @property
    def location(self) -> str:
        return f"{self.symbol_name}+{self.offset:#x}" if self.symbol_name else f"{self.addr:#x}"


@dataclass
class ProbeSite:
    """The probes at one address: the kernel's aggregate kprobe."""

    address: int
    thumb: bool
    original: bytes
    insn_word: int
    decision: Any
    probes: list[Kprobe] = field(default_factory=list)
    armed: bool = False
    pending_step: bool = False   # a --stop probe stopped here before the single-step

    @property
    def enabled_probes(self) -> list[Kprobe]:
        return [p for p in self.probes if not p.disabled]


class KprobeManager:
    """All probes of one machine; the TrapClient for every probed address."""

    def __init__(self, machine: Machine, symbols: Callable[[], SymbolTable],
                 events: EventBus, blacklist: Callable[[int], str | None]) -> None:
        self.machine = machine
        self._symbols = symbols
        self.events = events
        self._blacklist = blacklist
        self.sites: dict[int, ProbeSite] = {}
        self.probes: list[Kprobe] = []
        self.all_disarmed = False          # /sys/kernel/debug/kprobes/enabled = 0
        self.running: Kprobe | None = None  # current_kprobe: a handler is running
        self._ids = itertools.count(1)
        self.optimizer: Optimizer | None = None
        machine.trap_observers.append(self._trap_changed)

    # ------------------------------------------------------------------ lookup

    @property
    def symbols(self) -> SymbolTable:
        return self._symbols()

    def find(self, key: str | int) -> Kprobe:
        for probe in self.probes:
            if (isinstance(key, int) and probe.id == key) or probe.name == key:
                return probe
        if isinstance(key, str) and key.isdigit():
            return self.find(int(key))
        raise ArmdbgError(f"No kprobe {key}.")

    def at(self, address: int) -> list[Kprobe]:
        site = self.sites.get(address)
        return list(site.probes) if site else []

    # ------------------------------------------------------------------ registration

    def resolve(self, probe: Kprobe) -> tuple[int, bool]:
        """``_kprobe_addr``: symbol+offset or a raw address, and its ISA state."""
        symbols = self.symbols
        if probe.symbol_name is not None:
            symbol = symbols.lookup(probe.symbol_name)
            if symbol is None:
                raise KprobeError("ENOENT", probe.symbol_name, "no such symbol.")
            address = symbol.address + probe.offset
            thumb = symbol.thumb if symbol.kind == "func" else bool(symbols.is_thumb_code(address))
            if thumb and address & 1:
                raise KprobeError("EILSEQ", probe.location,
                                  "Probe point is not an instruction boundary.")
            if symbol.size and probe.offset >= symbol.size:
                raise KprobeError("EINVAL", probe.location,
                                  f"offset {probe.offset:#x} is beyond the end of "
                                  f"{symbol.name} (size {symbol.size:#x}).")
            return address, thumb
        if probe.addr is None:
            raise KprobeError("EINVAL", "?", "neither a symbol nor an address was given.")
        # Bit 0 marks a Thumb address, as kernel symbols of a Thumb-2 kernel do; where the
        # program's mapping symbols know better, they decide.
        known = symbols.is_thumb_code(probe.addr & ~1)
        thumb = known if known is not None else bool(probe.addr & 1) or self.machine.thumb
        return (probe.addr & ~1 if thumb else probe.addr), thumb

    def register(self, probe: Kprobe) -> Kprobe:
        address, thumb = self.resolve(probe)
        where = self._where(address)
        site = self.sites.get(address)
        if site is None:
            site = self._prepare(address, thumb, where)
        elif not site.probes:
            self._record(site, "revived by a new registration")
        self._name(probe, address)
        probe.addr = address
        probe.thumb = site.thumb
        probe.id = next(self._ids)
        site.probes.append(probe)
        self.probes.append(probe)
        if probe.symbol_name is None:
            sym = self.symbols.containing(address)
            if sym is not None:
                probe.symbol_name, probe.offset = sym.name, address - sym.address
        probe.history.append((self.machine.clock.now, "registered"))
        self._update_arming(site, force=probe.post_handler is not None)
        self.events.publish("kprobe-registered", probe=probe)
        return probe

    def _record(self, site: ProbeSite, text: str) -> None:
        for probe in site.probes:
            probe.history.append((self.machine.clock.now, text))

    def _where(self, address: int) -> str:
        name = self.symbols.symbolize(address)
        return f"{name} ({address:#x})" if name else f"{address:#x}"

    def _name(self, probe: Kprobe, address: int) -> None:
        if not probe.name:
            sym = self.symbols.containing(address)
            probe.name = (f"p_{sym.name}_{address - sym.address}" if sym
                          else f"p_0x{address:08x}")
        if any(p.name == probe.name for p in self.probes):
            base, n = probe.name, 1
            while any(p.name == f"{base}_{n}" for p in self.probes):
                n += 1
            probe.name = f"{base}_{n}"

    def _prepare(self, address: int, thumb: bool, where: str) -> ProbeSite:
        """``check_kprobe_address_safe`` + ``arch_prepare_kprobe``."""
        from armdbg.kprobes.decode import decode

        machine = self.machine
        region = machine.region_of(address)
        if region is None or "x" not in region.perms:
            raise KprobeError("EINVAL", where, "the address is not in executable memory.")
        reason = self._blacklist(address)
        if reason is not None:
            raise KprobeError("EINVAL", where, f"the address is blacklisted ({reason}).")
        if not thumb and address % 4:
            raise KprobeError("EINVAL", where, "an ARM probe address must be 4-byte aligned.")
        if thumb:
            self._check_thumb_boundary(address, where)
        original = machine.read_memory(address, 4 if not thumb else 2, shadow=True)
        if thumb and len(breakpoint_bytes(original, True)) == 4:
            original = machine.read_memory(address, 4, shadow=True)
        decision = decode(original, thumb)
        if not decision.accepted:
            raise KprobeError(decision.error or "EINVAL", where, decision.why)
        if decision.stack_space < 0:
            raise KprobeError("EINVAL", where,
                              "the instruction's stack use below SP cannot be determined.")
        if decision.stack_space > MAX_STACK_SIZE:
            raise KprobeError("EINVAL", where,
                              f"the instruction writes {decision.stack_space} bytes below SP; "
                              f"at most {MAX_STACK_SIZE} can be single-stepped.")
        word = int.from_bytes(original, "little") if not thumb else (
            int.from_bytes(original[:2], "little") << 16 | int.from_bytes(original[2:4], "little")
            if len(original) == 4 else int.from_bytes(original, "little"))
        site = ProbeSite(address, thumb, original, word, decision)
        self.sites[address] = site
        return site

    def _check_thumb_boundary(self, address: int, where: str) -> None:
        """Decoding forward from the containing function's start must land on it."""
        sym = self.symbols.containing(address)
        if sym is None or not sym.size:
            return  # no function to decode from: trust the user, as with a raw address
        code = self.machine.read_memory(sym.address, sym.size, shadow=True)
        if address not in thumb_boundaries(code, sym.address):
            raise KprobeError("EILSEQ", where, "Probe point is not an instruction boundary.")

    def unregister(self, probe: Kprobe) -> None:
        site = self.sites.get(probe.addr or -1)
        if probe not in self.probes or site is None:
            raise ArmdbgError(f"kprobe {probe.name} is not registered.")
        self.probes.remove(probe)
        site.probes.remove(probe)
        probe.history.append((self.machine.clock.now, "unregistered"))
        self._update_arming(site)
        if not site.probes and not self._jumping(site):
            self._retire(site)
        self.events.publish("kprobe-unregistered", probe=probe)

    def _retire(self, site: ProbeSite) -> None:
        self._disarm(site)
        self.sites.pop(site.address, None)
        if self.optimizer is not None:
            self.optimizer.retire(site)

    def enable(self, probe: Kprobe) -> None:
        probe.disabled = False
        probe.history.append((self.machine.clock.now, "enabled"))
        self._update_arming(self.sites[probe.addr])  # type: ignore[index]

    def disable(self, probe: Kprobe) -> None:
        probe.disabled = True
        probe.history.append((self.machine.clock.now, "disabled"))
        self._update_arming(self.sites[probe.addr])  # type: ignore[index]

    def refresh(self, address: int, *, force: bool = False) -> None:
        """Re-evaluate a site after something around it changed (a gdb breakpoint)."""
        site = self.sites.get(address)
        if site is not None:
            self._update_arming(site, force=force)

    def _trap_changed(self, what: str, address: int, client: object) -> None:
        """Another trap owner (a gdb breakpoint) comes or goes at a probed address: the
        jump must not be under its breakpoint word; without it, optimize again."""
        site = self.sites.get(address)
        if site is None or client is self:
            return
        if what == "insert" and self.optimizer is not None and self._jumping(site):
            self.optimizer.force_unoptimize(site)
        elif what == "remove":
            self._update_arming(site)

    def shares_breakpoint(self, site: ProbeSite) -> bool:
        trap = self.machine.traps.get(site.address)
        return trap is not None and any(e.client is not self for e in trap.entries)

    def set_all_armed(self, armed: bool) -> None:
        """``/sys/kernel/debug/kprobes/enabled``: per-probe DISABLED state is kept."""
        self.all_disarmed = not armed
        for site in self.sites.values():
            self._update_arming(site)

    # ------------------------------------------------------------------ arming

    def _jumping(self, site: ProbeSite) -> bool:
        return self.optimizer is not None and self.optimizer.is_jumping(site)

    def _update_arming(self, site: ProbeSite, *, force: bool = False) -> None:
        want = bool(site.enabled_probes) and not self.all_disarmed
        if self._jumping(site):
            # The branch stays until the optimizer (or a forced unoptimization) puts the
            # breakpoint back: the "disarmed but branch still present" window.
            pass
        elif want and not site.armed:
            self._arm(site)
        elif not want and site.armed:
            self._disarm(site)
        if self.optimizer is not None:
            self.optimizer.update(site, force=force)

    def release_trap(self, site: ProbeSite) -> None:
        """The optimizer is about to write its branch: take the breakpoint out."""
        self.machine.remove_trap(site.address, self)

    def restore_trap(self, site: ProbeSite) -> None:
        """The optimizer took its branch out: the breakpoint goes back."""
        self.machine.insert_trap(site.address, site.thumb, self,
                                 word=breakpoint_bytes(site.original, site.thumb), shadowed=False)
        site.armed = True

    def site_unoptimized(self, site: ProbeSite) -> None:
        """After unoptimizing: disarm a site that no longer wants its breakpoint, and
        forget one that has no probes left."""
        want = bool(site.enabled_probes) and not self.all_disarmed
        if not want and site.armed:
            self._disarm(site)
        if not site.probes:
            self._retire(site)

    def call_handler(self, probe: Kprobe, handler: Callable[..., Any], *args: Any) -> Any:
        """The optimizer's way in: a pre_handler on the jump path."""
        return self._call(probe, handler, *args)

    def _arm(self, site: ProbeSite) -> None:
        self.machine.insert_trap(site.address, site.thumb, self,
                                 word=breakpoint_bytes(site.original, site.thumb), shadowed=False)
        site.armed = True

    def _disarm(self, site: ProbeSite) -> None:
        if site.armed:
            self.machine.remove_trap(site.address, self)
            site.armed = False

    def rearm_all(self) -> None:
        """After the program image was rewritten (``run``): breakpoints go back in, and
        optimized sites get their branch again through the optimizer."""
        if self.optimizer is not None:
            self.optimizer.forget_jumps()
        for site in list(self.sites.values()):
            site.armed = False
            site.pending_step = False
            if not site.probes:
                self._retire(site)
                continue
            self._update_arming(site)

    # ------------------------------------------------------------------ the hit

    def on_trap(self, machine: Machine, site: TrapSite) -> TrapAction:
        probe_site = self.sites.get(site.address)
        if probe_site is None:
            return SERVICE  # removed under our feet: service just single-steps
        if not probe_site.thumb and not arm_condition_passes(probe_site.insn_word,
                                                             machine.cpsr):
            # insn_check_cc failed: skip the instruction, run no handler.
            machine.set_pc(site.address + 4, False)
            return None
        return SERVICE

    def service(self, machine: Machine, site: TrapSite) -> StopEvent | None:
        probe_site = self.sites.get(site.address)
        if probe_site is None:
            return self._single_step(machine)
        if probe_site.thumb and not self._thumb_condition_passes(machine, probe_site):
            # insn_check_cc failed: the instruction runs as the CPU runs it (a NOP in
            # its IT slot, a branch not taken) and no handler is called.
            return self._single_step(machine)
        if self.running is not None:
            # A probe hit while a handler runs: count it missed, just single-step.
            for probe in probe_site.enabled_probes:
                probe.nmissed += 1
            return self._single_step(machine)
        if probe_site.pending_step:
            probe_site.pending_step = False
            return self._finish_hit(machine, probe_site)
        regs = PtRegs.capture(machine)
        skip = False
        stop: StopEvent | None = None
        probes = probe_site.enabled_probes
        machine.clock.charge(BREAKPOINT_HIT_NS)
        for probe in probes:
            probe.nhit += 1
            probe.nhit_bp += 1
        if self.events.has_subscribers("kprobe-hit"):  # plugins' "probe-hit"; free if none
            for probe in probes:
                self.events.publish("kprobe-hit", probe=probe, path="breakpoint")
        for probe in probes:
            if probe.pre_handler is None or probe.faulted:
                continue
            result = self._call(probe, probe.pre_handler, regs)
            if isinstance(result, StopEvent):
                stop = result
                break
            if result:
                skip = True  # the handler changed the execution path
                break
        regs.apply(machine)
        if stop is not None:
            probe_site.pending_step = True
            return stop
        if skip:
            return None
        return self._finish_hit(machine, probe_site)

    def _finish_hit(self, machine: Machine, site: ProbeSite) -> StopEvent | None:
        """Single-step the original instruction, then the post_handlers."""
        stop = self._single_step(machine)
        if stop is not None:
            return stop
        posts = [p for p in site.enabled_probes if p.post_handler and not p.faulted]
        if posts:
            regs = PtRegs.capture(machine)
            for probe in posts:
                self._call(probe, probe.post_handler, regs, 0)  # type: ignore[arg-type]
            regs.apply(machine)
        return None

    @staticmethod
    def _thumb_condition_passes(machine: Machine, site: ProbeSite) -> bool:
        """The Thumb ``insn_check_cc``: the IT block's current condition inside a block,
        else the instruction's own (a conditional B<c>)."""
        cpsr = machine.cpsr
        itstate = itstate_from_cpsr(cpsr)
        condition = current_condition(itstate) if in_it_block(itstate) else \
            site.decision.condition
        return condition_passed(condition, cpsr)

    def _single_step(self, machine: Machine) -> StopEvent | None:
        step = machine.raw_step()
        return None if step.reason is StopReason.STEP else step

    def _call(self, probe: Kprobe, handler: Callable[..., Any], *args: Any) -> Any:
        self.running = probe
        regs = args[0] if args and isinstance(args[0], PtRegs) else None
        checkpoint = regs.checkpoint() if regs is not None else None
        try:
            return handler(probe, *args)
        except Exception as err:  # a handler's bug must not break the probed program
            if regs is not None and checkpoint is not None:
                regs.rollback(checkpoint)  # what it wrote before raising is undone
            probe.faulted = f"{type(err).__name__}: {err}"
            self.events.publish("kprobe-handler-error", probe=probe, error=err)
            return None
        finally:
            self.running = None
