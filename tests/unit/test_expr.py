"""armdbg.expr against gdb 13's behaviour (checked with a native ILP32 gdb).

Where ARM differs from the i386 gdb used for checking (plain char is unsigned on
ARM EABI), the expectation is what an ARM gdb shows.
"""

from __future__ import annotations

import pytest

from armdbg.errors import ExpressionError, MemoryAccessError, NoSymbolError
from armdbg.expr import (
    CHAR,
    INT,
    LONG_LONG,
    SYMBOL,
    UNSIGNED_INT,
    VOID,
    Assign,
    Binary,
    Const,
    Value,
    evaluate,
    evaluate_node,
    parse,
    pointer_to,
    value_as_address,
    value_is_true,
)

MEM_BASE = 0x2000_0000
# The first 48 bytes are the same as the gdb session the expectations came from.
MEMORY_IMAGE = bytes(
    bytes.fromhex("48656c6c6f0a00ff 807f010203040506 0000803f00000000 0000f03f091b2227")
    # Two words pointing back into the buffer (0x20000000, 0x20000004), then 0.
    + bytes([0x00, 0x00, 0x00, 0x20, 0x04, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00])
)
MEM_SIZE = 0x100

REGISTER_NAMES = [f"r{i}" for i in range(13)] + ["sp", "lr", "pc", "cpsr"]
ALIASES = {"fp": "r11", "ip": "r12"}


class FakeEnv:
    """Registers in a dict, one block of little-endian memory, a symbol dict."""

    def __init__(self) -> None:
        self.registers: dict[str, int] = {f"r{i}": i * 0x11 for i in range(13)}
        self.registers.update(sp=0x2000_0080, lr=0x8000_8010, pc=0x8000_8000, cpsr=0x6000_01D3)
        self.registers["r3"] = 0xFFFF_FFFF
        self.registers["r11"] = 0x2000_0040
        self.memory = bytearray(MEM_SIZE)
        self.memory[: len(MEMORY_IMAGE)] = MEMORY_IMAGE
        self.symbols = {"main": 0x8000_8000, "buf": MEM_BASE, "table": MEM_BASE + 0x20}
        self.convenience: dict[str, Value] = {}
        self.history: list[Value] = []
        self.register_writes: list[tuple[str, int]] = []

    def read_register(self, name: str) -> int | None:
        name = ALIASES.get(name, name)
        return self.registers.get(name)

    def write_register(self, name: str, value: int) -> None:
        name = ALIASES.get(name, name)
        self.register_writes.append((name, value))
        self.registers[name] = value

    def _check(self, address: int, size: int) -> int:
        offset = address - MEM_BASE
        if offset < 0 or offset + size > MEM_SIZE:
            raise MemoryAccessError(address)
        return offset

    def read_memory(self, address: int, size: int) -> bytes:
        offset = self._check(address, size)
        return bytes(self.memory[offset : offset + size])

    def write_memory(self, address: int, data: bytes) -> None:
        offset = self._check(address, len(data))
        self.memory[offset : offset + len(data)] = data

    def lookup_symbol(self, name: str) -> int | None:
        return self.symbols.get(name)


@pytest.fixture
def env() -> FakeEnv:
    return FakeEnv()


# (expression, value, type name) -- the value is the Python int in Value.value.
VALUE_CASES: list[tuple[str, int, str]] = [
    # literals and their types (gdb 13's parse_number rules)
    ("0", 0, "int"),
    ("42", 42, "int"),
    ("0x2a", 42, "int"),
    ("0X2A", 42, "int"),
    ("052", 42, "int"),
    ("0b101010", 42, "int"),
    ("0B11", 3, "int"),
    ("00", 0, "int"),
    ("0t42", 42, "int"),
    ("2147483647", 2147483647, "int"),
    ("2147483648", 2147483648, "long long"),
    ("4294967295", 4294967295, "long long"),
    ("0x7fffffff", 0x7FFFFFFF, "int"),
    ("0x80000000", 0x80000000, "unsigned int"),
    ("0xffffffff", 0xFFFFFFFF, "unsigned int"),
    ("0b11111111111111111111111111111111", 0xFFFFFFFF, "unsigned int"),
    ("0x100000000", 0x100000000, "long long"),
    ("0xffffffffffffffff", 0xFFFFFFFFFFFFFFFF, "unsigned long long"),
    ("18446744073709551615", 0xFFFFFFFFFFFFFFFF, "unsigned long long"),
    ("10u", 10, "unsigned int"),
    ("10uu", 10, "unsigned int"),
    ("10l", 10, "long"),
    ("10L", 10, "long"),
    ("10lu", 10, "unsigned long"),
    ("10LU", 10, "unsigned long"),
    ("10ll", 10, "long long"),
    ("10uLL", 10, "unsigned long long"),
    ("10lul", 10, "unsigned long long"),
    ("1lll", 1, "long long"),  # gdb accepts any number of l's
    # character literals: plain char is unsigned on ARM
    ("'a'", 97, "char"),
    ("'A'", 65, "char"),
    ("' '", 32, "char"),
    ("'\\n'", 10, "char"),
    ("'\\0'", 0, "char"),
    ("'\\e'", 27, "char"),
    ("'\\a'", 7, "char"),
    ("'\\''", 39, "char"),
    ("'\\\\'", 92, "char"),
    ("'\"'", 34, "char"),
    ("'\\x41'", 65, "char"),
    ("'\\x141'", 65, "char"),
    ("'\\101'", 65, "char"),
    ("'\\377'", 255, "char"),
    ("'\\777'", 255, "char"),
    ("'\\q'", 113, "char"),
    ("'\\u0041'", 65, "char"),
    # arithmetic, precedence and associativity
    ("1 + 2 * 3", 7, "int"),
    ("(1 + 2) * 3", 9, "int"),
    ("2 + 3 * 4", 14, "int"),
    ("100 / 7 * 7 + 100 % 7", 100, "int"),
    ("10 - 4 - 3", 3, "int"),
    ("1 << 2 + 1", 8, "int"),
    ("1 | 2 ^ 3 & 4", 3, "int"),
    ("1 == 1 < 2", 1, "int"),
    ("1 == 2 == 0", 1, "int"),
    ("1 < 2 < 3", 1, "int"),
    ("+5", 5, "int"),
    ("- -5", 5, "int"),
    ("-(-2147483647 - 1)", -2147483648, "int"),
    # C division and remainder truncate toward zero
    ("-5 / 2", -2, "int"),
    ("-5 % 2", -1, "int"),
    ("7 / -2", -3, "int"),
    ("7 % -3", 1, "int"),
    ("-7 % 3", -1, "int"),
    ("(-2147483647 - 1) / -1", -2147483648, "int"),
    ("(-2147483647 - 1) % -1", 0, "int"),
    ("-2147483648 / -1", 2147483648, "long long"),
    ("-10 / 3u", 1431655762, "unsigned int"),
    ("-10ll / 3", -3, "long long"),
    # wrapping and the usual arithmetic conversions (gdb's binop_promote)
    ("2147483647 + 1", -2147483648, "int"),
    ("0x7fffffff * 2", -2, "int"),
    ("65536 * 65536", 0, "int"),
    ("65536ll * 65536", 4294967296, "long long"),
    ("0x7fffffffffffffff + 1", -9223372036854775808, "long long"),
    ("1u - 2", 4294967295, "unsigned int"),
    ("3 - 5u", 4294967294, "unsigned int"),
    ("-1u", 4294967295, "unsigned int"),
    ("-0x80000000", 2147483648, "unsigned int"),
    ("(unsigned)-1 + 1", 0, "unsigned int"),
    ("(unsigned char)3 - 5", -2, "int"),
    ("(unsigned short)3 - (unsigned short)5", -2, "int"),
    ("(unsigned short)65535 + 1", 65536, "int"),
    ("(char)1 + (char)1", 2, "int"),
    ("'A' + 'B'", 131, "int"),
    ("1u + 1ll", 2, "long long"),
    ("1ull + 1", 2, "unsigned long long"),
    ("1l + 1ul", 2, "unsigned int"),
    ("1ll + 1ul", 2, "long long"),
    ("-(unsigned long long)1", 0xFFFFFFFFFFFFFFFF, "unsigned long long"),
    # unary operators promote to int
    ("-(short)1", -1, "int"),
    ("~(unsigned char)1", -2, "int"),
    ("~0", -1, "int"),
    ("~0u", 0xFFFFFFFF, "unsigned int"),
    ("~0ull", 0xFFFFFFFFFFFFFFFF, "unsigned long long"),
    ("!0", 1, "int"),
    ("!5u", 0, "int"),
    ("!!7", 1, "int"),
    ("+(char)65", 65, "int"),
    # shifts: type of the promoted left operand; gdb yields 0 (or -1) out of range
    ("1 << 31", -2147483648, "int"),
    ("1 << 31u", -2147483648, "int"),
    ("1 << 1ll", 2, "int"),
    ("1u << 1ll", 2, "unsigned int"),
    ("(char)1 << 1", 2, "int"),
    ("1ll << 40", 1099511627776, "long long"),
    ("1ll << 63", -9223372036854775808, "long long"),
    ("(unsigned long long)1 << 63", 9223372036854775808, "unsigned long long"),
    ("-1 >> 1", -1, "int"),
    ("-8 >> 1", -4, "int"),
    ("-1u >> 1", 2147483647, "unsigned int"),
    ("0x80000000 >> 31", 1, "unsigned int"),
    ("1 << 32", 0, "int"),
    ("1 << -1", 0, "int"),
    ("-1 >> 40", -1, "int"),
    ("1ll << 64", 0, "long long"),
    # comparisons and logic give int 0/1
    ("10 > 3", 1, "int"),
    ("3 >= 3", 1, "int"),
    ("3 <= 2", 0, "int"),
    ("1 != 1", 0, "int"),
    ("-1 < 0u", 0, "int"),
    ("(unsigned char)-1 == 255", 1, "int"),
    ("(char)-1 == 255", 1, "int"),
    ("(signed char)-1 == -1", 1, "int"),
    ("1u < 2", 1, "int"),
    ("5 & 3", 1, "int"),
    ("5 ^ 3", 6, "int"),
    ("5 | 3", 7, "int"),
    ("1 && 0", 0, "int"),
    ("2 || 0", 1, "int"),
    ("0 || 0", 0, "int"),
    ("2 && 3", 1, "int"),
    # short-circuit and the conditional do not evaluate the other side
    ("0 && *(int*)0", 0, "int"),
    ("1 || *(int*)0", 1, "int"),
    ("0 ? *(int*)0 : 5", 5, "int"),
    ("1 ? 2 : 3", 2, "int"),
    ("0 ? 2 : 3", 3, "int"),
    ("1 ? 2 : 3 ? 4 : 5", 2, "int"),
    ("0 ? 2 : (char)65", 65, "char"),
    ("1 ? (char)66 : 2", 66, "char"),
    # comma
    ("1 , 2", 2, "int"),
    ("(1, 2) + 3", 5, "int"),
    ("1 ? 2 : 3 , 4", 4, "int"),
    # casts
    ("(char)65", 65, "char"),
    ("(signed char)200", -56, "signed char"),
    ("(unsigned char)256", 0, "unsigned char"),
    ("(char)-1", 255, "char"),
    ("(short)-1", -1, "short"),
    ("(short)70000", 4464, "short"),
    ("(unsigned short)-1", 65535, "unsigned short"),
    ("(short int)5", 5, "short"),
    ("(unsigned short int)5", 5, "unsigned short"),
    ("(signed short)5", 5, "short"),
    ("(long)-1", -1, "long"),
    ("(long int)5", 5, "long"),
    ("(long unsigned)5", 5, "unsigned long"),
    ("(unsigned long)-1", 4294967295, "unsigned long"),
    ("(long long)-1", -1, "long long"),
    ("(unsigned long long)-1", 0xFFFFFFFFFFFFFFFF, "unsigned long long"),
    ("(unsigned long long int)5", 5, "unsigned long long"),
    ("(signed)5", 5, "int"),
    ("(unsigned)5", 5, "unsigned int"),
    ("(unsigned int)5", 5, "unsigned int"),
    ("(const int)5", 5, "int"),
    ("(int long)5", 5, "long"),
    ("(int)4294967296", 0, "int"),
    ("(int) - 5", -5, "int"),
    ("(void)5", 0, "void"),
    ("(int *)0x1000", 0x1000, "int *"),
    ("(unsigned *)0x10", 0x10, "unsigned int *"),
    ("(int **)0x10", 0x10, "int **"),
    ("(char *)-1", 0xFFFFFFFF, "char *"),
    ("(void *)16", 16, "void *"),
    ("(void (*)())0x10", 0x10, "void (*)()"),
    ("(void (*)(void))0x10", 0x10, "void (*)(void)"),
    ("(int (*)())0x10", 0x10, "int (*)()"),
    ("(void (**)())0x10", 0x10, "void (**)()"),
    ("(long)(void*)16", 16, "long"),
    ("(char)(void (*)())0x41", 65, "char"),
    # sizeof: never evaluates its operand
    ("sizeof(int)", 4, "int"),
    ("sizeof (char)", 1, "int"),
    ("sizeof(short)", 2, "int"),
    ("sizeof(long)", 4, "int"),
    ("sizeof(long long)", 8, "int"),
    ("sizeof (unsigned long long)", 8, "int"),
    ("sizeof(void)", 1, "int"),
    ("sizeof(int *)", 4, "int"),
    ("sizeof(char *)", 4, "int"),
    ("sizeof(void (*)())", 4, "int"),
    ("sizeof 5", 4, "int"),
    ("sizeof(5ll)", 8, "int"),
    ("sizeof -5", 4, "int"),
    ("sizeof(*(int*)0)", 4, "int"),
    ("sizeof(*(char*)0)", 1, "int"),
    ("sizeof(1/0)", 4, "int"),
    ("sizeof($unset)", 1, "int"),
    ("sizeof $pc", 4, "int"),
    ("sizeof(int) * 3", 12, "int"),
    ("sizeof (int) - 5", -1, "int"),
    # pointer arithmetic scales by the pointee; differences are long
    ("(int *)0x1000 + 1", 0x1004, "int *"),
    ("1 + (int *)0x1000", 0x1004, "int *"),
    ("(int *)0x10 - 1", 0xC, "int *"),
    ("(short *)0x10 + 2", 0x14, "short *"),
    ("(long long *)0x10 + 2", 0x20, "long long *"),
    ("(int **)0x10 + 1", 0x14, "int **"),
    ("(char *)0x10 + -1", 0xF, "char *"),
    ("(int *)0 - 1", 0xFFFFFFFC, "int *"),
    ("(void *)0 + 1", 1, "void *"),
    ("(void *)8 - 1", 7, "void *"),
    ("(void (*)())0x10 + 1", 0x11, "void (*)()"),
    ("(int *)0x1010 - (int *)0x1000", 4, "long"),
    ("(int *)0x11 - (int *)0x10", 0, "long"),
    ("(int *)0 - (int *)4", -1, "long"),
    ("(int *)0x10 - (unsigned int *)0", 4, "long"),
    ("(void *)4 - (void *)0", 4, "long"),
    ("(void (*)())0x10 - (void (*)())0x8", 8, "long"),
    ("(int *)0x1000 == 0x1000", 1, "int"),
    ("(int *)0x10 < (int *)0x20", 1, "int"),
    ("(int *)1 == (char *)1", 1, "int"),
    ("1 < (int *)2", 1, "int"),
    ("!(int *)0", 1, "int"),
    ("!(int *)0x10", 0, "int"),
    ("(int *)0 && 1", 0, "int"),
    ("(int *)0 ? 1 : 2", 2, "int"),
]


@pytest.mark.parametrize(("text", "value", "type_name"), VALUE_CASES)
def test_value_and_type(env: FakeEnv, text: str, value: int, type_name: str) -> None:
    result = evaluate(text, env)
    assert (result.value, result.ctype.name) == (value, type_name)


# Expressions reading the fake machine: (expression, value, type name).
MACHINE_CASES: list[tuple[str, int, str]] = [
    ("$r0", 0, "int"),
    ("$r1", 0x11, "int"),
    ("$r3", -1, "int"),
    ("$r12", 0xCC, "int"),
    ("$ip", 0xCC, "int"),
    ("$lr", -0x7FFF7FF0, "int"),
    ("$cpsr", 0x600001D3, "int"),
    ("$pc", 0x80008000, "void (*)()"),
    ("$sp", 0x20000080, "void *"),
    ("$fp", 0x20000040, "void *"),
    ("$pc + 4", 0x80008004, "void (*)()"),
    ("$sp + 4", 0x20000084, "void *"),
    ("$sp - 0x80 == buf", 1, "int"),
    ("$r1 + $r2", 0x33, "int"),
    ("$r3 + 1", 0, "int"),
    ("(unsigned)$r3", 0xFFFFFFFF, "unsigned int"),
    # symbols evaluate to their address; reading needs a cast or {TYPE}
    ("main", 0x80008000, "<symbol, no debug info>"),
    ("buf", MEM_BASE, "<symbol, no debug info>"),
    ("*main", 0x80008000, "<symbol, no debug info>"),
    ("main + 4", 0x80008004, "<symbol, no debug info> *"),
    ("&main", 0x80008000, "<symbol, no debug info> *"),
    ("main == 0x80008000", 1, "int"),
    ("(int)buf", MEM_BASE, "int"),
    ("'buf'", MEM_BASE, "<symbol, no debug info>"),
    ("{int}buf", 0x6C6C6548, "int"),
    ("{int} buf + 1", 0x6C6C6549, "int"),
    ("{char}buf", 72, "char"),
    ("{short}buf", 25928, "short"),
    ("{unsigned char}(buf + 7)", 255, "unsigned char"),
    ("{signed char}((char *)buf + 7)", -1, "signed char"),
    ("{char}((char *)buf + 7)", 255, "char"),
    ("{long long}buf", -72046120361237176, "long long"),
    ("{int *}table", MEM_BASE, "int *"),
    ("*(int *)buf", 0x6C6C6548, "int"),
    ("*(int *)0x20000004", -16774545, "int"),
    ("*(unsigned int *)0x20000004", 0xFF000A6F, "unsigned int"),
    ("*0x20000000", 0x6C6C6548, "int"),
    ("((int *)buf)[1]", -16774545, "int"),
    ("((char *)buf)[1]", 101, "char"),
    ("((short *)buf)[-0 + 3]", -256, "short"),
    ("**(int **)table", 0x6C6C6548, "int"),
    ("*((int **)table)[1]", -16774545, "int"),
    ("&((char *)buf)[1]", MEM_BASE + 1, "char *"),
    ("&*(int *)buf", MEM_BASE, "int *"),
    ("&{short}0x20000010", 0x20000010, "short *"),
    ("&((int *)buf)[2] - (int *)buf", 2, "long"),
    ("*(int *)$fp", 0, "int"),
    ("*(int *)($sp - 0x60)", MEM_BASE, "int"),
]


@pytest.mark.parametrize(("text", "value", "type_name"), MACHINE_CASES)
def test_machine_reads(env: FakeEnv, text: str, value: int, type_name: str) -> None:
    result = evaluate(text, env)
    assert (result.value, result.ctype.name) == (value, type_name)


ERROR_CASES: list[tuple[str, type[Exception], str]] = [
    # syntax errors name the rest of the input like gdb
    ("1 +", ExpressionError, "A syntax error in expression, near `'."),
    (")", ExpressionError, "A syntax error in expression, near `)'."),
    ("(1", ExpressionError, "A syntax error in expression, near `'."),
    ("1 ? 2", ExpressionError, "A syntax error in expression, near `'."),
    ("1 ?", ExpressionError, "A syntax error in expression, near `'."),
    ("?1", ExpressionError, "A syntax error in expression, near `?1'."),
    ("1 : 2", ExpressionError, "A syntax error in expression, near `: 2'."),
    ("5 ? : 2", ExpressionError, "A syntax error in expression, near `: 2'."),
    ("=5", ExpressionError, "A syntax error in expression, near `=5'."),
    ("1 2", ExpressionError, "A syntax error in expression, near `2'."),
    ("[1]", ExpressionError, "A syntax error in expression, near `[1]'."),
    ("1[", ExpressionError, "A syntax error in expression, near `'."),
    ("]", ExpressionError, "A syntax error in expression, near `]'."),
    ("1,", ExpressionError, "A syntax error in expression, near `'."),
    (",1", ExpressionError, "A syntax error in expression, near `,1'."),
    ("$x = ", ExpressionError, "A syntax error in expression, near `'."),
    ("$ x", ExpressionError, "A syntax error in expression, near `x'."),
    ("", ExpressionError, "A syntax error in expression, near `'."),
    ("(int", ExpressionError, "A syntax error in expression, near `'."),
    ("(int)", ExpressionError, "A syntax error in expression, near `'."),
    ("()", ExpressionError, "A syntax error in expression, near `)'."),
    ("(int*", ExpressionError, "A syntax error in expression, near `'."),
    ("sizeof", ExpressionError, "A syntax error in expression, near `'."),
    ("sizeof(int", ExpressionError, "A syntax error in expression, near `'."),
    ("sizeof(int)4", ExpressionError, "A syntax error in expression, near `4'."),
    ("{int}", ExpressionError, "A syntax error in expression, near `'."),
    ("{int", ExpressionError, "A syntax error in expression, near `'."),
    ("int", ExpressionError, "A syntax error in expression, near `int'."),
    ("(unsigned long long long)5", ExpressionError,
     "A syntax error in expression, near `long)5'."),
    ("(short char)5", ExpressionError, "A syntax error in expression, near `char)5'."),
    ("(signed unsigned)5", ExpressionError, "A syntax error in expression, near `unsigned)5'."),
    ("'a''b'", ExpressionError, "A syntax error in expression, near `'b''."),
    # lexical errors
    ("1 # 2", ExpressionError, "Invalid character '#' in expression."),
    ("1 ;", ExpressionError, "Invalid character ';' in expression."),
    ("08", ExpressionError, 'Invalid number "08".'),
    ("0x", ExpressionError, 'Invalid number "0x".'),
    ("0b", ExpressionError, 'Invalid number "0b".'),
    ("0b2", ExpressionError, 'Invalid number "0b2".'),
    ("0o7", ExpressionError, 'Invalid number "0o7".'),
    ("12abc", ExpressionError, 'Invalid number "12abc".'),
    ("0x1g", ExpressionError, 'Invalid number "0x1g".'),
    ("1f", ExpressionError, 'Invalid number "1f".'),
    ("1lu2", ExpressionError, 'Invalid number "1lu2".'),
    ("18446744073709551616", ExpressionError, "Numeric constant too large."),
    ("'ab'", ExpressionError, "Invalid character constant."),
    ("'\\0101'", ExpressionError, "Invalid character constant."),
    ("''", ExpressionError, "A character constant must contain at least one character."),
    ("'a", ExpressionError, "Unmatched single quote."),
    ("'\\x'", ExpressionError, "\\x escape without a following hex digit"),
    ('"abc', ExpressionError, "Unterminated string in expression."),
    ("1.5", ExpressionError, "Floating-point values are not supported."),
    ("1e3", ExpressionError, "Floating-point values are not supported."),
    ("0x1p3", ExpressionError, "Floating-point values are not supported."),
    ("12abe", ExpressionError, 'Invalid number "12abe".'),
    ("1..2", ExpressionError, 'Invalid number "1..2".'),
    ("1 @ 2", ExpressionError, "Artificial arrays (@) are not supported."),
    ('"abc"', ExpressionError, "String literals are not supported."),
    ("(struct foo *)5", ExpressionError, "No struct type named foo."),
    ("sizeof(union u)", ExpressionError, "No union type named u."),
    # evaluation errors
    ("nosuch", NoSymbolError, 'No symbol "nosuch" in current context.'),
    ("'foo.part.0'", NoSymbolError, 'No symbol "foo.part.0" in current context.'),
    ("0 || nosuch", NoSymbolError, 'No symbol "nosuch" in current context.'),
    ("5 / 0", ExpressionError, "Division by zero"),
    ("5 % 0", ExpressionError, "Division by zero"),
    ("10 / 0u", ExpressionError, "Division by zero"),
    ("1 / (1 - 1ll)", ExpressionError, "Division by zero"),
    ("*(void *)0x1000", ExpressionError, "Attempt to dereference a generic pointer."),
    ("*$sp", ExpressionError, "Attempt to dereference a generic pointer."),
    ("((void *)0x10)[1]", ExpressionError, "Attempt to dereference a generic pointer."),
    ("{void}0x10", ExpressionError, "Attempt to dereference a generic pointer."),
    ("*$unset", ExpressionError, "Attempt to take contents of a non-pointer value."),
    ("&5", ExpressionError, "Attempt to take address of value not located in memory."),
    ("&$r0", ExpressionError, "Attempt to take address of value not located in memory."),
    ("&$unset", ExpressionError, "Attempt to take address of value not located in memory."),
    ("&(int)buf", ExpressionError, "Attempt to take address of value not located in memory."),
    ("*(int *)0", MemoryAccessError, "Cannot access memory at address 0x0"),
    ("*5", MemoryAccessError, "Cannot access memory at address 0x5"),
    ("1 +* 2", MemoryAccessError, "Cannot access memory at address 0x2"),
    ("{int}0", MemoryAccessError, "Cannot access memory at address 0x0"),
    ("*(int *)0x200000fe", MemoryAccessError, "Cannot access memory at address 0x200000fe"),
    ("((int *)0)[(int *)0]", MemoryAccessError, "Cannot access memory at address 0x0"),
    ("1 = 2", ExpressionError, "Left operand of assignment is not an lvalue."),
    ("(1) = 2", ExpressionError, "Left operand of assignment is not an lvalue."),
    ("--5", ExpressionError, "Left operand of assignment is not an lvalue."),
    ("main = 5", ExpressionError, "Left operand of assignment is not a modifiable lvalue."),
    ("$unset++", ExpressionError, "Not a numeric type."),
    ("$unset + 1", ExpressionError, "Argument to arithmetic operation not a number or boolean."),
    ("$unset += 1", ExpressionError, "Argument to arithmetic operation not a number or boolean."),
    ("1 - (int *)0x10", ExpressionError,
     "Argument to arithmetic operation not a number or boolean."),
    ("(int *)0x10 + (int *)0x10", ExpressionError,
     "Argument to arithmetic operation not a number or boolean."),
    ("(int *)0x10 * 2", ExpressionError,
     "Argument to arithmetic operation not a number or boolean."),
    ("(int *)1 % 2", ExpressionError, "Argument to arithmetic operation not a number or boolean."),
    ("(int *)1 & 1", ExpressionError, "Argument to arithmetic operation not a number or boolean."),
    ("(int *)1 << 1", ExpressionError,
     "Argument to arithmetic operation not a number or boolean."),
    ("1 << (int *)1", ExpressionError,
     "Argument to arithmetic operation not a number or boolean."),
    ("(int *)0x10 - (char *)0x10", ExpressionError,
     "First argument of `-' is a pointer and second argument is neither an integer nor a "
     "pointer of the same type."),
    ("-(int *)1", ExpressionError, "Argument to negate operation not a number."),
    ("-$unset", ExpressionError, "Argument to negate operation not a number."),
    ("+$unset", ExpressionError, "Argument to positive operation not a number."),
    ("~(int *)1", ExpressionError, "Argument to complement operation not an integer, boolean."),
    ("~$unset", ExpressionError, "Argument to complement operation not an integer, boolean."),
    ("$unset == 1", ExpressionError, "Invalid type combination in equality test."),
    ("$unset < 1", ExpressionError, "Invalid type combination in ordering comparison."),
    ("(int)(void)5", ExpressionError, "Invalid cast."),
    ("5[(int *)0]", ExpressionError, "cannot subscript something of type `int'"),
    ("((int *)0)[$unset]", ExpressionError, "Value can't be converted to integer."),
    ("{int}$unset", ExpressionError, "Value can't be converted to integer."),
    ("5 .x", ExpressionError, "Attempt to extract a component of a value that is not a structure."),
    ("5->x", ExpressionError,
     "Attempt to extract a component of a value that is not a structure pointer."),
    # value history without any history
    ("$", ExpressionError, "The history is empty."),
    ("$0", ExpressionError, "The history is empty."),
    ("$$", ExpressionError, "History does not go back to $$1."),
    ("$$3", ExpressionError, "History does not go back to $$3."),
    ("$1", ExpressionError, "History has not yet reached $1."),
]


@pytest.mark.parametrize(("text", "exc_type", "message"), ERROR_CASES)
def test_errors(env: FakeEnv, text: str, exc_type: type[Exception], message: str) -> None:
    with pytest.raises(exc_type) as info:
        evaluate(text, env)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_errors_are_expression_errors_or_memory_errors(env: FakeEnv) -> None:
    # The dispatcher relies on every user mistake being an ArmdbgError subclass.
    assert issubclass(NoSymbolError, ExpressionError)
    with pytest.raises(NoSymbolError) as info:
        evaluate("nosuch + 1", env)
    assert info.value.name == "nosuch"


# ------------------------------------------------------------------ side effects


def test_register_assignment_writes_through_the_env(env: FakeEnv) -> None:
    result = evaluate("$r0 = -1", env)
    assert (result.value, result.ctype, result.register) == (-1, INT, "r0")
    assert env.registers["r0"] == 0xFFFFFFFF
    assert evaluate("$r0", env).value == -1


def test_register_alias_assignment_uses_the_given_name(env: FakeEnv) -> None:
    evaluate("$ip = 0x1234", env)
    assert env.register_writes == [("r12", 0x1234)]


def test_pc_assignment_keeps_the_code_pointer_type(env: FakeEnv) -> None:
    result = evaluate("$pc = main + 8", env)
    assert (result.value, result.ctype.name) == (0x80008008, "void (*)()")
    assert env.registers["pc"] == 0x80008008


def test_sp_compound_assignment(env: FakeEnv) -> None:
    result = evaluate("$sp -= 8", env)
    assert (result.value, result.ctype.name) == (0x20000078, "void *")
    assert env.registers["sp"] == 0x20000078


def test_memory_assignment_truncates_to_the_lvalue_type(env: FakeEnv) -> None:
    result = evaluate("*(char *)buf = 300", env)
    assert (result.value, result.ctype, result.address) == (44, CHAR, MEM_BASE)
    assert env.memory[0] == 44
    assert env.memory[1] == 0x65  # only one byte written


def test_memory_assignment_is_little_endian(env: FakeEnv) -> None:
    evaluate("{int}(buf + 0x40) = 0x11223344", env)
    assert bytes(env.memory[0x40:0x44]) == bytes([0x44, 0x33, 0x22, 0x11])
    evaluate("((short *)buf)[0x21] = -2", env)
    assert bytes(env.memory[0x42:0x44]) == b"\xfe\xff"
    evaluate("{long long}(buf + 0x48) = -1", env)
    assert bytes(env.memory[0x48:0x50]) == b"\xff" * 8


def test_compound_assignment_to_memory(env: FakeEnv) -> None:
    result = evaluate("((int *)buf)[16] += 5", env)
    assert result.value == 5
    result = evaluate("((int *)buf)[16] <<= 4", env)
    assert result.value == 80
    assert bytes(env.memory[0x40:0x44]) == bytes([80, 0, 0, 0])


def test_memory_assignment_outside_memory_fails(env: FakeEnv) -> None:
    with pytest.raises(MemoryAccessError, match="Cannot access memory at address 0x10"):
        evaluate("*(int *)0x10 = 1", env)


def test_convenience_variables(env: FakeEnv) -> None:
    unset = evaluate("$foo", env)
    assert (unset.ctype, unset.var) == (VOID, "foo")
    assert evaluate("$foo = 5", env).value == 5
    assert env.convenience["foo"] == Value(5, INT)
    assert evaluate("$foo += 3", env).value == 8
    assert evaluate("$foo++", env).value == 8
    assert evaluate("$foo", env).value == 9
    assert evaluate("++$foo", env).value == 10
    assert evaluate("--$foo", env).value == 9
    assert evaluate("$foo--", env).value == 9
    assert evaluate("$foo *= 2", env).value == 16
    assert evaluate("$foo %= 3", env).value == 1
    assert evaluate("$foo -= 100", env).value == -99


def test_convenience_variable_takes_the_type_of_what_is_assigned(env: FakeEnv) -> None:
    assert evaluate("$c = (char)65", env).ctype == CHAR
    # Compound assignment re-types the variable with the promoted result, as gdb does.
    result = evaluate("$c += 1", env)
    assert (result.value, result.ctype) == (66, INT)
    pointer = evaluate("$p = (int *)0x100", env)
    assert pointer.ctype == pointer_to(INT)
    assert evaluate("$p++", env).value == 0x100
    assert evaluate("$p", env).value == 0x104
    assert evaluate("$p += 2", env).value == 0x10C


def test_convenience_void_assignment_and_chains(env: FakeEnv) -> None:
    assert evaluate("$a = $b", env).ctype == VOID
    assert evaluate("$x = $y = 3", env).value == 3
    assert evaluate("$x + $y", env).value == 6
    assert evaluate("($x = 7) + 1", env).value == 8
    assert evaluate("$x = 5, $x + 1", env).value == 6


def test_preset_convenience_variables(env: FakeEnv) -> None:
    env.convenience["_exitcode"] = Value(3, INT)
    env.convenience["bpnum"] = Value(2, INT)
    env.convenience["_"] = Value(MEM_BASE, pointer_to(INT))
    assert evaluate("$_exitcode * 2", env).value == 6
    assert evaluate("$bpnum", env).var == "bpnum"
    assert evaluate("*$_", env).value == 0x6C6C6548


def test_register_names_fall_back_to_convenience_variables(env: FakeEnv) -> None:
    # Names the env does not know as registers are convenience variables.
    assert evaluate("$r13", env).ctype == VOID
    evaluate("$r13 = 1", env)
    assert "r13" not in env.registers
    assert env.convenience["r13"].value == 1


def test_register_types_follow_gdb_on_arm(env: FakeEnv) -> None:
    env.registers.update(r13=0x2000_0080, r15=0x8000_8000)
    assert evaluate("$r13", env).ctype.name == "void *"
    assert evaluate("$r15", env).ctype.name == "void (*)()"
    assert evaluate("$lr", env).ctype.name == "int"


def test_short_circuit_skips_side_effects(env: FakeEnv) -> None:
    evaluate("0 && ($r0 = 7)", env)
    evaluate("1 || ($r0 = 7)", env)
    evaluate("1 ? 0 : ($r0 = 7)", env)
    evaluate("sizeof($r0 = 7)", env)
    assert env.register_writes == []


def test_comma_keeps_left_side_effects(env: FakeEnv) -> None:
    assert evaluate("$r1 = 2, $r1 * 10", env).value == 20
    assert env.registers["r1"] == 2


def test_value_history(env: FakeEnv) -> None:
    env.history = [Value(5, INT), Value(7, INT, address=MEM_BASE), Value(65, CHAR)]
    assert evaluate("$", env).value == 65
    assert evaluate("$$", env).value == 7
    assert evaluate("$$0", env).value == 65
    assert evaluate("$$2", env).value == 5
    assert evaluate("$1", env).value == 5
    assert evaluate("$2 + $3", env).value == 72
    with pytest.raises(ExpressionError, match=r"History has not yet reached \$4\."):
        evaluate("$4", env)
    with pytest.raises(ExpressionError, match=r"History does not go back to \$\$3\."):
        evaluate("$$3", env)
    # History entries are snapshots: not assignable, no address.
    with pytest.raises(ExpressionError, match="not an lvalue"):
        evaluate("$2 = 1", env)


def test_env_without_history_attribute() -> None:
    class Minimal:
        def __init__(self) -> None:
            self.convenience: dict[str, Value] = {}

        def read_register(self, name: str) -> int | None:
            return None

        def write_register(self, name: str, value: int) -> None:
            raise AssertionError

        def read_memory(self, address: int, size: int) -> bytes:
            raise MemoryAccessError(address)

        def write_memory(self, address: int, data: bytes) -> None:
            raise MemoryAccessError(address)

        def lookup_symbol(self, name: str) -> int | None:
            return None

    with pytest.raises(ExpressionError, match=r"The history is empty\."):
        evaluate("$", Minimal())
    assert evaluate("$pc", Minimal()).ctype == VOID


def test_lvalue_fields(env: FakeEnv) -> None:
    memory = evaluate("*(int *)buf", env)
    assert (memory.address, memory.register, memory.var) == (MEM_BASE, None, None)
    register = evaluate("$r2", env)
    assert (register.address, register.register) == (None, "r2")
    assert evaluate("$r2 + 0", env).is_lvalue is False
    assert evaluate("(int)*(int *)buf", env).is_lvalue is False


# ------------------------------------------------------------------ API pieces


def test_parse_builds_a_tree_that_evaluates_repeatedly(env: FakeEnv) -> None:
    node = parse("$r0 += 2")
    assert isinstance(node, Assign) and node.op == "+"
    evaluate_node(node, env)
    evaluate_node(node, env)
    assert env.registers["r0"] == 4


def test_parse_precedence_shape() -> None:
    node = parse("1 + 2 * 3")
    assert isinstance(node, Binary) and node.op == "+"
    assert isinstance(node.left, Const) and isinstance(node.right, Binary)
    assert node.right.op == "*"


def test_parse_does_not_touch_the_env() -> None:
    # Unknown names and memory are only looked at when evaluating.
    parse("nosuch + *(int *)0")


def test_value_helpers() -> None:
    assert Value.of(INT, 0xFFFFFFFF) == Value(-1, INT)
    assert Value.of(UNSIGNED_INT, -1).value == 0xFFFFFFFF
    assert Value.of(LONG_LONG, 1 << 63).value == -(1 << 63)
    assert value_is_true(Value(0, VOID)) is False
    assert value_is_true(Value(2, INT)) is True
    assert value_as_address(Value(-4, INT)) == 0xFFFFFFFC
    assert value_as_address(Value(0x8000, SYMBOL)) == 0x8000
    with pytest.raises(ExpressionError, match=r"Value can't be converted to integer\."):
        value_as_address(Value(0, VOID))


def test_type_names() -> None:
    assert pointer_to(CHAR).name == "char *"
    assert pointer_to(pointer_to(CHAR)).name == "char **"
    assert pointer_to(SYMBOL).name == "<symbol, no debug info> *"
    assert CHAR.is_char and not INT.is_char
    assert pointer_to(SYMBOL).is_code_pointer


def test_deep_nesting_is_one_line_error(env: FakeEnv) -> None:
    with pytest.raises(ExpressionError, match=r"Expression too complex\."):
        evaluate("(" * 5000 + "1" + ")" * 5000, env)
