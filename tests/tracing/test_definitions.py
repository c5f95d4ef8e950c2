"""kprobe_events commands: read-back, trace text and error_log, as Linux produces them.

The error cases follow tools/testing/selftests/ftrace/test.d/kprobe/kprobe_syntax_errors.tc
(the kernel's own caret examples, with the demo image's symbols instead of vfs_read):
``^`` marks the column the kernel's error_log caret points at; the command is the text
without it.
"""

from __future__ import annotations

import errno

import pytest

from armdbg.tracing.definitions import (
    DeleteRequest,
    ProbeDefinition,
    parse_definition,
    split_commands,
)
from armdbg.tracing.errors import ERRORS, ErrorLog, ProbeDefinitionError
from armdbg.tracing.formats import KPROBE_CONTEXT_FLAGS, KRETPROBE_CONTEXT_FLAGS, trace_line

# What trace_line() prints before the event text for a hit of the demo task at 12.345678.
KPROBE_PREFIX = "            demo-1       [000] d....    12.345678: "
KRETPROBE_PREFIX = "            demo-1       [000] .....    12.345678: "
RET_IP = 0x800080A4          # main+0x34: where do_something returns to
E63 = "e" * 63
G63 = "g" * 63

# (command, kprobe_events read-back, event text of a hit on FakeEnv)
VALID = [
    # probe points and generated names
    ("p do_something", "p:kprobes/p_do_something_0 do_something",
     "p_do_something_0: (do_something+0x0/0x24)"),
    ("p main", "p:kprobes/p_main_0 main", "p_main_0: (main+0x0/0xd0)"),
    ("p thumb_clamp", "p:kprobes/p_thumb_clamp_0 thumb_clamp",
     "p_thumb_clamp_0: (thumb_clamp+0x0/0xe)"),
    ("p far_function", "p:kprobes/p_far_function_0 far_function",
     "p_far_function_0: (far_function+0x0/0x8)"),
    ("p do_something+4", "p:kprobes/p_do_something_4 do_something+4",
     "p_do_something_4: (do_something+0x4/0x24)"),
    ("p do_something+0x8", "p:kprobes/p_do_something_8 do_something+8",
     "p_do_something_8: (do_something+0x8/0x24)"),
    # kstrtol base 0: a leading 0 is octal
    ("p do_something+010", "p:kprobes/p_do_something_8 do_something+8",
     "p_do_something_8: (do_something+0x8/0x24)"),
    ("p do_something+0", "p:kprobes/p_do_something_0 do_something",
     "p_do_something_0: (do_something+0x0/0x24)"),
    # past the end of do_something: the address is cond_first's
    ("p do_something+0x24", "p:kprobes/p_do_something_36 do_something+36",
     "p_do_something_36: (cond_first+0x0/0xc)"),
    ("p 0x80008034", "p:kprobes/p_0x80008034 0x80008034",
     "p_0x80008034: (do_something+0x4/0x24)"),
    ("p 2147516464", "p:kprobes/p_0x80008030 0x80008030",
     "p_0x80008030: (do_something+0x0/0x24)"),
    ("p 0x80008500", "p:kprobes/p_0x80008500 0x80008500", "p_0x80008500: (0x80008500)"),
    ("p:at 0x80008030 %r0", "p:kprobes/at 0x80008030 arg1=%r0",
     "at: (do_something+0x0/0x24) arg1=0x1"),
    # group and event names
    ("p:myprobe do_something", "p:kprobes/myprobe do_something",
     "myprobe: (do_something+0x0/0x24)"),
    ("p:grp/myprobe do_something", "p:grp/myprobe do_something",
     "myprobe: (do_something+0x0/0x24)"),
    ("p:grp/ do_something", "p:grp/p_do_something_0 do_something",
     "p_do_something_0: (do_something+0x0/0x24)"),
    ("p:my-grp/ev do_something", "p:my-grp/ev do_something", "ev: (do_something+0x0/0x24)"),
    ("p:grp.ev do_something", "p:grp/ev do_something", "ev: (do_something+0x0/0x24)"),
    ("p:_E9 do_something", "p:kprobes/_E9 do_something", "_E9: (do_something+0x0/0x24)"),
    (f"p:{E63} do_something", f"p:kprobes/{E63} do_something",
     f"{E63}: (do_something+0x0/0x24)"),
    (f"p:{G63}/ev do_something", f"p:{G63}/ev do_something", "ev: (do_something+0x0/0x24)"),
    # return probes
    ("r do_something", "r:kprobes/r_do_something_0 do_something",
     "r_do_something_0: (main+0x34/0xd0 <- do_something)"),
    ("r10 do_something", "r10:kprobes/r_do_something_0 do_something",
     "r_do_something_0: (main+0x34/0xd0 <- do_something)"),
    ("r4096:ret main", "r4096:kprobes/ret main", "ret: (main+0x34/0xd0 <- main)"),
    ("r0x10 do_something", "r16:kprobes/r_do_something_0 do_something",
     "r_do_something_0: (main+0x34/0xd0 <- do_something)"),
    ("p do_something%return", "r:kprobes/r_do_something_0 do_something",
     "r_do_something_0: (main+0x34/0xd0 <- do_something)"),
    ("p:ev do_something+0%return", "r:kprobes/ev do_something",
     "ev: (main+0x34/0xd0 <- do_something)"),
    ("r do_something+36", "r:kprobes/r_do_something_36 do_something+36",
     "r_do_something_36: (main+0x34/0xd0 <- cond_first)"),
    ("r 0x80008054", "r:kprobes/r_0x80008054 0x80008054",
     "r_0x80008054: (main+0x34/0xd0 <- cond_first)"),
    # the kernel only looks at the first letter and a digit or ':' after it
    ("rfoo do_something", "r:kprobes/r_do_something_0 do_something",
     "r_do_something_0: (main+0x34/0xd0 <- do_something)"),
    ("r do_something $retval", "r:kprobes/r_do_something_0 do_something arg1=$retval",
     "r_do_something_0: (main+0x34/0xd0 <- do_something) arg1=0x1"),
    ("r do_something ret=$retval:s32 $retval:x8 $retval:symbol",
     "r:kprobes/r_do_something_0 do_something ret=$retval:s32 arg2=$retval:x8"
     " arg3=$retval:symbol",
     "r_do_something_0: (main+0x34/0xd0 <- do_something) ret=1 arg2=0x1 arg3=0x1"),
    # str_has_prefix("retval")
    ("r do_something $retvalue", "r:kprobes/r_do_something_0 do_something arg1=$retvalue",
     "r_do_something_0: (main+0x34/0xd0 <- do_something) arg1=0x1"),
    # registers
    ("p do_something %r0", "p:kprobes/p_do_something_0 do_something arg1=%r0",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x1"),
    ("p do_something+4 %r0", "p:kprobes/p_do_something_4 do_something+4 arg1=%r0",
     "p_do_something_4: (do_something+0x4/0x24) arg1=0x1"),
    ("p do_something %r1 %r2 %r3",
     "p:kprobes/p_do_something_0 do_something arg1=%r1 arg2=%r2 arg3=%r3",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x80200000 arg2=0xfffffffe arg3=0x41"),
    ("p do_something a=%r10 b=%fp c=%ip d=%sp e=%lr f=%pc g=%cpsr h=%ORIG_r0",
     "p:kprobes/p_do_something_0 do_something a=%r10 b=%fp c=%ip d=%sp e=%lr f=%pc"
     " g=%cpsr h=%ORIG_r0",
     "p_do_something_0: (do_something+0x0/0x24) a=0xa b=0x80301ffc c=0x80200004"
     " d=0x80301ff0 e=0x800080a4 f=0x80008030 g=0x600001d3 h=0xffffffff"),
    ("p do_something %r0:x32", "p:kprobes/p_do_something_0 do_something arg1=%r0:x32",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x1"),
    # types
    ("p do_something %r0:u8 %r2:u16 %r2:u32 %r2:u64",
     "p:kprobes/p_do_something_0 do_something arg1=%r0:u8 arg2=%r2:u16 arg3=%r2:u32"
     " arg4=%r2:u64",
     "p_do_something_0: (do_something+0x0/0x24) arg1=1 arg2=65534 arg3=4294967294"
     " arg4=4294967294"),
    # a 32-bit register stored as s64 is zero-extended ("TBD: 32bit signed")
    ("p do_something %r2:s8 %r2:s16 %r2:s32 %r2:s64",
     "p:kprobes/p_do_something_0 do_something arg1=%r2:s8 arg2=%r2:s16 arg3=%r2:s32"
     " arg4=%r2:s64",
     "p_do_something_0: (do_something+0x0/0x24) arg1=-2 arg2=-2 arg3=-2 arg4=4294967294"),
    ("p do_something %r2:x8 %r2:x16 %r2:x32 %r2:x64",
     "p:kprobes/p_do_something_0 do_something arg1=%r2:x8 arg2=%r2:x16 arg3=%r2:x32"
     " arg4=%r2:x64",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0xfe arg2=0xfffe arg3=0xfffffffe"
     " arg4=0xfffffffe"),
    ("p do_something %r9:x16 %r9:u8",
     "p:kprobes/p_do_something_0 do_something arg1=%r9:x16 arg2=%r9:u8",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x5678 arg2=120"),
    ("p do_something %r3:char", "p:kprobes/p_do_something_0 do_something arg1=%r3:char",
     "p_do_something_0: (do_something+0x0/0x24) arg1='A'"),
    ("p do_something %r8:symbol %lr:symbol %r0:symbol",
     "p:kprobes/p_do_something_0 do_something arg1=%r8:symbol arg2=%lr:symbol"
     " arg3=%r0:symbol",
     "p_do_something_0: (do_something+0x0/0x24) arg1=do_something+0x0/0x24"
     " arg2=main+0x34/0xd0 arg3=0x1"),
    ("p do_something %r8:symstr",
     "p:kprobes/p_do_something_0 do_something arg1=%r8:symstr",
     'p_do_something_0: (do_something+0x0/0x24) arg1="do_something+0x0/0x24"'),
    ("p do_something +0(%sp):symstr $stack0:symstr",
     "p:kprobes/p_do_something_0 do_something arg1=+0(%sp):symstr arg2=$stack0:symstr",
     'p_do_something_0: (do_something+0x0/0x24) arg1="calls+0x0/0x4"'
     ' arg2="calls+0x0/0x4"'),
    # strings
    ("p do_something +0(%r4):string",
     "p:kprobes/p_do_something_0 do_something arg1=+0(%r4):string",
     'p_do_something_0: (do_something+0x0/0x24) arg1="hello"'),
    ("p do_something +6(%r4):string",
     "p:kprobes/p_do_something_0 do_something arg1=+6(%r4):string",
     'p_do_something_0: (do_something+0x0/0x24) arg1="world"'),
    ("p do_something +0(%r4):ustring",
     "p:kprobes/p_do_something_0 do_something arg1=+0(%r4):ustring",
     'p_do_something_0: (do_something+0x0/0x24) arg1="hello"'),
    ("p do_something +u0(%r4):string",
     "p:kprobes/p_do_something_0 do_something arg1=+u0(%r4):string",
     'p_do_something_0: (do_something+0x0/0x24) arg1="hello"'),
    ("p do_something +0(%r6):string",
     "p:kprobes/p_do_something_0 do_something arg1=+0(%r6):string",
     "p_do_something_0: (do_something+0x0/0x24) arg1=(fault)"),
    ("p do_something @0x80400000:string",
     "p:kprobes/p_do_something_0 do_something arg1=@0x80400000:string",
     'p_do_something_0: (do_something+0x0/0x24) arg1="hello"'),
    ("p do_something \\0x80400000:string",
     "p:kprobes/p_do_something_0 do_something arg1=\\0x80400000:string",
     'p_do_something_0: (do_something+0x0/0x24) arg1="hello"'),
    ("p do_something $comm", "p:kprobes/p_do_something_0 do_something arg1=$comm",
     'p_do_something_0: (do_something+0x0/0x24) arg1="demo"'),
    ("p do_something cmd=$COMM:string",
     "p:kprobes/p_do_something_0 do_something cmd=$COMM:string",
     'p_do_something_0: (do_something+0x0/0x24) cmd="demo"'),
    ('p do_something \\"hello" s=\\"a"',
     'p:kprobes/p_do_something_0 do_something arg1=\\"hello" s=\\"a"',
     'p_do_something_0: (do_something+0x0/0x24) arg1="hello" s="a"'),
    # __parse_imm_string() on an empty string checks the opening quote
    ('p do_something \\":string', 'p:kprobes/p_do_something_0 do_something arg1=\\":string',
     'p_do_something_0: (do_something+0x0/0x24) arg1=""'),
    # memory
    ("p do_something @0x80200000",
     "p:kprobes/p_do_something_0 do_something arg1=@0x80200000",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x3e8"),
    ("p do_something @calls @result:s32",
     "p:kprobes/p_do_something_0 do_something arg1=@calls arg2=@result:s32",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x3e8 arg2=-2"),
    ("p do_something @calls+4:s32",
     "p:kprobes/p_do_something_0 do_something arg1=@calls+4:s32",
     "p_do_something_0: (do_something+0x0/0x24) arg1=-2"),
    ("p do_something @result-4:u32",
     "p:kprobes/p_do_something_0 do_something arg1=@result-4:u32",
     "p_do_something_0: (do_something+0x0/0x24) arg1=1000"),
    ("p do_something @calls:s8", "p:kprobes/p_do_something_0 do_something arg1=@calls:s8",
     "p_do_something_0: (do_something+0x0/0x24) arg1=-24"),
    ("p do_something +0(%sp) +4(%sp) -4(%fp)",
     "p:kprobes/p_do_something_0 do_something arg1=+0(%sp) arg2=+4(%sp) arg3=-4(%fp)",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x80200000 arg2=0x80400000"
     " arg3=0x80008034"),
    ("p do_something -u4(%sp)", "p:kprobes/p_do_something_0 do_something arg1=-u4(%sp)",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0xcafef00d"),
    ("p do_something +0(+4(%sp)):string",
     "p:kprobes/p_do_something_0 do_something arg1=+0(+4(%sp)):string",
     'p_do_something_0: (do_something+0x0/0x24) arg1="hello"'),
    ("p do_something +0(+0(%sp)):s32",
     "p:kprobes/p_do_something_0 do_something arg1=+0(+0(%sp)):s32",
     "p_do_something_0: (do_something+0x0/0x24) arg1=1000"),
    # the last load faults: nothing is stored, the record reads 0
    ("p do_something +0(+0(+0(%r5))):u8",
     "p:kprobes/p_do_something_0 do_something arg1=+0(+0(+0(%r5))):u8",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0"),
    ("p do_something +4(%sp):u64",
     "p:kprobes/p_do_something_0 do_something arg1=+4(%sp):u64",
     "p_do_something_0: (do_something+0x0/0x24) arg1=9223512999833108480"),
    # stack
    ("p do_something $stack", "p:kprobes/p_do_something_0 do_something arg1=$stack",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x80301ff0"),
    ("p do_something $stack0 $stack1 $stack2:symbol $stack3",
     "p:kprobes/p_do_something_0 do_something arg1=$stack0 arg2=$stack1"
     " arg3=$stack2:symbol arg4=$stack3",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x80200000 arg2=0x80400000"
     " arg3=do_something+0x4/0x24 arg4=0xdeadbeef"),
    # outside the THREAD_SIZE block of sp: regs_get_kernel_stack_nth() gives 0
    ("p do_something $stack4 $stack2048",
     "p:kprobes/p_do_something_0 do_something arg1=$stack4 arg2=$stack2048",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x0 arg2=0x0"),
    # immediates
    ("p do_something \\42 \\0x10:u8 \\-1 \\+5:s32",
     "p:kprobes/p_do_something_0 do_something arg1=\\42 arg2=\\0x10:u8 arg3=\\-1"
     " arg4=\\+5:s32",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x2a arg2=16 arg3=0xffffffff arg4=5"),
    # arrays
    ("p do_something +0(%r4):u8[5]",
     "p:kprobes/p_do_something_0 do_something arg1=+0(%r4):u8[5]",
     "p_do_something_0: (do_something+0x0/0x24) arg1={104,101,108,108,111}"),
    ("p do_something +0(%r4):char[5]",
     "p:kprobes/p_do_something_0 do_something arg1=+0(%r4):char[5]",
     "p_do_something_0: (do_something+0x0/0x24) arg1={'h','e','l','l','o'}"),
    ("p do_something +0x20(%r4):x16[4]",
     "p:kprobes/p_do_something_0 do_something arg1=+0x20(%r4):x16[4]",
     "p_do_something_0: (do_something+0x0/0x24) arg1={0x201,0x403,0x605,0x807}"),
    ("p do_something +0(%r5):string[2]",
     "p:kprobes/p_do_something_0 do_something arg1=+0(%r5):string[2]",
     'p_do_something_0: (do_something+0x0/0x24) arg1={"hello","world"}'),
    ("p do_something +0(%r5):string[3]",
     "p:kprobes/p_do_something_0 do_something arg1=+0(%r5):string[3]",
     'p_do_something_0: (do_something+0x0/0x24) arg1={"hello","world",(fault)}'),
    # bitfields print as their unsigned container
    ("p do_something @calls:b4@4/32",
     "p:kprobes/p_do_something_0 do_something arg1=@calls:b4@4/32",
     "p_do_something_0: (do_something+0x0/0x24) arg1=14"),
    ("p do_something @calls:b1@0/8 @calls:b16@8/32",
     "p:kprobes/p_do_something_0 do_something arg1=@calls:b1@0/8 arg2=@calls:b16@8/32",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0 arg2=3"),
    ("p do_something %r2:b3@0/8",
     "p:kprobes/p_do_something_0 do_something arg1=%r2:b3@0/8",
     "p_do_something_0: (do_something+0x0/0x24) arg1=6"),
    # argument names
    ("p do_something arg3=%r1 %r0",
     "p:kprobes/p_do_something_0 do_something arg3=%r1 arg2=%r0",
     "p_do_something_0: (do_something+0x0/0x24) arg3=0x80200000 arg2=0x1"),
    ("p do_something _x=%r0 X9=%r1",
     "p:kprobes/p_do_something_0 do_something _x=%r0 X9=%r1",
     "p_do_something_0: (do_something+0x0/0x24) _x=0x1 X9=0x80200000"),
    ("p do_something " + "n" * 32 + "=%r0",
     "p:kprobes/p_do_something_0 do_something " + "n" * 32 + "=%r0",
     "p_do_something_0: (do_something+0x0/0x24) " + "n" * 32 + "=0x1"),
    # white space between words does not matter
    ("p\tdo_something    %r0 ", "p:kprobes/p_do_something_0 do_something arg1=%r0",
     "p_do_something_0: (do_something+0x0/0x24) arg1=0x1"),
]


def test_tables_are_large_enough() -> None:
    assert len(VALID) >= 60
    assert len(INVALID) >= 60


@pytest.mark.parametrize(("line", "readback", "event_text"), VALID, ids=[v[0] for v in VALID])
def test_valid_definition(line: str, readback: str, event_text: str, symbols, env) -> None:
    definition = parse_definition(line, symbols)
    assert isinstance(definition, ProbeDefinition)
    assert definition.text == readback
    assert definition.event_text(env, ret_ip=RET_IP) == event_text
    flags = KRETPROBE_CONTEXT_FLAGS if definition.is_return else KPROBE_CONTEXT_FLAGS
    prefix = KRETPROBE_PREFIX if definition.is_return else KPROBE_PREFIX
    line_text = trace_line(definition.event_text(env, ret_ip=RET_IP), comm="demo",
                           timestamp_ns=12_345_678_499, flags=flags)
    assert line_text == prefix + event_text + "\n"


def test_definition_fields(symbols) -> None:
    d = parse_definition("r16:grp/ev do_something+0 x=%r0:u8 +4(%sp):string[2]", symbols)
    assert isinstance(d, ProbeDefinition)
    assert (d.is_return, d.group, d.event, d.symbol, d.offset, d.address, d.maxactive) == (
        True, "grp", "ev", "do_something", 0, 0x80008030, 16)
    assert [(a.name, a.type, a.text, a.type_spec, a.count) for a in d.args] == [
        ("x", "u8", "%r0:u8", "u8", 0), ("arg2", "string", "+4(%sp):string[2]", "string", 2)]
    assert d.argv == ("r16:grp/ev", "do_something+0", "x=%r0:u8", "+4(%sp):string[2]")
    a = parse_definition("p 0x80008034 %r0", symbols)
    assert isinstance(a, ProbeDefinition)
    assert (a.symbol, a.offset, a.address, a.location) == (None, 0, 0x80008034, "0x80008034")


def test_blank_line_is_ignored(symbols) -> None:
    assert parse_definition("", symbols) is None
    assert parse_definition("  \t ", symbols) is None


def test_long_generated_name_is_cut_and_sanitized() -> None:
    class Dotted:
        def lookup(self, name: str) -> list[int]:
            return [0x80008030] if name.startswith("f") else []

        def is_function_entry(self, address: int) -> bool:
            return True

    d = parse_definition("p foo.isra.0", Dotted())
    assert isinstance(d, ProbeDefinition) and d.event == "p_foo_isra_0_0"
    long_name = "f" * 70
    d = parse_definition(f"p {long_name}+4", Dotted())
    assert isinstance(d, ProbeDefinition)
    assert d.event == ("p_" + long_name)[:63]
    assert d.text == f"p:kprobes/{d.event} {long_name}+4"


# (command with ^ at the caret column, error name)
INVALID = [
    ("p^100 do_something", "BAD_MAXACT_TYPE"),
    ("r^1a111 do_something", "BAD_MAXACT"),
    ("r^100000 do_something", "MAXACT_TOO_BIG"),
    ("r^4097 do_something", "MAXACT_TOO_BIG"),
    ("r^0 do_something", "BAD_MAXACT"),
    ("r^0:ev do_something", "BAD_MAXACT"),
    ("r^" + "1" * 64 + " do_something", "BAD_MAXACT"),
    ("p ^non_exist_func", "BAD_PROBE_ADDR"),
    ("p ^hoge-fuga", "BAD_PROBE_ADDR"),
    ("p ^hoge+1000-1000", "BAD_PROBE_ADDR"),
    ("p ^do_something-4", "BAD_PROBE_ADDR"),
    ("p ^do_something+zz", "BAD_PROBE_ADDR"),
    ("p ^0x80008030%return", "BAD_PROBE_ADDR"),
    ("p ^dup", "NON_UNIQ_SYMBOL"),
    ("r ^dup+4", "NON_UNIQ_SYMBOL"),
    ("r ^do_something+10", "BAD_RETPROBE"),
    ("p ^do_something+10%return", "BAD_RETPROBE"),
    ("p do_something^%hoge", "BAD_ADDR_SUFFIX"),
    ("p do_something+4^%return1", "BAD_ADDR_SUFFIX"),
    ("p:^/bar do_something", "NO_GROUP_NAME"),
    ("p:^.bar do_something", "NO_GROUP_NAME"),
    ("p:^" + "1234567890" * 6 + "1234/bar do_something", "GROUP_TOO_LONG"),
    ("p:^foo.1/bar do_something", "BAD_GROUP_NAME"),
    ("p:^1foo/bar do_something", "BAD_GROUP_NAME"),
    ("p:^ do_something", "NO_EVENT_NAME"),
    ("p:foo/^" + "e" * 64 + " do_something", "EVENT_TOO_LONG"),
    ("p:^" + "e" * 64 + " do_something", "EVENT_TOO_LONG"),
    ("p:foo/^bar.1 do_something", "BAD_EVENT_NAME"),
    ("p:foo/^bar-1 do_something", "BAD_EVENT_NAME"),
    ("p:foo.^9bar do_something", "BAD_EVENT_NAME"),
    ("p do_something ^$retval", "RETVAL_ON_PROBE"),
    ("p do_something x=^$retval", "RETVAL_ON_PROBE"),
    # the kernel sets TPARG_FL_RETURN only for symbol probes
    ("r 0x80008030 ^$retval", "RETVAL_ON_PROBE"),
    ("p do_something ^$stack10000", "BAD_STACK_NUM"),
    ("p do_something ^$stack2049", "BAD_STACK_NUM"),
    ("p do_something ^$stackx", "BAD_VAR"),
    ("p do_something ^$stack99999999999", "BAD_VAR"),
    ("p do_something ^$none_var", "BAD_VAR"),
    # no HAVE_FUNCTION_ARG_ACCESS_API on arm32
    ("p do_something ^$arg1", "BAD_VAR"),
    ("p do_something x=^$arg1", "BAD_VAR"),
    ("r do_something ^$arg2", "BAD_VAR"),
    ("p do_something ^$argx", "BAD_VAR"),
    ("p do_something+4 ^$arg1", "NOFENTRY_ARGS"),
    ("p 0x80008030 ^$arg1", "NOFENTRY_ARGS"),
    # the $arg pre-pass runs before any argument is parsed
    ("p do_something+4 %bogus ^$arg1", "NOFENTRY_ARGS"),
    ("p do_something $arg* ^$arg*", "DOUBLE_ARGS"),
    ("p do_something ^%none_reg", "BAD_REG_NAME"),
    ("p do_something ^%r11", "BAD_REG_NAME"),
    ("p do_something ^%R0", "BAD_REG_NAME"),
    ("p do_something ^@12345678abcde", "BAD_MEM_ADDR"),
    ("p do_something ^@0x100000000", "BAD_MEM_ADDR"),
    ("p do_something ^@+10", "FILE_ON_KPROBE"),
    ("p do_something arg1=\\^x", "BAD_IMM"),
    ("p do_something \\^", "BAD_IMM"),
    ("p do_something \\^0x100000000", "BAD_IMM"),
    ('p do_something arg1=\\"abcd^', "IMMSTR_NO_CLOSE"),
    ("p do_something ^+0@0)", "DEREF_NEED_BRACE"),
    ("p do_something ^+0ab1(@0)", "BAD_DEREF_OFFS"),
    ("p do_something ^+(%sp)", "BAD_DEREF_OFFS"),
    ("p do_something +0(+0(@0^)", "DEREF_OPEN_BRACE"),
    ("p do_something +0(^$comm)", "COMM_CANT_DEREF"),
    ('p do_something +0(^\\"abc")', "COMM_CANT_DEREF"),
    ("p do_something ^&1", "BAD_FETCH_ARG"),
    ("p do_something ^123", "BAD_FETCH_ARG"),
    ("p do_something +0(^" + "+0(" * 13 + "@0" + ")" * 14, "TOO_MANY_OPS"),
    ("p do_something -4(^%bogus)", "BAD_REG_NAME"),
    ("p do_something x=+8(^%bogus)", "BAD_REG_NAME"),
    # kernel quirk: the 'u' of +u/-u is not counted, the caret lands one column left
    ("p do_something +u4^(%bogus)", "BAD_REG_NAME"),
    ("p do_something +0(@11):u8[10^", "ARRAY_NO_CLOSE"),
    ("p do_something +0(@11):u8[10]^a", "BAD_ARRAY_SUFFIX"),
    ("p do_something +0(@11):u8[^10a]", "BAD_ARRAY_NUM"),
    ("p do_something +0(@11):u8[^0]", "BAD_ARRAY_NUM"),
    ("p do_something +0(@11):u8[^256]", "ARRAY_TOO_BIG"),
    ("p do_something +0(@11):u8[^65]", "ARRAY_TOO_BIG"),
    ("p do_something @11:^unknown_type", "BAD_TYPE"),
    ("p do_something %r0:^u128", "BAD_TYPE"),
    ("p do_something %r0:^b4@0/12", "BAD_TYPE"),
    ("p do_something $stack0:^string", "BAD_STRING"),
    ("p do_something %r0:^string", "BAD_STRING"),
    ("p do_something %r0:^u32[2]", "BAD_STRING"),
    ("p do_something %r0:^symstr[2]", "BAD_STRING"),
    ("p do_something $stack:^symstr", "BAD_SYMSTRING"),
    ("p do_something \\1:^symstr", "BAD_SYMSTRING"),
    ("p do_something @11:^b10@a/16", "BAD_BITFIELD"),
    ("p do_something @11:^b0@0/8", "BAD_BITFIELD"),
    ("p do_something @11:^b9@0/8", "BAD_BITFIELD"),
    ("p do_something @11:^b4@5/8", "BAD_BITFIELD"),
    # kernel quirk: after a top-level dereference the column of the type is counted from
    # inside the braces (ctx->offset is left there)
    ("p do_something +0(%r0):b40^@0/32", "BAD_BITFIELD"),
    ("p do_something ^arg123456789012345678901234567890=@11", "ARG_NAME_TOO_LONG"),
    ("p do_something ^=@11", "NO_ARG_NAME"),
    ("p do_something ^var.1=@11", "BAD_ARG_NAME"),
    ("p do_something ^1var=@11", "BAD_ARG_NAME"),
    ("p do_something var1=@11 ^var1=@12", "USED_ARG_NAME"),
    ("p do_something arg2=%r0 ^%r1", "USED_ARG_NAME"),
    ("p do_something ^common_pid=%r0", "USED_ARG_NAME"),
    ("p do_something ^__probe_ip=%r0", "USED_ARG_NAME"),
    ("p do_something ^+1234567(+1234567(+1234567(+1234567(+1234567(+1234567(@1234))))))",
     "ARG_TOO_LONG"),
    ("p do_something arg1=^", "NO_ARG_BODY"),
    ("p do_something ^hoge", "NOSUP_BTFARG"),
    ("p do_something+4 ^hoge", "NOSUP_BTFARG"),
    ("p do_something ^$arg*", "NOSUP_BTFARG"),
    ("p do_something $comm:^u32", "NEED_STRING_TYPE"),
    ("p do_something $comm:^string[2]", "NEED_STRING_TYPE"),
    ('p do_something \\"abc":^x32', "NEED_STRING_TYPE"),
    # registration: @SYM is resolved, a kretprobe address must be a function entry
    ("p ^do_something @nosuch", "BAD_PROBE_ADDR"),
    ("p ^do_something @calls+zz", "FAIL_REG_PROBE"),
    ("r ^0x80008034", "FAIL_REG_PROBE"),
]


@pytest.mark.parametrize(("marked", "error"), INVALID, ids=[i[0] for i in INVALID])
def test_invalid_definition(marked: str, error: str, symbols) -> None:
    position = marked.index("^")
    command = marked.replace("^", "", 1)
    with pytest.raises(ProbeDefinitionError) as caught:
        parse_definition(command, symbols)
    err = caught.value
    assert (err.message, err.position, err.command) == (ERRORS[error], position, command)
    assert str(err) == ERRORS[error]


def test_error_log_text_of_a_definition(symbols) -> None:
    with pytest.raises(ProbeDefinitionError) as caught:
        parse_definition("p   do_something\t%none_reg", symbols)
    assert caught.value.error_log_text(1_234_567_890_123) == (
        "[ 1234.567890] trace_kprobe: error: Invalid register name\n"
        "  Command: p do_something %none_reg\n"
        "                          ^\n")


def test_dollar_arg_star_logs_twice(symbols) -> None:
    """Without BTF the kernel logs NOSUP_BTFARG, carries on, then fails on $arg*."""
    with pytest.raises(ProbeDefinitionError) as caught:
        parse_definition("p do_something %r0 $arg* %r1", symbols)
    assert [(e.message, e.position) for e in caught.value.log] == [
        (ERRORS["NOSUP_BTFARG"], 19), (ERRORS["BAD_VAR"], 19)]
    # logged at the last "$arg..." argument
    with pytest.raises(ProbeDefinitionError) as caught:
        parse_definition("p do_something $arg* $arg1", symbols)
    assert [(e.message, e.position) for e in caught.value.log] == [
        (ERRORS["NOSUP_BTFARG"], 21), (ERRORS["BAD_VAR"], 15)]


@pytest.mark.parametrize(("line", "code"), [
    ("p do_something ^+1234567(+1234567(+1234567(+1234567(+1234567(+1234567(@1234))))))"
     .replace("^", ""), errno.E2BIG),
    ("p do_something hoge", errno.EOPNOTSUPP),
    ("p do_something+4 hoge", errno.EINVAL),
    ("p do_something @nosuch", errno.ENOENT),
    ("p do_something %bogus", errno.EINVAL),
])
def test_write_errno(line: str, code: int, symbols) -> None:
    with pytest.raises(ProbeDefinitionError) as caught:
        parse_definition(line, symbols)
    assert caught.value.errno == code


def test_too_many_arguments(symbols) -> None:
    fine = parse_definition("p do_something " + " ".join(["%r0"] * 128), symbols)
    assert isinstance(fine, ProbeDefinition) and len(fine.args) == 128
    assert fine.args[-1].name == "arg128"
    with pytest.raises(ProbeDefinitionError) as caught:
        parse_definition("p do_something " + " ".join(["%r0"] * 129), symbols)
    err = caught.value
    assert (err.message, err.position, err.errno) == (
        ERRORS["TOO_MANY_ARGS"], len("p do_something "), errno.E2BIG)


@pytest.mark.parametrize("line", [
    "x do_something",       # not a kprobe command: -ECANCELED, then -EINVAL
    "p",
    "p:ev",
    "r10:ev",
    "p /bin/true:0x10",     # a uprobe definition
    " -:ev",                # a delete only when the line starts with '-'
    "-",
    "-ev",
    "-:",
])
def test_rejected_without_error_log(line: str, symbols) -> None:
    with pytest.raises(ProbeDefinitionError) as caught:
        parse_definition(line, symbols)
    err = caught.value
    assert (err.message, err.position, err.log, err.errno) == (None, None, (), errno.EINVAL)
    assert str(err) == "Invalid argument"


@pytest.mark.parametrize(("line", "expected"), [
    ("-:ev", DeleteRequest(None, "ev")),
    ("-:grp/ev", DeleteRequest("grp", "ev")),
    ("-:grp/", DeleteRequest("grp", "")),
    ("-:grp.ev", DeleteRequest(None, "grp.ev")),
    ("-:ev  do_something+4 arg1=%r0", DeleteRequest(None, "ev", ("do_something+4", "arg1=%r0"))),
])
def test_delete_request(line: str, expected: DeleteRequest, symbols) -> None:
    assert parse_definition(line, symbols) == expected


def test_delete_request_matches(symbols) -> None:
    probe = parse_definition("p:grp/ev do_something+4 %r0 x=%r1", symbols)
    other = parse_definition("p:other/ev2 0x80008030", symbols)
    assert isinstance(probe, ProbeDefinition) and isinstance(other, ProbeDefinition)

    def matches(line: str, definition: ProbeDefinition) -> bool:
        request = parse_definition(line, symbols)
        assert isinstance(request, DeleteRequest)
        return request.matches(definition)

    assert matches("-:ev", probe)
    assert matches("-:grp/ev", probe)
    assert matches("-:grp/", probe)
    assert not matches("-:kprobes/ev", probe)
    assert not matches("-:ev2", probe)
    assert matches("-:ev do_something+4", probe)
    assert matches("-:ev do_something+4 arg1=%r0", probe)
    assert matches("-:ev do_something+4 arg1=%r0 x=%r1", probe)
    assert not matches("-:ev do_something+4 arg1=%r0 x=%r1 y=%r2", probe)
    assert not matches("-:ev do_something", probe)
    assert not matches("-:ev do_something+4 x=%r1", probe)
    assert matches("-:ev2 0x80008030", other)
    assert not matches("-:ev2 do_something", other)


def test_split_commands() -> None:
    assert split_commands("p do_something\n") == ["p do_something"]
    assert split_commands("p a # comment\n#only comment\n\n-:ev\nr b") == [
        "p a ", "", "", "-:ev", "r b"]
    assert split_commands("") == [""]
    with pytest.raises(ProbeDefinitionError) as caught:
        split_commands("p " + "x" * 4094)
    assert caught.value.log == ()


def parsed(line: str, symbols) -> ProbeDefinition:
    definition = parse_definition(line, symbols)
    assert isinstance(definition, ProbeDefinition)
    return definition


def test_append_errors(symbols) -> None:
    """The selftest's multiprobe cases: appending a probe to an existing event."""
    existing = [parsed("p:kprobes/testevent main abcd=\\1", symbols)]

    def error(line: str) -> tuple[str, int] | None:
        err = parsed(line, symbols).append_error(existing)
        return None if err is None else (err.message or "", err.position or 0)

    assert error("r:kprobes/testevent do_something") == (ERRORS["DIFF_PROBE_TYPE"], 0)
    assert error("p:kprobes/testevent main bcd=\\1") == (ERRORS["DIFF_ARG_TYPE"], 25)
    assert error("p:kprobes/testevent main abcd=\\1:u8") == (ERRORS["DIFF_ARG_TYPE"], 25)
    assert error('p:kprobes/testevent main abcd=\\"foo"') == (ERRORS["DIFF_ARG_TYPE"], 25)
    # fewer arguments: the caret goes one column past the end of the command
    assert error("p:kprobes/testevent main") == (ERRORS["DIFF_ARG_TYPE"], 25)
    assert error("p:kprobes/testevent main abcd=\\1") == (ERRORS["SAME_PROBE"], 0)
    assert error("p:kprobes/testevent do_something abcd=\\1") is None
    assert error("p:kprobes/testevent main abcd=\\2") is None
    assert parsed("p:kprobes/testevent main", symbols).append_error([]) is None
    err = parsed("r:kprobes/testevent main", symbols).append_error(existing)
    assert err is not None and err.errno == errno.EEXIST


def test_address_probes_count_as_the_same_probe(symbols) -> None:
    """trace_kprobe_has_same_kprobe() compares symbols, "unknown" for addresses."""
    first = parsed("p:ev 0x80008030", symbols)
    assert parsed("p:ev 0x80008034", symbols).is_same_probe(first)


def test_registration_errors(symbols) -> None:
    d = parsed("p:ev do_something+2 %r0", symbols)
    err = d.registration_error("BAD_INSN_BNDRY", errno.EILSEQ)
    assert (err.message, err.position, err.errno) == (
        ERRORS["BAD_INSN_BNDRY"], 5, errno.EILSEQ)
    assert d.registration_error("FAIL_REG_PROBE").position == 5
    err = d.registration_error("EVENT_EXIST")
    assert (err.message, err.position, err.errno) == (ERRORS["EVENT_EXIST"], 0, errno.EEXIST)


def test_error_log_keeps_the_last_eight(symbols) -> None:
    log = ErrorLog()
    for i in range(10):
        with pytest.raises(ProbeDefinitionError) as caught:
            parse_definition(f"p do_something %x{i}", symbols)
        log.extend(caught.value.log, timestamp_ns=i * 1_000_000_000)
    text = log.text()
    assert len(log) == 8
    assert text.startswith("[    2.000000] trace_kprobe: error: Invalid register name\n"
                           "  Command: p do_something %x2\n")
    assert text.endswith("  Command: p do_something %x9\n                          ^\n")
    log.clear()
    assert log.text() == ""
