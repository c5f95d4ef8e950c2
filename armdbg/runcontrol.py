"""Resuming the program the way gdb does: continue, stepping, finish, until, jump, kill.

The engine returns a :class:`Stop` and never prints; the ``running`` commands report it.

Breakpoints.  A trap stop hands the decision to the breakpoints at that address
(condition, ignore count): when none of them wants to stop, the run goes on without a
word.  As in gdb, a breakpoint is only *hit* by arriving at it: when execution resumes
from the PC it stopped at, the breakpoints there are stepped over (their trap is lifted
for one instruction); when PC got there another way -- a single step, ``jump``, ``set
$pc``, or the start of ``run`` -- they are checked before anything executes.  A trap in
a Thumb IT-block slot whose condition fails is skipped by the CPU (the slot is a NOP,
as on hardware), so such a breakpoint does not stop, and arriving there is no hit either.

Watchpoints: precision.  A watchpoint is a memory hook bounded to its bytes.  Measured
on Unicorn 2.1.4: ``emu_stop`` from the hook aborts the accessing instruction (PC stays
on it, its memory write is done, its register write-back is not); re-executing it with
:meth:`Machine.raw_step` completes it exactly, and the stop is reported after it, as
after a hardware watchpoint.  Inside a Thumb IT block, however, Unicorn does not honour
the stop until a later access outside the block or the end of the translation block:
more instructions run.  So the hook keeps what it needs to undo them: the registers at
the access and, from then on, a journal of the old bytes under every guest write.  When
the machine has gone past the accessing instruction, the journal is played back and the
registers restored before the completing step.  (Semihosting calls or kprobe handlers
in that short window would run twice; no other instruction sequence is affected.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from armdbg import expr, frames
from armdbg.breakpoints import (
    WATCH_READ,
    WATCH_WRITE,
    Breakpoint,
    BreakpointSite,
    BreakpointTable,
    Stoppoint,
    Watchpoint,
)
from armdbg.errors import ArmdbgError, MemoryAccessError
from armdbg.isa.conditions import condition_passed
from armdbg.isa.cpsr import T_BIT
from armdbg.isa.disasm import Instruction
from armdbg.isa.itstate import current_condition, in_it_block, itstate_from_cpsr
from armdbg.machine.machine import MemoryAccess
from armdbg.machine.stops import StopEvent, StopReason
from armdbg.machine.symbols import Symbol
from armdbg.session import ProgramState

if TYPE_CHECKING:
    from armdbg.machine.machine import Machine
    from armdbg.session import Session

_CONDITIONS = frozenset({"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi",
                         "ls", "ge", "lt", "gt", "le", "al"})
_SAVED = tuple(f"r{i}" for i in range(13)) + ("sp", "lr")


def is_call(insn: Instruction) -> bool:
    """``bl``/``blx`` (conditional too), which ``nexti`` and ``next`` step over.

    ``bls``, ``blt`` and ``ble`` are conditional plain branches, not calls."""
    name = insn.mnemonic.split(".")[0]
    for base in ("blx", "bl"):
        if name == base or (name.startswith(base) and name[len(base):] in _CONDITIONS):
            return True
    return False


def slot_executes(machine: Machine) -> bool:
    """Whether the instruction at PC executes: false in a failing Thumb IT-block slot."""
    cpsr = machine.cpsr
    if not cpsr & T_BIT:
        return True
    itstate = itstate_from_cpsr(cpsr)
    return not in_it_block(itstate) or condition_passed(current_condition(itstate), cpsr)


@dataclass(frozen=True)
class WatchTrigger:
    """A watchpoint that stopped the program: ``old`` is None when only a value is
    shown (a read, or an access that left the value unchanged)."""

    watchpoint: Watchpoint
    old: expr.Value | None
    new: expr.Value


@dataclass
class Stop:
    """Why the program stopped, with what gdb reports about it."""

    event: StopEvent
    breakpoints: list[Breakpoint] = field(default_factory=list)
    triggers: list[WatchTrigger] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # printed before the stop

    @property
    def reason(self) -> StopReason:
        return self.event.reason

    @property
    def points(self) -> list[Stoppoint]:
        """Every breakpoint and watchpoint that stopped the program, by number."""
        found: list[Stoppoint] = [*self.breakpoints, *(t.watchpoint for t in self.triggers)]
        return sorted(found, key=lambda p: p.number)

    @property
    def silent(self) -> bool:
        """gdb announces the stop unless every point that caused it is ``silent``."""
        points = self.points
        return bool(points) and all(p.silent for p in points)


@dataclass
class CallerFrame:
    pc: int      # where the current function returns to
    cfa: int     # SP in the caller once it has returned


@dataclass
class _PendingWatch:
    """A watched access seen inside Unicorn, to complete outside it (module doc)."""

    watchpoint: Watchpoint
    access: MemoryAccess
    registers: dict[str, int]
    journal: list[tuple[int, bytes]] = field(default_factory=list)
    journal_hook: int | None = None


class RunControl:
    def __init__(self, session: Session, table: BreakpointTable) -> None:
        self.session = session
        self.table = table
        # The PC whose breakpoints have had their say: resuming from it steps over them.
        # At load the program stands at its entry as after gdb's starti.
        self.skip_pc: int | None = session.machine.pc
        self.stop_points: list[Stoppoint] = []   # what caused the last stop
        self._watch: _PendingWatch | None = None
        self._completing = False
        self._step_accesses: list[tuple[Watchpoint, MemoryAccess]] = []
        self._messages: list[str] = []
        self._deadline: float | None = None
        self._active = False    # inside a resume: watched accesses stop the program
        table.watch_listener = self._on_watch_access
        session.events.subscribe("program-reloaded", self._on_reloaded)

    @property
    def machine(self) -> Machine:
        return self.session.machine

    # ------------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        return self.session.program is not None and self.session.state != ProgramState.EXITED

    def require_running(self) -> None:
        if not self.running:
            raise ArmdbgError("The program is not being run.")

    def _on_reloaded(self, **_payload: object) -> None:
        self.skip_pc = self.machine.pc
        self.stop_points = []
        self._drop_pending_watch()

    # ------------------------------------------------------------------ commands

    def restart(self) -> None:
        """gdb's ``run`` up to the first instruction: a fresh image, counts at zero."""
        self.session.reload()
        self.table.clear_hit_counts()
        self.skip_pc = None  # a breakpoint at the entry point is hit, as in gdb

    def kill(self) -> None:
        self.require_running()
        self.session.reload()
        self.session.state = ProgramState.EXITED
        self.skip_pc = None

    def cont(self) -> Stop:
        return self._resume(self._continue)

    def stepi(self, count: int = 1) -> Stop:
        return self._resume(lambda: self._instructions(count, over_calls=False))

    def nexti(self, count: int = 1) -> Stop:
        return self._resume(lambda: self._instructions(count, over_calls=True))

    def step_range(self, start: int, end: int) -> Stop:
        """Step, over calls, while PC stays in [start, end) (gdb's stepping range)."""
        return self._resume(lambda: self._range(start, end))

    def finish(self, caller: CallerFrame) -> Stop:
        return self._resume(lambda: self._run_to_caller(caller))

    def advance(self, address: int, thumb: bool, *, same_frame: bool) -> Stop:
        """``advance`` (anywhere) and ``until LOCATION`` (this frame only): run until
        the location or until the current function returns."""
        self.require_running()
        caller = self.caller_frame()
        holds = None
        if same_frame:
            cfa = self.frame_cfa()
            if cfa is not None:
                def holds() -> bool:
                    here = self.frame_cfa()
                    return here is None or here == cfa
        stop = self.table.add_momentary(address, thumb, holds)
        try:
            if caller is None:
                return self._resume(self._continue)
            return self._resume(lambda: self._run_to_caller(caller))
        finally:
            self.table.remove_momentary(stop)

    def jump(self, address: int, thumb: bool) -> Stop:
        self.require_running()
        self.machine.set_pc(address, thumb)
        return self._resume(self._continue)

    def ignore_last_stop(self, count: int) -> list[Stoppoint]:
        """``continue N``: ignore the breakpoints that caused the last stop N-1 times."""
        points = [p for p in self.stop_points if p.number in self.table.points]
        for point in points:
            point.ignore_count = count
        return points

    # ------------------------------------------------------------------ frames

    def function_at_pc(self) -> Symbol | None:
        return frames.function_at(self.session, self.machine.pc)

    def function_range(self, symbol: Symbol) -> tuple[int, int]:
        return frames.function_extent(self.session, symbol)

    def caller_frame(self) -> CallerFrame | None:
        """Where the current function returns, or None in the outermost frame (the entry
        function, or main unless ``set backtrace past-main on``), as ``backtrace`` sees it."""
        found, _why = frames.unwind(self.session, limit=1)
        if len(found) < 2:
            return None
        cfa = self.frame_cfa()
        if cfa is None:
            return None
        return CallerFrame(found[1].pc, cfa)

    def frame_cfa(self) -> int | None:
        """SP at the current function's entry (gdb's canonical frame address)."""
        machine = self.machine
        symbol = self.function_at_pc()
        try:
            caller = frames.unwind_one(self.session, 0, machine.registers(), symbol)
        except frames.UnwindStop:
            return None
        return int(caller["sp"])

    # ------------------------------------------------------------------ the resume loop

    def _resume(self, body: Callable[[], Stop]) -> Stop:
        self.require_running()
        failures = self.table.insertion_failures()
        if failures:
            lines = ["Warning:"]
            for bp, error in failures:
                lines += [f"Cannot insert breakpoint {bp.number}.", error]
            raise ArmdbgError("\n".join([*lines, "", "Command aborted."]))
        self.table.refresh_watch_values()
        self._messages = []
        timeout = self.session.settings["run-timeout"]
        self._deadline = time.monotonic() + timeout if timeout else None
        self._active = True
        try:
            stop = body()
        finally:
            self._active = False
            self._drop_pending_watch()
        return self._stopped(stop)

    def _stopped(self, stop: Stop) -> Stop:
        session = self.session
        stop.messages = self._messages + stop.messages
        self._messages = []
        if stop.reason is StopReason.EXITED:
            session.state = ProgramState.EXITED
            session.exit_code = stop.event.exit_code
            code = stop.event.exit_code or 0
            session.convenience["_exitcode"] = expr.Value.of(expr.INT, code)
            self.skip_pc = None
            self.stop_points = []
            return stop
        session.state = ProgramState.STOPPED
        self.skip_pc = self.machine.pc
        self.stop_points = stop.points
        if stop.breakpoints:
            number = stop.breakpoints[0].number
            session.convenience["_hit_bpnum"] = expr.Value.of(expr.INT, number)
        for point in stop.points:
            if point.temporary:
                self.table.delete(point)
        return stop

    def _remaining(self) -> float | None:
        if self._deadline is None:
            return None
        return max(self._deadline - time.monotonic(), 1e-6)

    def _timed_out(self) -> Stop | None:
        if self._deadline is not None and time.monotonic() >= self._deadline:
            machine = self.machine
            return Stop(StopEvent(StopReason.TIMEOUT, machine.pc, machine.thumb,
                                  signal="SIGALRM", description="Time limit reached."))
        return None

    def _continue(self, until: int | None = None,
                  until_holds: Callable[[], bool] | None = None) -> Stop:
        """Run until something stops the program; ``until`` is an address where it
        stops when ``until_holds`` (the frame check of finish and step-over)."""
        machine = self.machine
        while True:
            stop = self._arrive()
            if stop is not None:
                return stop
            pc = machine.pc
            site = self.table.sites.get(pc)
            if (site is not None and site.inserted) or pc == until:
                stop = self._step()
            else:
                stop = self._after(machine.run(until=until, timeout=self._remaining()))
            if stop is not None:
                return stop
            if until is not None and machine.pc == until and \
                    (until_holds is None or until_holds()):
                # gdb reports a breakpoint sitting where finish (or a step over a call)
                # ends as hit.
                return self._arrive() or Stop(StopEvent(StopReason.UNTIL, machine.pc,
                                                        machine.thumb))
            stop = self._timed_out()
            if stop is not None:
                return stop

    def _run_to_caller(self, caller: CallerFrame) -> Stop:
        machine = self.machine
        return self._continue(caller.pc, lambda: machine.read_register("sp") >= caller.cfa)

    def _instructions(self, count: int, *, over_calls: bool) -> Stop:
        machine = self.machine
        for _ in range(count):
            stop = self._one_instruction(over_calls)
            if stop is not None:
                return stop
        return self._arrive() or Stop(StopEvent(StopReason.STEP, machine.pc, machine.thumb))

    def _range(self, start: int, end: int) -> Stop:
        machine = self.machine
        while True:
            stop = self._one_instruction(over_calls=True)
            if stop is not None:
                return stop
            if not start <= machine.pc < end:
                return self._arrive() or Stop(StopEvent(StopReason.STEP, machine.pc,
                                                        machine.thumb))
            stop = self._timed_out()
            if stop is not None:
                return stop

    def _one_instruction(self, over_calls: bool) -> Stop | None:
        """Execute the instruction at PC (a whole call for ``over_calls``): None when it
        went through without a reason to stop."""
        machine = self.machine
        stop = self._arrive()
        if stop is not None:
            return stop
        insn = machine.instruction_at(machine.pc)
        if over_calls and is_call(insn) and slot_executes(machine):
            sp = machine.read_register("sp")
            returned = self._continue(machine.pc + insn.size,
                                      lambda: machine.read_register("sp") >= sp)
            return None if returned.reason is StopReason.UNTIL else returned
        return self._step()

    def _arrive(self) -> Stop | None:
        """Give the breakpoints at PC their say, once, when execution arrived here
        without running into their trap (a step, a jump, the start of ``run``)."""
        machine = self.machine
        pc = machine.pc
        if pc == self.skip_pc:
            return None
        self.skip_pc = pc
        site = self.table.sites.get(pc)
        if site is None or not site.inserted or not slot_executes(machine):
            return None
        return self._site_hit(site)

    def _step(self) -> Stop | None:
        """One instruction, stepping over our trap at PC; other trap clients (kprobes)
        at the same address still see the hit."""
        machine = self.machine
        site = self.table.sites.get(machine.pc)
        lifted = site is not None and site.inserted
        if lifted:
            assert site is not None
            self.table.lift(site)
        try:
            event = machine.step()
        finally:
            if lifted:
                assert site is not None
                self.table.restore(site)
        return self._after(event)

    def _after(self, event: StopEvent) -> Stop | None:
        """Classify what the machine returned: None means "no reason to stop"."""
        if self._watch is not None:
            return self._complete_watch(event)
        reason = event.reason
        if reason is StopReason.BREAKPOINT and isinstance(event.trap_owner, BreakpointSite):
            self.skip_pc = event.pc
            return self._site_hit(event.trap_owner)
        if reason in (StopReason.STEP, StopReason.UNTIL):
            return None
        return Stop(event)

    def _site_hit(self, site: BreakpointSite) -> Stop | None:
        machine = self.machine
        stopping = []
        for bp in sorted(site.breakpoints, key=lambda b: b.number):
            if not bp.enabled:
                continue
            holds, message = self.table.condition_holds(bp)
            if message is not None:
                self._messages.append(message)
            if self.table.register_hit(bp, holds):
                stopping.append(bp)
        event = StopEvent(StopReason.BREAKPOINT, machine.pc, machine.thumb, trap_owner=site)
        if stopping:
            return Stop(event, breakpoints=stopping)
        if any(m.holds is None or m.holds() for m in list(site.momentary)):
            return Stop(StopEvent(StopReason.UNTIL, machine.pc, machine.thumb))
        return None

    # ------------------------------------------------------------------ watchpoints

    def _on_watch_access(self, wp: Watchpoint, access: MemoryAccess) -> None:
        """Inside the Unicorn hook: note the first watched access and stop."""
        machine = self.machine
        if self._completing:
            self._step_accesses.append((wp, access))
            return
        if self._watch is not None or not wp.enabled or not self._active:
            return  # (machine use outside a resume, by other commands, is not watched)
        pending = _PendingWatch(wp, access, machine.registers())

        def journal(m: Machine, write: MemoryAccess) -> None:
            pending.journal.append((write.address, m.read_memory(write.address, write.size)))

        pending.journal_hook = machine.add_memory_hook(0, 0, journal, writes=True)
        self._watch = pending
        machine.request_stop(StopEvent(StopReason.WATCHPOINT, access.pc,
                                       bool(access.cpsr & T_BIT), watch=wp))

    def _drop_pending_watch(self) -> None:
        pending, self._watch = self._watch, None
        if pending is not None and pending.journal_hook is not None:
            self.machine.remove_memory_hook(pending.journal_hook)

    def _complete_watch(self, event: StopEvent) -> Stop | None:
        pending = self._watch
        assert pending is not None
        self._drop_pending_watch()
        machine = self.machine
        access = pending.access
        if machine.pc != access.pc or pending.journal:
            # Unicorn ran past the access (an IT block): undo, newest write first.
            for address, old in reversed(pending.journal):
                machine.write_memory(address, old)
            for name in _SAVED:
                machine.write_register(name, pending.registers[name])
            machine.cpsr = access.cpsr
            machine.set_pc(access.pc, bool(access.cpsr & T_BIT))
        self._completing = True
        self._step_accesses = []
        try:
            done = machine.raw_step()
        finally:
            self._completing = False
        if done.reason is not StopReason.STEP:
            return Stop(done)
        accesses = [(pending.watchpoint, access), *self._step_accesses]
        triggers = self._watch_triggers(accesses)
        if not triggers:
            return None
        # The next instruction's breakpoints: arriving there after the access is a hit
        # too, reported with the watchpoints (else resuming would step over them).
        hit = self._arrive()
        return Stop(StopEvent(StopReason.WATCHPOINT, machine.pc, machine.thumb,
                              watch=[t.watchpoint for t in triggers]), triggers=triggers,
                    breakpoints=hit.breakpoints if hit is not None else [])

    def _watch_triggers(self, accesses: list[tuple[Watchpoint, MemoryAccess]],
                        ) -> list[WatchTrigger]:
        touched: dict[int, list[MemoryAccess]] = {}
        points: dict[int, Watchpoint] = {}
        for wp, access in accesses:
            touched.setdefault(wp.number, []).append(access)
            points[wp.number] = wp
        triggers = []
        for number in sorted(touched):
            wp = points[number]
            if not wp.enabled or number not in self.table.points:
                continue
            try:
                new = wp.read_value(self.session)
            except MemoryAccessError:
                continue
            old = wp.old_value
            wp.old_value = new
            changed = old is None or old.value != new.value
            read = any(not a.write for a in touched[number])
            if wp.kind == WATCH_WRITE and not changed:
                continue  # gdb: a write watchpoint reports changes only
            if wp.kind == WATCH_READ and not read:
                continue
            holds, message = self.table.condition_holds(wp)
            if message is not None:
                self._messages.append(message)
            if not self.table.register_hit(wp, holds):
                continue
            shown_old = old if changed and wp.kind != WATCH_READ else None
            triggers.append(WatchTrigger(wp, shown_old, new))
        return triggers
