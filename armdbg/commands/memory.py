"""The machine's memory map: ``info mem``, ``mem map``, ``mem unmap``; and
``set alignment-check``, the alignment faults Unicorn does not raise itself.

Regions are whole 4 KiB pages, as Unicorn maps them.  Addresses and sizes are
expressions (``0x10000000``, ``4096``, ``$sp``, ``main+0x1000``); an argument with spaces
in it can be quoted.  Regions mapped here survive ``run`` (only the loaded image's own
regions are rebuilt).
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

from armdbg.commands.context import Context
from armdbg.commands.dispatch import list_subcommands
from armdbg.commands.evaluation import evaluate_int
from armdbg.commands.registry import CommandSet
from armdbg.errors import MachineError, NoSymbolError, UsageError
from armdbg.machine.alignment import MODES
from armdbg.machine.machine import Region

if TYPE_CHECKING:
    from armdbg.session import Session

commands = CommandSet()

MAPPED_HERE = "mapped with `mem map'"
_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
_MAP_USAGE = "mem map NAME START SIZE [PERMS]"
_UNMAP_USAGE = "mem unmap NAME|ADDRESS"


# A setting has one line of help: the modes, and their cost as measured (every guest
# load and store then runs a check in Python; see armdbg/machine/alignment.py).
ALIGNMENT_DOC = ("Alignment faults armdbg raises (armv7: unaligned LDM/STM/LDRD/STRD/VLDM/VSTM "
                 "and PUSH/POP; strict: any access not naturally aligned, as with SCTLR.A "
                 "set; every load/store is checked, ~1 us each: 5-100x slower)")


def attach(session: Session) -> None:
    def apply(mode: str) -> None:
        session.machine.alignment_check = mode

    session.settings.declare("alignment-check", "enum", "off", ALIGNMENT_DOC, choices=MODES,
                             on_change=apply)


def _span(region: Region) -> str:
    return f"{region.start:#010x}-{region.end:#010x}"


@commands.command("info mem", category="status", usage="info mem")
def cmd_info_mem(ctx: Context, args: str) -> None:
    """Memory regions of the emulated machine, with permissions and purpose."""
    if args:
        raise UsageError("info mem takes no arguments.")
    ctx.out.line(f"{'Name':<16} {'Start':<11} {'End':<11} {'Size':>10} Perm Purpose")
    for region in ctx.session.machine.regions:
        ctx.out.line(f"{region.name:<16} {region.start:#010x}  {region.end:#010x}  "
                     f"{region.size:>#10x} {region.perms or '-':<4} {region.purpose}")


@commands.command("mem", category="data", prefix=True, usage="mem SUBCOMMAND")
def cmd_mem(ctx: Context, args: str) -> None:
    """Change the emulated machine's memory map (see "info mem")."""
    list_subcommands(ctx, "mem", args)


@commands.command("mem map", category="data", usage=_MAP_USAGE)
def cmd_mem_map(ctx: Context, args: str) -> None:
    """Map a new region of memory: NAME, START address, SIZE in bytes, PERMS.

    START and SIZE must be multiples of 4 KiB (0x1000) and the region must not
    overlap another.  PERMS is any of r, w and x ("-" is ignored, so "r-x" works);
    the default is rwx.  The new memory reads as zeros.
    """
    try:
        words = shlex.split(args)
    except ValueError as err:
        raise UsageError(f"mem map: {err}. Usage: {_MAP_USAGE}") from None
    if len(words) not in (3, 4):
        raise UsageError(f"Usage: {_MAP_USAGE}")
    name, start_text, size_text = words[:3]
    perms = words[3].replace("-", "") if len(words) == 4 else "rwx"
    if not _NAME.match(name):
        raise UsageError(f'mem map: "{name}" is not a region name (a letter or _ first, '
                         f"then letters, digits, _ . -).")
    start = evaluate_int(ctx, start_text)
    size = evaluate_int(ctx, size_text)
    region = ctx.session.machine.map_region(name, start, size, perms.lower(), MAPPED_HERE)
    ctx.out.line(f"Mapped {region.name} at {_span(region)} ({region.size:#x} bytes, "
                 f"{region.perms or 'no access'}).")


@commands.command("mem unmap", category="data", usage=_UNMAP_USAGE)
def cmd_mem_unmap(ctx: Context, args: str) -> None:
    """Remove a region, named or by any address inside it.

    Breakpoint and probe words inside the region go with it.
    """
    text = args.strip()
    if not text:
        raise UsageError(f"Usage: {_UNMAP_USAGE}")
    machine = ctx.session.machine
    region = next((r for r in machine.regions if r.name == text), None)
    if region is None:
        try:
            address = evaluate_int(ctx, text)
        except NoSymbolError:
            if _NAME.match(text):
                raise MachineError(f'No region named "{text}".') from None
            raise
        region = machine.region_of(address)
        if region is None:
            raise MachineError(f"No region contains {address:#x}.")
    dropped = [site for site in machine.traps.sites() if site.address in region]
    machine.unmap_region(region.name)
    ctx.out.line(f"Unmapped {region.name} ({_span(region)}).")
    if dropped:
        ctx.out.line(f"warning: {len(dropped)} breakpoint/probe word(s) in {region.name} "
                     f"went with it.")
