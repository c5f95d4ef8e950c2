"""gdb's C expression language (the subset armdbg needs), typed for 32-bit ARM.

The module is pure: everything it needs from the debugger (registers, memory,
symbols, convenience variables) comes through an :class:`ExprEnv`.  Types follow
the ARM EABI ILP32 model: ``int``, ``long`` and pointers are 4 bytes, ``long long``
8, ``short`` 2, and plain ``char`` is *unsigned*.  Memory is little-endian.

Error messages copy gdb 13's wording wherever gdb has one, so that a user who
knows gdb recognises them.  Behaviour was checked against a native gdb 13 whose
default (i386) architecture is also ILP32.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from armdbg.errors import ExpressionError, NoSymbolError

__all__ = [
    "ADDRESS_MASK",
    "CHAR",
    "CODE_PTR",
    "INT",
    "LONG",
    "LONG_LONG",
    "POINTER_SIZE",
    "SHORT",
    "SIGNED_CHAR",
    "SYMBOL",
    "UNSIGNED_CHAR",
    "UNSIGNED_INT",
    "UNSIGNED_LONG",
    "UNSIGNED_LONG_LONG",
    "UNSIGNED_SHORT",
    "VOID",
    "VOID_PTR",
    "CType",
    "ExprEnv",
    "Node",
    "Value",
    "evaluate",
    "evaluate_node",
    "parse",
    "pointer_to",
    "value_as_address",
    "value_is_true",
]

POINTER_SIZE = 4
ADDRESS_MASK = 0xFFFF_FFFF

TypeKind = Literal["int", "void", "pointer", "func"]


# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class CType:
    """A C scalar type: an integer, ``void``, a pointer or a function (code).

    ``size`` is in bytes.  Function types have size 1 because gdb does pointer
    arithmetic on code pointers in bytes (and ``sizeof`` a function is 1 there).
    """

    name: str
    size: int
    signed: bool = False
    kind: TypeKind = "int"
    target: CType | None = None

    @property
    def is_integer(self) -> bool:
        return self.kind == "int"

    @property
    def is_pointer(self) -> bool:
        return self.kind == "pointer"

    @property
    def is_void(self) -> bool:
        return self.kind == "void"

    @property
    def is_func(self) -> bool:
        return self.kind == "func"

    @property
    def is_char(self) -> bool:
        """True for the three character types, which print as ``65 'A'``."""
        return self.kind == "int" and self.name in _CHAR_NAMES

    @property
    def is_code_pointer(self) -> bool:
        return self.kind == "pointer" and self.target is not None and self.target.is_func

    def wrap(self, raw: int) -> int:
        """``raw`` truncated to this type: signed types give negative ints."""
        if self.kind == "void":
            return 0
        if self.kind in ("pointer", "func"):
            return raw & ADDRESS_MASK
        bits = self.size * 8
        raw &= (1 << bits) - 1
        if self.signed and raw >> (bits - 1):
            raw -= 1 << bits
        return raw

    def __str__(self) -> str:
        return self.name


_CHAR_NAMES = frozenset({"char", "signed char", "unsigned char"})


def _int_type(name: str, size: int, signed: bool) -> CType:
    return CType(name, size, signed)


CHAR = _int_type("char", 1, False)  # ARM EABI: plain char is unsigned
SIGNED_CHAR = _int_type("signed char", 1, True)
UNSIGNED_CHAR = _int_type("unsigned char", 1, False)
SHORT = _int_type("short", 2, True)
UNSIGNED_SHORT = _int_type("unsigned short", 2, False)
INT = _int_type("int", 4, True)
UNSIGNED_INT = _int_type("unsigned int", 4, False)
LONG = _int_type("long", 4, True)
UNSIGNED_LONG = _int_type("unsigned long", 4, False)
LONG_LONG = _int_type("long long", 8, True)
UNSIGNED_LONG_LONG = _int_type("unsigned long long", 8, False)
VOID = CType("void", 1, kind="void")  # gdb: sizeof(void) == 1
FUNC_VOID = CType("void ()", 1, kind="func")
# What a bare program symbol evaluates to.  gdb (without debug info) says
# "<text variable, no debug info>" or "<data variable, ...>"; an ExprEnv cannot
# tell text from data, hence the neutral name.
SYMBOL = CType("<symbol, no debug info>", 1, kind="func")


def pointer_to(target: CType) -> CType:
    """The type ``target *``, named the way gdb spells it (``void (*)()`` for code)."""
    if target.name.startswith("<"):
        # gdb: "&main" and "main + 4" are "(<text variable, no debug info> *)".
        name = target.name + " *"
    elif target.kind == "func":
        name = target.name.replace(" (", " (*)(", 1)  # 'void ()' -> 'void (*)()'
    elif "(*" in target.name:
        name = target.name.replace("(*", "(**", 1)
    elif target.name.endswith("*"):
        name = target.name + "*"
    else:
        name = target.name + " *"
    return CType(name, POINTER_SIZE, False, "pointer", target)


VOID_PTR = pointer_to(VOID)
CODE_PTR = pointer_to(FUNC_VOID)

# Base types by canonical specifier set: (sign, base, long count).
_BASE_TYPES: dict[tuple[str, str, int], CType] = {
    ("", "char", 0): CHAR,
    ("signed", "char", 0): SIGNED_CHAR,
    ("unsigned", "char", 0): UNSIGNED_CHAR,
    ("", "short", 0): SHORT,
    ("signed", "short", 0): SHORT,
    ("unsigned", "short", 0): UNSIGNED_SHORT,
    ("", "int", 0): INT,
    ("signed", "int", 0): INT,
    ("unsigned", "int", 0): UNSIGNED_INT,
    ("", "int", 1): LONG,
    ("signed", "int", 1): LONG,
    ("unsigned", "int", 1): UNSIGNED_LONG,
    ("", "int", 2): LONG_LONG,
    ("signed", "int", 2): LONG_LONG,
    ("unsigned", "int", 2): UNSIGNED_LONG_LONG,
    ("", "void", 0): VOID,
}


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Value:
    """A typed value, and where it lives if it can be assigned to.

    ``value`` is already wrapped to the type (see :meth:`CType.wrap`); pointers and
    function values hold the unsigned 32-bit address.  At most one of ``address``
    (memory lvalue), ``register`` and ``var`` (convenience variable, no ``$``) is set.
    """

    value: int
    ctype: CType
    address: int | None = None
    register: str | None = None
    var: str | None = None

    @classmethod
    def of(cls, ctype: CType, raw: int) -> Value:
        """An rvalue of ``ctype`` holding ``raw`` wrapped to the type."""
        return cls(ctype.wrap(raw), ctype)

    @property
    def is_lvalue(self) -> bool:
        return self.address is not None or self.register is not None or self.var is not None

    def rvalue(self) -> Value:
        return Value(self.value, self.ctype)


def value_is_true(value: Value) -> bool:
    """C truth of a value; ``void`` is false, as in gdb (``p !$unset`` is 1)."""
    return value.ctype.kind != "void" and value.value != 0


def value_as_address(value: Value) -> int:
    """The 32-bit address a value designates (for ``x``, ``break *``, ...)."""
    if value.ctype.is_void:
        raise ExpressionError("Value can't be converted to integer.")
    return value.value & ADDRESS_MASK


class ExprEnv(Protocol):
    """What the evaluator needs from the debugger.

    ``convenience`` maps names *without* the ``$`` (``"foo"``, ``"_"``,
    ``"bpnum"``) to values.  An env may also offer ``history: Sequence[Value]``
    (oldest first, ``$1`` is ``history[0]``) for ``$``, ``$$``, ``$$N`` and ``$N``;
    it is looked up with ``getattr`` so envs without history still conform.
    """

    convenience: dict[str, Value]

    def read_register(self, name: str) -> int | None: ...

    def write_register(self, name: str, value: int) -> None: ...

    def read_memory(self, address: int, size: int) -> bytes: ...

    def write_memory(self, address: int, data: bytes) -> None: ...

    def lookup_symbol(self, name: str) -> int | None: ...


# --------------------------------------------------------------------------- AST


class Node:
    """Base of the expression tree built by :func:`parse`."""


@dataclass(frozen=True)
class Const(Node):
    value: Value


@dataclass(frozen=True)
class Dollar(Node):
    """``$name``: a register if the env knows one, else a convenience variable."""

    name: str


@dataclass(frozen=True)
class History(Node):
    """``$`` / ``$$`` / ``$$N`` (relative) or ``$N`` (absolute) value history."""

    index: int
    relative: bool


@dataclass(frozen=True)
class Symbol(Node):
    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str  # one of - + ! ~ * &
    operand: Node


@dataclass(frozen=True)
class IncDec(Node):
    op: str  # "++" or "--"
    prefix: bool
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical(Node):
    op: str  # "&&" or "||"
    left: Node
    right: Node


@dataclass(frozen=True)
class Conditional(Node):
    cond: Node
    then: Node
    other: Node


@dataclass(frozen=True)
class Assign(Node):
    op: str  # "=" or a compound operator without the "=", e.g. "+", "<<"
    target: Node
    value: Node


@dataclass(frozen=True)
class Comma(Node):
    left: Node
    right: Node


@dataclass(frozen=True)
class Cast(Node):
    ctype: CType
    operand: Node


@dataclass(frozen=True)
class At(Node):
    """gdb's ``{TYPE} ADDR``: the object of TYPE at ADDR."""

    ctype: CType
    address: Node


@dataclass(frozen=True)
class SizeofType(Node):
    ctype: CType


@dataclass(frozen=True)
class SizeofExpr(Node):
    operand: Node


@dataclass(frozen=True)
class Index(Node):
    base: Node
    index: Node


@dataclass(frozen=True)
class Member(Node):
    """``a.b`` / ``a->b``: parsed so the user gets gdb's error (there are no structs)."""

    base: Node
    name: str
    arrow: bool


# --------------------------------------------------------------------------- lexer


@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "name", "dollar", "qname", "op", "eof"
    text: str
    pos: int
    value: Value | None = None


_TYPE_KEYWORDS = frozenset(
    {"void", "char", "short", "int", "long", "signed", "unsigned", "const", "volatile"}
)
_TAG_KEYWORDS = frozenset({"struct", "union", "enum"})

# Longest first so that '<<=' wins over '<<' and '<'.
_OPERATORS = sorted(
    [
        "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
        "+=", "-=", "*=", "/=", "%=", "&=", "^=", "|=",
        "+", "-", "*", "/", "%", "<", ">", "&", "^", "|", "!", "~", "?", ":", "=",
        "(", ")", "[", "]", "{", "}", ",", ".",
    ],
    key=len,
    reverse=True,
)

_SIMPLE_ESCAPES = {
    "n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11, "e": 27,
    "\\": 92, "'": 39, '"': 34, "?": 63,
}

_INT_BITS = INT.size * 8
_LONG_BITS = LONG.size * 8
_LONG_LONG_BITS = LONG_LONG.size * 8


def _fits(n: int, bits: int, signed: bool) -> bool:
    return n < (1 << (bits - 1) if signed else 1 << bits)


def _is_float_literal(lower: str) -> bool:
    """A well-formed C floating constant (which gdb accepts but armdbg does not)."""
    body = lower.rstrip("fl")
    try:
        if body.startswith("0x"):
            float.fromhex(body)
            return "p" in body
        float(body)
    except ValueError:
        return False
    return "." in body or "e" in body


def _parse_number(text: str) -> Value:
    """An integer literal, typed with gdb 13's rules (c-exp.y ``parse_number``).

    A decimal literal without ``u`` never becomes unsigned unless it does not fit
    ``long long``; hex/octal/binary literals may (``0xffffffff`` is ``unsigned int``
    but ``4294967295`` is ``long long``).
    """
    invalid = ExpressionError(f'Invalid number "{text}".')
    lower = text.lower()
    if _is_float_literal(lower):
        raise ExpressionError("Floating-point values are not supported.")
    base, digits = 10, lower
    if len(lower) > 1 and lower[0] == "0":
        prefix = lower[1]
        if prefix == "x":
            base, digits = 16, lower[2:]
        elif prefix == "b":
            base, digits = 2, lower[2:]
        elif prefix in "td":
            base, digits = 10, lower[2:]
        else:
            base = 8
    n = 0
    long_count = 0
    unsigned = False
    seen_digit = False
    for ch in digits:
        if ch == "l":
            long_count += 1
            continue
        if ch == "u":
            unsigned = True
            continue
        if long_count or unsigned:  # a digit after a suffix
            raise invalid
        d = int(ch, 36) if ch.isalnum() else 99
        if d >= base:
            raise invalid
        n = n * base + d
        seen_digit = True
    if not seen_digit:
        raise invalid

    have_signed = not unsigned
    have_unsigned = unsigned or base != 10 or not _fits(n, _LONG_LONG_BITS, True)
    have_int = long_count == 0
    have_long = long_count <= 1
    candidates = [
        (have_int and have_signed, INT, _INT_BITS, True),
        (have_int and have_unsigned, UNSIGNED_INT, _INT_BITS, False),
        (have_long and have_signed, LONG, _LONG_BITS, True),
        (have_long and have_unsigned, UNSIGNED_LONG, _LONG_BITS, False),
        (have_signed, LONG_LONG, _LONG_LONG_BITS, True),
        (have_unsigned, UNSIGNED_LONG_LONG, _LONG_LONG_BITS, False),
    ]
    for allowed, ctype, bits, signed in candidates:
        if allowed and _fits(n, bits, signed):
            return Value.of(ctype, n)
    raise ExpressionError("Numeric constant too large.")


def _read_escape(text: str, i: int) -> tuple[int, int]:
    """Decode the escape whose backslash is at ``text[i]``; return (code, next index)."""
    i += 1
    if i >= len(text):
        raise ExpressionError("Unmatched single quote.")
    ch = text[i]
    if ch in "01234567":
        j = i
        while j < len(text) and j < i + 3 and text[j] in "01234567":
            j += 1
        return int(text[i:j], 8), j
    if ch in "xuU":
        j = i + 1
        limit = {"x": len(text), "u": i + 5, "U": i + 9}[ch]
        while j < len(text) and j < limit and text[j] in "0123456789abcdefABCDEF":
            j += 1
        if j == i + 1:
            raise ExpressionError(f"\\{ch} escape without a following hex digit")
        return int(text[i + 1 : j], 16), j
    # Unknown escapes stand for the character itself, as in gdb ('\q' is 'q').
    return _SIMPLE_ESCAPES.get(ch, ord(ch)), i + 1


def _lex_quote(text: str, start: int) -> tuple[_Token, int]:
    """A single-quoted token: a character literal, or a quoted symbol name.

    gdb treats a quoted text of three or more characters as a symbol name
    (``'foo.part.0'``); two characters is an invalid character constant.
    """
    i = start + 1
    codes: list[int] = []
    raw_chars: list[str] = []
    escaped = False
    while True:
        if i >= len(text):
            raise ExpressionError("Unmatched single quote.")
        ch = text[i]
        if ch == "'":
            i += 1
            break
        if ch == "\\":
            code, i = _read_escape(text, i)
            codes.append(code)
            escaped = True
        else:
            codes.append(ord(ch))
            raw_chars.append(ch)
            i += 1
    if not codes:
        raise ExpressionError("A character constant must contain at least one character.")
    if len(codes) == 1:
        return _Token("num", text[start:i], start, Value.of(CHAR, codes[0])), i
    if len(codes) > 2 and not escaped:
        return _Token("qname", "".join(raw_chars), start), i
    raise ExpressionError("Invalid character constant.")


def _is_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            # gdb's lexer takes every letter, digit and '.' (plus an exponent sign)
            # and lets the number parser complain: "12abc" is one bad number.
            i += 1
            hex_number = text[start : start + 2].lower() == "0x"
            while i < n:
                c = text[i]
                exponent_sign = c in "+-" and text[i - 1] in "eEpP" and not hex_number
                if not (c.isascii() and (c.isalnum() or c == ".")) and not exponent_sign:
                    break
                i += 1
            word = text[start:i]
            tokens.append(_Token("num", word, start, _parse_number(word)))
            continue
        if ch.isalpha() or ch == "_":
            while i < n and _is_name_char(text[i]):
                i += 1
            tokens.append(_Token("name", text[start:i], start))
            continue
        if ch == "$":
            i += 1
            while i < n and (_is_name_char(text[i]) or text[i] == "$"):
                i += 1
            tokens.append(_Token("dollar", text[start + 1 : i], start))
            continue
        if ch == "'":
            token, i = _lex_quote(text, start)
            tokens.append(token)
            continue
        if ch == '"':
            end = text.find('"', i + 1)
            while end != -1 and text[end - 1] == "\\":
                end = text.find('"', end + 1)
            if end == -1:
                raise ExpressionError("Unterminated string in expression.")
            raise ExpressionError("String literals are not supported.")
        if ch == "@":
            raise ExpressionError("Artificial arrays (@) are not supported.")
        for op in _OPERATORS:
            if text.startswith(op, i):
                tokens.append(_Token("op", op, start))
                i += len(op)
                break
        else:
            raise ExpressionError(f"Invalid character '{ch}' in expression.")
    tokens.append(_Token("eof", "", n))
    return tokens


# --------------------------------------------------------------------------- parser

# Binary operators by precedence level, loosest first (C's table).
_BINARY_LEVELS: list[frozenset[str]] = [
    frozenset({"|"}),
    frozenset({"^"}),
    frozenset({"&"}),
    frozenset({"==", "!="}),
    frozenset({"<", "<=", ">", ">="}),
    frozenset({"<<", ">>"}),
    frozenset({"+", "-"}),
    frozenset({"*", "/", "%"}),
]
_ASSIGN_OPS = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="})


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text.rstrip()
        self.tokens = _tokenize(self.text)
        self.pos = 0

    # -- helpers
    @property
    def tok(self) -> _Token:
        return self.tokens[self.pos]

    def peek(self, offset: int = 1) -> _Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        if token.kind != "eof":
            self.pos += 1
        return token

    def at_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def error(self) -> ExpressionError:
        """gdb's syntax error, quoting the input from the offending token on."""
        rest = self.text[self.tok.pos :]
        return ExpressionError(f"A syntax error in expression, near `{rest}'.")

    def expect(self, op: str) -> None:
        if not self.at_op(op):
            raise self.error()
        self.advance()

    def starts_type(self, token: _Token) -> bool:
        return token.kind == "name" and (
            token.text in _TYPE_KEYWORDS or token.text in _TAG_KEYWORDS
        )

    # -- grammar
    def parse(self) -> Node:
        node = self.comma()
        if self.tok.kind != "eof":
            raise self.error()
        return node

    def comma(self) -> Node:
        node = self.assignment()
        while self.at_op(","):
            self.advance()
            node = Comma(node, self.assignment())
        return node

    def assignment(self) -> Node:
        # gdb's grammar gives '=' lower precedence than '?:', so "a ? b : c = d"
        # assigns to the whole conditional, and "1 = 2" parses (and fails later).
        left = self.conditional()
        if self.tok.kind == "op" and self.tok.text in _ASSIGN_OPS:
            op = self.advance().text[:-1] or "="
            return Assign(op, left, self.assignment())
        return left

    def conditional(self) -> Node:
        cond = self.logical_or()
        if not self.at_op("?"):
            return cond
        self.advance()
        then = self.comma()
        self.expect(":")
        return Conditional(cond, then, self.conditional())

    def logical_or(self) -> Node:
        node = self.logical_and()
        while self.at_op("||"):
            self.advance()
            node = Logical("||", node, self.logical_and())
        return node

    def logical_and(self) -> Node:
        node = self.binary(0)
        while self.at_op("&&"):
            self.advance()
            node = Logical("&&", node, self.binary(0))
        return node

    def binary(self, level: int) -> Node:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        ops = _BINARY_LEVELS[level]
        while self.tok.kind == "op" and self.tok.text in ops:
            op = self.advance().text
            node = Binary(op, node, self.binary(level + 1))
        return node

    def unary(self) -> Node:
        tok = self.tok
        if tok.kind == "op":
            if tok.text in ("-", "+", "!", "~", "*", "&"):
                self.advance()
                return Unary(tok.text, self.unary())
            if tok.text in ("++", "--"):
                self.advance()
                return IncDec(tok.text, True, self.unary())
            if tok.text == "(" and self.starts_type(self.peek()):
                self.advance()
                ctype = self.type_name()
                self.expect(")")
                return Cast(ctype, self.unary())
            if tok.text == "{":
                self.advance()
                ctype = self.type_name()
                self.expect("}")
                return At(ctype, self.unary())
        if tok.kind == "name" and tok.text == "sizeof":
            self.advance()
            if self.at_op("(") and self.starts_type(self.peek()):
                self.advance()
                ctype = self.type_name()
                self.expect(")")
                return SizeofType(ctype)
            return SizeofExpr(self.unary())
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while self.tok.kind == "op":
            op = self.tok.text
            if op == "[":
                self.advance()
                index = self.comma()
                self.expect("]")
                node = Index(node, index)
            elif op in ("++", "--"):
                self.advance()
                node = IncDec(op, False, node)
            elif op in (".", "->"):
                self.advance()
                if self.tok.kind != "name":
                    raise self.error()
                node = Member(node, self.advance().text, op == "->")
            else:
                break
        return node

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            assert tok.value is not None
            return Const(tok.value)
        if tok.kind == "dollar":
            self.advance()
            return _dollar_node(tok.text)
        if tok.kind == "qname":
            self.advance()
            return Symbol(tok.text)
        if tok.kind == "name" and tok.text not in _TYPE_KEYWORDS | _TAG_KEYWORDS | {"sizeof"}:
            self.advance()
            return Symbol(tok.text)
        if self.at_op("("):
            self.advance()
            node = self.comma()
            self.expect(")")
            return node
        raise self.error()

    def type_name(self) -> CType:
        """Specifiers then an abstract declarator: ``unsigned char *``, ``void (*)()``."""
        ctype = self.type_specifiers()
        qualifiers = ("const", "volatile")
        while self.at_op("*") or (self.tok.kind == "name" and self.tok.text in qualifiers):
            if self.advance().text == "*":
                ctype = pointer_to(ctype)
        if self.at_op("(") and self.peek().kind == "op" and self.peek().text == "*":
            # A pointer-to-function declarator: RET (*...)(PARAMS).
            self.advance()
            stars = 0
            while self.at_op("*"):
                self.advance()
                stars += 1
            self.expect(")")
            self.expect("(")
            params = ""
            if self.tok.kind == "name" and self.tok.text == "void":
                self.advance()
                params = "void"
            self.expect(")")
            ctype = CType(f"{ctype.name} ({params})", 1, kind="func")
            for _ in range(stars):
                ctype = pointer_to(ctype)
        return ctype

    def type_specifiers(self) -> CType:
        """C type specifiers in any order C allows.

        gdb is pickier (it rejects ``int long``); accepting more is harmless.
        """
        sign = ""
        base = ""  # "", "void", "char" or "short"
        has_int = False
        longs = 0
        while self.tok.kind == "name" and (
            self.tok.text in _TYPE_KEYWORDS or self.tok.text in _TAG_KEYWORDS
        ):
            word = self.tok.text
            if word in _TAG_KEYWORDS:
                self.advance()
                if self.tok.kind != "name":
                    raise self.error()
                raise ExpressionError(f"No {word} type named {self.tok.text}.")
            if word in ("signed", "unsigned"):
                ok = not sign and base != "void"
                sign = word
            elif word == "long":
                ok = longs < 2 and base == ""
                longs += 1
            elif word == "int":
                ok = not has_int and base in ("", "short")
                has_int = True
            elif word == "short":
                ok = base == "" and not longs
                base = "short"
            elif word == "char":
                ok = base == "" and not longs and not has_int
                base = "char"
            elif word == "void":
                ok = base == "" and not longs and not has_int and not sign
                base = "void"
            else:  # const / volatile: qualifiers do not change what armdbg computes
                ok = True
            if not ok:
                raise self.error()
            self.advance()
        if not (sign or base or has_int or longs):
            raise self.error()
        ctype = _BASE_TYPES.get((sign, base or "int", 0 if base else longs))
        assert ctype is not None
        return ctype


def _dollar_node(name: str) -> Node:
    """Classify ``$name``: value history forms first, then register/convenience."""
    if name == "":
        return History(0, relative=True)
    if name == "$":
        return History(1, relative=True)
    if name.startswith("$") and name[1:].isdigit():
        return History(int(name[1:]), relative=True)
    if name.isdigit():
        number = int(name)
        return History(0, relative=True) if number == 0 else History(number, relative=False)
    return Dollar(name)


def parse(text: str) -> Node:
    """Parse a gdb C expression; raise :class:`ExpressionError` like gdb does."""
    try:
        return _Parser(text).parse()
    except RecursionError as exc:  # absurdly nested input must still be one line
        raise ExpressionError("Expression too complex.") from exc


# --------------------------------------------------------------------------- evaluator

# As gdb's ARM target types them: the stack pointer (and gdb's builtin $fp) is a
# data pointer, the pc a code pointer, everything else int.
_REGISTER_TYPES = {
    "pc": CODE_PTR, "r15": CODE_PTR, "sp": VOID_PTR, "r13": VOID_PTR, "fp": VOID_PTR,
}
# Names the evaluator may assume are registers without asking the env (only
# used for sizeof, which must not touch the machine, like gdb's no-side-effect mode).
_KNOWN_REGISTERS = frozenset(
    [f"r{i}" for i in range(16)] + ["sp", "lr", "pc", "cpsr", "fp", "ip"]
)


def _promote(ctype: CType) -> CType:
    """C integer promotion: anything narrower than int becomes int."""
    return INT if ctype.size < INT.size else ctype


def _binop_type(a: CType, b: CType) -> CType:
    """gdb's ``binop_promote`` for C on ILP32.

    Note gdb's quirk (kept here): a result no wider than ``int`` is ``int`` or
    ``unsigned int`` even when an operand was ``long`` (``1l + 1ul`` is unsigned int).
    """
    len_a, uns_a = (a.size, not a.signed) if a.size >= INT.size else (INT.size, False)
    len_b, uns_b = (b.size, not b.signed) if b.size >= INT.size else (INT.size, False)
    if len_a > len_b:
        unsigned, length = uns_a, len_a
    elif len_b > len_a:
        unsigned, length = uns_b, len_b
    else:
        unsigned, length = uns_a or uns_b, len_a
    if length <= INT.size:
        return UNSIGNED_INT if unsigned else INT
    return UNSIGNED_LONG_LONG if unsigned else LONG_LONG


def _c_div(a: int, b: int) -> int:
    """C division: truncate toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


_ARITH_ERROR = "Argument to arithmetic operation not a number or boolean."


class _Evaluator:
    def __init__(self, env: ExprEnv, noside: bool = False) -> None:
        self.env = env
        # gdb's EVAL_AVOID_SIDE_EFFECTS: used for sizeof; memory is not read,
        # nothing is written and division by zero is not an error.
        self.noside = noside

    # -- entry
    def eval(self, node: Node) -> Value:
        match node:
            case Const(value=value):
                return value
            case Dollar(name=name):
                return self.dollar(name)
            case History():
                return self.history(node)
            case Symbol(name=name):
                address = self.env.lookup_symbol(name)
                if address is None:
                    raise NoSymbolError(name)
                address &= ADDRESS_MASK
                return Value(address, SYMBOL, address=address)
            case Unary(op=op, operand=operand):
                return self.unary(op, operand)
            case IncDec(op=op, prefix=prefix, operand=operand):
                return self.incdec(op, prefix, operand)
            case Binary(op=op, left=left, right=right):
                return self.binop(op, self.eval(left), self.eval(right))
            case Logical(op=op, left=left, right=right):
                first = value_is_true(self.eval(left))
                if op == "&&":
                    result = first and value_is_true(self.eval(right))
                else:
                    result = first or value_is_true(self.eval(right))
                return Value(int(result), INT)
            case Conditional(cond=cond, then=then, other=other):
                # gdb returns the chosen branch unconverted: "0 ? 2 : (char)65" is a char.
                return self.eval(then if value_is_true(self.eval(cond)) else other)
            case Assign(op=op, target=target, value=rhs_node):
                target_value = self.eval(target)
                rhs = self.eval(rhs_node)
                if op != "=":
                    rhs = self.binop(op, target_value, rhs)
                return self.store(target_value, rhs)
            case Comma(left=left, right=right):
                self.eval(left)
                return self.eval(right)
            case Cast(ctype=ctype, operand=operand):
                return self.cast(self.eval(operand), ctype)
            case At(ctype=ctype, address=address_node):
                return self.load(ctype, self.address_of_value(self.eval(address_node)))
            case SizeofType(ctype=ctype):
                return Value(ctype.size, INT)
            case SizeofExpr(operand=operand):
                return Value(_Evaluator(self.env, noside=True).eval(operand).ctype.size, INT)
            case Index(base=base, index=index):
                return self.index(self.eval(base), self.eval(index))
            case Member(arrow=arrow):
                kind = "structure pointer" if arrow else "structure"
                raise ExpressionError(
                    f"Attempt to extract a component of a value that is not a {kind}."
                )
        raise ExpressionError(f"Cannot evaluate {type(node).__name__}.")  # pragma: no cover

    # -- leaves
    def dollar(self, name: str) -> Value:
        if self.noside and name in _KNOWN_REGISTERS:
            return Value(0, _REGISTER_TYPES.get(name, INT), register=name)
        raw = self.env.read_register(name)
        if raw is not None:
            ctype = _REGISTER_TYPES.get(name, INT)
            return Value(ctype.wrap(raw), ctype, register=name)
        held = self.env.convenience.get(name)
        if held is None:
            return Value(0, VOID, var=name)
        return Value(held.value, held.ctype, var=name)

    def history(self, node: History) -> Value:
        entries: Sequence[Value] = getattr(self.env, "history", ())
        count = len(entries)
        if node.relative:
            absolute = count - node.index
            if absolute <= 0:
                if node.index == 0:
                    raise ExpressionError("The history is empty.")
                raise ExpressionError(f"History does not go back to $${node.index}.")
        else:
            absolute = node.index
            if absolute > count:
                raise ExpressionError(f"History has not yet reached ${absolute}.")
        # History values are read-only snapshots, so they lose their lvalue-ness.
        return entries[absolute - 1].rvalue()

    # -- memory
    def load(self, ctype: CType, address: int) -> Value:
        address &= ADDRESS_MASK
        if ctype.is_void:
            raise ExpressionError("Attempt to dereference a generic pointer.")
        if ctype.is_func:
            # A function's "value" is its code; armdbg represents it by address.
            return Value(address, ctype, address=address)
        if self.noside:
            return Value(0, ctype, address=address)
        data = self.env.read_memory(address, ctype.size)
        raw = int.from_bytes(data[: ctype.size], "little")
        return Value(ctype.wrap(raw), ctype, address=address)

    def address_of_value(self, value: Value) -> int:
        """The address an operand of ``{T}`` or ``*`` designates."""
        value = _decay(value)
        if not (value.ctype.is_integer or value.ctype.is_pointer):
            raise ExpressionError("Value can't be converted to integer.")
        return value.value & ADDRESS_MASK

    def store(self, target: Value, rhs: Value) -> Value:
        if target.var is not None:
            stored = Value(rhs.value, rhs.ctype)
            if not self.noside:
                self.env.convenience[target.var] = stored
            return replace(stored, var=target.var)
        if target.ctype.is_func:
            raise ExpressionError("Left operand of assignment is not a modifiable lvalue.")
        if target.register is None and target.address is None:
            raise ExpressionError("Left operand of assignment is not an lvalue.")
        converted = self.cast(rhs, target.ctype)
        raw = converted.value & ((1 << (target.ctype.size * 8)) - 1)
        if target.register is not None:
            if not self.noside:
                self.env.write_register(target.register, raw)
            return Value(converted.value, target.ctype, register=target.register)
        assert target.address is not None
        if not self.noside:
            self.env.write_memory(target.address, raw.to_bytes(target.ctype.size, "little"))
        return Value(converted.value, target.ctype, address=target.address)

    # -- operators
    def unary(self, op: str, operand_node: Node) -> Value:
        operand = self.eval(operand_node)
        ctype = operand.ctype
        if op == "&":
            if operand.address is None or operand.ctype.is_void:
                raise ExpressionError("Attempt to take address of value not located in memory.")
            return Value(operand.address, pointer_to(ctype))
        if op == "*":
            return self.deref(operand)
        if op == "!":
            return Value(int(not value_is_true(operand)), INT)
        if not ctype.is_integer:
            message = {
                "-": "Argument to negate operation not a number.",
                "+": "Argument to positive operation not a number.",
                "~": "Argument to complement operation not an integer, boolean.",
            }[op]
            raise ExpressionError(message)
        result_type = _promote(ctype)
        raw = {"-": -operand.value, "+": operand.value, "~": ~operand.value}[op]
        return Value.of(result_type, raw)

    def deref(self, operand: Value) -> Value:
        ctype = operand.ctype
        if ctype.is_func:
            return operand  # *func is the function itself, as in C
        if ctype.is_pointer:
            assert ctype.target is not None
            return self.load(ctype.target, operand.value)
        if ctype.is_integer:
            # gdb: "Allow * on an integer so we can cast it to whatever we want";
            # the result is an int read at that address.
            return self.load(INT, operand.value)
        raise ExpressionError("Attempt to take contents of a non-pointer value.")

    def index(self, base: Value, index: Value) -> Value:
        base = _decay(base)
        if not base.ctype.is_pointer:
            raise ExpressionError(f"cannot subscript something of type `{base.ctype.name}'")
        index = _decay(index)
        if index.ctype.is_void:
            raise ExpressionError("Value can't be converted to integer.")
        return self.deref(self.pointer_add(base, index.value))

    def incdec(self, op: str, prefix: bool, operand_node: Node) -> Value:
        old = self.eval(operand_node)
        if not (old.ctype.is_integer or old.ctype.is_pointer):
            raise ExpressionError("Not a numeric type.")
        new = self.binop(op[0], old, Value(1, INT))
        stored = self.store(old, new)
        return stored if prefix else old.rvalue()

    def pointer_add(self, pointer: Value, offset: int) -> Value:
        assert pointer.ctype.target is not None
        step = pointer.ctype.target.size
        return Value.of(pointer.ctype, pointer.value + offset * step)

    def binop(self, op: str, left: Value, right: Value) -> Value:
        a, b = _decay(left), _decay(right)
        ta, tb = a.ctype, b.ctype
        if op in ("==", "!="):
            return self.compare(op, a, b, "Invalid type combination in equality test.")
        if op in ("<", "<=", ">", ">="):
            return self.compare(op, a, b, "Invalid type combination in ordering comparison.")
        if op in ("+", "-") and (ta.is_pointer or tb.is_pointer):
            return self.pointer_arith(op, a, b)
        if not (ta.is_integer and tb.is_integer):
            raise ExpressionError(_ARITH_ERROR)
        if op in ("<<", ">>"):
            return self.shift(op, a, b)
        rtype = _binop_type(ta, tb)
        x, y = rtype.wrap(a.value), rtype.wrap(b.value)
        if op in ("/", "%") and y == 0:
            if self.noside:
                return Value(0, rtype)
            raise ExpressionError("Division by zero")
        if op == "/":
            raw = _c_div(x, y)
        elif op == "%":
            raw = x - _c_div(x, y) * y
        else:
            raw = {
                "+": x + y, "-": x - y, "*": x * y,
                "&": x & y, "|": x | y, "^": x ^ y,
            }[op]
        return Value.of(rtype, raw)

    def shift(self, op: str, a: Value, b: Value) -> Value:
        # The result has the (promoted) type of the left operand, as in C.  gdb 13
        # warns about out-of-range counts and yields 0 (or -1 for a negative value
        # shifted right); armdbg has no warning channel here, so it just yields.
        rtype = _promote(a.ctype)
        x = rtype.wrap(a.value)
        count = b.value
        bits = rtype.size * 8
        if count < 0:
            return Value(0, rtype)
        if count >= bits:
            return Value(-1 if (op == ">>" and x < 0) else 0, rtype)
        return Value.of(rtype, x << count if op == "<<" else x >> count)

    def pointer_arith(self, op: str, a: Value, b: Value) -> Value:
        ta, tb = a.ctype, b.ctype
        if ta.is_pointer and tb.is_integer:
            return self.pointer_add(a, b.value if op == "+" else -b.value)
        if op == "+" and tb.is_pointer and ta.is_integer:
            return self.pointer_add(b, a.value)
        if op == "-" and ta.is_pointer and tb.is_pointer:
            assert ta.target is not None and tb.target is not None
            if ta.target.size != tb.target.size:
                raise ExpressionError(
                    "First argument of `-' is a pointer and second argument is neither "
                    "an integer nor a pointer of the same type."
                )
            return Value.of(LONG, _c_div(a.value - b.value, ta.target.size))
        raise ExpressionError(_ARITH_ERROR)

    def compare(self, op: str, a: Value, b: Value, type_error: str) -> Value:
        ta, tb = a.ctype, b.ctype
        if ta.is_integer and tb.is_integer:
            ctype = _binop_type(ta, tb)
            x, y = ctype.wrap(a.value), ctype.wrap(b.value)
        elif (ta.is_pointer or ta.is_integer) and (tb.is_pointer or tb.is_integer):
            # Pointer against pointer or integer: compare as addresses.
            x, y = a.value & ADDRESS_MASK, b.value & ADDRESS_MASK
        else:
            raise ExpressionError(type_error)
        result = {
            "==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y,
        }[op]
        return Value(int(result), INT)

    def cast(self, value: Value, ctype: CType) -> Value:
        if ctype.is_void:
            return Value(0, VOID)
        if value.ctype.is_void:
            raise ExpressionError("Invalid cast.")
        value = _decay(value)
        return Value.of(ctype, value.value)


def _decay(value: Value) -> Value:
    """Function designators decay to code pointers (C's function-to-pointer rule)."""
    if value.ctype.is_func:
        return Value(value.value, pointer_to(value.ctype))
    return value


def evaluate_node(node: Node, env: ExprEnv) -> Value:
    """Evaluate a tree from :func:`parse` against ``env``."""
    try:
        return _Evaluator(env).eval(node)
    except RecursionError as exc:  # absurdly nested input must still be one line
        raise ExpressionError("Expression too complex.") from exc


def evaluate(text: str, env: ExprEnv) -> Value:
    """Parse and evaluate ``text``; raises ExpressionError / NoSymbolError / MemoryAccessError."""
    return evaluate_node(parse(text), env)
