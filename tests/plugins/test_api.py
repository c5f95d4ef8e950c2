"""armdbg.api as plugins use it: probe handlers that change the program, events,
settings, context sections and the machine helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

import armdbg.api as api_module
from armdbg.api import PluginAPI

from .conftest import RESULT, Shell, write_plugin

CALLS = 0x80200000


def plugin_shell(tmp_path: Path, body: str, **kwargs: object) -> tuple[Shell, PluginAPI]:
    """A shell with a plugin "probe" whose register() runs ``body`` (api in scope)."""
    source = "state = {}\n\ndef register(api):\n    state['api'] = api\n" + "".join(
        f"    {line}\n" for line in body.strip().splitlines())
    write_plugin(tmp_path, "probe", source)
    shell = Shell(dirs=[tmp_path], user=False, **kwargs)  # type: ignore[arg-type]
    assert shell.startup == ""
    return shell, shell.plugins.loaded["probe"].api


def module_state(shell: Shell) -> dict:  # type: ignore[type-arg]
    return shell.plugins.loaded["probe"].module.state  # type: ignore[no-any-return,union-attr]


def test_the_api_surface_is_declared() -> None:
    for name in api_module.__all__:
        assert hasattr(api_module, name), name
    public = [n for n in dir(PluginAPI) if not n.startswith("_")]
    for name in public:
        member = getattr(PluginAPI, name)
        if callable(member) and name != "ArgParser":
            assert member.__doc__, f"PluginAPI.{name} has no docstring"
    assert set(api_module.EVENTS) == {"stop", "breakpoint-hit", "exit", "reload",
                                      "probe-hit", "probe-optimized", "probe-unoptimized",
                                      "svc", "memory-write"}


def test_no_probe_hit_event_without_subscribers() -> None:
    shell = Shell(user=False)
    assert not shell.session.events.has_subscribers("kprobe-hit")


def expected_result_with_r0(shell: Shell, value: int) -> int:
    """The demo's result word when every do_something(n) gets r0 = value instead."""
    unprobed = Shell(user=False)
    unprobed.run("run")
    real = sum(((3 * n) ^ 0x55) for n in range(1, 1001))
    changed = 1000 * ((3 * value) ^ 0x55)
    return (unprobed.result_word() - real + changed) & 0xFFFFFFFF


@pytest.mark.parametrize("optimized", [False, True], ids=["breakpoint", "jump"])
def test_a_pre_handler_changes_registers_and_memory(tmp_path: Path, optimized: bool) -> None:
    shell, _api = plugin_shell(tmp_path, """
seen = state.setdefault("seen", [])
def pre_handler(probe, regs):
    seen.append((regs.ARM_r0, api.read_register("r0"), api.read_register("pc")))
    regs.ARM_r0 = 1
    api.write_memory(0x80200000, (100).to_bytes(4, "little"))
    assert api.read_u32(0x80200000) == 100  # the handler sees its own staged write
    return 0
api.kprobe("do_something", pre_handler, name="set_r0")
""")
    if optimized:
        shell.run("tbreak *main+28")
        shell.run("run")
        shell.run("kprobes wait-optimizer")
        shell.run("continue")
    else:
        shell.run("run")
    probe = shell.session.extensions["kprobes"].kprobes.find("set_r0")
    assert probe.nhit_jump == (999 if optimized else 0)
    assert shell.result_word() == expected_result_with_r0(shell, 1)
    # Each hit wrote 100, then do_something incremented it: 101 at the end.
    assert int.from_bytes(shell.session.read_memory(CALLS, 4), "little") == 101
    seen = module_state(shell)["seen"]
    assert seen[0] == (1000, 1000, 0x80008030) and seen[-1] == (1, 1, 0x80008030)


def test_kretprobe_entry_data_and_return_value(tmp_path: Path) -> None:
    shell, _api = plugin_shell(tmp_path, """
log = state.setdefault("log", [])
def entry(instance, regs):
    instance.data["arg"] = regs.ARM_r0
    return 0
def ret(instance, regs):
    log.append((instance.data["arg"], regs.ARM_r0, api.symbolize(instance.ret_addr)))
    if instance.data["arg"] == 5:
        regs.ARM_r0 = 1000  # cond_first(5) returns 1000 instead of 105
api.kretprobe("cond_first", ret, entry, name="cf")
""")
    unprobed = Shell(user=False)
    unprobed.run("run")
    shell.run("run")
    assert module_state(shell)["log"] == [(5, 105, "main+52")]
    assert shell.result_word() == unprobed.result_word() - 105 + 1000


def test_events(tmp_path: Path) -> None:
    shell, _api = plugin_shell(tmp_path, """
log = state.setdefault("log", [])
api.on("stop", lambda event: log.append(("stop", event.reason.value)))
api.on("breakpoint-hit", lambda event: log.append(("breakpoint", hex(event.pc))))
api.on("exit", lambda code: log.append(("exit", code)))
api.on("probe-hit", lambda probe, path: log.append(("hit", probe.name, path)))
api.on("probe-optimized", lambda probe, tramp: log.append(("optimized", probe.name)))
api.on("probe-unoptimized", lambda probe: log.append(("unoptimized", probe.name)))
api.on("reload", lambda: log.append(("reload",)))
""")
    log = module_state(shell)["log"]
    shell.run("kprobe do_something --name plain")
    shell.run("break cond_first")
    shell.run("run")
    assert log[0] == ("reload",)
    assert log.count(("hit", "plain", "breakpoint")) == 1000
    assert log[-2:] == [("stop", "breakpoint"), ("breakpoint", "0x80008054")]
    shell.run("kprobes wait-optimizer")
    assert log[-1] == ("optimized", "plain")
    shell.run("kprobe disable plain")
    shell.run("kprobes wait-optimizer")
    assert log[-1] == ("unoptimized", "plain")
    shell.run("continue")
    assert log[-2:] == [("stop", "exited"), ("exit", 0)]


def test_probe_hit_on_the_jump_path(tmp_path: Path) -> None:
    shell, _api = plugin_shell(tmp_path, """
paths = state.setdefault("paths", [])
api.on("probe-hit", lambda probe, path: paths.append(path))
api.kprobe("do_something", lambda probe, regs: 0, name="counted")
""")
    shell.run("tbreak *main+28")
    shell.run("run")
    shell.run("kprobes wait-optimizer")
    shell.run("continue")
    paths = module_state(shell)["paths"]
    assert paths[0] == "breakpoint" and paths.count("jump") == 999


def test_memory_write_hook_and_svc_handler_exit(tmp_path: Path) -> None:
    shell, _api = plugin_shell(tmp_path, """
writes = state.setdefault("writes", [])
api.on_memory_write(0x80200004, 0x80200008, lambda *access: writes.append(access))
def svc(number, regs):
    if number != 0x123456:
        return False
    if regs.ARM_r0 == 0x20:  # SYS_EXIT_EXTENDED; everything else is ignored
        api.request_exit(42)
    return True
api.svc_handler(svc)
""")
    # Semihosting comes first: the plugin's handler only sees what it did not take.
    assert shell.run("run").endswith("[Inferior 1 (process 1) exited normally]\n")
    assert module_state(shell)["writes"] == [(RESULT, 4, shell.result_word(), 0x800080e8)]
    shell.session.machine.svc_handlers.remove(shell.session.semihosting.handle_svc)
    assert shell.run("run").endswith("[Inferior 1 (process 1) exited with code 052]\n")
    assert shell.session.exit_code == 42


def test_request_exit_outside_an_svc_handler(tmp_path: Path) -> None:
    _shell, api = plugin_shell(tmp_path, "pass")
    with pytest.raises(api_module.ArmdbgError, match="only inside an svc handler"):
        api.request_exit(1)


def test_settings_and_context_sections(tmp_path: Path) -> None:
    shell, _api = plugin_shell(tmp_path, """
mode = api.setting("probe mode", "enum", "fast", "Mode of the probe plugin",
                   choices=("fast", "slow"))
api.context_section("mode", lambda: [f"mode is {mode.value}"])
api.context_section("empty", lambda: [])
""", context=True)
    assert shell.run("show probe mode") == "Mode of the probe plugin is fast.\n"
    assert shell.run("set probe mode s") == ""
    assert shell.run("show probe mode") == "Mode of the probe plugin is slow.\n"
    assert shell.run("set probe mode x") == 'Undefined item: "x". Allowed: fast, slow.\n'
    text = shell.run("context")
    assert text.index("---[ stack ]") < text.index("---[ mode ]") < text.index("mode is slow")
    assert "[ empty ]" not in text
    shell.run("set context-sections mode regs")
    text = shell.run("context")
    assert text.startswith("---[ mode ]")
    assert "[ code" not in text and "---[ regs ]" in text
    assert shell.run("context mode").startswith("---[ mode ]")
    assert shell.run("context bogus") == ('Unknown context section "bogus".  Sections: regs, '
                                          'code, stack, mode, empty.\n')


def test_machine_helpers(tmp_path: Path) -> None:
    shell, api = plugin_shell(tmp_path, "pass")
    assert [s.name for s in api.functions("thumb_*")] == ["thumb_clamp", "thumb_itblocks"]
    symbol = api.symbol("do_something")
    assert symbol is not None and symbol.address == 0x80008030
    assert api.symbol_at(0x80008034) == symbol
    assert api.symbolize(0x80008034) == "do_something+4"
    assert api.symbol("nosuch") is None
    assert api.evaluate("do_something + 4") == 0x80008034
    assert [i.mnemonic for i in api.disassemble(0x80008152, 2)] == ["itete", "addeq"]
    assert api.disassemble(0x80008030)[0].text == "push\t{r4, lr}"
    api.write_register("r5", 0x1234)
    assert api.read_register("r5") == 0x1234
    api.write_memory(CALLS, b"\x01\x02\x03\x04")
    assert api.read_memory(CALLS, 4) == b"\x01\x02\x03\x04"
    with pytest.raises(api_module.ArmdbgError, match="Cannot access memory at address 0x0"):
        api.read_memory(0, 4)
    with pytest.raises(api_module.ArmdbgError, match="Invalid register"):
        api.read_register("r99")
    api.print("printed", end="!\n")
    assert shell.take() == "printed!\n"


def test_probe_status_and_unregister(tmp_path: Path) -> None:
    shell, api = plugin_shell(tmp_path, "pass")
    probe = api.kprobe("do_something")
    status = api.probe_status(probe)
    assert not status.optimized and status.queued == "optimize"
    assert status.breakpoint_instructions == 2 and status.jump_instructions == 24
    shell.run("kprobes wait-optimizer")
    assert api.probe_status(probe).optimized
    thumb = api.kprobe("thumb_clamp")
    assert api.probe_status(thumb).jump_instructions is None
    assert api.probe(probe.id) is probe and api.probe(thumb.name) is thumb
    api.unregister(thumb)
    with pytest.raises(api_module.ArmdbgError, match="did not register"):
        api.unregister(thumb)
    rp = api.kretprobe("cond_first")
    api.unregister(rp)
    assert [p.name for p in shell.session.extensions["kprobes"].kprobes.probes] == \
        [probe.name]


def test_registration_errors_are_armdbg_errors(tmp_path: Path) -> None:
    _shell, api = plugin_shell(tmp_path, "pass")
    with pytest.raises(api_module.ArmdbgError, match="EINVAL"):
        api.kprobe("do_something+2")
    with pytest.raises(api_module.ArmdbgError, match='Function "nosuch" not defined'):
        api.kprobe("nosuch")
    with pytest.raises(ValueError, match="declared twice"):
        api.command("run")(lambda ctx, args: None)
    with pytest.raises(ValueError, match="unknown event"):
        api.on("nosuch", print)
    with pytest.raises(TypeError, match="needs a range"):
        api.on("memory-write", print)


def test_an_unloaded_api_refuses_work(tmp_path: Path) -> None:
    shell, api = plugin_shell(tmp_path, "pass")
    shell.run("plugin unload probe")
    with pytest.raises(api_module.ArmdbgError, match="plugin probe is unloaded"):
        api.kprobe("do_something")
