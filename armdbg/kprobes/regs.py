"""``struct pt_regs`` as a kprobe handler sees it: ARM_r0 .. ARM_pc, ARM_cpsr, ARM_ORIG_r0.

A handler reads and writes attributes; only the registers it changed are written back
to the CPU afterwards, so a handler that changes nothing cannot perturb the probed
program (not even by rounding a Thumb PC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from armdbg.machine.machine import Machine

UREGS = tuple(f"r{i}" for i in range(13)) + ("sp", "lr", "pc", "cpsr")
_INDEX = {name: index for index, name in enumerate(UREGS)}
_SHORT = {"fp": "r11", "ip": "r12"}
_ALIASES = {f"ARM_r{i}": f"r{i}" for i in range(11)}
_ALIASES.update(ARM_fp="r11", ARM_ip="r12", ARM_sp="sp", ARM_lr="lr", ARM_pc="pc",
                ARM_cpsr="cpsr", ARM_r11="r11", ARM_r12="r12")
# On a trap, Linux's exception entry stores -1 in ORIG_r0 ("not a syscall"); the optprobe
# callback sets it to ~0 too (opt-arm.c optimized_callback).
ORIG_R0 = 0xFFFFFFFF


class PtRegs:
    """A writable snapshot of the CPU registers in pt_regs shape."""

    __slots__ = ("_changed", "_values", "orig_r0")
    _values: dict[str, int]
    _changed: set[str]
    orig_r0: int

    def __init__(self, values: dict[str, int], orig_r0: int = ORIG_R0) -> None:
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_changed", set())
        object.__setattr__(self, "orig_r0", orig_r0)

    @classmethod
    def capture(cls, machine: Machine) -> PtRegs:
        return cls(dict(zip(UREGS, machine.read_all_registers())))

    def __getattr__(self, name: str) -> int:
        if name == "ARM_ORIG_r0":
            return self.orig_r0
        key = _ALIASES.get(name)
        if key is None:
            raise AttributeError(name)
        return self._values[key]

    def __setattr__(self, name: str, value: int) -> None:
        if name in ("ARM_ORIG_r0", "orig_r0"):
            object.__setattr__(self, "orig_r0", value & 0xFFFFFFFF)
            return
        key = _ALIASES.get(name)
        if key is None:
            raise AttributeError(f"pt_regs has no field {name}")
        self._values[key] = value & 0xFFFFFFFF
        self._changed.add(key)

    def __getitem__(self, index: int) -> int:
        """``uregs[i]``: 0-12 r0-r12, 13 sp, 14 lr, 15 pc, 16 cpsr, 17 ORIG_r0."""
        if index == 17:
            return self.orig_r0
        return self._values[UREGS[index]]

    def __setitem__(self, index: int, value: int) -> None:
        if index == 17:
            self.orig_r0 = value & 0xFFFFFFFF
            return
        key = UREGS[index]
        self._values[key] = value & 0xFFFFFFFF
        self._changed.add(key)

    def get(self, name: str) -> int:
        """By register name (r0..r12, sp, lr, pc, cpsr, fp, ip)."""
        name = {"fp": "r11", "ip": "r12"}.get(name, name)
        if name == "ORIG_r0":
            return self.orig_r0
        return self._values[name]

    def peek(self, name: str) -> int:
        """One register (in a frame in memory: without reading the rest)."""
        return self.get(name)

    def snapshot(self) -> dict[str, int]:
        """Every register's value, as a plain dict (r0..r12, sp, lr, pc, cpsr)."""
        return dict(self._values)

    def checkpoint(self) -> tuple[dict[str, int], set[str], int]:
        """The view as it is now, to undo a handler that raises half-way."""
        return dict(self._values), set(self._changed), self.orig_r0

    def rollback(self, checkpoint: tuple[dict[str, int], set[str], int]) -> None:
        values, changed, orig = checkpoint
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_changed", set(changed))
        object.__setattr__(self, "orig_r0", orig)

    @property
    def changed(self) -> frozenset[str]:
        return frozenset(self._changed)

    def regs_return_value(self) -> int:
        return self._values["r0"]

    def apply(self, machine: Machine) -> None:
        """Write back what handlers changed; PC last, with the Thumb bit from CPSR."""
        for key in self._changed:
            if key not in ("pc", "cpsr"):
                machine.write_register(key, self._values[key])
        if "cpsr" in self._changed:
            machine.cpsr = self._values["cpsr"]
        if "pc" in self._changed or "cpsr" in self._changed:
            thumb = bool(self._values["cpsr"] & 0x20)
            machine.set_pc(self._values["pc"] & ~1, thumb or bool(self._values["pc"] & 1))
        self._changed.clear()

    def __repr__(self) -> str:
        body = " ".join(f"{k}={self._values[k]:#x}" for k in UREGS)
        return f"<pt_regs {body}>"


class FramePtRegs(PtRegs):
    """pt_regs living in emulated memory (the optprobe trampoline's frame).

    Read from memory on first use only, so an empty handler costs no memory access;
    changes are written back to the frame with :meth:`flush`.
    """

    __slots__ = ("_address", "_checkpoint_loaded", "_loaded", "_machine")
    _machine: Machine
    _address: int
    _loaded: bool
    _checkpoint_loaded: bool

    def __init__(self, machine: Machine, address: int) -> None:
        super().__init__({})
        object.__setattr__(self, "_machine", machine)
        object.__setattr__(self, "_address", address)
        object.__setattr__(self, "_loaded", False)

    def _load(self) -> None:
        words = self._machine.read_u32s(self._address, 18)
        values = dict(zip(UREGS, words[:17]))
        values.update(self._values)  # fields already set (pc) win over memory
        object.__setattr__(self, "_values", values)
        # ORIG_r0 stays ~0: optimized_callback sets it before any handler runs.
        object.__setattr__(self, "_loaded", True)

    def checkpoint(self) -> tuple[dict[str, int], set[str], int]:
        # Remember whether the frame was read yet: a rollback to "not read" stays lazy.
        object.__setattr__(self, "_checkpoint_loaded", self._loaded)
        return super().checkpoint()

    def rollback(self, checkpoint: tuple[dict[str, int], set[str], int]) -> None:
        super().rollback(checkpoint)
        object.__setattr__(self, "_loaded", self._checkpoint_loaded)

    def set_view(self, name: str, value: int) -> None:
        """What the handler sees in a field the trampoline did not store (the callback's
        ``regs->ARM_pc = kp.addr``): the trampoline never reads it back, so the frame
        in memory is left alone unless a handler changes it."""
        self._values[name] = value & 0xFFFFFFFF

    def __getattr__(self, name: str) -> int:
        if not self._loaded:
            self._load()
        return super().__getattr__(name)

    def __getitem__(self, index: int) -> int:
        if not self._loaded:
            self._load()
        return super().__getitem__(index)

    def get(self, name: str) -> int:
        if not self._loaded:
            self._load()
        return super().get(name)

    def peek(self, name: str) -> int:
        """One register without reading the whole frame (a trace record needs one or
        two)."""
        name = _SHORT.get(name, name)
        if self._loaded or name in self._values or name == "ORIG_r0":
            return super().get(name)
        return self._machine.read_u32s(self._address + 4 * _INDEX[name], 1)[0]

    def snapshot(self) -> dict[str, int]:
        if not self._loaded:
            self._load()
        return dict(self._values)

    def flush(self) -> None:
        """Write the fields handlers changed back into the frame (nothing, mostly)."""
        if not self._changed:
            return
        import struct

        machine = self._machine
        for key in self._changed:
            index = UREGS.index(key)
            machine.write_memory(self._address + 4 * index,
                                 struct.pack("<I", self._values[key]))
        self._changed.clear()
