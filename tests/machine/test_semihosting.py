"""ARM semihosting: small ARM and Thumb programs issue the SVCs; exact results checked."""

from __future__ import annotations

import errno
import os
import struct
import tempfile
from pathlib import Path

import pytest

from armdbg.isa.asm import assemble
from armdbg.machine.layout import STACK_TOP, TEXT_BASE
from armdbg.machine.machine import Machine
from armdbg.machine.semihosting import (
    ADP_STOPPED_APPLICATION_EXIT,
    FEATURES_FILE,
    TICK_FREQUENCY,
    Op,
    Semihosting,
    exit_description,
    guest_errno,
)
from armdbg.machine.stops import StopEvent, StopReason

DATA = 0x80200000
UNMAPPED = 0x00001000
MINUS_ONE = 0xFFFFFFFF

# newlib's errno numbers, which the guest sees.
G_EPERM, G_ENOENT, G_EBADF, G_EACCES, G_EFAULT, G_E2BIG, G_ESPIPE = 1, 2, 9, 13, 14, 7, 29


class FakeConsole:
    def __init__(self, stdin: bytes = b"") -> None:
        self.out = bytearray()
        self.stdin = bytearray(stdin)

    def write(self, data: bytes) -> None:
        self.out += data

    def read(self, size: int) -> bytes:
        data = bytes(self.stdin[:size])
        del self.stdin[:size]
        return data


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def console() -> FakeConsole:
    return FakeConsole()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def sh(console: FakeConsole, tmp_path: Path, clock: FakeClock) -> Semihosting:
    return Semihosting(console, tmp_path, "prog alpha beta", monotonic=clock,
                       wall_time=lambda: 1_700_000_000.75)


@pytest.fixture
def machine(sh: Semihosting) -> Machine:
    m = Machine()
    sh.install(m)
    return m


def svc(thumb: bool) -> str:
    return "svc #0xab" if thumb else "svc #0x123456"


def run_code(machine: Machine, text: str, thumb: bool) -> StopEvent:
    """Assemble ``text`` at the kernel text address and run it to its end."""
    code = assemble(text, TEXT_BASE, thumb)
    machine.write_memory(TEXT_BASE, code)
    machine.set_pc(TEXT_BASE, thumb)
    return machine.run(until=TEXT_BASE + len(code), timeout=10)


def call(machine: Machine, op: int, r1: int, *, thumb: bool = False) -> StopEvent:
    """One semihosting call: r0 = op, r1 = r1, then the SVC."""
    text = (f"movw r0, #{op:#x}; movw r1, #{r1 & 0xFFFF:#x}; movt r1, #{r1 >> 16:#x}; "
            f"{svc(thumb)}")
    return run_code(machine, text, thumb)


def r0(machine: Machine) -> int:
    return machine.read_register("r0")


def call_r0(machine: Machine, op: int, r1: int, *, thumb: bool = False) -> int:
    stop = call(machine, op, r1, thumb=thumb)
    assert stop.reason is StopReason.UNTIL, stop
    return r0(machine)


def put(machine: Machine, address: int, *words: int) -> int:
    machine.write_memory(address, struct.pack(f"<{len(words)}I", *words))
    return address


def put_string(machine: Machine, address: int, text: bytes) -> int:
    machine.write_memory(address, text + b"\0")
    return address


def sys_errno(machine: Machine, thumb: bool = False) -> int:
    return call_r0(machine, Op.SYS_ERRNO, 0, thumb=thumb)


def open_file(machine: Machine, name: bytes, mode: int, *, thumb: bool = False) -> int:
    put_string(machine, DATA + 0x800, name)
    block = put(machine, DATA + 0x900, DATA + 0x800, mode, len(name))
    return call_r0(machine, Op.SYS_OPEN, block, thumb=thumb)


# ---------------------------------------------------------------------- console output


@pytest.mark.parametrize("thumb", [False, True])
def test_write0_and_writec(machine: Machine, console: FakeConsole, thumb: bool) -> None:
    put_string(machine, DATA, b"Hello, world\n")
    assert call(machine, Op.SYS_WRITE0, DATA, thumb=thumb).reason is StopReason.UNTIL
    machine.write_memory(DATA + 0x40, b"!")
    assert call(machine, Op.SYS_WRITEC, DATA + 0x40, thumb=thumb).reason is StopReason.UNTIL
    assert bytes(console.out) == b"Hello, world\n!"


def test_write0_longer_than_a_page(machine: Machine, console: FakeConsole) -> None:
    text = bytes(range(1, 256)) * 20
    put_string(machine, DATA, text)
    call(machine, Op.SYS_WRITE0, DATA)
    assert bytes(console.out) == text


@pytest.mark.parametrize("thumb", [False, True])
def test_tt_stdout_and_stderr(machine: Machine, sh: Semihosting, console: FakeConsole,
                              thumb: bool) -> None:
    stdin = open_file(machine, b":tt", 0, thumb=thumb)
    stdout = open_file(machine, b":tt", 4, thumb=thumb)
    stderr = open_file(machine, b":tt", 8, thumb=thumb)
    assert (stdin, stdout, stderr) == (1, 2, 3)
    assert sh.open_handles() == {1: ":tt (stdin)", 2: ":tt (stdout)", 3: ":tt (stderr)"}
    machine.write_memory(DATA + 0x100, b"out line\nerr line\n")
    put(machine, DATA, stdout, DATA + 0x100, 9)
    assert call_r0(machine, Op.SYS_WRITE, DATA, thumb=thumb) == 0
    put(machine, DATA, stderr, DATA + 0x109, 9)
    assert call_r0(machine, Op.SYS_WRITE, DATA, thumb=thumb) == 0
    assert bytes(console.out) == b"out line\nerr line\n"
    # newlib's fstat() on stdout: a length of 0 and a tty, so stdout is line-buffered.
    put(machine, DATA, stdout)
    assert call_r0(machine, Op.SYS_FLEN, DATA, thumb=thumb) == 0
    assert call_r0(machine, Op.SYS_ISTTY, DATA, thumb=thumb) == 1
    put(machine, DATA, stdout, 0)
    assert call_r0(machine, Op.SYS_SEEK, DATA, thumb=thumb) == MINUS_ONE
    assert sys_errno(machine, thumb) == G_ESPIPE
    put(machine, DATA, stdout)
    assert call_r0(machine, Op.SYS_CLOSE, DATA, thumb=thumb) == 0
    assert sh.open_handles() == {1: ":tt (stdin)", 3: ":tt (stderr)"}
    assert call_r0(machine, Op.SYS_CLOSE, DATA, thumb=thumb) == MINUS_ONE
    assert sys_errno(machine, thumb) == G_EBADF


def test_stdin_read_and_readc(machine: Machine, console: FakeConsole) -> None:
    console.stdin += b"abcXY"
    stdin = open_file(machine, b":tt", 0)
    machine.write_memory(DATA + 0x100, b"\xee" * 8)
    put(machine, DATA, stdin, DATA + 0x100, 3)
    assert call_r0(machine, Op.SYS_READ, DATA) == 0
    assert call_r0(machine, Op.SYS_READC, 0) == ord("X")
    put(machine, DATA, stdin, DATA + 0x103, 8)
    assert call_r0(machine, Op.SYS_READ, DATA) == 7  # one byte read, seven not
    assert machine.read_memory(DATA + 0x100, 8) == b"abcY\xee\xee\xee\xee"
    assert call_r0(machine, Op.SYS_READC, 0) == MINUS_ONE  # end of input


# ---------------------------------------------------------------------- features file


@pytest.mark.parametrize("thumb", [False, True])
def test_semihosting_features_file(machine: Machine, thumb: bool) -> None:
    handle = open_file(machine, b":semihosting-features", 0, thumb=thumb)
    assert handle == 1
    put(machine, DATA, handle)
    assert call_r0(machine, Op.SYS_FLEN, DATA, thumb=thumb) == 5
    assert call_r0(machine, Op.SYS_ISTTY, DATA, thumb=thumb) == 0
    # As newlib does it: the magic, a seek to 4, then the feature byte.
    put(machine, DATA + 0x10, handle, DATA + 0x100, 4)
    assert call_r0(machine, Op.SYS_READ, DATA + 0x10, thumb=thumb) == 0
    put(machine, DATA + 0x20, handle, 4)
    assert call_r0(machine, Op.SYS_SEEK, DATA + 0x20, thumb=thumb) == 0
    put(machine, DATA + 0x10, handle, DATA + 0x104, 1)
    assert call_r0(machine, Op.SYS_READ, DATA + 0x10, thumb=thumb) == 0
    assert machine.read_memory(DATA + 0x100, 5) == b"SHFB\x03" == FEATURES_FILE
    put(machine, DATA + 0x10, handle, DATA + 0x100, 16)
    assert call_r0(machine, Op.SYS_READ, DATA + 0x10, thumb=thumb) == 16  # at EOF
    # It is read-only: a write transfers nothing.
    put(machine, DATA + 0x10, handle, DATA + 0x100, 4)
    assert call_r0(machine, Op.SYS_WRITE, DATA + 0x10, thumb=thumb) == 4
    assert sys_errno(machine, thumb) == G_EBADF
    assert call_r0(machine, Op.SYS_CLOSE, DATA, thumb=thumb) == 0


def test_semihosting_features_refuses_write_modes(machine: Machine) -> None:
    assert open_file(machine, b":semihosting-features", 4) == MINUS_ONE
    assert sys_errno(machine) == G_EACCES
    assert open_file(machine, b":semihosting-features", 1) == 1


# ---------------------------------------------------------------------- real files


ROUND_TRIP = """
    movw r4, #0x0100
    movt r4, #0x8020          @ r4: results
    movw r5, #0x0000
    movt r5, #0x8020          @ r5: data (name at +0, payload at +0x10, blocks at +0x40..)
    mov r0, #4
    str r0, [r5, #0x44]       @ open "w"
    mov r0, #1
    add r1, r5, #0x40
    SVC
    str r0, [r4, #0]
    str r0, [r5, #0x50]
    str r0, [r5, #0x70]
    add r1, r5, #0x10
    str r1, [r5, #0x54]
    mov r1, #12
    str r1, [r5, #0x58]
    mov r0, #5                @ write 12 bytes
    add r1, r5, #0x50
    SVC
    str r0, [r4, #4]
    mov r0, #2                @ close
    add r1, r5, #0x70
    SVC
    str r0, [r4, #8]
    mov r0, #0
    str r0, [r5, #0x44]       @ open "r"
    mov r0, #1
    add r1, r5, #0x40
    SVC
    str r0, [r4, #12]
    str r0, [r5, #0x50]
    str r0, [r5, #0x60]
    str r0, [r5, #0x70]
    mov r0, #0x0c             @ flen
    add r1, r5, #0x70
    SVC
    str r0, [r4, #16]
    add r1, r5, #0x200
    str r1, [r5, #0x54]
    mov r1, #32
    str r1, [r5, #0x58]
    mov r0, #6                @ read 32 (12 there)
    add r1, r5, #0x50
    SVC
    str r0, [r4, #20]
    mov r1, #7
    str r1, [r5, #0x64]
    mov r0, #0x0a             @ seek to 7
    add r1, r5, #0x60
    SVC
    str r0, [r4, #24]
    add r1, r5, #0x220
    str r1, [r5, #0x54]
    mov r1, #4
    str r1, [r5, #0x58]
    mov r0, #6                @ read 4
    add r1, r5, #0x50
    SVC
    str r0, [r4, #28]
    add r1, r5, #0x230
    str r1, [r5, #0x54]
    mov r0, #6                @ read 4 more: only 1 left
    add r1, r5, #0x50
    SVC
    str r0, [r4, #32]
    mov r0, #2                @ close
    add r1, r5, #0x70
    SVC
    str r0, [r4, #36]
"""


@pytest.mark.parametrize("thumb", [False, True])
def test_real_file_round_trip(machine: Machine, sh: Semihosting, tmp_path: Path,
                              thumb: bool) -> None:
    put_string(machine, DATA, b"rt.txt")
    machine.write_memory(DATA + 0x10, b"hello, file\n")
    put(machine, DATA + 0x40, DATA, 0, 6)
    machine.write_memory(DATA + 0x200, b"\xee" * 0x40)
    stop = run_code(machine, ROUND_TRIP.replace("SVC", svc(thumb)), thumb)
    assert stop.reason is StopReason.UNTIL, stop
    results = struct.unpack("<10I", machine.read_memory(DATA + 0x100, 40))
    assert results == (1, 0, 0, 1, 12, 20, 0, 0, 3, 0)
    assert machine.read_memory(DATA + 0x200, 13) == b"hello, file\n\xee"
    assert machine.read_memory(DATA + 0x220, 5) == b"file\xee"
    assert machine.read_memory(DATA + 0x230, 2) == b"\n\xee"
    assert (tmp_path / "rt.txt").read_bytes() == b"hello, file\n"
    assert sh.open_handles() == {}


def test_written_data_reaches_disk_before_close(machine: Machine, tmp_path: Path) -> None:
    handle = open_file(machine, b"out.bin", 5)  # "wb"
    machine.write_memory(DATA + 0x100, b"\x00\x01\x02\xff")
    put(machine, DATA, handle, DATA + 0x100, 4)
    assert call_r0(machine, Op.SYS_WRITE, DATA) == 0
    assert (tmp_path / "out.bin").read_bytes() == b"\x00\x01\x02\xff"


@pytest.mark.parametrize(("mode", "expected"), [
    (0, None), (2, b"XYcdef"), (4, b"XY"), (6, b"XY"), (8, b"abcdefXY"), (10, b"abcdefXY"),
])
def test_open_modes(machine: Machine, tmp_path: Path, mode: int,
                    expected: bytes | None) -> None:
    (tmp_path / "f.txt").write_bytes(b"abcdef")
    handle = open_file(machine, b"f.txt", mode)
    assert handle == 1
    machine.write_memory(DATA + 0x100, b"XY")
    put(machine, DATA, handle, DATA + 0x100, 2)
    not_written = call_r0(machine, Op.SYS_WRITE, DATA)
    if expected is None:  # opened "r": nothing can be written
        assert not_written == 2
        assert sys_errno(machine) == G_EBADF
        expected = b"abcdef"
    else:
        assert not_written == 0
    assert (tmp_path / "f.txt").read_bytes() == expected


def test_open_missing_file_and_bad_mode(machine: Machine, sh: Semihosting) -> None:
    assert open_file(machine, b"no-such-file", 0) == MINUS_ONE
    assert sys_errno(machine) == G_ENOENT
    assert open_file(machine, b"x", 12) == MINUS_ONE
    assert sh.errno == 22
    assert open_file(machine, b"", 4) == MINUS_ONE
    assert sh.errno == G_ENOENT


def test_open_absolute_path(machine: Machine, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "abs.txt"
    path.parent.mkdir()
    path.write_bytes(b"12345")
    handle = open_file(machine, os.fsencode(path), 0)
    put(machine, DATA, handle)
    assert call_r0(machine, Op.SYS_FLEN, DATA) == 5


def test_handles_are_reused_lowest_first(machine: Machine, sh: Semihosting) -> None:
    assert [open_file(machine, b":tt", 4) for _ in range(3)] == [1, 2, 3]
    put(machine, DATA, 2)
    assert call_r0(machine, Op.SYS_CLOSE, DATA) == 0
    assert open_file(machine, b":tt", 4) == 2


def test_close_all_closes_host_files(machine: Machine, sh: Semihosting) -> None:
    open_file(machine, b"a.txt", 4)
    open_file(machine, b":tt", 4)
    files = [f.file for f in sh.handles.values() if hasattr(f, "file")]
    assert len(files) == 1 and not files[0].closed
    sh.close_all()
    assert files[0].closed
    assert sh.open_handles() == {}
    assert open_file(machine, b":tt", 4) == 1


def test_istty_remove_rename(machine: Machine, tmp_path: Path) -> None:
    handle = open_file(machine, b"old.txt", 4)
    put(machine, DATA, handle)
    assert call_r0(machine, Op.SYS_ISTTY, DATA) == 0
    assert call_r0(machine, Op.SYS_CLOSE, DATA) == 0
    assert call_r0(machine, Op.SYS_ISTTY, DATA) == MINUS_ONE
    assert sys_errno(machine) == G_EBADF

    put_string(machine, DATA + 0x100, b"old.txt")
    put_string(machine, DATA + 0x110, b"new.txt")
    put(machine, DATA, DATA + 0x100, 7, DATA + 0x110, 7)
    assert call_r0(machine, Op.SYS_RENAME, DATA) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.txt"]
    assert call_r0(machine, Op.SYS_RENAME, DATA) == MINUS_ONE
    assert sys_errno(machine) == G_ENOENT

    put(machine, DATA, DATA + 0x110, 7)
    assert call_r0(machine, Op.SYS_REMOVE, DATA) == 0
    assert list(tmp_path.iterdir()) == []
    assert call_r0(machine, Op.SYS_REMOVE, DATA) == MINUS_ONE
    assert sys_errno(machine) == G_ENOENT


def test_tmpnam(machine: Machine) -> None:
    put(machine, DATA, DATA + 0x100, 0x1A5, 256)
    assert call_r0(machine, Op.SYS_TMPNAM, DATA) == 0
    expected = os.path.join(tempfile.gettempdir(), f"armdbg-{os.getpid():x}-a5").encode()
    assert machine.read_memory(DATA + 0x100, len(expected) + 1) == expected + b"\0"
    put(machine, DATA, DATA + 0x300, 1, 4)
    assert call_r0(machine, Op.SYS_TMPNAM, DATA) == MINUS_ONE


# ---------------------------------------------------------------------- misc operations


def test_heapinfo(machine: Machine, sh: Semihosting) -> None:
    put(machine, DATA, DATA + 0x10)
    machine.write_memory(DATA + 0x10, b"\xee" * 20)
    sh.set_heap_info(0x80300000, 0x80400000, 0x80410000, 0x80400000)
    assert call_r0(machine, Op.SYS_HEAPINFO, DATA) == 0
    assert struct.unpack("<5I", machine.read_memory(DATA + 0x10, 20)) == (
        0x80300000, 0x80400000, 0x80410000, 0x80400000, 0xEEEEEEEE)
    assert machine.read_u32(DATA) == DATA + 0x10  # the pointer itself is left alone
    sh.heap_base = 0x00012345  # as the ELF loader does: just after the image
    call(machine, Op.SYS_HEAPINFO, DATA, thumb=True)
    assert machine.read_u32(DATA + 0x10) == 0x00012345


@pytest.mark.parametrize("thumb", [False, True])
def test_get_cmdline(machine: Machine, sh: Semihosting, thumb: bool) -> None:
    machine.write_memory(DATA + 0x100, b"\xee" * 32)
    put(machine, DATA, DATA + 0x100, 32)
    assert call_r0(machine, Op.SYS_GET_CMDLINE, DATA, thumb=thumb) == 0
    assert machine.read_memory(DATA + 0x100, 17) == b"prog alpha beta\0\xee"
    assert struct.unpack("<2I", machine.read_memory(DATA, 8)) == (DATA + 0x100, 15)


def test_get_cmdline_too_small(machine: Machine, sh: Semihosting) -> None:
    machine.write_memory(DATA + 0x100, b"\xee" * 32)
    put(machine, DATA, DATA + 0x100, 15)  # no room for the NUL
    assert call_r0(machine, Op.SYS_GET_CMDLINE, DATA) == MINUS_ONE
    assert sys_errno(machine) == G_E2BIG
    assert machine.read_memory(DATA + 0x100, 32) == b"\xee" * 32
    assert machine.read_u32(DATA + 4) == 15
    sh.cmdline = "p"
    assert call_r0(machine, Op.SYS_GET_CMDLINE, DATA) == 0
    assert machine.read_memory(DATA + 0x100, 3) == b"p\0\xee"
    assert machine.read_u32(DATA + 4) == 1


def test_clock_time_elapsed(machine: Machine, sh: Semihosting, clock: FakeClock) -> None:
    assert call_r0(machine, Op.SYS_CLOCK, 0) == 0
    clock.now += 2.345
    assert call_r0(machine, Op.SYS_CLOCK, 0) == 234
    assert call_r0(machine, Op.SYS_TIME, 0) == 1_700_000_000
    assert call_r0(machine, Op.SYS_TICKFREQ, 0) == TICK_FREQUENCY == 1_000_000_000
    clock.now = 1000.0 + 5.5
    assert call_r0(machine, Op.SYS_ELAPSED, DATA) == 0
    assert struct.unpack("<Q", machine.read_memory(DATA, 8)) == (5_500_000_000,)
    sh.reset()
    assert call_r0(machine, Op.SYS_CLOCK, 0) == 0


def test_iserror(machine: Machine) -> None:
    for status, expected in ((0, 0), (5, 0), (MINUS_ONE, 1), (0x80000000, 1)):
        put(machine, DATA, status)
        assert call_r0(machine, Op.SYS_ISERROR, DATA) == expected


def test_system_is_refused(machine: Machine, tmp_path: Path) -> None:
    command = f"touch {tmp_path / 'ran'}".encode()
    put_string(machine, DATA + 0x100, command)
    put(machine, DATA, DATA + 0x100, len(command))
    assert call_r0(machine, Op.SYS_SYSTEM, DATA) == MINUS_ONE
    assert sys_errno(machine) == G_EPERM
    assert not (tmp_path / "ran").exists()


# ---------------------------------------------------------------------- exit


@pytest.mark.parametrize("thumb", [False, True])
def test_exit_application_exit(machine: Machine, thumb: bool) -> None:
    stop = call(machine, Op.SYS_EXIT, ADP_STOPPED_APPLICATION_EXIT, thumb=thumb)
    assert stop.reason is StopReason.EXITED
    assert stop.exit_code == 0
    assert stop.description == "[Inferior 1 (process 1) exited normally]"
    assert not stop.running
    assert stop.thumb is thumb


def test_exit_other_reason_is_status_1(machine: Machine) -> None:
    stop = call(machine, Op.SYS_EXIT, 0x20023)  # ADP_Stopped_RunTimeErrorUnknown
    assert (stop.reason, stop.exit_code) == (StopReason.EXITED, 1)
    assert stop.description == "[Inferior 1 (process 1) exited with code 01]"


@pytest.mark.parametrize(("reason", "subcode", "code", "description"), [
    (ADP_STOPPED_APPLICATION_EXIT, 0, 0, "[Inferior 1 (process 1) exited normally]"),
    (ADP_STOPPED_APPLICATION_EXIT, 3, 3, "[Inferior 1 (process 1) exited with code 03]"),
    (ADP_STOPPED_APPLICATION_EXIT, 42, 42, "[Inferior 1 (process 1) exited with code 052]"),
    (ADP_STOPPED_APPLICATION_EXIT, MINUS_ONE, 255,
     "[Inferior 1 (process 1) exited with code 0377]"),
    (0x20023, 42, 1, "[Inferior 1 (process 1) exited with code 01]"),
])
@pytest.mark.parametrize("thumb", [False, True])
def test_exit_extended(machine: Machine, reason: int, subcode: int, code: int,
                       description: str, thumb: bool) -> None:
    put(machine, DATA, reason, subcode)
    stop = call(machine, Op.SYS_EXIT_EXTENDED, DATA, thumb=thumb)
    assert (stop.reason, stop.exit_code, stop.description) == (
        StopReason.EXITED, code, description)


def test_exit_closes_files(machine: Machine, sh: Semihosting) -> None:
    open_file(machine, b"left-open.txt", 4)
    assert len(sh.open_handles()) == 1
    call(machine, Op.SYS_EXIT, ADP_STOPPED_APPLICATION_EXIT)
    assert sh.open_handles() == {}


def test_exit_description_is_octal() -> None:
    assert exit_description(8) == "[Inferior 1 (process 1) exited with code 010]"
    assert exit_description(1) == "[Inferior 1 (process 1) exited with code 01]"


def test_step_over_semihosting_svc(machine: Machine, console: FakeConsole) -> None:
    put_string(machine, DATA, b"x")
    code = assemble(f"movw r0, #4; movw r1, #0; movt r1, #0x8020; {svc(False)}; nop",
                    TEXT_BASE, False)
    machine.write_memory(TEXT_BASE, code)
    machine.set_pc(TEXT_BASE, False)
    for _ in range(3):
        assert machine.step().reason is StopReason.STEP
    stop = machine.step()
    assert (stop.reason, stop.pc) == (StopReason.STEP, TEXT_BASE + 16)
    assert bytes(console.out) == b"x"
    put(machine, DATA, ADP_STOPPED_APPLICATION_EXIT, 7)
    machine.write_register("r0", Op.SYS_EXIT_EXTENDED)
    machine.write_register("r1", DATA)
    machine.set_pc(TEXT_BASE + 12, False)
    stop = machine.step()
    assert (stop.reason, stop.exit_code) == (StopReason.EXITED, 7)


# ---------------------------------------------------------------------- bad requests


@pytest.mark.parametrize("thumb", [False, True])
def test_unknown_operation_stops_at_the_svc(machine: Machine, thumb: bool) -> None:
    stop = call(machine, 0x99, 0, thumb=thumb)
    svc_at = TEXT_BASE + 12  # after movw/movw/movt, 4 bytes each in both states
    assert stop.reason is StopReason.SVC
    assert stop.description == "Program stopped: unsupported semihosting operation 0x99."
    assert (stop.pc, machine.pc, stop.thumb) == (svc_at, svc_at, thumb)
    assert stop.svc_number == (0xAB if thumb else 0x123456)
    assert r0(machine) == 0x99


def test_other_svc_numbers_are_declined(machine: Machine, sh: Semihosting) -> None:
    stop = run_code(machine, "movw r0, #0x18; mov r1, #0; svc #0x42", False)
    assert (stop.reason, stop.svc_number, stop.pc) == (StopReason.SVC, 0x42, TEXT_BASE + 8)
    assert stop.description == "Program stopped: unhandled SVC 0x42."
    assert r0(machine) == 0x18
    # The Thumb number in ARM state is not semihosting either.
    stop = run_code(machine, "movw r0, #0x18; mov r1, #0; svc #0xab", False)
    assert (stop.reason, stop.svc_number) == (StopReason.SVC, 0xAB)
    assert not machine.thumb
    assert sh.handle_svc(machine, 0xAB) is False


def test_install_is_idempotent(machine: Machine, sh: Semihosting) -> None:
    sh.install(machine)
    assert machine.svc_handlers.count(sh.handle_svc) == 1
    sh.uninstall(machine)
    assert machine.svc_handlers == []


@pytest.mark.parametrize("thumb", [False, True])
def test_bad_parameter_block_is_efault(machine: Machine, thumb: bool) -> None:
    for op in (Op.SYS_OPEN, Op.SYS_CLOSE, Op.SYS_WRITE, Op.SYS_READ, Op.SYS_FLEN,
               Op.SYS_HEAPINFO, Op.SYS_GET_CMDLINE, Op.SYS_EXIT_EXTENDED, Op.SYS_WRITE0):
        stop = call(machine, op, UNMAPPED, thumb=thumb)
        assert stop.reason is StopReason.UNTIL, (op, stop)
        assert r0(machine) == MINUS_ONE, op
        assert sys_errno(machine, thumb) == G_EFAULT, op


def test_bad_buffers_transfer_nothing(machine: Machine, sh: Semihosting,
                                      console: FakeConsole, tmp_path: Path) -> None:
    stdout = open_file(machine, b":tt", 4)
    put(machine, DATA, stdout, UNMAPPED, 10)
    assert call_r0(machine, Op.SYS_WRITE, DATA) == 10
    assert sh.errno == G_EFAULT
    # A wild length is refused without the host trying to allocate 4 GiB.
    put(machine, DATA, stdout, DATA + 0x100, MINUS_ONE)
    assert call_r0(machine, Op.SYS_WRITE, DATA) == MINUS_ONE  # 0xffffffff not written
    assert console.out == b""
    (tmp_path / "in.txt").write_bytes(b"abc")
    handle = open_file(machine, b"in.txt", 0)
    put(machine, DATA, handle, STACK_TOP - 2, 4)  # runs off the end of mapped memory
    assert call_r0(machine, Op.SYS_READ, DATA) == 4
    assert sh.errno == G_EFAULT
    put(machine, DATA, handle, DATA + 0x100, 4)  # nothing was consumed by the failure
    assert call_r0(machine, Op.SYS_READ, DATA) == 1
    assert machine.read_memory(DATA + 0x100, 3) == b"abc"
    put(machine, DATA, handle, MINUS_ONE, MINUS_ONE)
    assert call_r0(machine, Op.SYS_READ, DATA) == MINUS_ONE
    assert sh.errno == G_EFAULT


def test_read_at_eof_into_code_region(machine: Machine, tmp_path: Path) -> None:
    # A zero-byte read must not write (even nothing) to memory.
    (tmp_path / "empty").write_bytes(b"")
    handle = open_file(machine, b"empty", 0)
    put(machine, DATA, handle, TEXT_BASE + 0x1000, 8)
    assert call_r0(machine, Op.SYS_READ, DATA) == 8


def test_guest_errno_uses_newlib_numbers() -> None:
    assert guest_errno(FileNotFoundError(errno.ENOENT, "x")) == 2
    assert guest_errno(OSError(errno.ENOSYS, "x")) == 88
    assert guest_errno(OSError(errno.ENAMETOOLONG, "x")) == 91
    assert guest_errno(OSError(errno.ENOTEMPTY, "x")) == 90
    assert guest_errno(OSError(None, "x")) == 5
    assert guest_errno(ValueError("embedded null byte")) == 22
