"""Finding and loading plugins: every source, their order, conflicts, AUTOLOAD, unload
(everything a plugin registered goes away) and reload (edits are picked up)."""

from __future__ import annotations

import io
import sys
import textwrap
from pathlib import Path

import pytest

from armdbg.cli import main
from armdbg.plugins import Candidate, bundled_dir, discover, user_dir

from .conftest import EXAMPLES, Shell, write_plugin

GREETER = '''
"""Greets ({word})."""

from armdbg.api import Context, PluginAPI


def register(api: PluginAPI) -> None:
    @api.command("greet-{name}")
    def cmd(ctx: Context, args: str) -> None:
        """Say the word."""
        ctx.out.line("{word}")
'''


def greeter(directory: Path, name: str, word: str) -> Path:
    return write_plugin(directory, name, GREETER.format(name=name, word=word))


def fake_distribution(site: Path, entries: str, module: str, source: str) -> None:
    """An installed distribution as importlib.metadata finds it on sys.path."""
    info = site / "armdbg_fake_plugins-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: armdbg-fake-plugins\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text(f"[armdbg.plugins]\n{entries}\n")
    (site / f"{module}.py").write_text(textwrap.dedent(source))


# --------------------------------------------------------------------------- discovery


def test_bundled_directory_is_next_to_the_package() -> None:
    assert bundled_dir() == Path(__file__).resolve().parents[2] / "plugins"
    names = {c.name for c in discover(user=False)[0].values()}
    assert {"hitstats", "ftracer", "itviz", "syscalls"} <= names


def test_user_dir_honours_xdg_config_home(tmp_path: Path, home: Path) -> None:
    assert user_dir({}) == home / ".config" / "armdbg" / "plugins"
    assert user_dir({"XDG_CONFIG_HOME": str(tmp_path / "xdg")}) == \
        tmp_path / "xdg" / "armdbg" / "plugins"
    assert user_dir({"XDG_CONFIG_HOME": "relative"}) == home / ".config" / "armdbg" / "plugins"


def test_discovery_order_and_conflicts(tmp_path: Path, home: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    greeter(first, "twice", "from first")
    greeter(second, "twice", "from second")
    greeter(second, "hitstats", "shadowed by the bundled one")
    greeter(user_dir(), "mine", "from the user")
    found, conflicts = discover([first, second])
    assert found["twice"].source == "plugin-dir" and found["twice"].location == str(first)
    assert found["hitstats"].source == "bundled"
    assert found["mine"].source == "user"
    assert sorted(conflicts) == sorted([
        f"[plugin twice] also found at {second / 'twice.py'}; using the plugin-dir one at "
        f"{first / 'twice.py'}",
        f"[plugin hitstats] also found at {second / 'hitstats.py'}; using the bundled one "
        f"at {bundled_dir() / 'hitstats.py'}",
    ])


def test_discovery_skips_private_names_and_finds_packages(tmp_path: Path) -> None:
    write_plugin(tmp_path, "_private", "")
    write_plugin(tmp_path, "not-an-identifier", "")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text('"""A package plugin."""\nAUTOLOAD = False\n')
    (tmp_path / "notpkg").mkdir()
    found = {c.name: c for c in discover([tmp_path], user=False)[0].values()
             if c.source == "plugin-dir"}
    assert set(found) == {"pkg"}
    assert found["pkg"].static_info() == (False, "A package plugin.")


def test_static_info_does_not_run_the_file(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "bomb", '"""Doc line.\n\nMore."""\nAUTOLOAD = True\n'
                                          'raise SystemExit("ran")\n')
    assert Candidate("bomb", "plugin-dir", str(tmp_path), path).static_info() == \
        (True, "Doc line.")
    broken = write_plugin(tmp_path, "broken", "def (:\n")
    assert Candidate("broken", "plugin-dir", str(tmp_path), broken).static_info() == (True, "")


# --------------------------------------------------------------------------- each source


def test_bundled_plugins_autoload_except_syscalls() -> None:
    shell = Shell(user=False)
    assert shell.startup == ""
    assert sorted(shell.plugins.loaded) == ["ftracer", "hitstats", "itviz"]
    listing = shell.run("plugin list")
    assert "syscalls  not loaded  bundled" in listing
    assert "AUTOLOAD = False" in listing
    assert shell.run("plugin load syscalls") == "Plugin syscalls loaded (bundled).\n"
    assert "syscalls  loaded" in shell.run("plugin list")


def test_plugin_dir_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    greeter(tmp_path / "dir", "local", "hello from a plugin dir")
    monkeypatch.chdir(tmp_path)
    shell = Shell(dirs=[Path("dir")], user=False)
    monkeypatch.chdir("/")  # a relative --plugin-dir was resolved at startup
    assert shell.plugins.dirs == [tmp_path / "dir"]
    assert shell.run("greet-local") == "hello from a plugin dir\n"
    assert "local     loaded      plugin-dir" in shell.run("plugin list")


def test_user_config_source(home: Path) -> None:
    greeter(home / ".config" / "armdbg" / "plugins", "mine", "hello from ~/.config")
    shell = Shell()
    assert shell.run("greet-mine") == "hello from ~/.config\n"
    assert shell.plugins.loaded["mine"].candidate.source == "user"


def test_xdg_config_home_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    greeter(tmp_path / "xdg" / "armdbg" / "plugins", "xdg", "hello from XDG")
    assert Shell().run("greet-xdg") == "hello from XDG\n"


def test_nx_leaves_out_user_plugins(home: Path) -> None:
    greeter(home / ".config" / "armdbg" / "plugins", "mine", "hello")
    shell = Shell(user=False)
    assert "mine" not in shell.plugins.loaded
    assert "mine" not in shell.run("plugin list")


def test_entry_point_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    fake_distribution(site, "epmodule = armdbg_fake_ep\nepfunc = armdbg_fake_ep:setup",
                      "armdbg_fake_ep", '''
        """An installed plugin module."""

        def register(api):
            @api.command("ep-module")
            def cmd(ctx, args):
                """From the module's register."""
                ctx.out.line("module entry point")

        def setup(api):
            @api.command("ep-func")
            def cmd(ctx, args):
                """From a named callable."""
                ctx.out.line("callable entry point")
        ''')
    monkeypatch.syspath_prepend(str(site))
    shell = Shell()
    assert shell.run("ep-module") == "module entry point\n"
    assert shell.run("ep-func") == "callable entry point\n"
    listing = shell.run("plugin list")
    assert "epmodule  loaded      entry-point  An installed plugin module." in listing
    shell.run("plugin unload epfunc")
    assert "Undefined command" in shell.run("ep-func")
    assert shell.run("ep-module") == "module entry point\n"


def test_entry_point_reload_runs_the_code_again(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    fake_distribution(site, "eprel = armdbg_fake_reload", "armdbg_fake_reload",
                      GREETER.format(name="eprel", word="first"))
    monkeypatch.syspath_prepend(str(site))
    shell = Shell()
    assert shell.run("greet-eprel") == "first\n"
    (site / "armdbg_fake_reload.py").write_text(GREETER.format(name="eprel", word="second"))
    assert shell.run("plugin reload eprel") == "Plugin eprel reloaded (entry-point).\n"
    assert shell.run("greet-eprel") == "second\n"


def test_cli_plugin_dir_and_plugin_flags(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    greeter(tmp_path / "dir", "clidir", "from the command line")
    out = io.StringIO()
    monkeypatch.chdir(tmp_path)
    status = main(["--batch", "--nx", "--no-color", "--plugin-dir", "dir",
                   "--plugin", "syscalls", "-ex", "greet-clidir", "-ex", "syscalls",
                   "-ex", "plugin reload clidir", "-ex", "greet-clidir"],
                  stdout=out, stderr=out)
    text = out.getvalue()
    assert status == 0, text
    assert text.count("from the command line\n") == 2
    assert "   248  exit_group\n" in text


def test_unknown_plugin_flag_is_one_line(tmp_path: Path) -> None:
    out = io.StringIO()
    status = main(["--batch", "--nx", "--no-color", "--plugin", "nosuch", "-ex", "echo go\\n"],
                  stdout=out, stderr=out)
    assert status == 0
    assert out.getvalue() == ('[plugin nosuch] not found (--plugin nosuch); "plugin list" '
                              'shows what is available\ngo\n')


# --------------------------------------------------------------------------- commands


def test_plugin_command_errors() -> None:
    shell = Shell(user=False)
    assert shell.run("plugin load nosuch") == 'No plugin "nosuch".  Try "plugin list".\n'
    assert shell.run("plugin unload syscalls") == "Plugin syscalls is not loaded.\n"
    assert shell.run("plugin load hitstats") == \
        'Plugin hitstats is already loaded (use "plugin reload hitstats").\n'
    assert shell.run("plugin load") == "Usage: plugin load NAME\n"
    assert shell.run("plugin frob") == 'Undefined plugin command: "frob".  Try "help plugin".\n'
    assert shell.run("plugin") == shell.run("plugin list")


def test_reload_of_a_plugin_not_loaded_loads_it() -> None:
    shell = Shell(user=False)
    assert shell.run("plugin reload syscalls") == "Plugin syscalls reloaded (bundled).\n"
    assert "syscalls" in shell.plugins.loaded


# --------------------------------------------------------------------------- unload, reload

EVERYTHING = '''
"""Registers one of everything."""

from armdbg.api import Context, PluginAPI

log = []


def register(api: PluginAPI) -> None:
    @api.command("every-cmd", aliases=("every-alias",))
    def cmd(ctx: Context, args: str) -> None:
        """A command."""
        ctx.out.line("every-cmd {version}")

    @api.command("info every")
    def info(ctx: Context, args: str) -> None:
        """A subcommand of info."""
        ctx.out.line("info every")

    api.setting("every value", "uint", 3, "A plugin setting")
    api.kprobe("do_something", lambda p, regs: log.append("kprobe"), name="every_kprobe")
    api.kretprobe("cond_first", lambda inst, regs: log.append("ret"), name="every_ret")
    api.on("stop", lambda event: log.append("stop"))
    api.on("probe-hit", lambda probe, path: log.append("hit"))
    api.svc_handler(lambda number, regs: False)
    api.on_memory_write(0x80200000, 0x80200004, lambda *access: log.append("write"))
    api.context_section("every", lambda: ["every section"])
    api.on_unload(lambda: log.append("unloaded"))
'''


def test_unload_removes_everything(tmp_path: Path) -> None:
    write_plugin(tmp_path, "every", EVERYTHING.format(version=1))
    shell = Shell(dirs=[tmp_path], user=False, context=True)
    session = shell.session
    machine = session.machine
    system = session.extensions["kprobes"]
    baseline_svc = list(machine.svc_handlers)
    assert shell.run("every-alias") == "every-cmd 1\n"
    assert shell.run("info every") == "info every\n"
    assert shell.run("show every value") == "A plugin setting is 3.\n"
    assert [p.name for p in system.kprobes.probes] == ["every_kprobe", "every_ret"]
    assert "every section" in shell.run("context")
    assert len(machine._memory_hooks) == 1
    module = shell.plugins.loaded["every"].module
    shell.run("run")
    log = module.log
    assert log.count("kprobe") == 1000 and log.count("ret") == 1 and "write" in log
    assert log[-1] == "stop"

    subscribed = {e: len(session.events._handlers[e]) for e in ("stop", "kprobe-hit")}
    assert shell.run("plugin unload every") == "Plugin every unloaded.\n"
    assert log[-1] == "unloaded"
    assert "Undefined command" in shell.run("every-cmd")
    assert "Undefined command" in shell.run("every-alias")
    assert shell.run("info every").startswith("Undefined info command")
    assert shell.run("show every value").startswith("Undefined show command")
    assert system.kprobes.probes == [] and system.kretprobes.retprobes == []
    assert machine.svc_handlers == baseline_svc[:len(machine.svc_handlers)]
    assert len(machine.svc_handlers) == len(baseline_svc) - 1
    assert machine._memory_hooks == {}
    assert "every" not in shell.run("context")
    for bus_event, count in subscribed.items():
        assert len(session.events._handlers[bus_event]) == count - 1
    count = len(log)
    shell.run("run")
    assert len(log) == count  # nothing of it runs any more
    assert not [name for name in sys.modules if name.startswith("_armdbg_plugin_every_")]


def test_reload_picks_up_edits(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "every", EVERYTHING.format(version=1))
    shell = Shell(dirs=[tmp_path], user=False)
    assert shell.run("every-cmd") == "every-cmd 1\n"
    shell.run("set every value 7")
    path.write_text(EVERYTHING.format(version=2))
    assert shell.run("plugin reload every") == "Plugin every reloaded (plugin-dir).\n"
    assert shell.run("every-cmd") == "every-cmd 2\n"
    # A fresh start: the setting is declared again with its default; probes once each.
    assert shell.run("show every value") == "A plugin setting is 3.\n"
    system = shell.session.extensions["kprobes"]
    assert [p.name for p in system.kprobes.probes] == ["every_kprobe", "every_ret"]


def test_reload_after_a_broken_edit_leaves_nothing(tmp_path: Path) -> None:
    path = greeter(tmp_path, "edited", "v1")
    shell = Shell(dirs=[tmp_path], user=False)
    path.write_text("def register(api):\n    raise RuntimeError('v2 is broken')\n")
    assert shell.run("plugin reload edited") == \
        "[plugin edited] error in register(): RuntimeError: v2 is broken; not loaded\n"
    assert "Undefined command" in shell.run("greet-edited")
    listing = shell.run("plugin list")
    assert "edited    failed" in listing
    path.write_text(GREETER.format(name="edited", word="v3"))
    shell.run("plugin load edited")
    assert shell.run("greet-edited") == "v3\n"


def test_example_plugin_from_docs_examples() -> None:
    shell = Shell(dirs=[EXAMPLES], user=False, context=True)
    assert shell.run("hello") == "hello, world!\n"
    shell.run("set hello greeting hi")
    assert shell.run("hello you") == "hi, you!\n"
    assert shell.run("count-calls do_something") == \
        "Counting calls of do_something with kprobe 1 (count_do_something).\n"
    output = shell.run("run")
    assert output.endswith("[Inferior 1 (process 1) exited normally]\n"
                           "[hello_plugin] count_do_something: calls 1000, r0 sum 0x7a314\n")
    assert sum(range(1, 1001)) == 0x7A314
