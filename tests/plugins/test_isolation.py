"""A plugin's bugs stay its own: one line naming the plugin and the error, the plugin
disabled, the session and the machine going on, the probed program unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from armdbg.kprobes.core import Kprobe
from armdbg.kprobes.regs import PtRegs
from armdbg.ui.completer import CommandCompleter, completion_texts

from .conftest import BROKEN, FIXTURES, Shell, write_plugin

DEMO_OUTPUT = ("armdbg demo: calling do_something 1000 times\n"
               "armdbg demo: done\n"
               "[Inferior 1 (process 1) exited normally]\n")


@pytest.fixture(scope="module")
def unprobed_result() -> int:
    shell = Shell(user=False)
    assert shell.run("run") == DEMO_OUTPUT
    return shell.result_word()


def plugin_states(shell: Shell) -> dict[str, tuple[str, ...]]:
    """``plugin list`` rows: name -> (state, source, description)."""
    rows = {}
    for line in shell.run("plugin list").splitlines()[1:]:
        if not line.startswith(" "):
            name, *rest = re.split(r"  +", line)
            rows[name] = tuple(rest)
    return rows


def broken_shell(**kwargs: object) -> Shell:
    return Shell(dirs=[BROKEN], user=False, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- loading


def test_load_failures_are_one_line_each_and_leave_nothing() -> None:
    shell = broken_shell()
    assert shell.startup.splitlines() == [
        "[plugin bad_import] error in import: ModuleNotFoundError: No module named "
        "'armdbg_no_such_module'; not loaded",
        "[plugin bad_register] error in register(): ValueError: boom in register; not loaded",
        "[plugin no_register] cannot be loaded: it defines no register(api) function",
    ]
    assert "Undefined command" in shell.run("bad-register-cmd")
    assert shell.run("show bad-register value").startswith("Undefined show command")
    assert shell.session.extensions["kprobes"].kprobes.probes == []
    assert "bad_register" not in shell.plugins.loaded
    states = plugin_states(shell)
    assert states["bad_import"] == ("failed", "plugin-dir",
                                    "Fails to import: a module that does not exist.")
    assert states["broken_help"][0] == "loaded"
    # The session works: the demo runs as ever.
    assert shell.run("run") == DEMO_OUTPUT


def test_syntax_error_names_the_file(tmp_path: Path) -> None:
    write_plugin(tmp_path, "typo", "def register(api)\n    pass\n")
    shell = Shell(dirs=[tmp_path], user=False)
    assert shell.startup == ("[plugin typo] error in import: SyntaxError: expected ':' "
                             "(typo.py, line 1); not loaded\n")


def test_exit_at_import_is_contained(tmp_path: Path) -> None:
    write_plugin(tmp_path, "quitter", "import sys\nsys.exit(3)\n")
    shell = Shell(dirs=[tmp_path], user=False)
    assert shell.startup == "[plugin quitter] error in import: SystemExit: 3; not loaded\n"


# --------------------------------------------------------------------------- commands


def test_command_bug_disables_the_plugin_until_reload() -> None:
    shell = broken_shell()
    shell.run("plugin load faulty_command")
    # A UsageError is the user's mistake, reported like any command's.
    assert shell.run("faulty-usage") == "Usage: faulty-usage N\n"
    assert shell.run("faulty-usage 4") == "faulty-usage got 4\n"
    assert shell.run("faulty-divide") == (
        "[plugin faulty_command] error in command faulty-divide: ZeroDivisionError: integer "
        "division or modulo by zero; its handlers are disabled\n")
    assert shell.run("faulty-usage 4") == (
        "[plugin faulty_command] is disabled after an error (command faulty-divide: "
        "ZeroDivisionError: integer division or modulo by zero); \"plugin reload "
        "faulty_command\" loads it again\n")
    assert plugin_states(shell)["faulty_command"][0] == "faulted"
    assert shell.run("plugin reload faulty_command") == \
        "Plugin faulty_command reloaded (plugin-dir).\n"
    assert shell.run("faulty-usage 5") == "faulty-usage got 5\n"


# --------------------------------------------------------------------------- handlers


@pytest.mark.parametrize("optimized", [False, True], ids=["breakpoint", "jump"])
def test_faulting_kprobe_handler_leaves_the_program_unchanged(
        optimized: bool, unprobed_result: int) -> None:
    shell = broken_shell()
    shell.run("plugin load faulty_probe")
    output = ""
    if optimized:
        # Stop after the first call, then optimize: the fault happens on the jump path.
        shell.run("tbreak *main+28")
        output = shell.run("run").replace("\nTemporary breakpoint 1, 0x8000808c in main ()\n",
                                          "")
        shell.run("kprobes wait-optimizer")
        assert "optimized" in shell.run("kprobe why faulty_probe")
        output += shell.run("continue")
    else:
        output = shell.run("run")
    error = ("[plugin faulty_probe] error in handler pre_handler: RuntimeError: third hit; "
             "its handlers are disabled\n")
    assert output.replace(error, "") == DEMO_OUTPUT
    assert output.count(error) == 1
    assert shell.result_word() == unprobed_result
    module = shell.plugins.loaded["faulty_probe"].module
    assert module.calls["hits"] == 3  # later hits did not call it
    probe = shell.session.extensions["kprobes"].kprobes.find("faulty_probe")
    assert probe.nhit == 1000
    assert probe.nhit_jump == (999 if optimized else 0)
    assert "handler-faulted" in shell.run("info kprobes")
    assert plugin_states(shell)["faulty_probe"][0] == "faulted"
    # A second run: still disabled, still the same program.
    assert shell.run("run") == DEMO_OUTPUT
    assert module.calls["hits"] == 3


def test_faulting_kretprobe_handler_leaves_the_return_value(unprobed_result: int) -> None:
    shell = broken_shell()
    shell.run("plugin load faulty_retprobe")
    output = shell.run("run")
    assert output.replace(
        "[plugin faulty_retprobe] error in handler ret_handler: KeyError: 'second return'; "
        "its handlers are disabled\n", "") == DEMO_OUTPUT
    assert shell.result_word() == unprobed_result
    module = shell.plugins.loaded["faulty_retprobe"].module
    assert module.calls["returns"] == 2
    # Disabled: the entry probe no longer diverts returns through the trampoline.
    rp = shell.session.extensions["kprobes"].kretprobes.retprobes[0]
    assert rp.kp.faulted == "plugin faulty_retprobe is disabled"


ONE_HANDLER = '''
from armdbg.api import PluginAPI

seen = []


def register(api: PluginAPI) -> None:
    def handler(*args):
        seen.append(args)
        {body}

    {install}
'''


def one_handler(tmp_path: Path, install: str, body: str = "raise RuntimeError('bug')",
                **kwargs: object) -> Shell:
    write_plugin(tmp_path, "one", ONE_HANDLER.format(install=install, body=body))
    return Shell(dirs=[tmp_path], user=False, **kwargs)  # type: ignore[arg-type]


def test_faulting_stop_handler(tmp_path: Path) -> None:
    shell = one_handler(tmp_path, 'api.on("stop", handler)')
    shell.run("break do_something")
    output = shell.run("run")
    assert output.endswith("Breakpoint 1, 0x80008030 in do_something ()\n"
                           "[plugin one] error in stop handler handler: RuntimeError: bug; "
                           "its handlers are disabled\n")
    assert "[plugin one]" not in shell.run("continue")
    assert len(shell.plugins.loaded["one"].module.seen) == 1


def test_faulting_svc_handler(tmp_path: Path) -> None:
    plain = Shell(file=FIXTURES / "linux_hello-arm.elf", user=False)
    expected = plain.run("run")
    shell = one_handler(tmp_path, "api.svc_handler(handler)",
                        body="args[1].ARM_r0 = 0xBAD\n        raise RuntimeError('svc bug')",
                        file=FIXTURES / "linux_hello-arm.elf")
    output = shell.run("run")
    assert output == ("[plugin one] error in svc handler handler: RuntimeError: svc bug; "
                      "its handlers are disabled\n" + expected)
    assert "Unhandled SVC 0x0." in output
    assert shell.session.machine.read_register("r0") == 1  # write(1, ...) untouched


def test_faulting_memory_write_handler(tmp_path: Path, unprobed_result: int) -> None:
    shell = one_handler(tmp_path, "api.on_memory_write(0x80200000, 0x80200004, handler)",
                        body="api.write_memory(0x80200004, b'1234')\n"
                             "        raise RuntimeError('hook bug')")
    output = shell.run("run")
    assert output == ("armdbg demo: calling do_something 1000 times\n"
                      "[plugin one] error in memory-write handler handler: RuntimeError: "
                      "hook bug; its handlers are disabled\n"
                      "armdbg demo: done\n[Inferior 1 (process 1) exited normally]\n")
    assert shell.result_word() == unprobed_result
    assert len(shell.plugins.loaded["one"].module.seen) == 1
    address, size, value, pc = shell.plugins.loaded["one"].module.seen[0]
    assert (address, size, value, pc) == (0x80200000, 4, 1, 0x80008044)  # str r1, [r4]


def test_faulting_context_section(tmp_path: Path) -> None:
    shell = one_handler(tmp_path, 'api.context_section("one", handler)', context=True)
    first = shell.run("context")
    assert "---[ stack ]" in first
    assert first.count("[plugin one] error in context section one: RuntimeError: bug; "
                       "its handlers are disabled\n") == 1
    assert "[ one ]" not in first
    second = shell.run("context")
    assert "[plugin one]" not in second and "---[ regs ]" in second
    assert shell.run("context one") == ""


def test_faulting_on_change_of_a_setting(tmp_path: Path) -> None:
    shell = one_handler(tmp_path, 'api.setting("one value", "int", 0, "A value", '
                                  'on_change=handler)')
    assert shell.run("set one value 3") == ("[plugin one] error in on_change of setting one "
                                            "value: RuntimeError: bug; its handlers are "
                                            "disabled\n")
    assert shell.run("show one value") == "A value is 3.\n"


WRAPPERS = '''
from armdbg.api import PluginAPI

counts = {{"owner": 0, "around": 0}}


def register(api: PluginAPI) -> None:
    def owner_handler(probe, regs):
        counts["owner"] += 1
        {owner_body}
        return 0

    probe = api.kprobe("do_something", owner_handler, name="owned")

    def around(probe, regs, call_original):
        counts["around"] += 1
        result = call_original()
        {around_body}
        return result

    {wrap}
'''


def test_a_faulting_wrapper_leaves_the_wrapped_handler_running(tmp_path: Path) -> None:
    write_plugin(tmp_path, "owner", WRAPPERS.format(owner_body="pass", around_body="",
                                                    wrap=""))
    write_plugin(tmp_path, "wrapper", '''
from armdbg.api import PluginAPI

calls = []


def register(api: PluginAPI) -> None:
    def around(probe, regs, call_original):
        calls.append(1)
        if len(calls) == 5:
            regs.ARM_r0 = 0
            raise OverflowError("fifth")
        return call_original()

    api.on("probe-hit", lambda probe, path: None)
    api.wrap_pre_handler(api.probe("owned"), around)
''')
    shell = Shell(dirs=[tmp_path], user=False)
    assert shell.startup == ""
    output = shell.run("run")
    assert output == ("armdbg demo: calling do_something 1000 times\n"
                      "[plugin wrapper] error in handler around: OverflowError: fifth; "
                      "its handlers are disabled\n"
                      "armdbg demo: done\n[Inferior 1 (process 1) exited normally]\n")
    assert shell.plugins.loaded["owner"].module.counts["owner"] == 1000
    assert len(shell.plugins.loaded["wrapper"].module.calls) == 5
    shell.run("plugin unload wrapper")
    probe = shell.session.extensions["kprobes"].kprobes.find("owned")
    assert probe.pre_handler is not None and probe.faulted is None


def test_the_wrapped_handlers_own_bug_is_not_the_wrappers(tmp_path: Path) -> None:
    write_plugin(tmp_path, "measure", """
from armdbg.api import PluginAPI

calls = []


def register(api: PluginAPI) -> None:
    api.on("stop", lambda event: None)


def wrap(api, probe):
    api.wrap_pre_handler(probe, lambda p, regs, call: calls.append(1) or call())
""")
    shell = Shell(dirs=[tmp_path], user=False)
    owner_calls = []

    def raw_handler(probe: Kprobe, regs: PtRegs) -> int:
        owner_calls.append(1)
        if len(owner_calls) == 2:
            raise LookupError("owner bug")
        return 0

    system = shell.session.extensions["kprobes"]
    probe = system.kprobes.register(Kprobe(symbol_name="do_something",
                                           pre_handler=raw_handler, name="raw"))
    loaded = shell.plugins.loaded["measure"]
    loaded.module.wrap(loaded.api, probe)
    output = shell.run("run")
    assert output == ("armdbg demo: calling do_something 1000 times\n"
                      "[kprobes] handler of raw raised LookupError: owner bug; its "
                      "handlers are disabled.\n"
                      "armdbg demo: done\n[Inferior 1 (process 1) exited normally]\n")
    assert loaded.faulted is None
    assert len(owner_calls) == 2 and len(loaded.module.calls) == 2
    assert probe.faulted == "LookupError: owner bug"


# --------------------------------------------------------------------------- help, completion


def test_help_and_completion_survive_broken_declarations() -> None:
    shell = broken_shell()
    assert shell.run("odd-doc") == "odd ran\n"
    assert shell.run("help odd-doc") == "This command is not documented.\nUsage: odd-doc\n"
    assert shell.run("help no-doc") == "This command is not documented.\nUsage: no-doc\n"
    assert shell.run("help bad-usage") == ("A command whose parser cannot describe itself.\n"
                                           "Usage: bad-usage\n")
    assert "odd-doc -- This command is not documented." in shell.run("help weird-category")
    listing = shell.run("help plugins")
    assert "bad-usage -- A command whose parser cannot describe itself." in listing
    assert "hitstats -- Latency histograms of kprobe hits" in listing
    assert "parser cannot" in shell.run("apropos parser cannot")
    assert "weird-category" in shell.run("help")
    completer = CommandCompleter(shell.app.registry, shell.session)
    assert completion_texts(completer.complete("odd")) == ["odd-doc"]
    assert completion_texts(completer.complete("bad-usage --f")) == ["--flag"]
    assert "no-doc" in completion_texts(completer.complete("n"))
    assert shell.run("bad-usage --flag") == "bad-usage ran\n"
