"""The real ``armdbg`` in a pseudo-terminal: typing, colour, Ctrl-C, Ctrl-D.

Every wait is a pexpect expectation with a timeout; nothing sleeps.  prompt_toolkit
draws the prompt with cursor movements, so only ``(armdbg)`` is matched, not the space.
The typed line is drawn again when Enter is pressed, prompt included, so a command's
output is matched with its line end (``\r\n``, where the typed ``echo`` shows ``\n``)
before waiting for the next prompt; else a key could go out while the command still
runs and the terminal is not in raw mode.
``PROMPT_TOOLKIT_NO_CPR`` spares pexpect (which does not answer cursor position
requests) prompt_toolkit's warning about it.
"""

from __future__ import annotations

import io
import os
import struct
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from armdbg.app import App  # noqa: E402 - after the skip

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "(armdbg)"
TIMEOUT = 20
LOOP = struct.pack("<I", 0xEAFFFFFE)  # ARM "b ." at the entry: runs until stopped
BASE = "0x80008000"
SIGINT_STOP = "Program received signal SIGINT, Interrupt."


def _env(tmp_path: Path, *, color: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(ROOT), ARMDBG_HISTORY=str(tmp_path / "history"),
               HOME=str(tmp_path), TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1")
    env.pop("NO_COLOR", None)
    if not color:
        env["NO_COLOR"] = "1"
    return env


def _spawn(tmp_path: Path, args: list[str], *, color: bool = False) -> pexpect.spawn:
    child = pexpect.spawn(sys.executable, args, env=_env(tmp_path, color=color),
                          cwd=str(tmp_path), encoding="utf-8", timeout=TIMEOUT,
                          dimensions=(40, 120))
    child.expect_exact(PROMPT)
    return child


def _armdbg(tmp_path: Path, *, color: bool = False) -> pexpect.spawn:
    image = tmp_path / "loop.bin"
    image.write_bytes(LOOP)
    return _spawn(tmp_path, ["-m", "armdbg.cli", "--nx", "--raw", BASE, str(image)],
                  color=color)


def _leave_with_ctrl_d(child: pexpect.spawn) -> None:
    child.sendcontrol("d")
    child.expect_exact("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def _has_command(name: str) -> bool:
    return any(spec.name == name for spec in App(stdout=io.StringIO()).registry.specs())


def test_typing_commands_ctrl_c_at_the_prompt_and_ctrl_d(tmp_path: Path) -> None:
    child = _armdbg(tmp_path)
    child.sendline("info mem")
    child.expect(r"Name +Start +End +Size Perm Purpose")
    child.expect_exact("exception vectors")
    child.expect_exact(PROMPT)
    child.sendline("echo hello from the pty\\n")
    child.expect_exact("hello from the pty\r\n")
    child.expect_exact(PROMPT)
    child.send("echo never run")
    child.sendcontrol("c")  # at the prompt: the line is dropped
    child.expect_exact(PROMPT)
    child.sendline("echo still alive\\n")
    child.expect_exact("still alive\r\n")
    child.expect_exact(PROMPT)
    assert "never run\r\n" not in child.before
    _leave_with_ctrl_d(child)
    assert "+echo hello from the pty" in (tmp_path / "history").read_text()


def test_colour_on_highlights_input(tmp_path: Path) -> None:
    child = _armdbg(tmp_path, color=True)
    child.sendline("echo $pc\\n")
    # The typed line, redrawn highlighted: a bold command word, a cyan register.
    child.expect_exact("\x1b[0;1mecho\x1b[0m")
    child.expect_exact("\x1b[0;36m$pc")
    child.expect_exact("$pc\r\n")
    child.expect_exact(PROMPT)
    _leave_with_ctrl_d(child)


def test_no_color_means_plain_input(tmp_path: Path) -> None:
    child = _armdbg(tmp_path, color=False)
    child.sendline("echo $pc\\n")
    child.expect_exact("$pc\r\n")
    assert "\x1b[0;1mecho" not in child.before
    child.expect_exact(PROMPT)
    _leave_with_ctrl_d(child)


def test_ctrl_c_stops_continue(tmp_path: Path) -> None:
    if not _has_command("continue"):
        pytest.xfail("run control's `continue` is not in the registry yet; "
                     "test_ctrl_c_stops_a_run_in_the_real_machine covers Ctrl-C meanwhile")
    child = _armdbg(tmp_path)
    child.sendline("continue")
    child.expect_exact("Continuing.")  # gdb's line: the run has started
    child.sendcontrol("c")
    child.expect_exact(SIGINT_STOP)
    child.expect_exact(PROMPT)
    child.sendline("echo after the stop\\n")
    child.expect_exact("after the stop\r\n")
    child.expect_exact(PROMPT)
    _leave_with_ctrl_d(child)


DRIVER = """
import sys
from armdbg.app import App
from armdbg.commands.registry import CommandSet
from armdbg.ui.repl import run_repl

extra = CommandSet(owner="pty-test")


@extra.command("zzrun", category="running")  # resumes: every Ctrl-C is the program's
def zzrun(ctx, args):
    '''Run the machine until something stops it (run control's job, minimally).'''
    ctx.out.line("Running.")
    stop = ctx.session.machine.run()
    ctx.out.line(f"{stop.description} [{stop.reason.name} at {stop.pc:#x}]")


@extra.command("zzspin")
def zzspin(ctx, args):
    '''Busy Python work that never ends by itself.'''
    ctx.out.line("Spinning.")
    while True:
        pass


app = App(color=False)
app.registry.add_set(extra)
app.load_initial(sys.argv[1], raw=sys.argv[2])
sys.exit(run_repl(app))
"""


def test_ctrl_c_stops_a_run_in_the_real_machine(tmp_path: Path) -> None:
    """Ctrl-C reaches a Unicorn run that never returns to Python by itself, through
    the real REPL, the real terminal driver and the real Machine."""
    (tmp_path / "driver.py").write_text(DRIVER)
    image = tmp_path / "loop.bin"
    image.write_bytes(LOOP)
    child = _spawn(tmp_path, [str(tmp_path / "driver.py"), str(image), BASE])
    for _ in range(2):  # the machine runs on after an interrupt
        child.sendline("zzrun")
        child.expect_exact("Running.")
        child.sendcontrol("c")
        child.expect_exact(f"{SIGINT_STOP} [INTERRUPTED at {BASE}]")
        child.expect_exact(PROMPT)
    child.sendline("zzspin")
    child.expect_exact("Spinning.")
    child.sendcontrol("c")  # Python work, not a run: abandoned with gdb's Quit
    child.expect_exact("Quit")
    child.expect_exact(PROMPT)
    child.sendline("echo usable\\n")
    child.expect_exact("usable\r\n")
    child.expect_exact(PROMPT)
    _leave_with_ctrl_d(child)
