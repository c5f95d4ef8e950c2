"""Linux EABI system calls for svc 0 (write, exit, exit_group, getpid): a model.

Small static Linux-style programs (no libc, their own ``_start``: see
tests/fixtures/linux_hello.c) print and exit with this plugin loaded.  It is not loaded
at startup (``AUTOLOAD = False``): handling ``svc 0`` changes what the machine does,
so ask for it with ``plugin load syscalls`` or ``armdbg --plugin syscalls``.

The calling convention (Linux ARM EABI): ``svc 0`` with the system call number in r7
and the arguments in r0-r6; the result comes back in r0, a negative errno on failure.
Implemented:

  ==============  ====  ==========================================================
  exit            1     stop the program: "exited with code N" (N = r0 & 0xff)
  write           4     fd 1 and 2 go to armdbg's output; other fds: -EBADF
  getpid          20    1 (the program is the machine's only process)
  exit_group      248   as exit
  ==============  ====  ==========================================================

Any other number returns -ENOSYS (-38) and prints one line saying so.  SVCs with
another immediate (not 0) are left alone, so semihosting and armdbg's "unhandled SVC"
stop still work.  Command: ``syscalls`` lists the table.

Emulating more: add a function to SYSCALLS.  It gets the :class:`Process` (the plugin
API as ``process.api``, and room for state such as open files) and the pt_regs view;
it returns the value for r0 (or calls ``process.api.request_exit(code)``), and may read
and write the program's memory with ``api.read_memory``/``api.write_memory``; raising
:class:`Errno` returns ``-errno``.  For example, ``brk`` (45) could be::

    def sys_brk(process: Process, regs: PtRegs) -> int:
        return regs.ARM_r0 or 0x00100000   # accept any break; start at 1 MiB

    SYSCALLS[45] = ("brk", sys_brk)
"""

from __future__ import annotations

from collections.abc import Callable

from armdbg.api import Context, PluginAPI, PtRegs

AUTOLOAD = False

EBADF = 9
EFAULT = 14
ENOSYS = 38
MAX_WRITE = 1 << 20   # one write() call copies at most this much


class Errno(Exception):
    """Raised by a system call to return ``-errno``."""

    def __init__(self, errno: int) -> None:
        super().__init__(errno)
        self.errno = errno


class Process:
    """The emulated process: what system calls share between calls."""

    def __init__(self, api: PluginAPI) -> None:
        self.api = api
        self.pid = 1
        self.mid_line = False   # the program's output so far does not end with a newline

    def note(self, text: str) -> None:
        """A line of the plugin's own, on a line of its own."""
        self.api.print(("\n" if self.mid_line else "") + text)
        self.mid_line = False


Syscall = Callable[[Process, PtRegs], int]


def sys_exit(process: Process, regs: PtRegs) -> int:
    process.api.request_exit(regs.ARM_r0 & 0xFF)
    return 0


def sys_write(process: Process, regs: PtRegs) -> int:
    fd, buffer, count = regs.ARM_r0, regs.ARM_r1, regs.ARM_r2
    if fd not in (1, 2):
        raise Errno(EBADF)
    count = min(count, MAX_WRITE)
    try:
        data = process.api.read_memory(buffer, count)
    except Exception:
        raise Errno(EFAULT) from None
    if data:
        process.api.print(data.decode("utf-8", errors="replace"), end="")
        process.mid_line = not data.endswith(b"\n")
    return count


def sys_getpid(process: Process, regs: PtRegs) -> int:
    return process.pid


# number -> (name, implementation).  Extend it to emulate more.
SYSCALLS: dict[int, tuple[str, Syscall]] = {
    1: ("exit", sys_exit),
    4: ("write", sys_write),
    20: ("getpid", sys_getpid),
    248: ("exit_group", sys_exit),
}


def register(api: PluginAPI) -> None:
    process = Process(api)

    def handle_svc(number: int, regs: PtRegs) -> bool:
        if number != 0:
            return False  # not a Linux system call: let others (or the SIGSYS stop) have it
        nr = regs.ARM_r7
        entry = SYSCALLS.get(nr)
        if entry is None:
            # PC is past the SVC already; name the SVC itself.
            svc_at = regs.ARM_pc - (2 if regs.ARM_cpsr & 0x20 else 4)
            where = api.symbolize(svc_at)
            process.note(f"[syscalls] unknown system call {nr} at {svc_at:#x}"
                         f"{f' <{where}>' if where else ''}: returning -ENOSYS")
            result = -ENOSYS
        else:
            try:
                result = entry[1](process, regs)
            except Errno as err:
                result = -err.errno
        regs.ARM_r0 = result & 0xFFFFFFFF
        return True

    api.svc_handler(handle_svc)

    @api.command("syscalls", usage="syscalls")
    def cmd_syscalls(ctx: Context, args: str) -> None:
        """List the Linux system calls that "svc 0" is handled for (r7 = number)."""
        ctx.out.line("Number  Name")
        for number, (name, _impl) in sorted(SYSCALLS.items()):
            ctx.out.line(f"{number:>6}  {name}")
        ctx.out.line(f"Others return -ENOSYS (-{ENOSYS}).")
