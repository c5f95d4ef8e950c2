"""FETCHARGS: the kernel's number parsing, compiled fetch programs, fetching and printing."""

from __future__ import annotations

import errno

import pytest

from armdbg.tracing.errors import ERRORS, ProbeDefinitionError
from armdbg.tracing.fetchargs import (
    ARM_REGISTERS,
    FetchArg,
    FetchInsn,
    Op,
    find_fetch_type,
    is_good_name,
    kstrtol,
    kstrtoul,
    parse_fetchargs,
    simple_strtoul,
    split_argv,
    split_symbol_offset,
)

from .conftest import STRINGS, FakeEnv


def one(text: str, *, is_return: bool = False) -> FetchArg:
    (arg,) = parse_fetchargs(text, is_return=is_return)
    return arg


# --- lib/kstrtox.c semantics on a 32-bit kernel -----------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("10", 10), ("0x10", 16), ("0X1f", 31), ("010", 8), ("+5", 5),
    ("4294967295", 0xFFFFFFFF), ("4294967296", None), ("0x", None), ("08", None),
    ("-5", None), ("", None), ("1a", None), (" 1", None), ("0x1g", None),
])
def test_kstrtoul(text: str, value: int | None) -> None:
    assert kstrtoul(text, 0) == value


@pytest.mark.parametrize(("text", "value"), [
    ("-5", -5), ("+5", 5), ("-0x10", -16), ("2147483647", 2**31 - 1), ("2147483648", None),
    ("-2147483648", -(2**31)), ("-2147483649", None), ("+-1", None), ("-+1", None),
    ("--1", None), ("-", None),
])
def test_kstrtol(text: str, value: int | None) -> None:
    assert kstrtol(text, 0) == value


def test_simple_strtoul_stops_at_the_first_bad_character() -> None:
    assert simple_strtoul("10@3") == (10, 2)
    assert simple_strtoul("0x1f/8") == (31, 4)
    assert simple_strtoul("@") == (0, 0)
    assert simple_strtoul("017x") == (15, 3)


def test_split_symbol_offset() -> None:
    assert split_symbol_offset("calls") == ("calls", 0)
    assert split_symbol_offset("calls+4") == ("calls", 4)
    assert split_symbol_offset("calls-0x10") == ("calls", -16)
    assert split_symbol_offset("calls+4-4") is None
    assert split_symbol_offset("-4") == ("", -4)


def test_split_argv_is_whitespace_only() -> None:
    assert split_argv(" p\tdo_something \v %r0\r\n") == ["p", "do_something", "%r0"]
    assert split_argv('\\"a b"') == ['\\"a', 'b"']


@pytest.mark.parametrize(("name", "good", "group_ok"), [
    ("ev", True, True), ("_x9", True, True), ("9x", False, False), ("a-b", False, True),
    ("-a", False, True), ("a.b", False, False), ("", False, False), ("é", False, False),
])
def test_is_good_name(name: str, good: bool, group_ok: bool) -> None:
    assert is_good_name(name) is good
    assert is_good_name(name, hyphen_ok=True) is group_ok


def test_register_names_are_arm_regoffset_table() -> None:
    assert list(ARM_REGISTERS) == [
        "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10",
        "fp", "ip", "sp", "lr", "pc", "cpsr", "ORIG_r0"]
    assert ARM_REGISTERS["sp"] == 52 and ARM_REGISTERS["ORIG_r0"] == 68


@pytest.mark.parametrize(("spec", "name"), [
    (None, "x32"), ("u8", "u8"), ("s64", "s64"), ("x16", "x16"), ("char", "char"),
    ("symbol", "symbol"), ("string", "string"), ("ustring", "ustring"), ("symstr", "symstr"),
    ("b4@0/16", "u16"), ("b4@0/0x20", "u32"), ("bogus/8", "u8"), ("b4@0/12", None),
    ("b4@0", None), ("u128", None), ("x", None), ("", None),
])
def test_find_fetch_type(spec: str | None, name: str | None) -> None:
    found = find_fetch_type(spec)
    assert (found.name if found else None) == name


# --- compiled fetch programs (as process_fetch_insn() runs them) -------------------------

END = FetchInsn(Op.END)


@pytest.mark.parametrize(("text", "code"), [
    ("%r0", [FetchInsn(Op.REG, param=0, name="r0"), FetchInsn(Op.ST_RAW, size=4), END]),
    ("%ORIG_r0:u8", [FetchInsn(Op.REG, param=68, name="ORIG_r0"),
                     FetchInsn(Op.ST_RAW, size=1), END]),
    ("+4(%sp):u8", [FetchInsn(Op.REG, param=52, name="sp"),
                    FetchInsn(Op.ST_MEM, offset=4, size=1), END]),
    ("-u4(%sp)", [FetchInsn(Op.REG, param=52, name="sp"),
                  FetchInsn(Op.ST_UMEM, offset=-4, size=4), END]),
    ("+0(+4(%sp)):string", [FetchInsn(Op.REG, param=52, name="sp"),
                            FetchInsn(Op.DEREF, offset=4),
                            FetchInsn(Op.ST_STRING, size=4), END]),
    ("+u0(%r4):string", [FetchInsn(Op.REG, param=16, name="r4"),
                         FetchInsn(Op.ST_USTRING, size=4), END]),
    ("@calls+4:s32", [FetchInsn(Op.NOP_SYMBOL, name="calls+4"), FetchInsn(Op.IMM),
                      FetchInsn(Op.ST_MEM, size=4), END]),
    ("@0x80200000", [FetchInsn(Op.IMM, immediate=0x80200000), FetchInsn(Op.ST_MEM, size=4),
                     END]),
    ("+0(%r5):string[2]", [FetchInsn(Op.REG, param=20, name="r5"), FetchInsn(Op.DEREF),
                           FetchInsn(Op.ST_STRING, size=4),
                           FetchInsn(Op.LP_ARRAY, param=2), END]),
    ("+0(%r4):u16[3]", [FetchInsn(Op.REG, param=16, name="r4"),
                        FetchInsn(Op.ST_MEM, size=2), FetchInsn(Op.LP_ARRAY, param=3), END]),
    ("@calls:b4@4/32", [FetchInsn(Op.NOP_SYMBOL, name="calls"), FetchInsn(Op.IMM),
                        FetchInsn(Op.ST_MEM, size=4),
                        FetchInsn(Op.MOD_BF, basesize=4, lshift=24, rshift=28), END]),
    ("$comm", [FetchInsn(Op.COMM), FetchInsn(Op.ST_STRING, size=4), END]),
    ('\\"x"', [FetchInsn(Op.DATA, data="x"), FetchInsn(Op.ST_STRING, size=4), END]),
    ("\\-1:s8", [FetchInsn(Op.IMM, immediate=0xFFFFFFFF), FetchInsn(Op.ST_RAW, size=1), END]),
    ("%r8:symstr", [FetchInsn(Op.REG, param=32, name="r8"), FetchInsn(Op.ST_SYMSTR, size=4),
                    END]),
    ("$stack3", [FetchInsn(Op.STACK, param=3), FetchInsn(Op.ST_RAW, size=4), END]),
    ("$stack", [FetchInsn(Op.STACKP), FetchInsn(Op.ST_RAW, size=4), END]),
])
def test_compiled_program(text: str, code: list[FetchInsn]) -> None:
    assert list(one(text).code) == code


def test_retval_program() -> None:
    assert list(one("$retval", is_return=True).code) == [
        FetchInsn(Op.RETVAL), FetchInsn(Op.ST_RAW, size=4), END]


def test_nesting_limit_is_the_instruction_buffer() -> None:
    """FETCH_INSN_MAX = 16: 14 dereferences of a register fit, 15 do not."""
    deepest = "+0(" * 14 + "%r0" + ")" * 14
    assert len(one(deepest).code) == 16
    with pytest.raises(ProbeDefinitionError) as caught:
        one("+0(" * 15 + "%r0" + ")" * 15)
    assert (caught.value.message, caught.value.position) == (ERRORS["TOO_MANY_OPS"], 3)
    # 13 around @ADDR leave no room for the array loop: E2BIG from finalize_fetch_insn(),
    # reported where the outermost dereference left ctx->offset
    one("+0(" * 13 + "@0" + ")" * 13 + ":u8")
    with pytest.raises(ProbeDefinitionError) as caught:
        one("+0(" * 13 + "@0" + ")" * 13 + ":u8[2]")
    err = caught.value
    assert (err.message, err.position, err.errno) == (ERRORS["TOO_MANY_OPS"], 3, errno.E2BIG)


# --- parse_fetchargs() --------------------------------------------------------------------

def test_parse_fetchargs_names_and_types() -> None:
    args = parse_fetchargs("%r0 x=+4(%sp):s16 $comm +0(%r4):u8[4] @calls:b2@1/8",
                           is_return=False)
    assert [(a.name, a.type, a.text, a.type_spec, a.count) for a in args] == [
        ("arg1", "x32", "%r0", None, 0),
        ("x", "s16", "+4(%sp):s16", "s16", 0),
        ("arg3", "string", "$comm", None, 0),
        ("arg4", "u8", "+0(%r4):u8[4]", "u8", 4),
        ("arg5", "u8", "@calls:b2@1/8", "b2@1/8", 0),
    ]
    assert [a.definition_text for a in args][:2] == ["arg1=%r0", "x=+4(%sp):s16"]
    assert args[4].symbols == ("calls",)
    assert parse_fetchargs("", is_return=False) == []


@pytest.mark.parametrize(("marked", "error", "kwargs"), [
    ("%r0 x=^%bogus", "BAD_REG_NAME", {}),
    ("^$retval", "RETVAL_ON_PROBE", {}),
    ("%r0 ^$arg1", "NOFENTRY_ARGS", {"on_function_entry": False}),
    ("%r0 ^$arg1", "BAD_VAR", {}),
    ("^$arg1", "BAD_VAR", {"is_return": True}),
    ("%r0 ^arg1=%r1", "USED_ARG_NAME", {}),
])
def test_parse_fetchargs_errors(marked: str, error: str, kwargs: dict[str, bool]) -> None:
    options = {"is_return": False, **kwargs}
    with pytest.raises(ProbeDefinitionError) as caught:
        parse_fetchargs(marked.replace("^", ""), **options)
    err = caught.value
    assert (err.message, err.position, err.command) == (
        ERRORS[error], marked.index("^"), marked.replace("^", ""))


# --- fetching -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("%r0", "0x1"),
    ("%r2:s32", "-2"),
    ("%r2:s64", "4294967294"),
    ("%r3:char", "'A'"),
    ("%r6:char", "'\0'"),
    ("%r6:symbol", "0x0"),
    ("+0x20(%r4):x64", "0x807060504030201"),
    ("+0x20(%r4):u64", str(0x0807060504030201)),
    ("+0x22(%r4):s16", str(0x0403)),
    ("+0x20(%r4):b8@56/64", "8"),
    ("+0x20(%r4):b4@4/8", "0"),
    ("+0x21(%r4):b2@0/8", "2"),
    ("+0x26(%r4):x8[4]", "{0x7,0x8,0x0,0x0}"),
    ("+0x14(%r5):string[3]", "{(fault),(fault),(fault)}"),
    ("+0(%r5):string", '""'),               # the pointer array's bytes: 00 00 40 80
    ("+0(+8(%r5)):string", "(fault)"),
    ("@nosuch", "0x0"),                     # unresolved: the kernel's IMM stays 0
    ("@result-4:u32", "1000"),
    ("\\0x80400006:string", '"world"'),
    ("+0($stack1):string", '"hello"'),
])
def test_fetch_values(text: str, value: str, env: FakeEnv) -> None:
    assert one(text).value(env) == value


def test_fetch_returns_name_equals_value(env: FakeEnv) -> None:
    assert one("x=%r1").fetch(env) == "x=0x80200000"
    assert one("+0(%r4):u8[2]").fetch(env) == "arg1={104,101}"


def test_retval_prefers_the_env_value(env: FakeEnv) -> None:
    arg = one("$retval:s32", is_return=True)
    assert arg.value(env) == "1"
    env.return_value = 0xFFFFFFD6
    assert arg.value(env) == "-42"


def test_comm_is_the_env_task(env: FakeEnv) -> None:
    env.task = "a-longer-name"
    assert one("$comm").value(env) == '"a-longer-name"'


def test_string_ending_right_before_unmapped_memory(env: FakeEnv) -> None:
    env.poke(0x80500000, b"ab\0")
    env.registers["r6"] = 0x80500000
    assert one("+0(%r6):string").value(env) == '"ab"'
    env.poke(0x80500000, b"abc")        # no NUL before the unmapped byte
    assert one("+0(%r6):string").value(env) == "(fault)"


def test_strings_stop_at_max_string_size(env: FakeEnv) -> None:
    env.poke(0x80600000, b"x" * 5000 + b"\0")
    env.registers["r6"] = 0x80600000
    assert one("+0(%r6):string").value(env) == '"' + "x" * 4095 + '"'


def test_stack_slots_past_the_thread_block_read_zero(env: FakeEnv) -> None:
    env.registers["sp"] = 0x80300000      # bottom of a block: every slot stays inside
    env.poke_words(0x80300000, [5, 6])
    assert one("$stack1").value(env) == "0x6"
    env.registers["sp"] = 0x80303FFC      # the last word of its block
    assert one("$stack0").value(env) == "0x0"    # inside, but unmapped: 0
    env.poke_words(0x80303FFC, [9, 10])
    assert one("$stack0").value(env) == "0x9"
    assert one("$stack1").value(env) == "0x0"    # 0x80304000: the next block


def test_string_array_walks_the_pointer_array(env: FakeEnv) -> None:
    env.poke_words(STRINGS + 0x18, [STRINGS + 0x2C])
    env.poke(STRINGS + 0x2C, b"!\0")
    assert one("+0(%r5):string[3]").value(env) == '{"hello","world","!"}'
