"""ARM semihosting (``Semihosting for AArch32 and AArch64``, version 2) for the machine.

A program linked against newlib's ``rdimon`` talks to the host with ``svc 0x123456``
(ARM state) or ``svc 0xab`` (Thumb state): r0 holds the operation number, r1 a
parameter block pointer (or, for a few operations, the value itself), and the result
comes back in r0.  tests/fixtures/README.md lists what rdimon's startup and stdio
actually issue; the points that matter most are:

* ``:semihosting-features`` must report both EXIT_EXTENDED (else ``exit(42)`` reaches
  the host as a bare "application exit" and the status is lost) and STDOUT_STDERR (else
  newlib never opens stdout and all output is silently dropped);
* SYS_HEAPINFO must give a stack base above the heap, since ``_sbrk`` refuses to grow
  the heap past ``sp``.

Errors are reported the way newlib reads them: r0 = -1 and an errno fetched later with
SYS_ERRNO.  errno values are newlib's numbering, not the host's (they differ above 34:
ENOSYS is 38 on Linux but 88 in newlib), so host errors are translated by name.

The handler runs inside Unicorn's interrupt hook, so it must never let a guest mistake
(a bad pointer, a bad handle) escape as a Python exception: those become EFAULT/EBADF.
"""

from __future__ import annotations

import enum
import errno as host_errno
import io
import os
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from armdbg.errors import MemoryAccessError
from armdbg.machine.layout import HEAP, STACK, STACK_TOP
from armdbg.machine.machine import Machine
from armdbg.machine.stops import StopEvent, StopReason

ARM_SVC_NUMBER = 0x123456
THUMB_SVC_NUMBER = 0xAB


class Op(enum.IntEnum):
    """Semihosting operation numbers (r0)."""

    SYS_OPEN = 0x01
    SYS_CLOSE = 0x02
    SYS_WRITEC = 0x03
    SYS_WRITE0 = 0x04
    SYS_WRITE = 0x05
    SYS_READ = 0x06
    SYS_READC = 0x07
    SYS_ISERROR = 0x08
    SYS_ISTTY = 0x09
    SYS_SEEK = 0x0A
    SYS_FLEN = 0x0C
    SYS_TMPNAM = 0x0D
    SYS_REMOVE = 0x0E
    SYS_RENAME = 0x0F
    SYS_CLOCK = 0x10
    SYS_TIME = 0x11
    SYS_SYSTEM = 0x12
    SYS_ERRNO = 0x13
    SYS_GET_CMDLINE = 0x15
    SYS_HEAPINFO = 0x16
    SYS_EXIT = 0x18
    SYS_EXIT_EXTENDED = 0x20
    SYS_ELAPSED = 0x30
    SYS_TICKFREQ = 0x31


ADP_STOPPED_APPLICATION_EXIT = 0x20026

# The feature bits offered through ":semihosting-features".
SH_EXT_EXIT_EXTENDED = 0x01
SH_EXT_STDOUT_STDERR = 0x02
FEATURES_FILE = b"SHFB" + bytes([SH_EXT_EXIT_EXTENDED | SH_EXT_STDOUT_STDERR])

# fopen() modes in the order of the SYS_OPEN mode numbers 0-11.  Host files are opened
# raw (binary, unbuffered): the guest C library does its own newline handling and
# buffering.
OPEN_MODES = ("r", "rb", "r+", "r+b", "w", "wb", "w+", "w+b", "a", "ab", "a+", "a+b")
_FILEIO_MODES = ("r", "r", "r+", "r+", "w", "w", "w+", "w+", "a", "a", "a+", "a+")

# SYS_ELAPSED ticks are nanoseconds, as in QEMU; 10**9 still fits a positive r0.
TICK_FREQUENCY = 1_000_000_000

# Guest errno values: newlib's <sys/errno.h> (the C library every semihosting program
# here is built with).  Values 1-34 agree with Linux; the others do not.
GUEST_ERRNO: dict[str, int] = {
    "EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6, "E2BIG": 7,
    "ENOEXEC": 8, "EBADF": 9, "ECHILD": 10, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13,
    "EFAULT": 14, "ENOTBLK": 15, "EBUSY": 16, "EEXIST": 17, "EXDEV": 18, "ENODEV": 19,
    "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "ENFILE": 23, "EMFILE": 24, "ENOTTY": 25,
    "ETXTBSY": 26, "EFBIG": 27, "ENOSPC": 28, "ESPIPE": 29, "EROFS": 30, "EMLINK": 31,
    "EPIPE": 32, "EDOM": 33, "ERANGE": 34, "EDEADLK": 45, "ENOLCK": 46, "ENOSYS": 88,
    "ENOTEMPTY": 90, "ENAMETOOLONG": 91, "ELOOP": 92, "EOPNOTSUPP": 95, "ETIMEDOUT": 116,
    "EDQUOT": 132, "ESTALE": 133, "ENOTSUP": 134, "EILSEQ": 138, "EOVERFLOW": 139,
}
EPERM = GUEST_ERRNO["EPERM"]
ENOENT = GUEST_ERRNO["ENOENT"]
EIO = GUEST_ERRNO["EIO"]
E2BIG = GUEST_ERRNO["E2BIG"]
EBADF = GUEST_ERRNO["EBADF"]
EACCES = GUEST_ERRNO["EACCES"]
EFAULT = GUEST_ERRNO["EFAULT"]
EINVAL = GUEST_ERRNO["EINVAL"]
EMFILE = GUEST_ERRNO["EMFILE"]
ESPIPE = GUEST_ERRNO["ESPIPE"]
ENAMETOOLONG = GUEST_ERRNO["ENAMETOOLONG"]

# Bounds on what a guest can make the host allocate or hold open.
MAX_PATH = 4096
MAX_HANDLES = 1024
MAX_STRING = 1 << 20


def guest_errno(err: BaseException) -> int:
    """The newlib errno for a host exception (EIO when there is no better match)."""
    if isinstance(err, io.UnsupportedOperation):
        return EBADF  # e.g. reading a file opened "w": what POSIX read() says
    if isinstance(err, OSError) and err.errno is not None:
        name = host_errno.errorcode.get(err.errno)
        return GUEST_ERRNO.get(name, EIO) if name else EIO
    if isinstance(err, ValueError):
        return EINVAL
    return EIO


def exit_description(code: int) -> str:
    """gdb's words for a process exit; gdb prints the status as ``0%o`` (42 is 052)."""
    if code == 0:
        return "[Inferior 1 (process 1) exited normally]"
    return f"[Inferior 1 (process 1) exited with code 0{code:o}]"


class Console(Protocol):
    def write(self, data: bytes) -> None: ...

    def read(self, size: int) -> bytes: ...


class _GuestError(Exception):
    """A failed operation: r0 becomes -1 and SYS_ERRNO reports ``errno``."""

    def __init__(self, guest_errno_value: int) -> None:
        super().__init__(guest_errno_value)
        self.errno = guest_errno_value


# ---------------------------------------------------------------------- open files


class GuestFile:
    """What a semihosting handle refers to."""

    tty = False

    def describe(self) -> str:
        return "?"

    def read(self, size: int) -> bytes:
        raise _GuestError(EBADF)

    def write(self, data: bytes) -> int:
        raise _GuestError(EBADF)

    def seek(self, position: int) -> None:
        raise _GuestError(ESPIPE)

    def length(self) -> int:
        raise _GuestError(EBADF)

    def close(self) -> None:
        pass


class ConsoleFile(GuestFile):
    """``:tt``: the debugger console.  ``stream`` keeps stdout and stderr apart."""

    tty = True

    def __init__(self, owner: Semihosting, stream: str) -> None:
        self.owner = owner
        self.stream = stream  # "stdin", "stdout" or "stderr"

    def describe(self) -> str:
        return f":tt ({self.stream})"

    def read(self, size: int) -> bytes:
        return self.owner.console.read(size)[:size] if size > 0 else b""

    def write(self, data: bytes) -> int:
        self.owner.emit(data, stderr=self.stream == "stderr")
        return len(data)

    def length(self) -> int:
        # A terminal has no length; 0 is what qemu-arm answers (it fstat()s the host's
        # terminal or pipe), so newlib's fstat() succeeds and sees a character device.
        # (newlib line-buffers stdout whether or not this fails: checked on the fixtures.)
        return 0


class HostFile(GuestFile):
    """A real file; unbuffered, so the disk always holds what the program wrote."""

    def __init__(self, path: Path, mode_number: int) -> None:
        self.path = path
        self.mode = OPEN_MODES[mode_number]
        self.file = io.FileIO(path, _FILEIO_MODES[mode_number])

    def describe(self) -> str:
        return f"{self.path} ({self.mode})"

    def read(self, size: int) -> bytes:
        out = bytearray()
        while len(out) < size:
            chunk = self.file.read(size - len(out))
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def write(self, data: bytes) -> int:
        done = 0
        while done < len(data):
            n = self.file.write(data[done:])
            if not n:
                break
            done += n
        return done

    def seek(self, position: int) -> None:
        self.file.seek(position)

    def length(self) -> int:
        return os.fstat(self.file.fileno()).st_size

    def close(self) -> None:
        self.file.close()


class StaticFile(GuestFile):
    """A read-only file held in memory (``:semihosting-features``)."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.data = data
        self.position = 0

    def describe(self) -> str:
        return self.name

    def read(self, size: int) -> bytes:
        chunk = self.data[self.position:self.position + max(size, 0)]
        self.position += len(chunk)
        return chunk

    def seek(self, position: int) -> None:
        self.position = position

    def length(self) -> int:
        return len(self.data)


# ---------------------------------------------------------------------- the service

_OpResult = int | StopEvent | None  # None: r0 is "corrupted" by the spec; left as is


class Semihosting:
    """The host side of ARM semihosting for one program run.

    ``heap_base``, ``heap_limit``, ``stack_base`` (the initial, highest, stack address)
    and ``stack_limit`` are what SYS_HEAPINFO reports; ``cmdline`` and ``cwd`` may be
    changed between runs (gdb's ``set args`` and ``cd``).
    """

    def __init__(self, console: Console, cwd: Path, cmdline: str = "", *,
                 heap_base: int = HEAP.start, heap_limit: int = HEAP.start + HEAP.size,
                 stack_base: int = STACK_TOP, stack_limit: int = STACK.start,
                 monotonic: Callable[[], float] = time.monotonic,
                 wall_time: Callable[[], float] = time.time) -> None:
        self.console = console
        self.cwd = Path(cwd)
        self.cmdline = cmdline
        self.heap_base = heap_base
        self.heap_limit = heap_limit
        self.stack_base = stack_base
        self.stack_limit = stack_limit
        self.monotonic = monotonic
        self.wall_time = wall_time
        self.errno = 0
        self.handles: dict[int, GuestFile] = {}
        self.start_time = monotonic()
        self._ops: dict[int, Callable[[Machine, int], _OpResult]] = {
            Op.SYS_OPEN: self._sys_open,
            Op.SYS_CLOSE: self._sys_close,
            Op.SYS_WRITEC: self._sys_writec,
            Op.SYS_WRITE0: self._sys_write0,
            Op.SYS_WRITE: self._sys_write,
            Op.SYS_READ: self._sys_read,
            Op.SYS_READC: self._sys_readc,
            Op.SYS_ISERROR: self._sys_iserror,
            Op.SYS_ISTTY: self._sys_istty,
            Op.SYS_SEEK: self._sys_seek,
            Op.SYS_FLEN: self._sys_flen,
            Op.SYS_TMPNAM: self._sys_tmpnam,
            Op.SYS_REMOVE: self._sys_remove,
            Op.SYS_RENAME: self._sys_rename,
            Op.SYS_CLOCK: self._sys_clock,
            Op.SYS_TIME: self._sys_time,
            Op.SYS_SYSTEM: self._sys_system,
            Op.SYS_ERRNO: self._sys_errno,
            Op.SYS_GET_CMDLINE: self._sys_get_cmdline,
            Op.SYS_HEAPINFO: self._sys_heapinfo,
            Op.SYS_EXIT: self._sys_exit,
            Op.SYS_EXIT_EXTENDED: self._sys_exit_extended,
            Op.SYS_ELAPSED: self._sys_elapsed,
            Op.SYS_TICKFREQ: self._sys_tickfreq,
        }

    # ------------------------------------------------------------------ lifecycle

    def install(self, machine: Machine) -> None:
        if self.handle_svc not in machine.svc_handlers:
            machine.svc_handlers.append(self.handle_svc)

    def uninstall(self, machine: Machine) -> None:
        while self.handle_svc in machine.svc_handlers:
            machine.svc_handlers.remove(self.handle_svc)

    def set_heap_info(self, heap_base: int, heap_limit: int, stack_base: int,
                      stack_limit: int) -> None:
        self.heap_base, self.heap_limit = heap_base, heap_limit
        self.stack_base, self.stack_limit = stack_base, stack_limit

    def close_all(self) -> None:
        """Close every handle (the program exited, is restarted, or the session ends)."""
        handles, self.handles = self.handles, {}
        for f in handles.values():
            try:
                f.close()
            except OSError:
                pass  # nothing useful to do about a failed close of a dead program's file

    def reset(self) -> None:
        """Start afresh for a new run: no handles, errno 0, SYS_CLOCK from zero."""
        self.close_all()
        self.errno = 0
        self.start_time = self.monotonic()

    def open_handles(self) -> dict[int, str]:
        return {h: f.describe() for h, f in sorted(self.handles.items())}

    def emit(self, data: bytes, *, stderr: bool = False) -> None:
        # Both streams go to the one console for now; ``stderr`` is where they would be
        # told apart (e.g. colouring) without touching the operations.
        del stderr
        self.console.write(data)

    # ------------------------------------------------------------------ dispatch

    def handle_svc(self, machine: Machine, number: int) -> StopEvent | bool:
        if number != (THUMB_SVC_NUMBER if machine.thumb else ARM_SVC_NUMBER):
            return False
        op = machine.read_register("r0")
        arg = machine.read_register("r1")
        handler = self._ops.get(op)
        if handler is None:
            return self._unsupported(machine, number, op)
        try:
            result = handler(machine, arg)
        except _GuestError as err:
            self.errno = err.errno
            result = -1
        except MemoryAccessError:
            self.errno = EFAULT
            result = -1
        if isinstance(result, StopEvent):
            return result
        if result is not None:
            machine.write_register("r0", result & 0xFFFFFFFF)
        return True

    def _unsupported(self, machine: Machine, number: int, op: int) -> StopEvent:
        # Stop rather than answer -1/ENOSYS: a program asking for an operation we do not
        # emulate is almost surely misbuilt, and a silent -1 would surface much later as
        # a puzzling failure.  Stopping *at* the SVC (as for any unhandled SVC) lets the
        # user look at r0/r1, and set $r0 and jump past it to carry on.
        thumb = machine.thumb
        svc_at = machine.pc - (2 if thumb else 4)
        machine.set_pc(svc_at, thumb)
        return StopEvent(StopReason.SVC, svc_at, thumb, signal="SIGSYS", svc_number=number,
                         description=f"Program stopped: unsupported semihosting "
                                     f"operation {op:#04x}.")

    # ------------------------------------------------------------------ guest memory

    @staticmethod
    def _check_mapped(machine: Machine, address: int, size: int) -> None:
        # Checked before reading so that a wild length (say 0xffffffff) faults instead of
        # making the host allocate gigabytes for a buffer that cannot exist.
        end = address + size
        if end > 1 << 32:
            raise MemoryAccessError(max(address, 0xFFFFFFFF))
        a = address
        while a < end:
            region = machine.region_of(a)
            if region is None:
                raise MemoryAccessError(a)
            a = region.end

    def _read(self, machine: Machine, address: int, size: int) -> bytes:
        self._check_mapped(machine, address, size)
        return machine.read_memory(address, size)

    @staticmethod
    def _words(machine: Machine, address: int, count: int) -> tuple[int, ...]:
        return struct.unpack(f"<{count}I", machine.read_memory(address, 4 * count))

    @staticmethod
    def _cstring(machine: Machine, address: int) -> bytes:
        out = bytearray()
        a = address
        while len(out) < MAX_STRING:
            region = machine.region_of(a)
            if region is None:
                raise MemoryAccessError(a)
            chunk = machine.read_memory(a, min(256, region.end - a))
            nul = chunk.find(0)
            if nul >= 0:
                return bytes(out + chunk[:nul])
            out += chunk
            a += len(chunk)
        raise _GuestError(E2BIG)

    def _name(self, machine: Machine, address: int, length: int) -> bytes:
        # The spec passes the length (without the NUL); the NUL is not relied upon.
        if length > MAX_PATH:
            raise _GuestError(ENAMETOOLONG)
        return self._read(machine, address, length)

    def _host_path(self, raw: bytes) -> Path:
        if not raw:
            raise _GuestError(ENOENT)
        if b"\0" in raw:
            raise _GuestError(EINVAL)
        path = Path(os.fsdecode(raw))
        return path if path.is_absolute() else self.cwd / path

    def _file(self, handle: int) -> GuestFile:
        f = self.handles.get(handle)
        if f is None:
            raise _GuestError(EBADF)
        return f

    def _new_handle(self, f: GuestFile) -> int:
        # Lowest free number from 1: the spec wants non-zero handles, and newlib treats
        # only -1 as failure.
        for handle in range(1, MAX_HANDLES + 1):
            if handle not in self.handles:
                self.handles[handle] = f
                return handle
        f.close()
        raise _GuestError(EMFILE)

    # ------------------------------------------------------------------ files

    def _sys_open(self, machine: Machine, block: int) -> int:
        name_ptr, mode, length = self._words(machine, block, 3)
        name = self._name(machine, name_ptr, length)
        if mode >= len(OPEN_MODES):
            raise _GuestError(EINVAL)
        if name == b":tt":
            # With STDOUT_STDERR the mode picks the stream: read, write, append.
            stream = ("stdin", "stdout", "stderr")[mode // 4]
            return self._new_handle(ConsoleFile(self, stream))
        if name == b":semihosting-features":
            if mode not in (0, 1):  # the spec: only "r"/"rb" may open it
                raise _GuestError(EACCES)
            return self._new_handle(StaticFile(":semihosting-features", FEATURES_FILE))
        path = self._host_path(name)
        try:
            f = HostFile(path, mode)
        except (OSError, ValueError) as err:
            raise _GuestError(guest_errno(err)) from None
        return self._new_handle(f)

    def _sys_close(self, machine: Machine, block: int) -> int:
        (handle,) = self._words(machine, block, 1)
        f = self._file(handle)
        del self.handles[handle]
        try:
            f.close()
        except OSError as err:
            raise _GuestError(guest_errno(err)) from None
        return 0

    def _sys_write(self, machine: Machine, block: int) -> int:
        handle, buffer, length = self._words(machine, block, 3)
        # Errors here still answer "bytes not written" (all of them), as QEMU does;
        # newlib fetches errno whenever the count is not 0.
        try:
            f = self._file(handle)
            data = self._read(machine, buffer, length)
            written = f.write(data)
        except _GuestError as err:
            self.errno = err.errno
            return length
        except MemoryAccessError:
            self.errno = EFAULT
            return length
        except (OSError, ValueError) as err:
            self.errno = guest_errno(err)
            return length
        return length - written

    def _sys_read(self, machine: Machine, block: int) -> int:
        handle, buffer, length = self._words(machine, block, 3)
        try:
            f = self._file(handle)
            # The destination is checked first so nothing is consumed from the file
            # for a buffer that cannot take it.
            self._check_mapped(machine, buffer, length)
            data = f.read(length)
            if data:  # Machine.write_memory(x-region, b"") fails in ctl_remove_cache
                machine.write_memory(buffer, data)
        except _GuestError as err:
            self.errno = err.errno
            return length
        except MemoryAccessError:
            self.errno = EFAULT
            return length
        except (OSError, ValueError) as err:
            self.errno = guest_errno(err)
            return length
        return length - len(data)

    def _sys_istty(self, machine: Machine, block: int) -> int:
        (handle,) = self._words(machine, block, 1)
        return int(self._file(handle).tty)

    def _sys_seek(self, machine: Machine, block: int) -> int:
        handle, position = self._words(machine, block, 2)
        try:
            self._file(handle).seek(position)
        except (OSError, ValueError) as err:
            raise _GuestError(guest_errno(err)) from None
        return 0

    def _sys_flen(self, machine: Machine, block: int) -> int:
        (handle,) = self._words(machine, block, 1)
        try:
            return self._file(handle).length()
        except (OSError, ValueError) as err:
            raise _GuestError(guest_errno(err)) from None

    def _sys_tmpnam(self, machine: Machine, block: int) -> int:
        buffer, identifier, size = self._words(machine, block, 3)
        name = os.fsencode(os.path.join(tempfile.gettempdir(),
                                        f"armdbg-{os.getpid():x}-{identifier & 0xFF:02x}"))
        if len(name) + 1 > size:
            raise _GuestError(E2BIG)
        machine.write_memory(buffer, name + b"\0")
        return 0

    def _sys_remove(self, machine: Machine, block: int) -> int:
        name_ptr, length = self._words(machine, block, 2)
        path = self._host_path(self._name(machine, name_ptr, length))
        try:
            os.remove(path)
        except OSError as err:
            raise _GuestError(guest_errno(err)) from None
        return 0

    def _sys_rename(self, machine: Machine, block: int) -> int:
        old_ptr, old_length, new_ptr, new_length = self._words(machine, block, 4)
        old = self._host_path(self._name(machine, old_ptr, old_length))
        new = self._host_path(self._name(machine, new_ptr, new_length))
        try:
            os.rename(old, new)
        except OSError as err:
            raise _GuestError(guest_errno(err)) from None
        return 0

    # ------------------------------------------------------------------ console

    def _sys_writec(self, machine: Machine, address: int) -> None:
        self.emit(machine.read_memory(address, 1))

    def _sys_write0(self, machine: Machine, address: int) -> None:
        self.emit(self._cstring(machine, address))

    def _sys_readc(self, machine: Machine, _arg: int) -> int:
        data = self.console.read(1)
        return data[0] if data else -1  # -1 at end of input: the spec names no value

    # ------------------------------------------------------------------ misc

    def _sys_iserror(self, machine: Machine, block: int) -> int:
        (status,) = self._words(machine, block, 1)
        return int(status >= 0x80000000)  # any negative value is an error

    def _sys_clock(self, machine: Machine, _arg: int) -> int:
        return int((self.monotonic() - self.start_time) * 100) & 0x7FFFFFFF

    def _sys_time(self, machine: Machine, _arg: int) -> int:
        return int(self.wall_time())

    def _sys_elapsed(self, machine: Machine, address: int) -> int:
        ticks = int((self.monotonic() - self.start_time) * TICK_FREQUENCY)
        machine.write_memory(address, struct.pack("<Q", ticks & 0xFFFFFFFFFFFFFFFF))
        return 0

    def _sys_tickfreq(self, machine: Machine, _arg: int) -> int:
        return TICK_FREQUENCY

    def _sys_system(self, machine: Machine, _block: int) -> int:
        # Never run host commands for the program; gdb's File-I/O refuses system() the
        # same way (-1, EPERM) unless explicitly allowed.
        raise _GuestError(EPERM)

    def _sys_errno(self, machine: Machine, _arg: int) -> int:
        return self.errno

    def _sys_get_cmdline(self, machine: Machine, block: int) -> int:
        buffer, size = self._words(machine, block, 2)
        data = self.cmdline.encode()
        if len(data) + 1 > size:
            raise _GuestError(E2BIG)
        machine.write_memory(buffer, data + b"\0")
        machine.write_u32(block + 4, len(data))
        return 0

    def _sys_heapinfo(self, machine: Machine, pointer: int) -> int:
        block = machine.read_u32(pointer)
        machine.write_memory(block, struct.pack(
            "<4I", self.heap_base & 0xFFFFFFFF, self.heap_limit & 0xFFFFFFFF,
            self.stack_base & 0xFFFFFFFF, self.stack_limit & 0xFFFFFFFF))
        return 0

    # ------------------------------------------------------------------ exit

    def _exited(self, machine: Machine, code: int) -> StopEvent:
        # The process is gone, and with it its open files (the console stays).
        self.close_all()
        return StopEvent(StopReason.EXITED, machine.pc, machine.thumb, exit_code=code,
                         description=exit_description(code))

    def _sys_exit(self, machine: Machine, reason: int) -> StopEvent:
        # AArch32 passes the reason itself, not a pointer, so there is no status: a
        # normal application exit is 0 and every other reason 1, as qemu-arm reports.
        return self._exited(machine, 0 if reason == ADP_STOPPED_APPLICATION_EXIT else 1)

    def _sys_exit_extended(self, machine: Machine, block: int) -> StopEvent:
        reason, subcode = self._words(machine, block, 2)
        if reason != ADP_STOPPED_APPLICATION_EXIT:
            return self._exited(machine, 1)
        # A host process status keeps 8 bits: exit(-1) is seen as 255, as under qemu.
        return self._exited(machine, subcode & 0xFF)
