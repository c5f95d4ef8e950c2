"""The emulated machine: one Unicorn ARM32 CPU with memory, traps and exact stepping.

Design constraints measured on unicorn 2.1.4 (see shared/reference/unicorn-notes.md):

* No hook runs on every instruction or block by default: such hooks make emulation
  about 200 times slower.  Breakpoints and probes are trap words (an undefined
  instruction) caught by the invalid-instruction hook, which costs nothing until hit.
  Interrupting a run uses ``emu_stop`` from another thread, never a per-instruction hook.
* ``emu_start`` takes Thumb state from bit 0 of the start address, not from CPSR.T
  (unicorn #391, PR #1801).  Every start goes through :meth:`Machine._start_address`.
* ``emu_start(count=1)`` at an IT instruction runs the whole IT block (unicorn #853,
  #1630), but ``until=`` stops at an exact address, inside a block too, with the IT bits
  of CPSR correct afterwards.  :meth:`Machine.step` therefore stops on the fall-through
  address, and uses ``count=1`` only for the instruction that branches away.
"""

from __future__ import annotations

import ctypes
import functools
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import unicorn
from unicorn import arm_const as A
from unicorn.unicorn_py3.unicorn import uclib as uc_lib

from armdbg.errors import MachineError, MemoryAccessError
from armdbg.isa.cpsr import F_BIT, I_BIT, MODE_SVC, T_BIT
from armdbg.isa.disasm import Instruction, decode_one, instruction_size, may_change_flow
from armdbg.isa.flow import next_pc
from armdbg.isa.itstate import CPSR_IT_MASK, current_condition, in_it_block, itstate_from_cpsr
from armdbg.machine.alignment import AlignmentCheck, data_abort_stop
from armdbg.machine.clock import Clock
from armdbg.machine.layout import DEFAULT_REGIONS, RegionSpec
from armdbg.machine.stops import StopEvent, StopReason
from armdbg.machine.traps import SERVICE, TrapClient, TrapClientEntry, TrapSite, TrapTable
from armdbg.machine.watchdog import Watchdog

REGISTER_IDS: dict[str, int] = {f"r{i}": getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)}
REGISTER_IDS.update(sp=A.UC_ARM_REG_SP, lr=A.UC_ARM_REG_LR, pc=A.UC_ARM_REG_PC,
                    cpsr=A.UC_ARM_REG_CPSR)
REGISTER_ALIASES = {"r13": "sp", "r14": "lr", "r15": "pc", "fp": "r11", "ip": "r12",
                    "sb": "r9", "sl": "r10"}
GENERAL_REGISTERS = tuple(f"r{i}" for i in range(13)) + ("sp", "lr", "pc", "cpsr")

# gdb's own ARM Linux breakpoint words (gdb/arm-linux-tdep.c): both permanently undefined.
GDB_ARM_BREAKPOINT = struct.pack("<I", 0xE7F001F0)
GDB_THUMB_BREAKPOINT = struct.pack("<H", 0xDE01)

# An address no instruction can have (odd, and not a Thumb start either since emu_start
# strips bit 0 before comparing): used as the "run forever" end of emu_start.
_NO_END = 0xFFFFFFFF

_PERMS = {"r": unicorn.UC_PROT_READ, "w": unicorn.UC_PROT_WRITE, "x": unicorn.UC_PROT_EXEC}

# Unicorn's interrupt numbers (qemu/target/arm/cpu.h EXCP_*).
_EXCP_SWI = 2
_EXCP_PREFETCH_ABORT = 3
_EXCP_DATA_ABORT = 4
_EXCP_BKPT = 7

SvcHandler = Callable[["Machine", int], "StopEvent | bool"]
# (access, address, size, value, cpsr): a memory hook as Unicorn calls it, with the CPSR
# of the accessing instruction (IT bits included, see Machine._add_access_hook).
AccessHandler = Callable[[int, int, int, int, int], None]

# Unicorn compares a bounded memory hook's range with the first byte of an access only,
# so a hook starts this many bytes early (the widest single access Unicorn reports is 8
# bytes: ldrd/strd and VFP doubles are split into words or doublewords) and accesses
# that do not overlap the range are filtered out.
_WIDEST_ACCESS = 8


@dataclass(frozen=True)
class MemoryAccess:
    """One guest access seen by a bounded memory hook (see Machine.add_memory_hook).

    The hook runs before the access takes effect: ``value`` is what a write is about to
    store.  ``pc`` is the accessing instruction and ``cpsr`` the CPSR of that moment,
    IT bits included (a non-zero ITSTATE means the access is inside a Thumb IT block).
    """

    write: bool
    address: int
    size: int
    value: int
    pc: int
    cpsr: int


MemoryHook = Callable[["Machine", MemoryAccess], None]


@dataclass(frozen=True)
class _AccessHook:
    """One memory hook as installed in Unicorn: its kinds, Unicorn's range [lo, hi] and
    the bytes [begin, end) it is for (end <= begin: everything)."""

    kinds: int
    lo: int
    hi: int
    begin: int
    end: int
    handler: AccessHandler

    def covers(self, address: int, size: int) -> bool:
        return self.end <= self.begin or not (address + size <= self.begin
                                              or address >= self.end)

    def wants(self, access: int, address: int, size: int) -> bool:
        kind = unicorn.UC_HOOK_MEM_WRITE if access == unicorn.UC_MEM_WRITE \
            else unicorn.UC_HOOK_MEM_READ
        return bool(self.kinds & kind) and self.lo <= address <= self.hi \
            and self.covers(address, size)


@dataclass(frozen=True)
class Region:
    name: str
    start: int
    size: int
    perms: str
    purpose: str = ""

    @property
    def end(self) -> int:
        return self.start + self.size

    def __contains__(self, address: int) -> bool:
        return self.start <= address < self.end


def _perm_bits(perms: str) -> int:
    bits = 0
    for letter in perms:
        if letter not in _PERMS:
            raise MachineError(f'invalid permission letter "{letter}" (use r, w and x)')
        bits |= _PERMS[letter]
    return bits


class Machine:
    """One ARM32 CPU in a kernel-like default state (SVC mode, IRQ and FIQ masked)."""

    def __init__(self, regions: Iterable[RegionSpec] = DEFAULT_REGIONS) -> None:
        self.uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_ARM)
        self.regions: list[Region] = []
        self._region_hint: Region | None = None
        self.traps = TrapTable()
        self.svc_handlers: list[SvcHandler] = []
        self._pending_stop: StopEvent | None = None
        self._hook_error: BaseException | None = None
        self._interrupt = threading.Event()
        self._running = False
        self._service: Callable[[], StopEvent | None] | None = None
        self._words = ctypes.create_string_buffer(72)
        self._cell = ctypes.c_uint32()
        self._cell_ref = ctypes.byref(self._cell)
        self._batch_cells = [ctypes.c_uint32() for _ in GENERAL_REGISTERS]
        self._batch_ids = (ctypes.c_int32 * len(GENERAL_REGISTERS))(
            *(REGISTER_IDS[name] for name in GENERAL_REGISTERS))
        self._batch_ptrs = (ctypes.c_void_p * len(GENERAL_REGISTERS))(
            *(ctypes.cast(ctypes.byref(c), ctypes.c_void_p) for c in self._batch_cells))
        self.clock = Clock()
        self._watchdog = Watchdog(self._watchdog_stop)
        self._armed_generation = -1
        # Told before a trap client is inserted and after one is removed, with
        # ("insert"|"remove", address, client): kprobes take an optimized jump out of
        # the way of a debugger breakpoint this way.
        self.trap_observers: list[Callable[[str, int, object], None]] = []
        self._memory_hooks: dict[int, Callable[..., None]] = {}
        self._access_hooks: dict[int, _AccessHook] = {}   # in Unicorn's calling order
        # (pc, address, cpsr) of the last access seen inside an IT block: see
        # _add_access_hook (unicorn #2309).
        self._it_access: tuple[int, int, int] | None = None
        self._alignment: AlignmentCheck | None = None
        for spec in regions:
            self.map_region(spec.name, spec.start, spec.size, spec.perms, spec.purpose)
        self.reset_cpu()
        self.uc.hook_add(unicorn.UC_HOOK_INSN_INVALID, self._on_invalid_instruction)
        self.uc.hook_add(unicorn.UC_HOOK_MEM_INVALID, self._on_memory_fault)
        self.uc.hook_add(unicorn.UC_HOOK_INTR, self._on_interrupt)

    # ------------------------------------------------------------------ registers

    @staticmethod
    def canonical_register(name: str) -> str | None:
        name = name.lower()
        name = REGISTER_ALIASES.get(name, name)
        return name if name in REGISTER_IDS else None

    def read_register(self, name: str) -> int:
        canon = self.canonical_register(name)
        if canon is None:
            raise MachineError(f"Invalid register `{name}'")
        return self._read(REGISTER_IDS[canon])

    def _read(self, reg_id: int) -> int:
        """One 32-bit register straight through the library (the binding's reg_read
        costs ~2 us of Python per call; the hit paths read a dozen)."""
        uc_lib.uc_reg_read(self.uc._uch, reg_id, self._cell_ref)
        return self._cell.value

    def write_register(self, name: str, value: int) -> None:
        canon = self.canonical_register(name)
        if canon is None:
            raise MachineError(f"Invalid register `{name}'")
        value &= 0xFFFFFFFF
        if canon == "pc":
            self.set_pc(value & ~1, self.thumb)
            return
        self.uc.reg_write(REGISTER_IDS[canon], value)

    def registers(self) -> dict[str, int]:
        return dict(zip(GENERAL_REGISTERS, self.read_all_registers()))

    def read_all_registers(self) -> tuple[int, ...]:
        """r0-r12, sp, lr, pc, cpsr in one library call.

        The binding's own ``reg_read_batch`` rebuilds its ctypes arrays on every call
        (~55 us measured, more than 17 single reads); these arrays are built once.
        """
        status = uc_lib.uc_reg_read_batch(self.uc._uch, self._batch_ids, self._batch_ptrs,
                                          len(GENERAL_REGISTERS))
        if status != unicorn.UC_ERR_OK:
            raise MachineError(f"cannot read registers (unicorn error {status})")
        return tuple(cell.value for cell in self._batch_cells)

    @property
    def pc(self) -> int:
        return self._read(A.UC_ARM_REG_PC)

    @pc.setter
    def pc(self, value: int) -> None:
        self.write_register("pc", value)

    @property
    def cpsr(self) -> int:
        return self._read(A.UC_ARM_REG_CPSR)

    @cpsr.setter
    def cpsr(self, value: int) -> None:
        self.uc.reg_write(A.UC_ARM_REG_CPSR, value & 0xFFFFFFFF)

    @property
    def thumb(self) -> bool:
        return bool(self.cpsr & T_BIT)

    def set_pc(self, address: int, thumb: bool | None = None) -> None:
        """Move PC, switching state when asked (bit 0 of an interworking target)."""
        if thumb is None:
            thumb = bool(address & 1) if address & 1 else self.thumb
        # Unicorn takes the state from bit 0 of a PC write (an even value clears CPSR.T),
        # so PC is written with bit 0 set to select Thumb (unicorn #391 territory).
        self.uc.reg_write(A.UC_ARM_REG_PC, (address & ~1) | int(thumb))

    def reset_cpu(self) -> None:
        for name in GENERAL_REGISTERS[:-2]:
            self.uc.reg_write(REGISTER_IDS[name], 0)
        self.cpsr = MODE_SVC | I_BIT | F_BIT
        self.uc.reg_write(A.UC_ARM_REG_PC, 0)

    # ------------------------------------------------------------------ memory

    def map_region(self, name: str, start: int, size: int, perms: str = "rwx",
                   purpose: str = "") -> Region:
        if start % 0x1000 or size <= 0 or size % 0x1000:
            raise MachineError(f"region {name}: start and size must be multiples of 0x1000")
        if start + size > 1 << 32:
            raise MachineError(f"region {name}: {start:#x}+{size:#x} is beyond 4 GiB")
        if any(r.name == name for r in self.regions):
            raise MachineError(f'a region named "{name}" already exists')
        for r in self.regions:
            if start < r.end and r.start < start + size:
                raise MachineError(
                    f"region {name} [{start:#010x}, {start + size:#010x}) overlaps "
                    f"{r.name} [{r.start:#010x}, {r.end:#010x})")
        self.uc.mem_map(start, size, _perm_bits(perms))
        region = Region(name, start, size, perms, purpose)
        self.regions.append(region)
        self.regions.sort(key=lambda r: r.start)
        return region

    def unmap_region(self, name_or_address: str | int) -> Region:
        for r in self.regions:
            if r.name == name_or_address or (isinstance(name_or_address, int)
                                             and name_or_address in r):
                self.uc.mem_unmap(r.start, r.size)
                self.regions.remove(r)
                self._region_hint = None
                for site in self.traps.sites():
                    if site.address in r:
                        self.traps.remove(site.address)
                return r
        raise MachineError(f"no region {name_or_address!r}"
                           if isinstance(name_or_address, str)
                           else f"no region contains {name_or_address:#x}")

    def region_of(self, address: int) -> Region | None:
        hint = self._region_hint
        if hint is not None and hint.start <= address < hint.start + hint.size:
            return hint  # hit paths touch the same region (the stack frame) again and again
        for r in self.regions:
            if address in r:
                self._region_hint = r
                return r
        return None

    def _first_unreadable(self, address: int, size: int) -> int:
        a = address
        while a < address + size:
            r = self.region_of(a)
            if r is None:
                return a
            a = r.end
        return address

    def read_memory(self, address: int, size: int, *, shadow: bool = False) -> bytes:
        """What is really in memory; with ``shadow``, gdb breakpoint words hidden."""
        address &= 0xFFFFFFFF
        if size <= 0:
            return b""
        try:
            data = bytes(self.uc.mem_read(address, size))
        except unicorn.UcError:
            raise MemoryAccessError(self._first_unreadable(address, size)) from None
        return self.traps.shadow(address, data) if shadow else data

    def write_memory(self, address: int, data: bytes) -> None:
        address &= 0xFFFFFFFF
        if not data:
            return  # ctl_remove_cache(a, a) is UC_ERR_ARG
        try:
            self.uc.mem_write(address, bytes(data))
        except unicorn.UcError:
            raise MemoryAccessError(self._first_unreadable(address, len(data))) from None
        region = self.region_of(address)
        if region is not None and "x" in region.perms:
            # A host write does not invalidate code Unicorn has already translated
            # (unicorn #1148, #1561; PR #2271 still open): drop those blocks so a patched
            # trap word or an `asm` snippet is what runs next.
            self.uc.ctl_remove_cache(address, address + len(data))

    def read_u32s(self, address: int, count: int) -> tuple[int, ...]:
        """``count`` little-endian words, straight through the library into a buffer
        kept for the purpose (the binding allocates one per call): the optprobe
        callback reads its pt_regs frame this way on every hit that looks at it."""
        size = 4 * count
        if len(self._words) < size:
            self._words = ctypes.create_string_buffer(size)
        if uc_lib.uc_mem_read(self.uc._uch, address, self._words, size) != unicorn.UC_ERR_OK:
            raise MemoryAccessError(self._first_unreadable(address, size))
        return struct.unpack_from(f"<{count}I", self._words)

    def read_u32(self, address: int) -> int:
        return int.from_bytes(self.read_memory(address, 4), "little")

    def write_u32(self, address: int, value: int) -> None:
        self.write_memory(address, (value & 0xFFFFFFFF).to_bytes(4, "little"))

    def read_cstring(self, address: int, limit: int = 4096) -> bytes:
        out = bytearray()
        while len(out) < limit:
            chunk = self.read_memory(address + len(out), 1)
            if chunk == b"\0":
                break
            out += chunk
        return bytes(out)

    def instruction_at(self, address: int, thumb: bool | None = None,
                       *, shadow: bool = True) -> Instruction:
        if thumb is None:
            thumb = self.thumb
        data = self.read_memory(address, 2 if thumb else 4, shadow=shadow)
        if thumb and instruction_size(data, True) == 4:
            data = self.read_memory(address, 4, shadow=shadow)
        return decode_one(data, address, thumb)

    # ------------------------------------------------------------------ traps

    def insert_trap(self, address: int, thumb: bool, client: TrapClient, *,
                    word: bytes | None = None, shadowed: bool = True) -> TrapSite:
        """Patch a trap word over the instruction at ``address`` for ``client``.

        A second client at the same address joins the existing site.
        """
        if word is None:
            word = GDB_THUMB_BREAKPOINT if thumb else GDB_ARM_BREAKPOINT
        for observer in list(self.trap_observers):
            observer("insert", address, client)
        site = self.traps.get(address)
        if site is None:
            site = TrapSite(address, thumb, self.read_memory(address, len(word)))
            self.traps.add(site)
        elif len(word) > len(site.original):
            # The extra bytes are still the program's own: only the shorter word is there.
            extra = self.read_memory(address + len(site.original),
                                     len(word) - len(site.original))
            site.original += extra
        entry = TrapClientEntry(client, word, shadowed)
        if shadowed:
            # Hidden clients (gdb breakpoints) are asked first: a breakpoint stops the
            # machine before a kprobe at the same address runs, as on a board where the
            # debugger's trap is taken before the instruction is single-stepped.
            position = sum(1 for e in site.entries if e.shadowed)
            site.entries.insert(position, entry)
        else:
            site.entries.append(entry)
        self._write_site(site)
        return site

    def remove_trap(self, address: int, client: TrapClient | None = None) -> None:
        """Remove ``client`` from the site (every client when None); the last one out
        restores the original bytes exactly."""
        site = self.traps.get(address)
        if site is None:
            return
        if client is not None:
            site.entries = [e for e in site.entries if e.client is not client]
            if site.stopped_by is client:
                site.stopped_by = None
        if client is None or not site.entries:
            self.traps.remove(address)
            if site.inserted:
                self.write_memory(address, site.original)
                site.inserted = False
        else:
            self._write_site(site)
        for observer in list(self.trap_observers):
            observer("remove", address, client)

    def _write_site(self, site: TrapSite) -> None:
        word = site.word
        self.write_memory(site.address, word + site.original[len(word):])
        site.inserted = True

    def _lift(self, site: TrapSite) -> None:
        self.write_memory(site.address, site.original)
        site.inserted = False

    # ------------------------------------------------------------------ memory hooks

    def add_memory_hook(self, begin: int, end: int, callback: MemoryHook, *,
                        reads: bool = False, writes: bool = True) -> int:
        """Call ``callback`` for guest reads and/or writes overlapping [begin, end).

        Only accesses by emulated instructions are seen (not host writes such as
        semihosting filling a buffer), as a hardware watchpoint sees CPU accesses only.
        ``end <= begin`` means the whole address space.  Returns a handle for
        :meth:`remove_memory_hook`.  The callback may call :meth:`request_stop`; an
        exception it raises is re-raised after the run, never into Unicorn.
        """
        kinds = (unicorn.UC_HOOK_MEM_READ if reads else 0) | \
            (unicorn.UC_HOOK_MEM_WRITE if writes else 0)
        if not kinds:
            raise MachineError("a memory hook must watch reads, writes or both")

        def on_access(access: int, address: int, size: int, value: int, cpsr: int) -> None:
            callback(self, MemoryAccess(access == unicorn.UC_MEM_WRITE, address, size,
                                        value & ((1 << (8 * size)) - 1), self.pc, cpsr))

        return self._add_access_hook(kinds, begin, end, on_access)

    def _add_access_hook(self, kinds: int, begin: int, end: int,
                         handler: AccessHandler) -> int:
        """The one Unicorn memory hook wrapper: every memory hook armdbg installs.

        Workaround for unicorn #2309 (open): to call memory hooks, Unicorn syncs the CPU
        state of the accessing instruction, its ITSTATE included, and nothing clears
        that ITSTATE when the IT block ends, so the code reached by the next branch is
        translated as if still in the block (condition-failed slots skipped).  The
        synced IT bits are right -- each access shows its own slot's ITSTATE (measured
        on 2.1.4) -- and only the next block lookup reads them: the rest of the running
        block was translated with its conditions built in, and a block that ends inside
        the IT block stores the right ITSTATE itself.  So once the hooks of an access
        have run, the IT bits are cleared (_unusual_access).  The CPSR read this takes
        on every access is about half the cost of an unbounded hook.

        Also: once a stop is requested, Unicorn calls only the first hook in range for
        each access (cputlb.c breaks its hook loop on stop_request), while it runs on
        to where it honours the stop -- past the end of an IT block.  The hook it calls
        hands the access to every hook that wants it, as Unicorn would without the
        stop, so a hook added to undo that window (runcontrol's journal) sees it.
        """
        everything = end <= begin
        lo = 0 if everything else max(begin - (_WIDEST_ACCESS - 1), 0)
        hi = 0xFFFFFFFF if everything else end - 1
        entry = _AccessHook(kinds, lo, hi, begin, end, handler)
        read, uch, cell, ref = uc_lib.uc_reg_read, self.uc._uch, self._cell, self._cell_ref
        cpsr_id = A.UC_ARM_REG_CPSR

        def hook(uc: unicorn.Uc, access: int, address: int, size: int, value: int,
                 _data: object) -> None:
            read(uch, cpsr_id, ref)
            cpsr = cell.value
            if cpsr & CPSR_IT_MASK or self._it_access is not None \
                    or self._pending_stop is not None:
                self._unusual_access(entry, access, address, size, value, cpsr)
            elif everything or entry.covers(address, size):
                try:
                    handler(access, address, size, value, cpsr)
                except BaseException as err:  # never raise into Unicorn
                    self._hook_error = err
                    uc.emu_stop()

        handle = int(self.uc.hook_add(kinds, hook, begin=lo, end=hi))
        self._memory_hooks[handle] = hook  # the binding keeps no reference of its own
        self._access_hooks[handle] = entry
        return handle

    def _unusual_access(self, entry: _AccessHook, access: int, address: int, size: int,
                        value: int, cpsr: int) -> None:
        """_add_access_hook for an access inside an IT block or after a stop request."""
        synced = cpsr & CPSR_IT_MASK
        try:
            if synced:
                self._it_access = (self.pc, address, cpsr)
            elif self._it_access is not None and self._it_access[1] == address \
                    and self._it_access[0] == self.pc:
                cpsr = self._it_access[2]  # an earlier hook of this access cleared them
            else:
                self._it_access = None     # another access: outside any IT block
            alignment = self._alignment
            if alignment is not None and alignment.pending is not None:
                # Past an alignment fault: nothing from here on happened.  Only what a
                # write replaces is kept, to put it back (alignment.py).
                if access == unicorn.UC_MEM_WRITE:
                    alignment.pending.journal.append((address, self.read_memory(address, size)))
            elif self._pending_stop is not None:
                for other in list(self._access_hooks.values()):
                    if other.wants(access, address, size):
                        other.handler(access, address, size, value, cpsr)
            elif entry.covers(address, size):
                entry.handler(access, address, size, value, cpsr)
        except BaseException as err:  # never raise into Unicorn
            self._hook_error = err
            self.uc.emu_stop()
        finally:
            if synced:
                # A handler may have changed other CPSR bits: clear only the IT bits.
                now = self._read(A.UC_ARM_REG_CPSR)
                self.uc.reg_write(A.UC_ARM_REG_CPSR, now & ~CPSR_IT_MASK & 0xFFFFFFFF)

    def remove_memory_hook(self, handle: int) -> None:
        self._access_hooks.pop(handle, None)
        if self._memory_hooks.pop(handle, None) is not None:
            self.uc.hook_del(handle)

    # ------------------------------------------------------------------ alignment check

    @property
    def alignment_check(self) -> str:
        """``off``, ``armv7`` or ``strict``: the alignment faults armdbg raises itself
        (Unicorn raises none but the exclusives'; see alignment.py)."""
        return "off" if self._alignment is None else self._alignment.mode

    @alignment_check.setter
    def alignment_check(self, mode: str) -> None:
        if mode == self.alignment_check:
            return
        new = None if mode == "off" else AlignmentCheck(self, mode)
        if self._alignment is not None:
            self._alignment.remove()  # off: no memory hook at all, so no cost
        self._alignment = new

    # ------------------------------------------------------------------ running

    def _start_address(self) -> int:
        # unicorn #391: the start address's bit 0, not CPSR.T, selects Thumb state.
        return self.pc | (1 if self.thumb else 0)

    def _watchdog_stop(self, generation: int) -> None:
        # Only the run it was armed for: a late firing must not cut the next one.
        if generation == self._armed_generation and self._running:
            self.uc.emu_stop()

    def clear_interrupt(self) -> None:
        """Forget an interrupt that no run consumed (it must not stop the next one)."""
        self._interrupt.clear()

    def interrupt(self) -> None:
        """Stop a run from another thread (Ctrl-C); the state stays consistent."""
        self._interrupt.set()
        if self._running:
            self.uc.emu_stop()

    def _emulate(self, until: int, *, count: int = 0,
                 timeout: float | None = None) -> StopEvent | None:
        """Run Unicorn; translate hook stops and Unicorn errors into a StopEvent.

        An alignment fault found during the run wins over whatever stopped it later: the
        machine is put back to the faulting access (alignment.py).
        """
        self._it_access = None
        try:
            stop = self._emulate_unicorn(until, count=count, timeout=timeout)
        finally:
            fault = self._alignment.settle() if self._alignment is not None else None
        return fault if fault is not None else stop

    def _emulate_unicorn(self, until: int, *, count: int = 0,
                         timeout: float | None = None) -> StopEvent | None:
        self._pending_stop = None
        self._hook_error = None
        self._service = None
        self._fault: tuple[int, int, int] | None = None
        if until != _NO_END:
            # The stop at `until` is compiled into translated code; a block translated
            # earlier for another end address would run straight through it (seen with
            # a cached block starting at an IT instruction).  Drop the blocks that
            # contain `until` so they are translated again with the stop in place.
            self.uc.ctl_remove_cache(until, until + 2)
        self._running = True
        if timeout:
            self._armed_generation = self._watchdog.arm(time.monotonic() + timeout)
        try:
            if self._interrupt.is_set():
                return self._interrupted_stop()
            self.uc.emu_start(self._start_address(), until, count=count)
        except unicorn.UcError as err:
            if self._hook_error is not None:
                raise self._hook_error from None
            if self._pending_stop is not None:
                return self._pending_stop
            return self._fault_stop(err)
        finally:
            self._running = False
            if timeout:
                self._armed_generation = -1
                self._watchdog.disarm()
            if until != _NO_END:
                # And drop them again: a block keeps its compiled stop at `until` and
                # would end a later run there for no reason (seen at the kretprobe
                # trampoline after a step had stopped on it).
                self.uc.ctl_remove_cache(until, until + 2)
        if self._hook_error is not None:
            error, self._hook_error = self._hook_error, None
            raise error
        if self._pending_stop is not None:
            return self._pending_stop
        if self._interrupt.is_set():
            return self._interrupted_stop()
        return None

    def _interrupted_stop(self) -> StopEvent:
        self._interrupt.clear()
        return StopEvent(StopReason.INTERRUPTED, self.pc, self.thumb, signal="SIGINT",
                         description="Program received signal SIGINT, Interrupt.")

    def raw_step(self) -> StopEvent:
        """Execute exactly the instruction at PC, IT-block slots included.

        A condition-failed instruction inside an IT block counts as one step (it executes
        as a NOP on hardware).  A trap word at PC is lifted for the step so the original
        instruction runs; trap clients are not consulted.
        """
        pc = self.pc
        site = self.traps.get(pc)
        lifted = site is not None and site.inserted
        if lifted:
            assert site is not None
            self._lift(site)
        insn = self.instruction_at(pc, self.thumb, shadow=False)
        try:
            count = 0
            end = pc + insn.size
            if may_change_flow(insn.raw, insn.thumb):
                # Steps that fall through are stopped by `until` alone.  A branch whose
                # target is exact from the encoding, registers and memory (b, bl, blx,
                # bx, cbz, pop/ldm with pc) is stopped at its target the same way.
                target = self._branch_target(insn)
                if target is not None and target != pc:
                    end = target
                else:
                    # Otherwise count the one instruction.  count= only counts in blocks
                    # translated while a count was asked for: a branch into a block
                    # cached by an earlier run would run on (unicorn #1606), so every
                    # block goes -- and switching the count hook on and off flushes the
                    # cache anyway (~65 us, measured): hence the targets above.
                    self.uc.ctl_flush_tb()  # type: ignore[attr-defined]  # binding, not stubs
                    count = 1
            stop = self._emulate(end, count=count)
        finally:
            if lifted and self.traps.get(pc) is site and site is not None:
                self._write_site(site)
        if stop is None and self._service is not None:
            service, self._service = self._service, None
            stop = service()
        if stop is not None:
            return stop
        return StopEvent(StopReason.STEP, self.pc, self.thumb)

    def _branch_target(self, insn: Instruction) -> int | None:
        """Where a branch at PC goes (without the Thumb bit), or None if not known."""
        itstate = itstate_from_cpsr(self.cpsr) if insn.thumb else 0
        condition = current_condition(itstate) if in_it_block(itstate) else None
        try:
            target = next_pc(insn.raw, insn.address, insn.thumb, self.cpsr, condition,
                             self.read_register, self.read_u32)
        except MemoryAccessError:
            return None  # the load will fault: let the counted step report it
        return None if target is None else target & ~1

    def step(self) -> StopEvent:
        """One instruction, as the CPU would execute it with the traps in place.

        At a trap site the clients that did not already stop the machine here are asked
        what the hit means (a kprobe runs its handlers around the single-step).
        """
        site = self.traps.get(self.pc)
        if site is None or not site.inserted:
            return self.raw_step()
        return self._step_over_site(site)

    def _step_over_site(self, site: TrapSite) -> StopEvent:
        entries = site.entries
        if site.stopped_by is not None and site.stopped_by in site.clients:
            entries = entries[site.clients.index(site.stopped_by) + 1:]
        site.stopped_by = None
        for entry in entries:
            action = entry.client.on_trap(self, site)
            if isinstance(action, StopEvent):
                if action.pc == site.address:
                    site.stopped_by = entry.client
                return action
            if action is SERVICE:
                stop = entry.client.service(self, site)  # type: ignore[attr-defined]
                return stop if stop is not None else StopEvent(StopReason.STEP, self.pc,
                                                               self.thumb)
            if action is None:
                return StopEvent(StopReason.STEP, self.pc, self.thumb)
        return self.raw_step()

    def run(self, *, until: int | None = None, timeout: float | None = None) -> StopEvent:
        """Run until something stops the machine.

        ``until`` stops when PC reaches that address (instruction-exact, no hook);
        ``timeout`` is a wall-clock limit in seconds for scripts.  Trap clients that ask
        for service get it here, between two ``emu_start`` calls, and the run goes on.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        end = _NO_END if until is None else until
        while True:
            site = self.traps.get(self.pc)
            if site is not None and site.inserted:
                # Step over the trap we are sitting on, as gdb steps over a breakpoint.
                first = self._step_over_site(site)
                if first.reason is not StopReason.STEP:
                    return first
                if until is not None and self.pc == until:
                    return StopEvent(StopReason.UNTIL, self.pc, self.thumb)
                continue
            remaining = None
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return self._timeout_stop()
            stop, completed_slice = self._emulate_slice(end, remaining)
            if completed_slice:
                continue  # a timer fell due and ran: go on with the run
            if stop is not None:
                return stop
            if self._service is not None:
                service, self._service = self._service, None
                stop = service()
                self.clock.run_due()  # the hit is handled: a due optimizer may run now
                if stop is not None:
                    return stop
                if until is not None and self.pc == until:
                    return StopEvent(StopReason.UNTIL, self.pc, self.thumb)
                continue
            if until is not None and self.pc == until:
                return StopEvent(StopReason.UNTIL, self.pc, self.thumb)
            return self._timeout_stop()

    def _emulate_slice(self, end: int, remaining: float | None) -> tuple[StopEvent | None, bool]:
        """One ``emu_start``, cut short when a real-time clock has a timer due.

        Real clock: the slice gets a host-time limit up to the timer (the watchdog
        thread stops it: no per-instruction cost) and the clock advances by the time
        spent.
        Virtual clock: only events advance it (see clock.py), so the slice is not cut;
        timers run here, outside Unicorn, once they fell due.  Returns the stop, and
        whether the slice ended only to let a timer run.
        """
        clock = self.clock
        due = clock.next_due()
        limit = remaining
        if due is not None and not clock.virtual:
            until_due = max((due - clock.now) / 1e9, 0.0005)
            limit = until_due if limit is None else min(limit, until_due)
        started = time.monotonic()
        timer_limited = limit is not None and limit != remaining
        stop = self._emulate(end, timeout=limit)
        if not clock.virtual:
            clock.now += int((time.monotonic() - started) * 1e9)
        if self._service is None:
            # Never between a trap and its service: the optimizer must not patch an
            # instruction whose breakpoint hit is still being handled (the kernel's
            # optimizer waits for that too, in synchronize_rcu_tasks()).
            clock.run_due()
        if stop is not None or self._service is not None or self.pc == end:
            return stop, False
        return None, timer_limited

    def _timeout_stop(self) -> StopEvent:
        return StopEvent(StopReason.TIMEOUT, self.pc, self.thumb, signal="SIGALRM",
                         description="Time limit reached.")

    # ------------------------------------------------------------------ hooks

    def request_service(self, service: Callable[[], StopEvent | None]) -> None:
        """From inside a hook: leave Unicorn, call ``service`` outside it, and go on
        with the run (or stop, if it returns a StopEvent)."""
        self._service = service
        self.uc.emu_stop()

    def add_code_hook(self, address: int, callback: Callable[[Machine], None]) -> object:
        """A UC_HOOK_CODE bounded to one address (free until that address executes).

        The callback gets the machine; it must not raise (errors stop the run and are
        re-raised after it, like any hook error).
        """
        def hook(uc: unicorn.Uc, _address: int, _size: int, _data: object) -> None:
            try:
                callback(self)
            except BaseException as err:  # never raise into Unicorn
                self._hook_error = err
                uc.emu_stop()

        handle = self.uc.hook_add(unicorn.UC_HOOK_CODE, hook, begin=address, end=address)
        # Code already translated at that address would not call the new hook.
        self.uc.ctl_remove_cache(address, address + 4)
        return handle

    def remove_hook(self, handle: object) -> None:
        self.uc.hook_del(handle)

    def request_stop(self, event: StopEvent) -> None:
        """Called from inside a hook: stop the current run with ``event``."""
        self._pending_stop = event
        self.uc.emu_stop()

    def _on_invalid_instruction(self, uc: unicorn.Uc, _data: object) -> bool:
        if self._pending_stop is not None or self._service is not None:
            # A stop was already asked for, and Unicorn ran on to this trap (it does,
            # inside an IT block): the trap belongs to the next run, not this one.
            uc.emu_stop()
            return True
        try:
            pc = self.pc
            site = self.traps.get(pc)
            if site is not None and site.inserted:
                site.stopped_by = None
                for entry in site.entries:
                    action = entry.client.on_trap(self, site)
                    if action is None:
                        return True  # the client moved the state past the instruction
                    if action is SERVICE:
                        self.request_service(
                            functools.partial(entry.client.service, self, site))  # type: ignore[attr-defined]
                        return True
                    if isinstance(action, StopEvent):
                        site.stopped_by = entry.client
                        self.request_stop(action)
                        return True
                return True
            insn = self.instruction_at(pc, self.thumb, shadow=False)
            self.request_stop(StopEvent(
                StopReason.SIGNAL, pc, self.thumb, signal="SIGILL",
                description=f"Program received signal SIGILL, Illegal instruction "
                            f"({insn.raw[::-1].hex()}: {insn.text})."))
        except BaseException as err:  # never raise into Unicorn
            self._hook_error = err
            uc.emu_stop()
        return True

    def _on_memory_fault(self, uc: unicorn.Uc, access: int, address: int, size: int,
                         value: int, _data: object) -> bool:
        self._fault = (access, address, size)
        return False

    def _fault_stop(self, err: unicorn.UcError) -> StopEvent:
        pc, thumb = self.pc, self.thumb
        fault = getattr(self, "_fault", None)
        code = err.errno
        fetch_errors = (unicorn.UC_ERR_FETCH_UNMAPPED, unicorn.UC_ERR_FETCH_PROT)
        if fault is not None or code in fetch_errors:
            access, address, _size = fault if fault else (0, pc, 4)
            what = {
                unicorn.UC_MEM_READ_UNMAPPED: "read from unmapped memory",
                unicorn.UC_MEM_WRITE_UNMAPPED: "write to unmapped memory",
                unicorn.UC_MEM_FETCH_UNMAPPED: "instruction fetch from unmapped memory",
                unicorn.UC_MEM_READ_PROT: "read from protected memory",
                unicorn.UC_MEM_WRITE_PROT: "write to read-only memory",
                unicorn.UC_MEM_FETCH_PROT: "instruction fetch from non-executable memory",
            }.get(access, "memory access fault")
            return StopEvent(StopReason.SIGNAL, pc, thumb, signal="SIGSEGV",
                             fault_address=address,
                             description=f"Program received signal SIGSEGV, Segmentation fault "
                                         f"({what} at {address:#010x}).")
        if code in (unicorn.UC_ERR_READ_UNALIGNED, unicorn.UC_ERR_WRITE_UNALIGNED,
                    unicorn.UC_ERR_FETCH_UNALIGNED):
            return StopEvent(StopReason.SIGNAL, pc, thumb, signal="SIGBUS",
                             description="Program received signal SIGBUS, Bus error "
                                         "(unaligned access).")
        if code == unicorn.UC_ERR_INSN_INVALID:
            return StopEvent(StopReason.SIGNAL, pc, thumb, signal="SIGILL",
                             description="Program received signal SIGILL, Illegal instruction.")
        return StopEvent(StopReason.SIGNAL, pc, thumb, signal="SIGSEGV",
                         description=f"Program stopped: {err}.")

    def _on_interrupt(self, uc: unicorn.Uc, intno: int, _data: object) -> None:
        try:
            if self._alignment is not None and self._alignment.pending is not None:
                # Past an alignment fault the run is undone (alignment.py): an SVC there
                # must not be serviced, nor anything else reported.
                uc.emu_stop()
                return
            pc, thumb = self.pc, self.thumb
            if intno == _EXCP_SWI:
                self._dispatch_svc(pc, thumb)
            elif intno == _EXCP_BKPT:
                # Unlike SVC, PC still points at the BKPT here (a prefetch abort).
                self.request_stop(StopEvent(StopReason.SIGNAL, pc, thumb, signal="SIGTRAP",
                                            description="Program received signal SIGTRAP, "
                                                        "Trace/breakpoint trap (bkpt)."))
            elif intno == _EXCP_DATA_ABORT:
                # An unaligned LDREX family access (QEMU's exclusives are MO_ALIGN); PC is
                # at the instruction, which has not run.
                self.request_stop(data_abort_stop(self, pc, thumb))
            elif intno == _EXCP_PREFETCH_ABORT:
                self.request_stop(StopEvent(
                    StopReason.SIGNAL, pc, thumb, signal="SIGSEGV", fault_address=pc,
                    description=f"Program received signal SIGSEGV, Segmentation fault "
                                f"(prefetch abort at {pc:#010x})."))
            else:
                self.request_stop(StopEvent(
                    StopReason.SIGNAL, pc, thumb, signal="SIGILL",
                    description=f"Program stopped by CPU exception {intno}."))
        except BaseException as err:  # never raise into Unicorn
            self._hook_error = err
            uc.emu_stop()

    def _dispatch_svc(self, pc: int, thumb: bool) -> None:
        # PC is already past the SVC; its immediate selects the service.
        if thumb:
            svc_at = pc - 2
            number = int.from_bytes(self.read_memory(svc_at, 2), "little") & 0xFF
        else:
            svc_at = pc - 4
            number = int.from_bytes(self.read_memory(svc_at, 4), "little") & 0xFFFFFF
        for handler in self.svc_handlers:
            result = handler(self, number)
            if result is True:
                return
            if isinstance(result, StopEvent):
                self.request_stop(result)
                return
        # Nobody handled it: stop *at* the SVC so that it runs again on resume.
        self.set_pc(svc_at, thumb)
        self.request_stop(StopEvent(StopReason.SVC, svc_at, thumb, svc_number=number,
                                    signal="SIGSYS",
                                    description=f"Program stopped: unhandled SVC {number:#x}."))
