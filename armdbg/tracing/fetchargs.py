"""FETCHARGS of kprobe events: parse them as Linux does, then fetch and print values.

Mirrors kernel/trace/trace_probe.c (``traceprobe_parse_probe_arg()``,
``traceprobe_parse_probe_arg_body()``, ``parse_probe_arg_type()``, ``parse_probe_arg()``,
``parse_probe_vars()``, ``finalize_fetch_insn()``, ``__parse_bitfield_probe_arg()``,
``traceprobe_expand_meta_args()``), the fetch program interpreter of
kernel/trace/trace_probe_tmpl.h + trace_kprobe.c (``process_fetch_insn()``) and the
print functions of trace_probe.c (``PRINT_TYPE_FUNC_NAME``), for a 32-bit ARM kernel:

* registers are the names of arch/arm/kernel/ptrace.c ``regoffset_table``: r0-r10, fp,
  ip, sp, lr, pc, cpsr, ORIG_r0 (so ``%r11``/``%r12`` are "Invalid register name");
* ``BITS_PER_LONG`` is 32: the default type is ``x32``, ``symbol`` is 4 bytes, addresses,
  immediates and intermediate dereferences are 32-bit;
* arm32 does not select HAVE_FUNCTION_ARG_ACCESS_API, so ``$argN`` is "Invalid
  $-valiable specified" and there are no BTF arguments (a bare identifier is "BTF is not
  available or not supported");
* ``THREAD_SIZE`` is 8 KiB, so ``$stackN`` accepts N <= 2048.

Each argument is compiled, like the kernel does, into a fetch program of at most
FETCH_INSN_MAX (16) instructions; that is what makes "Dereference is too much nested"
appear exactly where the kernel reports it.  Error positions are the kernel's, quirks
included (see ``_parse_deref``).

A parsed :class:`FetchArg` is evaluated through a :class:`FetchEnv` and printed exactly
as the ``trace`` file prints it: ``u*`` ``%u``, ``s*`` ``%d``, ``x*`` ``0x%x`` (no
padding), ``char`` ``'%c'``, ``symbol`` ``%pS`` (``sym+0xoff/0xsize``),
``string``/``ustring``/``symstr`` ``"%s"`` or ``(fault)``, arrays ``{a,b,c}``,
bitfields as their unsigned container.
"""

from __future__ import annotations

import enum
import errno
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from armdbg.errors import MemoryAccessError
from armdbg.tracing.errors import ProbeLog
from armdbg.tracing.formats import sprint_symbol

# kernel/trace/trace_probe.h
MAX_TRACE_ARGS = 128
MAX_ARGSTR_LEN = 63
MAX_ARRAY_LEN = 64
MAX_ARG_NAME_LEN = 32
MAX_STRING_SIZE = 4096          # PATH_MAX
FETCH_INSN_MAX = 16
# arm32: BITS_PER_LONG 32, THREAD_SIZE 8 KiB (THREAD_SIZE_ORDER 1).
BITS_PER_LONG = 32
ULONG_MASK = (1 << BITS_PER_LONG) - 1
THREAD_SIZE = 8192
PARAM_MAX_STACK = THREAD_SIZE // 4

# TPARG_FL_* (trace_probe.h)
TPARG_FL_RETURN = 1 << 0
TPARG_FL_KERNEL = 1 << 1
TPARG_FL_FENTRY = 1 << 2
TPARG_FL_LOC_MASK = 0x1F

# arch/arm/kernel/ptrace.c regoffset_table: name -> offsetof(struct pt_regs, ARM_<name>).
ARM_REGISTERS: dict[str, int] = {
    **{f"r{i}": 4 * i for i in range(11)},
    "fp": 44, "ip": 48, "sp": 52, "lr": 56, "pc": 60, "cpsr": 64, "ORIG_r0": 68,
}

# trace_probe.c reserved_field_names: an argument may not take these names.
RESERVED_FIELD_NAMES = (
    "common_type", "common_flags", "common_preempt_count", "common_pid", "common_tgid",
    "__probe_ip", "__probe_ret_ip", "__probe_func",
)

# argv_split() splits on the kernel's isspace(): the ASCII white space characters.
_SPACES = " \t\n\v\f\r"


def split_argv(text: str) -> list[str]:
    """argv_split(): words separated by runs of white space (no quoting)."""
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch in _SPACES:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return words


# ---------------------------------------------------------------------------------------
# lib/kstrtox.c and lib/vsprintf.c number parsing, for a 32-bit long.

def _isdigit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _isalpha(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _isxdigit(ch: str) -> bool:
    return _isdigit(ch) or ("a" <= ch.lower() <= "f" if ch else False)


def _fixup_radix(s: str, base: int) -> tuple[str, int]:
    """_parse_integer_fixup_radix(): base 0 means 0x-hex, 0-octal or decimal."""
    if base == 0 and s[:1] != "0":
        base = 10
    elif base == 0:
        base = 16 if s[1:2].lower() == "x" and _isxdigit(s[2:3]) else 8
    if base == 16 and s[:1] == "0" and s[1:2].lower() == "x":
        s = s[2:]
    return s, base


def _parse_integer(s: str, base: int) -> tuple[int, int]:
    """_parse_integer(): (value, characters consumed); value is not range-limited."""
    value = 0
    used = 0
    for ch in s:
        digit = int(ch, 36) if ch.isascii() and ch.isalnum() else 99
        if digit >= base:
            break
        value = value * base + digit
        used += 1
    return value, used


def _kstrtoull_noplus(s: str, base: int) -> int | None:
    s, base = _fixup_radix(s, base)
    value, used = _parse_integer(s, base)
    if used == 0 or used != len(s) or value >= 1 << 64:
        return None
    return value


def kstrtoull(s: str, base: int) -> int | None:
    """kstrtoull(): a whole-string unsigned number (a leading '+' is allowed)."""
    if s[:1] == "+":
        s = s[1:]
    return _kstrtoull_noplus(s, base)


def kstrtoul(s: str, base: int) -> int | None:
    """kstrtoul() on a 32-bit kernel; None where the kernel returns -EINVAL/-ERANGE."""
    value = kstrtoull(s, base)
    return None if value is None or value > ULONG_MASK else value


kstrtouint = kstrtoul


def kstrtol(s: str, base: int) -> int | None:
    """kstrtol() on a 32-bit kernel: signed, '-' or '+' prefix."""
    if s[:1] == "-":
        value = _kstrtoull_noplus(s[1:], base)
        if value is None or value > 1 << (BITS_PER_LONG - 1):
            return None
        return -value
    value = kstrtoull(s, base)
    if value is None or value >= 1 << (BITS_PER_LONG - 1):
        return None
    return value


def simple_strtoul(s: str, base: int = 0) -> tuple[int, int]:
    """simple_strtoul(): (value, index of the first unparsed character); never fails."""
    rest, base = _fixup_radix(s, base)
    value, used = _parse_integer(rest, base)
    return value & ULONG_MASK, len(s) - len(rest) + used


def split_symbol_offset(text: str) -> tuple[str, int] | None:
    """traceprobe_split_symbol_offset(): ``SYM[+|-OFFS]`` -> (SYM, OFFS); None if bad."""
    cut = min((i for i in (text.find("+"), text.find("-")) if i >= 0), default=-1)
    if cut < 0:
        return text, 0
    offset = kstrtol(text[cut:], 0)
    if offset is None:
        return None
    return text[:cut], offset


def is_good_name(name: str, *, hyphen_ok: bool = False) -> bool:
    """__is_good_name() (trace.h): a C identifier; ``hyphen_ok`` for group names."""
    if not name:
        return False
    if not (_isalpha(name[0]) or name[0] == "_" or (hyphen_ok and name[0] == "-")):
        return False
    return all(_isalpha(c) or _isdigit(c) or c == "_" or (hyphen_ok and c == "-")
               for c in name[1:])


def tparg_is_function_entry(flags: int) -> bool:
    return flags & TPARG_FL_LOC_MASK == TPARG_FL_KERNEL | TPARG_FL_FENTRY


def tparg_is_function_return(flags: int) -> bool:
    return flags & TPARG_FL_LOC_MASK == TPARG_FL_KERNEL | TPARG_FL_RETURN


# ---------------------------------------------------------------------------------------
# Fetch types (trace_probe.c probe_fetch_types).

@dataclass(frozen=True)
class FetchType:
    name: str
    size: int
    is_signed: bool
    printer: str            # "u", "s", "x", "char", "symbol" or "string"
    fmttype: str            # the type shown in the event's format file

    @property
    def is_string(self) -> bool:
        return self.printer == "string"


def _basic(name: str, size: int, printer: str, fmttype: str | None = None) -> FetchType:
    return FetchType(name, size, printer == "s", printer, fmttype or name)


FETCH_TYPES: dict[str, FetchType] = {t.name: t for t in (
    FetchType("string", 4, True, "string", "__data_loc char[]"),
    FetchType("ustring", 4, True, "string", "__data_loc char[]"),
    FetchType("symstr", 4, True, "string", "__data_loc char[]"),
    _basic("u8", 1, "u"), _basic("u16", 2, "u"), _basic("u32", 4, "u"), _basic("u64", 8, "u"),
    _basic("s8", 1, "s"), _basic("s16", 2, "s"), _basic("s32", 4, "s"), _basic("s64", 8, "s"),
    _basic("x8", 1, "x", "u8"), _basic("x16", 2, "x", "u16"), _basic("x32", 4, "x", "u32"),
    _basic("x64", 8, "x", "u64"),
    _basic("char", 1, "char", "u8"),
    _basic("symbol", 4, "symbol", "u32"),
)}
DEFAULT_FETCH_TYPE = "x32"


def find_fetch_type(name: str | None) -> FetchType | None:
    """find_fetch_type(): None -> x32; ``b.../8|16|32|64`` -> the unsigned container."""
    if name is None:
        name = DEFAULT_FETCH_TYPE
    if name.startswith("b"):
        slash = name.find("/")
        if slash < 0:
            return None
        bits = kstrtoul(name[slash + 1:], 0)
        return {8: FETCH_TYPES["u8"], 16: FETCH_TYPES["u16"], 32: FETCH_TYPES["u32"],
                64: FETCH_TYPES["u64"]}.get(bits if bits is not None else -1)
    return FETCH_TYPES.get(name)


# ---------------------------------------------------------------------------------------
# The fetch program (enum fetch_op / struct fetch_insn).

class Op(enum.Enum):
    NOP = "nop"
    REG = "reg"                 # name, param = pt_regs offset
    STACK = "stack"             # param = index
    STACKP = "stackp"
    RETVAL = "retval"
    IMM = "imm"                 # immediate
    COMM = "comm"
    DATA = "data"               # data = immediate string
    DEREF = "deref"             # offset
    UDEREF = "uderef"           # offset
    ST_RAW = "st_raw"           # size
    ST_MEM = "st_mem"           # offset, size
    ST_UMEM = "st_umem"
    ST_STRING = "st_string"
    ST_USTRING = "st_ustring"
    ST_SYMSTR = "st_symstr"
    MOD_BF = "mod_bf"           # basesize, lshift, rshift
    LP_ARRAY = "lp_array"       # param = count
    END = "end"
    NOP_SYMBOL = "nop_symbol"   # name = "SYM[+|-OFFS]", resolved when fetched


@dataclass(frozen=True)
class FetchInsn:
    op: Op
    param: int = 0
    offset: int = 0
    size: int = 0
    immediate: int = 0
    name: str = ""
    data: str = ""
    basesize: int = 0
    lshift: int = 0
    rshift: int = 0


_NOP = FetchInsn(Op.NOP)
_END = FetchInsn(Op.END)


@dataclass
class _ArgContext:
    """The parts of struct traceprobe_parse_context kprobe arguments use."""

    log: ProbeLog
    flags: int
    offset: int = 0


# ---------------------------------------------------------------------------------------
# Parsing.

def _parse_probe_vars(arg: str, code: list[FetchInsn], pc: int, ctx: _ArgContext) -> None:
    """parse_probe_vars(): ``$retval``, ``$stack``, ``$stackN``, ``$comm``; errors at '$'."""
    var = arg[1:]
    if var.startswith("retval"):
        # str_has_prefix(): "$retvalX" is $retval too when BTF arguments are off.
        if not ctx.flags & TPARG_FL_RETURN:
            ctx.log.fail(ctx.offset, "RETVAL_ON_PROBE")
        code[pc] = FetchInsn(Op.RETVAL)
        return
    if var.startswith("stack"):
        rest = var[5:]
        if rest == "":
            code[pc] = FetchInsn(Op.STACKP)
            return
        if _isdigit(rest[0]):
            param = kstrtoul(rest, 10)
            if param is None:
                ctx.log.fail(ctx.offset, "BAD_VAR")
            if ctx.flags & TPARG_FL_KERNEL and param > PARAM_MAX_STACK:
                ctx.log.fail(ctx.offset, "BAD_STACK_NUM")
            code[pc] = FetchInsn(Op.STACK, param=param)
            return
        ctx.log.fail(ctx.offset, "BAD_VAR")
    if var in ("comm", "COMM"):
        code[pc] = FetchInsn(Op.COMM)
        return
    # $argN needs CONFIG_HAVE_FUNCTION_ARG_ACCESS_API, which arm32 does not select.
    ctx.log.fail(ctx.offset, "BAD_VAR")


def _str_to_immediate(text: str) -> int | None:
    """str_to_immediate(): unsigned, or signed with a '-'/'+' prefix; stored as a long."""
    if text[:1] and _isdigit(text[0]):
        value = kstrtoul(text, 0)
    elif text[:1] == "-":
        value = kstrtol(text, 0)
    elif text[:1] == "+":
        value = kstrtol(text[1:], 0)
    else:
        return None
    return None if value is None else value & ULONG_MASK


def _advance(code: list[FetchInsn], pc: int, ctx: _ArgContext) -> int:
    """``if (++code == end) TOO_MANY_OPS``: end is the last slot (FETCH_INSN_MAX - 1)."""
    pc += 1
    if pc == FETCH_INSN_MAX - 1:
        ctx.log.fail(ctx.offset, "TOO_MANY_OPS")
    return pc


def _parse_deref(arg: str, code: list[FetchInsn], pc: int, ctx: _ArgContext) -> int:
    """The ``+|-[u]OFFS(FETCHARG)`` case of parse_probe_arg().

    The kernel's column arithmetic is kept: after skipping the sign it adds
    ``(tmp + 1 - arg) + (arg[0] != '-')``, which does not count the ``u`` of ``+u``/``-u``
    -- so errors inside a user dereference are reported one column to the left.
    """
    op = Op.DEREF
    s = arg
    if s[1:2] == "u":
        op = Op.UDEREF
        s = s[0] + s[2:]                # arg[1] = arg[0]; arg++
    if s[0] == "+":
        s = s[1:]                       # kstrtol() is given the digits only
    paren = s.find("(")
    if paren < 0:
        ctx.log.fail(ctx.offset, "DEREF_NEED_BRACE")
    offset = kstrtol(s[:paren], 0)
    if offset is None:
        ctx.log.fail(ctx.offset, "BAD_DEREF_OFFS")
    ctx.offset += paren + 1 + (1 if s[0] != "-" else 0)
    inner = s[paren + 1:]
    close = inner.rfind(")")
    if close < 0:
        ctx.log.fail(ctx.offset + len(inner), "DEREF_OPEN_BRACE")
    cur_offs = ctx.offset
    c = _parse_probe_arg(inner[:close], code, pc, ctx)
    ctx.offset = cur_offs
    if code[c].op in (Op.COMM, Op.DATA):
        ctx.log.fail(ctx.offset, "COMM_CANT_DEREF")
    c = _advance(code, c, ctx)
    code[c] = FetchInsn(op, offset=offset)
    return c


def _parse_probe_arg(arg: str, code: list[FetchInsn], pc: int, ctx: _ArgContext) -> int:
    """parse_probe_arg(): compile one FETCHARG into ``code`` from slot ``pc``.

    Returns the slot of the last instruction written (the kernel's ``*pcode``).
    """
    c = pc
    first = arg[:1]
    if first == "$":
        _parse_probe_vars(arg, code, pc, ctx)
    elif first == "%":
        name = arg[1:]
        if name not in ARM_REGISTERS:
            ctx.log.fail(ctx.offset, "BAD_REG_NAME")
        code[c] = FetchInsn(Op.REG, param=ARM_REGISTERS[name], name=name)
    elif first == "@":
        if arg[1:2] and _isdigit(arg[1]):
            address = kstrtoul(arg[1:], 0)
            if address is None:
                ctx.log.fail(ctx.offset, "BAD_MEM_ADDR")
            code[c] = FetchInsn(Op.IMM, immediate=address)
        elif arg[1:2] == "+":
            ctx.log.fail(ctx.offset, "FILE_ON_KPROBE")
        else:
            # The symbol is resolved at registration (traceprobe_update_arg()).
            code[c] = FetchInsn(Op.NOP_SYMBOL, name=arg[1:])
            c = _advance(code, c, ctx)
            code[c] = FetchInsn(Op.IMM)
        c = _advance(code, c, ctx)
        pc = c
        code[c] = FetchInsn(Op.DEREF)
    elif first in ("+", "-"):
        pc = c = _parse_deref(arg, code, pc, ctx)
    elif first == "\\":
        if arg[1:2] == '"':
            text = arg[2:]
            # __parse_imm_string() checks str[len - 1]; for an empty string that is the
            # opening quote itself, so a lone \" is accepted as "".
            if text and text[-1] != '"':
                ctx.log.fail(ctx.offset + 2 + len(text), "IMMSTR_NO_CLOSE")
            code[c] = FetchInsn(Op.DATA, data=text[:-1])
        else:
            value = _str_to_immediate(arg[1:])
            if value is None:
                ctx.log.fail(ctx.offset + 1, "BAD_IMM")
            code[c] = FetchInsn(Op.IMM, immediate=value)
    elif first and (_isalpha(first) or first == "_"):
        # A BTF variable name; kprobe events on arm32 have no BTF arguments.
        if not (tparg_is_function_entry(ctx.flags) or tparg_is_function_return(ctx.flags)):
            ctx.log.fail(ctx.offset, "NOSUP_BTFARG")
        ctx.log.fail(ctx.offset, "NOSUP_BTFARG", errno.EOPNOTSUPP)
    if code[c].op is Op.NOP:
        ctx.log.fail(ctx.offset, "BAD_FETCH_ARG")
    return pc


@dataclass(frozen=True)
class _ArgType:
    spec: str | None        # the TYPE of ``:TYPE[N]`` without ``[N]``
    offset: int             # column of TYPE inside the argument body (0 without a type)
    ftype: FetchType
    count: int


def _parse_probe_arg_type(body: str, ctx: _ArgContext) -> tuple[str, _ArgType]:
    """parse_probe_arg_type(): split ``FETCHARG:TYPE[N]``; returns (FETCHARG, type)."""
    arg = body
    spec: str | None = None
    type_offset = 0
    count = 0
    colon = body.find(":")
    if colon >= 0:
        arg, spec, type_offset = body[:colon], body[colon + 1:], colon + 1
        bracket = spec.find("[")
        if bracket >= 0:
            number = spec[bracket + 1:]
            number_offset = type_offset + bracket + 1
            spec = spec[:bracket]
            close = number.find("]")
            if close < 0:
                ctx.log.fail(ctx.offset + number_offset + len(number), "ARRAY_NO_CLOSE")
            if close + 1 != len(number):
                ctx.log.fail(ctx.offset + number_offset + close + 1, "BAD_ARRAY_SUFFIX")
            parsed = kstrtouint(number[:close], 0)
            if not parsed:
                ctx.log.fail(ctx.offset + number_offset, "BAD_ARRAY_NUM")
            if parsed > MAX_ARRAY_LEN:
                ctx.log.fail(ctx.offset + number_offset, "ARRAY_TOO_BIG")
            count = parsed
    if arg in ("$comm", "$COMM") or arg.startswith('\\"'):
        # $comm and immediate strings can only be (non-array) strings.
        if count or (spec is not None and spec != "string"):
            ctx.log.fail(ctx.offset + type_offset, "NEED_STRING_TYPE")
        ftype = FETCH_TYPES["string"]
    else:
        found = find_fetch_type(spec)
        if found is None:
            ctx.log.fail(ctx.offset + type_offset, "BAD_TYPE")
        ftype = found
    return arg, _ArgType(spec, type_offset, ftype, count)


def _parse_bitfield(spec: str, ftype: FetchType, code: list[FetchInsn], pc: int) -> int | None:
    """__parse_bitfield_probe_arg(): ``b<width>@<offset>/<container>``; None = invalid."""
    if not spec.startswith("b"):
        return pc
    width, end = simple_strtoul(spec[1:])
    end += 1
    if width == 0 or spec[end:end + 1] != "@":
        return None
    start = end + 1
    bit_offset, used = simple_strtoul(spec[start:])
    end = start + used
    if used == 0 or spec[end:end + 1] != "/":
        return None
    pc += 1
    if code[pc].op is not Op.NOP:
        return None
    bits = 8 * ftype.size
    total = (width + bit_offset) & ULONG_MASK
    code[pc] = FetchInsn(Op.MOD_BF, basesize=ftype.size, lshift=(bits - total) & 0xFF,
                         rshift=(bits - width) & 0xFF)
    return None if bits < total else pc


def _finalize(code: list[FetchInsn], pc: int, atype: _ArgType, ctx: _ArgContext) -> None:
    """finalize_fetch_insn(): add the store, bitfield and array instructions."""
    ftype = atype.ftype
    c = pc
    type_at = ctx.offset + atype.offset
    if ftype.is_string:
        if ftype.name == "symstr":
            if code[c].op not in (Op.REG, Op.STACK, Op.RETVAL, Op.DEREF):
                ctx.log.fail(type_at, "BAD_SYMSTRING")
        elif code[c].op not in (Op.DEREF, Op.UDEREF, Op.IMM, Op.COMM, Op.DATA):
            ctx.log.fail(type_at, "BAD_STRING")
        # IMM, DATA and COMM already point at the string; an array keeps its DEREF to
        # load each element's pointer; symstr prints the value itself.
        if ftype.name == "symstr" or code[c].op in (Op.IMM, Op.COMM, Op.DATA) \
                or atype.count:
            c += 1
            if code[c].op is not Op.NOP:
                ctx.log.fail(ctx.offset, "TOO_MANY_OPS")
        if ftype.name == "ustring" or code[c].op is Op.UDEREF:
            store = Op.ST_USTRING
        elif ftype.name == "symstr":
            store = Op.ST_SYMSTR
        else:
            store = Op.ST_STRING
        code[c] = FetchInsn(store, offset=code[c].offset, size=ftype.size)
    elif code[c].op is Op.DEREF:
        code[c] = FetchInsn(Op.ST_MEM, offset=code[c].offset, size=ftype.size)
    elif code[c].op is Op.UDEREF:
        code[c] = FetchInsn(Op.ST_UMEM, offset=code[c].offset, size=ftype.size)
    else:
        c += 1
        if code[c].op is not Op.NOP:
            ctx.log.fail(ctx.offset, "TOO_MANY_OPS", errno.E2BIG)
        code[c] = FetchInsn(Op.ST_RAW, size=ftype.size)
    store_pc = c
    if atype.spec is not None:
        bitfield = _parse_bitfield(atype.spec, ftype, code, c)
        if bitfield is None:
            ctx.log.fail(type_at, "BAD_BITFIELD")
        c = bitfield
    if atype.count:
        if code[store_pc].op not in (Op.ST_MEM, Op.ST_STRING, Op.ST_USTRING):
            ctx.log.fail(type_at, "BAD_STRING")
        c += 1
        if code[c].op is not Op.NOP:
            ctx.log.fail(ctx.offset, "TOO_MANY_OPS", errno.E2BIG)
        code[c] = FetchInsn(Op.LP_ARRAY, param=atype.count)
    code[c + 1] = _END


def _parse_arg_body(body: str, ctx: _ArgContext) -> tuple[_ArgType, tuple[FetchInsn, ...]]:
    """traceprobe_parse_probe_arg_body()."""
    if len(body) > MAX_ARGSTR_LEN:
        ctx.log.fail(ctx.offset, "ARG_TOO_LONG", errno.E2BIG)
    if not body:
        ctx.log.fail(ctx.offset, "NO_ARG_BODY")
    arg, atype = _parse_probe_arg_type(body, ctx)
    code = [_NOP] * FETCH_INSN_MAX
    code[FETCH_INSN_MAX - 1] = _END
    pc = _parse_probe_arg(arg, code, 0, ctx)
    _finalize(code, pc, atype, ctx)
    end = next(i for i, insn in enumerate(code) if insn.op is Op.END)
    return atype, tuple(code[:end + 1])


# ---------------------------------------------------------------------------------------
# Fetching.

class FetchEnv(Protocol):
    """What evaluating an argument needs from the probed machine at the hit.

    ``read_register`` takes the kernel's names (r0-r10, fp, ip, sp, lr, pc, cpsr,
    ORIG_r0); ``read_memory`` raises :class:`armdbg.errors.MemoryAccessError` where the
    kernel's nofault copy would fault; ``symbolize_with_size`` gives
    ``sym+0xoff/0xsize`` or None; ``retval`` may return None to mean "r0".
    """

    def read_register(self, name: str) -> int: ...

    def read_memory(self, address: int, size: int) -> bytes: ...

    def symbol_address(self, name: str) -> int | None: ...

    def symbolize_with_size(self, address: int) -> str | None: ...

    def retval(self) -> int | None: ...

    def comm(self) -> str: ...


@dataclass(frozen=True)
class _HostData:
    """A pointer into kernel data rather than probed memory ($comm, immediate strings)."""

    data: bytes


# One fetched element: an int, string bytes, or None where the fetch faulted.
_Raw = int | bytes | None


def _read_uint(env: FetchEnv, address: int, size: int) -> int:
    data = env.read_memory(address & ULONG_MASK, size)
    return int.from_bytes(data[:size], "little")


def _read_c_string(env: FetchEnv, address: int) -> bytes | None:
    """strncpy_from_kernel_nofault(): up to MAX_STRING_SIZE - 1 bytes; None on a fault
    before the terminating NUL."""
    out = bytearray()
    address &= ULONG_MASK
    limit = MAX_STRING_SIZE - 1
    chunk = 64
    while len(out) < limit:
        want = min(chunk - address % chunk, limit - len(out))
        data: bytes | bytearray
        try:
            data = env.read_memory(address, want)
        except MemoryAccessError:
            data = bytearray()
            for i in range(want):     # find whether a NUL precedes the fault
                try:
                    byte = env.read_memory(address + i, 1)
                except MemoryAccessError:
                    return None
                data += byte
                if byte == b"\0":
                    break
        nul = data.find(b"\0")
        if nul >= 0:
            out += data[:nul]
            return bytes(out)
        out += data
        address = (address + want) & ULONG_MASK
    return bytes(out[:limit])


def _stack_nth(env: FetchEnv, n: int) -> int:
    """regs_get_kernel_stack_nth(): 0 outside the THREAD_SIZE block holding sp."""
    sp = env.read_register("sp") & ULONG_MASK
    address = (sp + 4 * n) & ULONG_MASK
    if address & ~(THREAD_SIZE - 1) != sp & ~(THREAD_SIZE - 1):
        return 0
    try:
        return _read_uint(env, address, 4)
    except MemoryAccessError:
        return 0


def _stage1(code: tuple[FetchInsn, ...], env: FetchEnv) -> tuple[int, int | _HostData]:
    """process_fetch_insn() 1st stage: (next slot, value)."""
    insn = code[0]
    if insn.op is Op.NOP_SYMBOL:
        # FETCH_NOP_SYMBOL is a place holder; the following IMM holds the address.
        split = split_symbol_offset(insn.name)
        base = env.symbol_address(split[0]) if split else None
        offset = split[1] if split else 0
        return 2, ((base or 0) + offset) & ULONG_MASK
    if insn.op is Op.REG:
        value: int | _HostData = env.read_register(insn.name) & ULONG_MASK
    elif insn.op is Op.STACK:
        value = _stack_nth(env, insn.param)
    elif insn.op is Op.STACKP:
        value = env.read_register("sp") & ULONG_MASK
    elif insn.op is Op.RETVAL:
        ret = env.retval()
        value = (ret if ret is not None else env.read_register("r0")) & ULONG_MASK
    elif insn.op is Op.COMM:
        value = _HostData(env.comm().encode("latin-1", "replace"))
    elif insn.op is Op.DATA:
        value = _HostData(insn.data.encode("latin-1", "replace"))
    else:
        value = insn.immediate & ULONG_MASK
    return 1, value


def _store(insn: FetchInsn, value: int | _HostData, env: FetchEnv) -> _Raw | str:
    """process_fetch_insn_bottom() 3rd stage for one element; "" marks -EILSEQ."""
    if isinstance(value, _HostData):
        # Only strings can start from kernel data (parse_probe_arg_type forces it).
        return value.data[:MAX_STRING_SIZE - 1].split(b"\0")[0]
    address = (value + insn.offset) & ULONG_MASK
    if insn.op is Op.ST_RAW:
        return value & ((1 << (8 * insn.size)) - 1)
    if insn.op in (Op.ST_MEM, Op.ST_UMEM):
        try:
            return _read_uint(env, address, insn.size)
        except MemoryAccessError:
            return None
    if insn.op in (Op.ST_STRING, Op.ST_USTRING):
        return _read_c_string(env, address)
    if insn.op is Op.ST_SYMSTR:
        return sprint_symbol(address, env.symbolize_with_size).encode("latin-1", "replace")
    return ""


def _execute(code: tuple[FetchInsn, ...], count: int, env: FetchEnv) -> list[_Raw]:
    """process_fetch_insn() + process_fetch_insn_bottom(): one raw value per element.

    Where the kernel gives up (a faulting intermediate dereference) the remaining
    elements are recorded as faults.
    """
    wanted = max(count, 1)
    out: list[_Raw] = []
    pc, val = _stage1(code, env)
    lval = val
    while True:
        # 2nd stage: dereference.
        try:
            while code[pc].op in (Op.DEREF, Op.UDEREF):
                assert isinstance(val, int)
                lval = val
                val = _read_uint(env, val + code[pc].offset, 4)
                pc += 1
        except MemoryAccessError:
            return out + [None] * (wanted - len(out))
        s3 = pc
        while True:
            # 3rd stage: store; 4th: bitfield; last: array loop.
            raw = _store(code[pc], val, env)
            if raw == "":
                return out + [None] * (wanted - len(out))
            assert not isinstance(raw, str)
            pc += 1
            if code[pc].op is Op.MOD_BF:
                if isinstance(raw, int):
                    mask = (1 << (8 * code[pc].basesize)) - 1
                    raw = ((raw << code[pc].lshift) & mask) >> code[pc].rshift
                pc += 1
            out.append(raw)
            if code[pc].op is not Op.LP_ARRAY or len(out) >= code[pc].param:
                return out
            pc = s3
            if code[s3].op not in (Op.ST_STRING, Op.ST_USTRING):
                assert isinstance(val, int)
                val = (val + code[s3].size) & ULONG_MASK
                continue
            # An array of strings: load the next char * and go through stage 2 again.
            pc = s3 - 1
            assert isinstance(lval, int)
            val = lval = (lval + 4) & ULONG_MASK
            break


def format_fetched(ftype: FetchType, raw: _Raw, env: FetchEnv) -> str:
    """PRINT_TYPE_FUNC_NAME(type): one element as the trace file prints it.

    A numeric fetch that faulted prints 0 (the kernel leaves the reserved ring-buffer
    bytes unwritten; an unused buffer reads as zero).
    """
    if ftype.is_string:
        return "(fault)" if not isinstance(raw, bytes) else f'"{raw.decode("latin-1")}"'
    value = raw if isinstance(raw, int) else 0
    if ftype.printer == "u":
        return str(value)
    if ftype.printer == "s":
        sign = 1 << (8 * ftype.size - 1)
        return str((value ^ sign) - sign)
    if ftype.printer == "x":
        return f"0x{value:x}"
    if ftype.printer == "char":
        return f"'{chr(value)}'"
    return sprint_symbol(value, env.symbolize_with_size)


@dataclass(frozen=True)
class FetchArg:
    """One parsed fetch argument (struct probe_arg).

    ``text`` is what followed ``NAME=`` (``parg->comm``, shown in kprobe_events);
    ``type`` the fetch type name (a bitfield reports its container, u8..u64);
    ``type_spec`` the ``:TYPE`` as written (without ``[N]``); ``count`` the array
    length (0 for a scalar); ``code`` the compiled fetch program.
    """

    name: str
    type: str
    text: str
    type_spec: str | None = None
    count: int = 0
    code: tuple[FetchInsn, ...] = field(default=(), repr=False)

    @property
    def fetch_type(self) -> FetchType:
        ftype = FETCH_TYPES.get(self.type)
        assert ftype is not None
        return ftype

    @property
    def definition_text(self) -> str:
        """``NAME=FETCHARG`` as kprobe_events shows it."""
        return f"{self.name}={self.text}"

    @property
    def symbols(self) -> tuple[str, ...]:
        """The ``@SYM[+|-OFFS]`` texts the kernel resolves at registration."""
        return tuple(i.name for i in self.code if i.op is Op.NOP_SYMBOL)

    def raw_values(self, env: FetchEnv) -> list[_Raw]:
        return _execute(self.code, self.count, env)

    def value(self, env: FetchEnv) -> str:
        """The value as printed in the trace (``{a,b}`` for arrays)."""
        raws = self.raw_values(env)
        parts = [format_fetched(self.fetch_type, raw, env) for raw in raws]
        return "{" + ",".join(parts) + "}" if self.count else parts[0]

    def fetch(self, env: FetchEnv) -> str:
        """``NAME=VALUE`` as trace_probe_print_args() prints it (without the space)."""
        return f"{self.name}={self.value(env)}"


# ---------------------------------------------------------------------------------------
# Argument lists.

def _parse_one(argv: str, i: int, previous: Sequence[FetchArg], ctx: _ArgContext) -> FetchArg:
    """traceprobe_parse_probe_arg(): ``[NAME=]FETCHARG[:TYPE]``; name errors at column 0."""
    equal = argv.find("=")
    if equal >= 0:
        if equal > MAX_ARG_NAME_LEN:
            ctx.log.fail(0, "ARG_NAME_TOO_LONG")
        if equal == 0:
            ctx.log.fail(0, "NO_ARG_NAME")
        name, body = argv[:equal], argv[equal + 1:]
    else:
        # generate_probe_arg_name() without BTF arguments: "arg%d", 1-based position.
        name, body = f"arg{i + 1}", argv
    if not is_good_name(name):
        ctx.log.fail(0, "BAD_ARG_NAME")
    if name in RESERVED_FIELD_NAMES or any(p.name == name for p in previous):
        ctx.log.fail(0, "USED_ARG_NAME")
    ctx.offset = len(argv) - len(body)
    atype, code = _parse_arg_body(body, ctx)
    return FetchArg(name, atype.ftype.name, body, atype.spec, atype.count, code)


def _check_var_args(args: Sequence[str], log: ProbeLog, flags: int, first_index: int) -> None:
    """argv_has_var_arg() + traceprobe_expand_meta_args() without BTF.

    Runs over every argument before any is parsed.  ``$arg*`` needs BTF, which kprobe
    events on arm32 lack: the kernel logs "BTF is not available or not supported" (at the
    last ``$arg...`` argument) and goes on, so parsing later fails on that argument.
    """
    found = False
    star = -1
    for i, arg in enumerate(args):
        if not arg.startswith("$arg"):
            continue
        log.index = i + first_index
        if not (tparg_is_function_entry(flags) or tparg_is_function_return(flags)):
            log.fail(0, "NOFENTRY_ARGS")
        if arg[4:5] and _isdigit(arg[4]):
            found = True
            continue
        if arg[4:5] != "*":
            log.fail(0, "BAD_VAR")
        if 0 <= star < len(args):
            log.fail(0, "DOUBLE_ARGS")
        found = True
        star = i
    if found and star != -1:
        log.err(0, "NOSUP_BTFARG")


def parse_probe_args(args: Sequence[str], log: ProbeLog, flags: int, *,
                     first_index: int = 0) -> list[FetchArg]:
    """Parse the FETCHARGS words of a command; ``args[i]`` is argv ``i + first_index``.

    Mirrors the argument part of trace_kprobe_create_internal(): the ``$arg`` pre-pass,
    the MAX_TRACE_ARGS check, then traceprobe_parse_probe_arg() per argument.
    """
    _check_var_args(args, log, flags, first_index)
    if len(args) > MAX_TRACE_ARGS:
        log.index = first_index
        log.fail(0, "TOO_MANY_ARGS", errno.E2BIG)
    parsed: list[FetchArg] = []
    for i, arg in enumerate(args):
        log.index = i + first_index
        ctx = _ArgContext(log, flags)
        parsed.append(_parse_one(arg, i, parsed, ctx))
    return parsed


def probe_flags(*, is_return: bool, on_function_entry: bool) -> int:
    """The TPARG_FL_* bits trace_kprobe_create_internal() gives a symbol probe."""
    flags = TPARG_FL_KERNEL
    if is_return:
        flags |= TPARG_FL_RETURN
    elif on_function_entry:
        flags |= TPARG_FL_FENTRY
    return flags


def parse_fetchargs(text: str, *, is_return: bool,
                    on_function_entry: bool = True) -> list[FetchArg]:
    """Parse a FETCHARGS list (``kprobe --log`` uses this without a probe head).

    Raises :class:`~armdbg.tracing.errors.ProbeDefinitionError` whose caret positions
    refer to the words of ``text`` re-joined by single spaces.  ``@SYM`` references are
    not checked here; they are resolved through ``FetchEnv.symbol_address`` at fetch.
    """
    args = split_argv(text)
    log = ProbeLog(args)
    return parse_probe_args(
        args, log, probe_flags(is_return=is_return, on_function_entry=on_function_entry))
