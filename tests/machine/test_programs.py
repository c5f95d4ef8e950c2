"""Whole programs: the C fixtures (ARM and Thumb builds) and the embedded demo.

Each fixture ELF runs to its semihosting exit in a Session; its console output must be
NAME.expected byte for byte and its exit status NAME.status (both produced by qemu-arm,
tests/fixtures/README.md).  When qemu-arm is installed, the -arm builds are also run
under it and compared with armdbg live.  ELF symbols are checked against a small
independent reader of the ELF symbol table (not pyelftools, which the loader uses).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from armdbg.machine.loaders import Program, demo_program, load_elf
from armdbg.machine.stops import StopReason
from armdbg.output import Output
from armdbg.session import Session

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROGRAMS = ("hello", "calls", "sort", "files", "exitcode")
ARGS = {"files": ["alpha", "beta"]}
ELVES = [f"{name}-{flavour}" for name in PROGRAMS for flavour in ("arm", "thumb")]


@dataclass
class Outcome:
    output: str
    exit_code: int | None
    stops: list[StopReason]


def run_program(program: Program, cwd: Path, args: list[str]) -> Outcome:
    out = Output()
    session = Session(out, cwd=cwd)
    session.program_args = list(args)
    session.load(program)
    stops = []
    for _ in range(100):
        stop = session.machine.run(timeout=120)
        stops.append(stop.reason)
        if stop.reason is StopReason.EXITED:
            return Outcome(out.text(), stop.exit_code, stops)
        assert stop.reason not in (StopReason.SIGNAL, StopReason.TIMEOUT, StopReason.SVC), \
            f"{program.name}: {stop.description} at {stop.pc:#x}"
    raise AssertionError(f"{program.name}: no exit after {stops}")


@pytest.mark.parametrize("elf", ELVES)
def test_fixture_output_and_exit_status(elf: str, tmp_path: Path) -> None:
    name = elf.rsplit("-", 1)[0]
    outcome = run_program(load_elf(FIXTURES / f"{elf}.elf"), tmp_path, ARGS.get(name, []))
    assert outcome.output == (FIXTURES / f"{name}.expected").read_text()
    assert outcome.exit_code == int((FIXTURES / f"{name}.status").read_text())
    if name == "files":
        # The program writes this file in its current directory and reads it back.
        assert (tmp_path / "fixture_out.txt").is_file()


QEMU = shutil.which("qemu-arm")


@pytest.mark.skipif(QEMU is None, reason="qemu-arm is not installed")
@pytest.mark.parametrize("name", PROGRAMS)
def test_fixture_matches_qemu(name: str, tmp_path: Path) -> None:
    elf = FIXTURES / f"{name}-arm.elf"
    args = ARGS.get(name, [])
    qemu_dir = tmp_path / "qemu"
    ours_dir = tmp_path / "armdbg"
    qemu_dir.mkdir()
    ours_dir.mkdir()
    assert QEMU is not None
    reference = subprocess.run([QEMU, str(elf), *args], cwd=qemu_dir, capture_output=True,
                               timeout=120, check=False)
    ours = run_program(load_elf(elf), ours_dir, args)
    assert ours.output == reference.stdout.decode()
    assert ours.exit_code == reference.returncode
    # Files the program left behind are the same too.
    assert sorted(p.name for p in ours_dir.iterdir()) == sorted(p.name for p in qemu_dir.iterdir())
    for path in qemu_dir.iterdir():
        assert (ours_dir / path.name).read_bytes() == path.read_bytes()


# ------------------------------------------------------------------ the demo

def demo_expectations() -> tuple[int, int]:
    """The demo's (calls, result) words, from its source's arithmetic, in Python."""
    mask = 0xFFFFFFFF
    checksum = 0
    for n in range(1000, 0, -1):                       # do_something(n) for n = 1000..1
        checksum = (checksum + ((3 * n) ^ 0x55)) & mask
    signed = checksum - (1 << 32) if checksum & 0x80000000 else checksum
    total = checksum + (5 + 100 if signed > 0 else 5 - 1)   # cond_first(5) after cmp r4, #0
    total += min(max(50, 0), 10)                     # thumb_clamp(50, 0, 10)
    # thumb_itblocks(3, 3): eq -> r0 = 4, r1 = 5; adds r0 = 9 (ne); ittet ne: r0 = 14,
    # r0 = 13, (skip), r2 = 13; cmp r0, #8: hi -> r0 = 1.
    total += 1
    total += 2 * 7                                   # far_function(7)
    return 1000, total & mask


def test_demo_runs_to_completion(tmp_path: Path) -> None:
    outcome = run_program(demo_program(), tmp_path, [])
    assert outcome.output == ("armdbg demo: calling do_something 1000 times\n"
                              "armdbg demo: done\n")
    assert outcome.exit_code == 0


def test_demo_result_words(tmp_path: Path) -> None:
    out = Output()
    session = Session(out, cwd=tmp_path)
    session.load_demo()
    stop = session.machine.run(timeout=60)
    assert stop.reason is StopReason.EXITED
    calls, result = demo_expectations()
    calls_at = session.symbols.lookup("calls")
    result_at = session.symbols.lookup("result")
    assert calls_at is not None and result_at is not None
    assert (calls_at.address, result_at.address) == (0x80200000, 0x80200004)
    assert session.machine.read_u32(calls_at.address) == calls
    assert session.machine.read_u32(result_at.address) == result


def test_demo_symbols() -> None:
    symbols = demo_program().symbols
    start = symbols.lookup("_start")
    clamp = symbols.lookup("thumb_clamp")
    far = symbols.lookup("far_function")
    assert start is not None and clamp is not None and far is not None
    assert (start.address, start.thumb, start.kind) == (0x80008000, False, "func")
    assert clamp.thumb and symbols.is_thumb_code(clamp.address + 2)
    assert far.address == 0x84000000 and far.size == 8 and not far.thumb
    assert symbols.symbolize(far.address + 4) == "far_function+4"


# ------------------------------------------------------------------ ELF symbols

@dataclass(frozen=True)
class RawSymbol:
    name: str
    value: int
    size: int
    kind: int        # STT_*
    shndx: int


STT_NOTYPE, STT_OBJECT, STT_FUNC = 0, 1, 2


def read_symtab(path: Path) -> list[RawSymbol]:
    """ELF32 little-endian .symtab, read with struct (System V ABI, ch. 4)."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 1 and data[5] == 1
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    sections = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize)
                for i in range(shnum)]
    out = []
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != 2:                                # SHT_SYMTAB
            continue
        strtab = sections[link]
        str_base = strtab[4]
        for index in range(size // entsize):
            st_name, value, st_size, info, _other, shndx = struct.unpack_from(
                "<IIIBBH", data, offset + index * entsize)
            end = data.index(b"\0", str_base + st_name)
            name = data[str_base + st_name:end].decode()
            out.append(RawSymbol(name, value, st_size, info & 0xF, shndx))
    return out


@pytest.mark.parametrize("elf", ELVES)
def test_function_symbols_sizes_and_thumb_bits(elf: str) -> None:
    path = FIXTURES / f"{elf}.elf"
    table = load_elf(path).symbols
    raw = [s for s in read_symtab(path) if s.kind == STT_FUNC and s.shndx != 0 and s.name]
    assert len(raw) > 50
    for sym in raw:
        found = [s for s in table.lookup_all(sym.name) if s.address == sym.value & ~1]
        assert found, sym.name
        assert found[0].size == sym.size and found[0].thumb == bool(sym.value & 1), sym.name
        assert found[0].kind == "func"


@pytest.mark.parametrize("elf", ELVES)
def test_thumb_state_from_mapping_symbols(elf: str) -> None:
    path = FIXTURES / f"{elf}.elf"
    table = load_elf(path).symbols
    raw = read_symtab(path)
    mapping = sorted((s.value, s.name[1]) for s in raw
                     if s.name[:2] in ("$a", "$t", "$d") and s.shndx != 0)
    functions = {s.name: s for s in raw if s.kind == STT_FUNC}
    # Every code mapping symbol inside a function decides the state of the code it
    # starts (outside every symbol the table answers None by design).
    ranges = [((s.value & ~1), (s.value & ~1) + s.size) for s in raw
              if s.kind == STT_FUNC and s.size]
    checked = 0
    for address, tag in mapping:
        inside = [hi for lo, hi in ranges if lo <= address < hi]
        if tag in "at" and inside:
            assert table.is_thumb_code(address) is (tag == "t"), hex(address)
            if address + 2 < min(inside):
                assert table.is_thumb_code(address + 2) is (tag == "t"), hex(address)
            checked += 1
    assert checked > 20
    # memcpy is ARM ($a) in every build; crt0's _start is Thumb in every build; main
    # follows the build flavour.
    memcpy = functions["memcpy"]
    assert table.is_thumb_code(memcpy.value + 8) is False
    assert table.is_thumb_code(functions["_start"].value & ~1) is True
    main = functions["main"]
    assert bool(main.value & 1) is elf.endswith("-thumb")
    assert table.is_thumb_code((main.value & ~1) + 4) is elf.endswith("-thumb")


@pytest.mark.parametrize("elf", ["calls-arm", "calls-thumb"])
def test_symbolize(elf: str) -> None:
    path = FIXTURES / f"{elf}.elf"
    table = load_elf(path).symbols
    functions = {s.name: s for s in read_symtab(path) if s.kind == STT_FUNC}
    for name in ("main", "gcd", "fib", "clamp"):
        start = functions[name].value & ~1
        size = functions[name].size
        assert table.symbolize(start) == name
        assert table.symbolize(start + 2) == f"{name}+2"
        assert table.symbolize(start + 12) == f"{name}+12"     # decimal, as gdb prints
        assert table.symbolize(start + size - 2) == f"{name}+{size - 2}"
        assert table.containing(start + 6).name == name       # type: ignore[union-attr]
    assert table.symbolize(0) is None
    assert table.symbolize(0x7FFF) is None                    # before the image
