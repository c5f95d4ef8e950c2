"""ARM condition codes and their evaluation against NZCV (ARM ARM A8.3)."""

from __future__ import annotations

COND_NAMES = ("eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc",
              "hi", "ls", "ge", "lt", "gt", "le", "al", "nv")

COND_AL = 0xE

# Flag bit positions in CPSR/APSR.
N_BIT = 1 << 31
Z_BIT = 1 << 30
C_BIT = 1 << 29
V_BIT = 1 << 28
NZCV_MASK = N_BIT | Z_BIT | C_BIT | V_BIT


def condition_name(cond: int) -> str:
    return COND_NAMES[cond & 0xF]


def condition_from_name(name: str) -> int:
    """Accept gdb/ARM spellings, including the aliases hs (cs) and lo (cc)."""
    name = name.lower()
    aliases = {"hs": "cs", "lo": "cc"}
    return COND_NAMES.index(aliases.get(name, name))


def condition_passed(cond: int, cpsr: int) -> bool:
    """Whether an instruction with condition ``cond`` executes under ``cpsr``'s flags.

    Condition 0xF ("nv") is the unconditional space on ARMv5+ and always passes here,
    as the kernel's ``probes_condition_checks[15]`` does.
    """
    n = bool(cpsr & N_BIT)
    z = bool(cpsr & Z_BIT)
    c = bool(cpsr & C_BIT)
    v = bool(cpsr & V_BIT)
    base = cond >> 1
    if base == 0:
        result = z
    elif base == 1:
        result = c
    elif base == 2:
        result = n
    elif base == 3:
        result = v
    elif base == 4:
        result = c and not z
    elif base == 5:
        result = n == v
    elif base == 6:
        result = (not z) and n == v
    else:
        return True
    # Odd conditions are the negation of the even one before them (ne, cc, pl, ...).
    return not result if cond & 1 else result
