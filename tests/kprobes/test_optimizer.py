"""Optprobes: every transition of the optimizer, on the demo image, on a virtual clock."""

from __future__ import annotations

import io
import struct

import pytest

from armdbg.app import App
from armdbg.kprobes import opt_arm
from armdbg.kprobes.arch_arm import arm_breakpoint
from armdbg.kprobes.core import Kprobe, KprobeError
from armdbg.machine.stops import StopReason

DEMO_RESULT = None  # filled by the unprobed run below


def make_app() -> App:
    app = App(stdout=io.StringIO(), stderr=io.StringIO())
    console: list[bytes] = []
    app.session.events.subscribe("console-output", lambda data: console.append(data))
    app.session.extensions["test-console"] = console
    app.load_initial(None)
    assert app.session.machine.clock.virtual  # scripts and tests: deterministic clock
    return app


def run_to_exit(app: App) -> None:
    machine = app.session.machine
    while True:
        stop = machine.run(timeout=30)
        if stop.reason is StopReason.EXITED:
            return
        assert stop.reason is StopReason.STEP, stop  # nothing else may stop the demo


def demo_outcome(app: App) -> tuple[int, int, str]:
    machine = app.session.machine
    console = b"".join(app.session.extensions["test-console"]).decode()
    return machine.read_u32(0x80200000), machine.read_u32(0x80200004), console


@pytest.fixture(scope="module")
def unprobed() -> tuple[int, int, str]:
    app = make_app()
    run_to_exit(app)
    return demo_outcome(app)


def system(app: App):  # type: ignore[no-untyped-def]
    return app.session.extensions["kprobes"]


def word_at(app: App, address: int) -> int:
    return app.session.machine.read_u32(address)


def address_of(app: App, name: str) -> int:
    symbol = app.session.symbols.lookup(name)
    assert symbol is not None
    return symbol.address


def counting_probe(app: App, where: str, **kwargs: object) -> tuple[Kprobe, list[int]]:
    seen: list[int] = []
    probe = Kprobe(symbol_name=where, pre_handler=lambda p, regs: seen.append(regs.ARM_r0),
                   **kwargs)  # type: ignore[arg-type]
    system(app).kprobes.register(probe)
    return probe, seen


def test_registration_queues_then_the_optimizer_writes_the_branch() -> None:
    app = make_app()
    probe, _ = counting_probe(app, "do_something")
    address = probe.addr
    original = app.session.symbols.lookup("do_something")
    assert original is not None
    breakpoint_word = word_at(app, address)
    assert breakpoint_word & 0x0FFFFFFF == 0x07F001F8  # armed: the real breakpoint word
    optimizer = system(app).optimizer
    site = system(app).kprobes.sites[address]
    assert optimizer.state(site).queued == "optimize"
    optimizer.wait()
    branch = word_at(app, address)
    trampoline = optimizer.state(site).trampoline
    assert branch == opt_arm.with_condition(opt_arm.arm_gen_branch(address, trampoline.address),
                                            breakpoint_word)
    # The trampoline in memory is the kernel template, patched as opt-arm.c patches it.
    words = struct.unpack("<24I", app.session.machine.read_memory(trampoline.address, 96))
    assert words[opt_arm.TMPL_SUB_SP] == 0xE24DD000 | (72 + 8)  # push {r4, lr}: 8 bytes
    assert words[opt_arm.TMPL_RESTORE_BEGIN] == opt_arm.LDMIA_SP_R0_R14  # direct execution
    assert words[opt_arm.TMPL_RESTORE_ORIG_INSN] == 0xE92D4010  # push {r4, lr}
    assert words[opt_arm.TMPL_VAL] == optimizer.state(site).op
    assert words[opt_arm.TMPL_CALL] == optimizer.callback_stub


def test_optimizer_fires_in_the_middle_of_a_run(unprobed: tuple[int, int, str]) -> None:
    app = make_app()
    optimizer = system(app).optimizer
    optimizer.hz, optimizer.delay = 10_000, 1  # 100 us: 100 breakpoint hits of 1 us
    probe, seen = counting_probe(app, "do_something")
    run_to_exit(app)
    assert demo_outcome(app) == unprobed
    assert probe.nhit == 1000 and len(seen) == 1000
    assert probe.nhit_bp == 100 and probe.nhit_jump == 900
    # Both paths saw the same argument sequence: 1000 down to 1.
    assert seen == list(range(1000, 0, -1))
    assert [text for _, text in probe.history][-1].startswith("optimized")


def test_handlers_see_the_same_registers_on_both_paths() -> None:
    views = {}
    for path in ("bp", "jump"):
        app = make_app()
        regs_seen: list[dict[str, int]] = []

        def record(p: Kprobe, regs: object, regs_seen: list[dict[str, int]] = regs_seen) -> None:
            regs_seen.append({f"r{i}": getattr(regs, f"ARM_r{i}") for i in range(11)}
                             | {"fp": regs.ARM_fp, "ip": regs.ARM_ip, "sp": regs.ARM_sp,
                                "lr": regs.ARM_lr, "pc": regs.ARM_pc, "cpsr": regs.ARM_cpsr,
                                "orig": regs.ARM_ORIG_r0})

        system(app).kprobes.register(Kprobe(symbol_name="do_something", pre_handler=record))
        if path == "jump":
            system(app).optimizer.wait()
        else:
            system(app).optimizer.enabled = False
            system(app).kprobes.refresh(address_of(app, "do_something"))
        run_to_exit(app)
        views[path] = regs_seen
    assert len(views["bp"]) == 1000
    assert views["bp"] == views["jump"]
    assert views["bp"][0]["pc"] == 0x80008030 and views["bp"][0]["orig"] == 0xFFFFFFFF


def test_unoptimizing_window_and_revival(unprobed: tuple[int, int, str]) -> None:
    app = make_app()
    optimizer = system(app).optimizer
    probe, seen = counting_probe(app, "do_something")
    address = probe.addr
    optimizer.wait()
    branch = word_at(app, address)
    system(app).kprobes.unregister(probe)
    # The window: the jump stays, hits run only the original instruction, no handler.
    assert word_at(app, address) == branch
    site = system(app).kprobes.sites[address]
    assert optimizer.state(site).queued == "unoptimize"
    # Registering again at the address in the window revives the aggregate.
    again, seen_again = counting_probe(app, "do_something")
    assert optimizer.state(site).queued is None and optimizer.is_jumping(site)
    assert word_at(app, address) == branch
    system(app).kprobes.unregister(again)
    run_to_exit(app)  # the whole run happens inside the window
    assert demo_outcome(app) == unprobed
    assert seen == [] and seen_again == []
    optimizer.wait()
    # The optimizer wrote the breakpoint back, then disarmed: the original is back.
    assert word_at(app, address) == 0xE92D4010
    assert address not in system(app).kprobes.sites
    assert optimizer.states.get(address) is None  # the slot went back to the cache


def test_post_handler_forces_unoptimization() -> None:
    app = make_app()
    probe, _ = counting_probe(app, "do_something")
    optimizer = system(app).optimizer
    optimizer.wait()
    site = system(app).kprobes.sites[probe.addr]
    assert optimizer.is_jumping(site)
    system(app).kprobes.register(Kprobe(symbol_name="do_something",
                                        post_handler=lambda p, regs, flags: None))
    # Forced: no waiting for the optimizer, the breakpoint is back at once.
    assert not optimizer.is_jumping(site)
    assert word_at(app, probe.addr) & 0x0FFFFFFF == 0x07F001F8
    assert "post_handler" in (optimizer.blocker(site) or "")


def test_global_switch_unoptimizes_and_reoptimizes() -> None:
    app = make_app()
    probe, _ = counting_probe(app, "do_something")
    optimizer = system(app).optimizer
    optimizer.wait()
    app.run_line("kprobes optimization off")
    site = system(app).kprobes.sites[probe.addr]
    assert not optimizer.is_jumping(site)
    assert word_at(app, probe.addr) & 0x0FFFFFFF == 0x07F001F8
    app.run_line("kprobes optimization on")
    assert optimizer.state(site).queued == "optimize"
    app.run_line("kprobes wait-optimizer")
    assert optimizer.is_jumping(site)
    out = app.stdout.getvalue()
    assert "Kprobes globally unoptimized" in out and "Kprobes globally optimized" in out


def test_disable_then_enable_an_optimized_probe() -> None:
    app = make_app()
    probe, _ = counting_probe(app, "do_something")
    kprobes, optimizer = system(app).kprobes, system(app).optimizer
    optimizer.wait()
    kprobes.disable(probe)
    site = kprobes.sites[probe.addr]
    assert optimizer.state(site).queued == "unoptimize" and optimizer.is_jumping(site)
    optimizer.wait()
    assert word_at(app, probe.addr) == 0xE92D4010  # disarmed: the original instruction
    kprobes.enable(probe)
    assert word_at(app, probe.addr) & 0x0FFFFFFF == 0x07F001F8
    assert optimizer.state(site).queued == "optimize"


def test_disarming_everything_forces_unoptimization() -> None:
    app = make_app()
    probe, _ = counting_probe(app, "do_something")
    system(app).optimizer.wait()
    app.run_line("kprobes disable")
    assert word_at(app, probe.addr) == 0xE92D4010
    app.run_line("kprobes enable")
    assert word_at(app, probe.addr) & 0x0FFFFFFF == 0x07F001F8


def test_reasons_for_not_optimizing() -> None:
    app = make_app()
    kprobes, optimizer = system(app).kprobes, system(app).optimizer
    thumb = kprobes.register(Kprobe(symbol_name="thumb_clamp"))
    far = kprobes.register(Kprobe(symbol_name="far_function"))
    post = kprobes.register(Kprobe(symbol_name="cond_first",
                                   post_handler=lambda p, r, f: None))
    stop = kprobes.register(Kprobe(symbol_name="print", needs_breakpoint=True))
    optimizer.wait()
    reasons = {p.name: optimizer.blocker(kprobes.sites[p.addr]) for p in (thumb, far, post, stop)}
    assert "Thumb state" in reasons[thumb.name]
    assert "out of branch range (ERANGE)" in reasons[far.name]
    assert "post_handler" in reasons[post.name]
    assert "--stop" in reasons[stop.name]
    assert not any(optimizer.is_jumping(kprobes.sites[p.addr]) for p in (thumb, far, post, stop))
    app.run_line("kprobe why p_far_function_0")
    assert "a B reaches -32 MiB to +32 MiB - 4" in app.stdout.getvalue()


def test_conditional_probe_keeps_its_condition(unprobed: tuple[int, int, str]) -> None:
    app = make_app()
    probe, seen = counting_probe(app, "cond_first")  # addgt r0, r0, #100
    system(app).optimizer.wait()
    branch = word_at(app, probe.addr)
    assert branch >> 28 == 0xC  # gt, copied from the instruction into breakpoint and branch
    run_to_exit(app)
    assert demo_outcome(app) == unprobed
    assert seen == [5]  # main calls it once, with flags from `cmp r4, #0` (gt)


def test_instruction_using_pc_is_single_stepped_in_the_callback(
        unprobed: tuple[int, int, str]) -> None:
    app = make_app()
    main = address_of(app, "main")
    probe = system(app).kprobes.register(Kprobe(addr=main + 4))  # add r0, pc, #0x80 (adr)
    site = system(app).kprobes.sites[main + 4]
    system(app).optimizer.wait()
    trampoline = system(app).optimizer.state(site).trampoline
    assert not trampoline.direct_exec
    assert trampoline.words[opt_arm.TMPL_RESTORE_BEGIN] == 0xE89DFFFF  # ldmia {r0-r15}
    run_to_exit(app)
    assert demo_outcome(app) == unprobed
    assert probe.nhit_jump == 1


def test_breakpoint_word_conditions() -> None:
    assert arm_breakpoint(0xC0800064) == 0xC7F001F8   # addgt -> gt breakpoint
    assert arm_breakpoint(0xE92D4010) == 0xE7F001F8   # AL
    assert arm_breakpoint(0xFA000000) == 0xE7F001F8   # unconditional space -> AL


class TestBranchRange:
    """A B at P reaches [P + 8 - 32 MiB, P + 8 + 32 MiB - 4]; opt-arm.c's rel_chk is off
    by 16 bytes at both ends (it adds 8 where it should subtract)."""

    P = 0x80008000

    def test_edges_exactly(self) -> None:
        assert opt_arm.in_branch_range(self.P, self.P + 8 + 0x01FFFFFC)
        assert not opt_arm.in_branch_range(self.P, self.P + 8 + 0x02000000)
        assert opt_arm.in_branch_range(self.P, self.P + 8 - 0x02000000)
        assert not opt_arm.in_branch_range(self.P, self.P + 8 - 0x02000004)

    def test_kernel_check_is_off_by_sixteen(self) -> None:
        forward_edge = self.P + 8 + 0x01FFFFFC
        assert not opt_arm.kernel_rel_chk_ok(self.P, forward_edge)  # kernel refuses a valid one
        assert opt_arm.kernel_rel_chk_ok(self.P, forward_edge - 16)
        backward_beyond = self.P + 8 - 0x02000000 - 16
        assert opt_arm.kernel_rel_chk_ok(self.P, backward_beyond)  # kernel accepts too far
        assert not opt_arm.in_branch_range(self.P, backward_beyond)

    def test_encoded_branches_land_on_target(self) -> None:
        for target in (self.P + 8 + 0x01FFFFFC, self.P + 8 - 0x02000000, self.P + 8, self.P):
            insn = opt_arm.arm_gen_branch(self.P, target)
            imm = insn & 0x00FFFFFF
            offset = (imm - (1 << 24) if imm & 0x800000 else imm) << 2
            assert self.P + 8 + offset == target
        assert opt_arm.arm_gen_branch(self.P, self.P + 8 + 0x02000000) == 0


@pytest.mark.parametrize("delta,ok", [(0x01FFFFFC, True), (0x02000000, False),
                                      (-0x02000000, True), (-0x02000004, False)])
def test_range_edges_on_the_machine(delta: int, ok: bool) -> None:
    """Place code so the first trampoline slot sits exactly at a range edge."""
    app = make_app()
    machine = app.session.machine
    optimizer = system(app).optimizer
    slot = optimizer.slots.get()
    optimizer.slots.put(slot)
    probe_at = slot - 8 - delta
    page = probe_at & ~0xFFF
    machine.map_region("edge", page, 0x2000, "rwx")
    machine.write_memory(probe_at, struct.pack("<I", 0xE2800001))  # add r0, r0, #1
    probe = system(app).kprobes.register(Kprobe(addr=probe_at))
    site = system(app).kprobes.sites[probe_at]
    optimizer.wait()
    assert optimizer.is_jumping(site) is ok
    if not ok:
        assert "ERANGE" in (optimizer.blocker(site) or "")
    # Either way the probe works: run the instruction through it.
    machine.write_memory(probe_at + 4, struct.pack("<I", 0xEAFFFFFE))  # b .
    machine.write_register("r0", 41)
    machine.set_pc(probe_at, False)
    stop = machine.run(until=probe_at + 4)
    assert stop.reason is StopReason.UNTIL and machine.read_register("r0") == 42
    assert probe.nhit == 1 and (probe.nhit_jump == 1) is ok


def test_rejected_probe_leaves_memory_alone() -> None:
    app = make_app()
    before = app.session.machine.read_memory(0x80008000, 0x200)
    with pytest.raises(KprobeError):
        system(app).kprobes.register(Kprobe(symbol_name="_start", offset=40))  # svc
    assert app.session.machine.read_memory(0x80008000, 0x200) == before


@pytest.mark.parametrize("path", ["breakpoint", "jump"])
def test_a_raising_handler_leaves_the_program_alone(path: str,
                                                    unprobed: tuple[int, int, str]) -> None:
    """A handler that writes registers and then raises: its writes are undone, the
    probe is marked faulted and not called again, and the program computes the same."""
    app = make_app()
    calls: list[int] = []

    def broken(probe: Kprobe, regs: object) -> None:
        calls.append(1)
        regs.ARM_r0 = 0xDEAD  # type: ignore[attr-defined]
        raise RuntimeError("boom")

    probe = system(app).kprobes.register(Kprobe(symbol_name="do_something", pre_handler=broken))
    if path == "jump":
        system(app).optimizer.wait()
    else:
        system(app).optimizer.enabled = False
        system(app).kprobes.refresh(probe.addr)
    run_to_exit(app)
    assert demo_outcome(app) == unprobed
    assert calls == [1] and probe.faulted == "RuntimeError: boom"
    assert probe.nhit == 1000


@pytest.mark.parametrize("source", [
    "ldmia sp!, {r4, pc}", "pop {r0-r8, pc}", "ldmib r1, {r2, r3, pc}", "ldmda r1!, {r2, pc}",
    "ldmdb r1!, {r4-r11, pc}", "ldm r1, {r0, pc}", "ldmia sp!, {r3-r11, pc}",
])
@pytest.mark.parametrize("thumb_target", [False, True])
def test_simulated_load_multiple_matches_the_emulator(source: str, thumb_target: bool) -> None:
    """The jump path's simulation of an LDM loading PC gives exactly what the CPU does."""
    from armdbg.isa.asm import assemble
    from armdbg.machine.machine import Machine

    machine = Machine()
    code = assemble(source, 0x80008000, False)
    machine.write_memory(0x80008000, code)
    target = 0x80009000 | int(thumb_target)
    words = [0x1000 + i for i in range(16)]
    machine.write_memory(0x80300000, b"".join(w.to_bytes(4, "little") for w in words))
    # Every slot an LDM of up to 16 registers could read holds the target, so whichever
    # word lands in PC is a valid address.
    for offset in range(-64, 68, 4):
        machine.write_u32(0x80300100 + offset, target)
    for name in ("r1", "sp"):
        machine.write_register(name, 0x80300100)
    machine.set_pc(0x80008000, False)
    before = {n: machine.read_register(n) for n in
              ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11",
               "r12", "sp", "lr", "pc", "cpsr")}
    simulated = opt_arm.simulate_load_multiple_pc(int.from_bytes(code, "little"), before,
                                                  machine.read_u32s)
    assert simulated is not None
    assert machine.step().reason is StopReason.STEP
    after = {n: machine.read_register(n) for n in before}
    assert simulated == after
