"""Optprobes: the generic optimizer of kernel/kprobes.c with the ARM parts of
opt-arm.c, on the emulated machine.

A probe whose site qualifies is *prepared* at registration (a trampoline is built in an
instruction slot) and *queued*; it keeps working through its breakpoint until the
optimizer -- delayed work, OPTIMIZE_DELAY jiffies after it was kicked, on the machine's
clock -- replaces the breakpoint with a ``b`` to the trampoline.  Disabling or
unregistering queues the reverse, and until the optimizer runs the jump stays: hits then
run only the original instruction (the "disarmed but branch still present" window).

The trampoline calls the host through a one-instruction stub (``bx lr``) with a code
hook bounded to it -- the cheapest way into Python Unicorn offers -- which stands for
``optimized_callback``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from armdbg.errors import MemoryAccessError
from armdbg.kprobes import opt_arm
from armdbg.kprobes.regs import FramePtRegs, PtRegs
from armdbg.machine.stops import StopEvent, StopReason

if TYPE_CHECKING:
    from armdbg.kprobes.core import KprobeManager, ProbeSite
    from armdbg.kprobes.slots import ModuleArea
    from armdbg.machine.machine import Machine

OPTIMIZE_DELAY = 5   # jiffies (kernel/kprobes.c)
HZ = 100
SLOT_PAGE = 0x1000
# Cost charged to a virtual clock per hit through the jump, from the seed thread's
# measurement on an A7/A15 board (0.3 us; the breakpoint path's 1 us is in core.py).
JUMP_HIT_NS = 300
_FRAME_NAMES = ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11",
                "r12", "sp", "lr", "pc", "cpsr")


class InsnSlotCache:
    """``kprobe_optinsn_slots``: pages from the module area cut into trampoline slots.

    (Linux sizes these slots as MAX_OPTINSN_SIZE *words*, four times too large -- 10 per
    page; armdbg cuts them at their real size, 42 per page.)
    """

    def __init__(self, area: ModuleArea, slot_size: int) -> None:
        self.area = area
        self.slot_size = slot_size
        self.free_slots: list[int] = []
        self.pages: list[int] = []

    def get(self) -> int:
        if not self.free_slots:
            page = self.area.allocate(SLOT_PAGE, "kprobe_optinsn_page", align=SLOT_PAGE)
            self.pages.append(page)
            per_page = SLOT_PAGE // self.slot_size
            self.free_slots = [page + i * self.slot_size for i in range(per_page)][::-1]
        return self.free_slots.pop()

    def put(self, slot: int) -> None:
        self.free_slots.append(slot)


@dataclass
class OptState:
    """What the optimizer knows about one site (the optimized_kprobe)."""

    trampoline: opt_arm.Trampoline | None = None
    op: int = 0
    queued: str | None = None       # "optimize" or "unoptimize" while on a list
    jumping: bool = False           # the branch is in memory
    why: str = ""                   # why the site is (not) optimized, in words
    freeing: bool = False
    history: list[tuple[int, str]] = field(default_factory=list)


class Optimizer:
    def __init__(self, manager: KprobeManager, area: ModuleArea) -> None:
        self.manager = manager
        self.machine: Machine = manager.machine
        self.area = area
        self.slots = InsnSlotCache(area, opt_arm.MAX_OPTINSN_SIZE)
        self.enabled = True            # /proc/sys/debug/kprobes-optimization
        self.delay = OPTIMIZE_DELAY
        self.hz = HZ
        self.states: dict[int, OptState] = {}
        self.by_op: dict[int, int] = {}   # op value in the trampoline -> site address
        self._next_op = 1
        self._timer: object | None = None
        self._resuming_stub = False
        self.callback_stub = area.allocate(8, "optimized_callback")
        self.machine.write_memory(self.callback_stub, struct.pack("<II", 0xE12FFF1E, 0xE12FFF1E))
        self.machine.add_code_hook(self.callback_stub, self._optimized_callback)

    # ------------------------------------------------------------------ policy

    def state(self, site: ProbeSite) -> OptState:
        return self.states.setdefault(site.address, OptState())

    def _record(self, site: ProbeSite, text: str) -> None:
        state = self.state(site)
        stamp = self.machine.clock.now
        state.history.append((stamp, text))
        for probe in site.probes:
            probe.history.append((stamp, text))

    def blocker(self, site: ProbeSite) -> str | None:
        """Why the site cannot be optimized now, in a sentence (None when it can)."""
        found = self._blocker(site)
        return found[1] if found else None

    def blocker_label(self, site: ProbeSite) -> str | None:
        """The same reason in a few words, for a table column."""
        found = self._blocker(site)
        return found[0] if found else None

    def _blocker(self, site: ProbeSite) -> tuple[str, str] | None:
        if site.thumb:
            return "Thumb", ("Thumb state: Linux builds optprobes only for ARM kernels "
                             "(HAVE_OPTPROBES if !THUMB2_KERNEL)")
        if not self.enabled:
            return "optimization off", ("optimization is switched off "
                                        "(/proc/sys/debug/kprobes-optimization is 0)")
        if self.manager.all_disarmed:
            return "all disarmed", ("all kprobes are disarmed "
                                    "(/sys/kernel/debug/kprobes/enabled is 0)")
        if not site.enabled_probes:
            return "disabled", "the probe is disabled"
        stoppers = [p for p in site.probes if p.needs_breakpoint]
        if stoppers:
            return "--stop", (f"{stoppers[0].name} stops the machine (--stop), which needs "
                              "the breakpoint path: an optimized pre_handler cannot stop "
                              "before the instruction")
        posts = [p for p in site.probes if p.post_handler is not None]
        if posts:
            return "post_handler", (f"a post_handler is attached ({posts[0].name}): "
                                    "optimized probes cannot run post handlers")
        if self.manager.shares_breakpoint(site):
            return "gdb breakpoint", "a gdb breakpoint shares the address"
        state = self.state(site)
        if state.trampoline is None:
            label = "out of range" if "ERANGE" in state.why else "no trampoline"
            return label, state.why or "no trampoline could be prepared"
        return None

    # ------------------------------------------------------------------ preparing

    def prepare(self, site: ProbeSite) -> None:
        """``try_to_optimize_kprobe`` / ``arch_prepare_optimized_kprobe``."""
        state = self.state(site)
        if state.trampoline is not None or site.thumb:
            return
        stack_space = site.decision.stack_space
        if stack_space < 0 or opt_arm.PT_REGS_SIZE + stack_space > opt_arm.MAX_STACK_PROTECT:
            state.why = (f"the instruction's stack use ({stack_space} bytes) is more than the "
                         "trampoline can protect (EILSEQ)")
            return
        slot = self.slots.get()
        if not opt_arm.in_branch_range(site.address, slot):
            self.slots.put(slot)
            distance = (slot - site.address) / (1 << 20)
            state.why = (f"out of branch range (ERANGE): the trampoline slot at {slot:#010x} is "
                         f"{distance:+.1f} MiB away; a B reaches -32 MiB to +32 MiB - 4")
            self._record(site, "not optimized: out of branch range")
            return
        op = self._next_op
        self._next_op += 1
        trampoline = opt_arm.build_trampoline(slot, site.address, site.insn_word, stack_space,
                                              site.decision.register_usage, op,
                                              self.callback_stub)
        self.machine.write_memory(slot, struct.pack(f"<{len(trampoline.words)}I",
                                                    *trampoline.words))
        state.trampoline = trampoline
        state.op = op
        state.why = ""
        self.by_op[op] = site.address
        self._record(site, f"prepared (trampoline {slot:#010x})")

    # ------------------------------------------------------------------ queueing

    def update(self, site: ProbeSite, *, force: bool = False) -> None:
        """Bring the site toward what it should be: optimized or not."""
        self.prepare(site)
        state = self.state(site)
        blocker = self.blocker(site)
        if blocker is None:
            if state.queued == "unoptimize":
                state.queued = None  # optimize_kprobe on an unoptimizing probe: dequeue
                self._record(site, "revived (unoptimization cancelled)")
            elif not state.jumping and state.queued != "optimize":
                state.queued = "optimize"
                self._record(site, "queued for optimization")
                self.kick()
            return
        state.why = blocker if state.trampoline is not None else state.why or blocker
        if state.queued == "optimize":
            state.queued = None
            self._record(site, f"dequeued: {blocker}")
        if state.jumping:
            if force or self.manager.all_disarmed:
                self._unoptimize_now(site)
            elif state.queued != "unoptimize":
                state.queued = "unoptimize"
                self._record(site, f"queued for unoptimization: {blocker}")
                self.kick()

    def kick(self) -> None:
        if self._timer is None:
            self._timer = self.machine.clock.add_timer(self.delay_ns(), self.run_work)

    def delay_ns(self) -> int:
        return self.delay * 1_000_000_000 // self.hz

    # ------------------------------------------------------------------ the work

    def run_work(self) -> None:
        """``kprobe_optimizer``: unoptimize, wait for quiescence, optimize, free."""
        self._timer = None
        unoptimizing = [a for a, s in self.states.items() if s.queued == "unoptimize"]
        for address in unoptimizing:
            site = self.manager.sites.get(address)
            if site is not None:
                self._unoptimize_now(site)
        # synchronize_rcu_tasks(): nothing may be executing inside a trampoline we are
        # about to change or free.  The machine is stopped between slices; only its PC
        # can be inside one.
        pc = self.machine.pc
        busy = {a for a, s in self.states.items()
                if s.trampoline is not None and s.trampoline.address <= pc
                < s.trampoline.address + opt_arm.MAX_OPTINSN_SIZE}
        for address, state in list(self.states.items()):
            site = self.manager.sites.get(address)
            if state.queued == "optimize" and site is not None and address not in busy:
                if self.blocker(site) is None:
                    self._optimize_now(site)
                else:
                    state.queued = None
        for address in [a for a, s in self.states.items() if s.freeing and a not in busy]:
            self._free(address)
        if any(s.queued for s in self.states.values()) or any(
                s.freeing for s in self.states.values()):
            self.kick()

    def wait(self) -> None:
        """``wait_for_kprobe_optimizer``: run the pending work now, until none is left."""
        for _ in range(8):
            if not any(s.queued or s.freeing for s in self.states.values()):
                break
            if self._timer is not None:
                self.machine.clock.cancel(self._timer)  # type: ignore[arg-type]
                self._timer = None
            self.run_work()

    def _optimize_now(self, site: ProbeSite) -> None:
        """``arch_optimize_kprobes``: the branch replaces the breakpoint word."""
        state = self.state(site)
        assert state.trampoline is not None
        word_in_memory = int.from_bytes(self.machine.read_memory(site.address, 4), "little")
        branch = opt_arm.with_condition(
            opt_arm.arm_gen_branch(site.address, state.trampoline.address), word_in_memory)
        self.manager.release_trap(site)
        self.machine.write_memory(site.address, struct.pack("<I", branch))
        state.queued = None
        state.jumping = True
        self._record(site, f"optimized (trampoline {state.trampoline.address:#010x})")
        for probe in site.probes:
            self.manager.events.publish("kprobe-optimized", probe=probe,
                                        trampoline=state.trampoline.address)

    def _unoptimize_now(self, site: ProbeSite) -> None:
        """``arch_unoptimize_kprobe``: write the breakpoint back over the branch, then
        let the manager disarm it if the site no longer wants it."""
        state = self.state(site)
        if not state.jumping:
            return
        self.machine.write_memory(site.address, site.original)
        state.jumping = False
        state.queued = None
        self.manager.restore_trap(site)
        self._record(site, "unoptimized (breakpoint restored)")
        for probe in site.probes:
            self.manager.events.publish("kprobe-unoptimized", probe=probe)
        self.manager.site_unoptimized(site)

    def force_unoptimize(self, site: ProbeSite) -> None:
        """``unoptimize_kprobe(p, force=true)``: the breakpoint goes back now."""
        self._unoptimize_now(site)

    def retire(self, site: ProbeSite) -> None:
        """The site lost its last probe: free its trampoline once nothing uses it."""
        state = self.states.get(site.address)
        if state is None:
            return
        if state.jumping:
            state.queued = "unoptimize"
            self.kick()
            return
        state.freeing = True
        self.kick()

    def _free(self, address: int) -> None:
        state = self.states.get(address)
        if state is None:
            return
        site = self.manager.sites.get(address)
        if site is not None and site.probes:
            state.freeing = False  # revived meanwhile
            return
        if state.trampoline is not None:
            self.slots.put(state.trampoline.address)
            self.by_op.pop(state.op, None)
        del self.states[address]

    def forget_jumps(self) -> None:
        """The program image was rewritten: no branch of ours is in memory any more;
        trampolines stay prepared and sites get optimized again after the delay."""
        for state in self.states.values():
            if state.jumping:
                state.jumping = False
                state.queued = None

    def is_jumping(self, site: ProbeSite) -> bool:
        state = self.states.get(site.address)
        return bool(state and state.jumping)

    # ------------------------------------------------------------------ the hit

    def _optimized_callback(self, machine: Machine) -> None:
        """``optimized_callback(op, regs)``, entered from the trampoline's ``blx``."""
        if self._resuming_stub:
            self._resuming_stub = False
            return
        address = self.by_op.get(machine.read_register("r0"))
        if address is None:
            return
        site = self.manager.sites.get(address)
        state = self.states[address]
        regs = FramePtRegs(machine, machine.read_register("r1"))
        regs.set_view("pc", address)
        manager = self.manager
        probes = site.enabled_probes if site is not None else []
        if manager.running is not None:
            for probe in probes:
                probe.nmissed += 1
        else:
            for probe in probes:
                probe.nhit += 1
                probe.nhit_jump += 1
            if manager.events.has_subscribers("kprobe-hit"):  # plugins' "probe-hit"
                for probe in probes:
                    manager.events.publish("kprobe-hit", probe=probe, path="jump")
            for probe in probes:
                if probe.pre_handler is not None and not probe.faulted:
                    # The return value is ignored: an optimized probe cannot redirect.
                    manager.call_handler(probe, probe.pre_handler, regs)
        machine.clock.charge(JUMP_HIT_NS)
        regs.flush()
        assert state.trampoline is not None
        if not state.trampoline.direct_exec:
            frame = machine.read_register("r1")
            if site is None or not self._simulate_in_frame(site, frame):
                machine.request_service(lambda: self._singlestep_in_frame(address, frame))

    def _simulate_in_frame(self, site: ProbeSite, frame: int) -> bool:
        """The common PC-using instruction, a function return (``ldmia sp!, {..., pc}``),
        simulated against the frame as the kernel does, without leaving Unicorn.  False
        when the instruction is not one of those forms (the caller steps it)."""
        machine = self.machine
        words = machine.read_u32s(frame, 17)
        regs = dict(zip(_FRAME_NAMES, words))
        try:
            after = opt_arm.simulate_load_multiple_pc(site.insn_word, regs, machine.read_u32s)
        except MemoryAccessError:
            return False  # the step in the callback reports the fault where it happens
        if after is None:
            return False
        machine.write_memory(frame, struct.pack("<17I", *(after[n] for n in _FRAME_NAMES)))
        return True

    def _singlestep_in_frame(self, address: int, frame: int) -> StopEvent | None:
        """Emulate the original instruction against the saved pt_regs, exactly: load the
        frame into the CPU, run the instruction at its own address, store the result
        back, and return to the trampoline as if the callback had done it."""
        machine = self.machine
        site = self.manager.sites.get(address)
        original = site.original if site is not None else None
        if original is None:
            return None
        context = {name: machine.read_register(name) for name in
                   ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10",
                    "r11", "r12", "sp", "lr", "pc", "cpsr")}
        regs = FramePtRegs(machine, frame).snapshot()
        for name in ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10",
                     "r11", "r12", "sp", "lr"):
            machine.write_register(name, regs[name])
        machine.cpsr = regs["cpsr"]
        machine.set_pc(address, False)
        jump = machine.read_memory(address, 4)
        machine.write_memory(address, original)
        try:
            stop = machine.raw_step()
        finally:
            machine.write_memory(address, jump)
        result = PtRegs.capture(machine)
        pc_after, cpsr_after = result.ARM_pc, result.ARM_cpsr
        if stop.reason is not StopReason.STEP:
            return stop
        words = [result.get(n) for n in ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8",
                                         "r9", "r10", "r11", "r12", "sp", "lr")]
        thumb_after = machine.thumb
        # The trampoline's tail sets bit 0 of the PC itself when CPSR.T is set.
        words += [pc_after & ~1, cpsr_after | (0x20 if thumb_after else 0)]
        machine.write_memory(frame, struct.pack("<17I", *words))
        for name, value in context.items():
            if name not in ("pc", "cpsr"):
                machine.write_register(name, value)
        machine.cpsr = context["cpsr"]
        machine.set_pc(context["pc"], False)
        # Resuming at the stub re-enters its code hook: that entry is this same call.
        self._resuming_stub = True
        return None

    # ------------------------------------------------------------------ display

    def trampoline_words(self, site: ProbeSite) -> opt_arm.Trampoline | None:
        state = self.states.get(site.address)
        return state.trampoline if state else None

