"""Keystone, wrapped: assemble ARM or Thumb-2 text at an address.

Two Keystone 0.9.2 sharp edges shape this module:

* Its number radix is not reliably decimal: any ``ks_option`` call (the symbol resolver
  is one) switches plain numbers to hexadecimal, and without one the default radix is
  uninitialised (keystone #481, #538, #571, PR #528).  So every Keystone instance here is
  put in the radix-16 state on purpose and decimal literals are rewritten as hex before
  assembling: ``#10`` means ten, as in GNU as.
* Its symbol resolver also miscomputes offsets in places (keystone #351, PR #562), so
  program symbols are substituted into the text as absolute addresses instead; Keystone
  turns ``bl 0x80008030`` into the right relative branch.

Keystone reports a failure for a whole input without saying which statement failed
(and sometimes reports none at all: an instruction that does not fit its IT block makes
it return no code and no error), so on error each statement is tried on its own and
then in context to name the culprit, as the user wrote it.

Keystone also loops forever on an unterminated string (``.asciz "abc``), so statements
are split outside quotes only and an open quote is rejected before Keystone sees it.
GNU as numeric local labels (``1:`` with ``1b``/``1f``), which the radix-16 state would
read as hex numbers, are renamed to unique symbols first.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from functools import lru_cache

import keystone

from armdbg.errors import AssemblyError

_LABEL = re.compile(r"^\s*([A-Za-z_.$][\w.$]*)\s*:")


@lru_cache(maxsize=2)
def _keystone(thumb: bool) -> keystone.Ks:
    mode = keystone.KS_MODE_THUMB if thumb else keystone.KS_MODE_ARM
    ks = keystone.Ks(keystone.KS_ARCH_ARM, mode)
    ks.sym_resolver = _no_symbols  # forces the (known) radix-16 state, see above
    return ks


# String and character literals: their contents are never rewritten.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)\'')
_TOKEN = re.compile(r"(?<![\w$.])(?:(\d+)(?![\w.:])|([A-Za-z_.$][\w.$]*))")
_KEYWORDS = {f"r{i}" for i in range(16)} | {
    "sp", "lr", "pc", "fp", "ip", "sb", "sl", "apsr", "cpsr", "spsr",
    "lsl", "lsr", "asr", "ror", "rrx"}
_PSR_FIELDS = re.compile(r"^(?:apsr|cpsr|spsr)_[a-z]+$", re.IGNORECASE)  # msr cpsr_c, r0
_IT = re.compile(r"^it[te]{0,3}$", re.IGNORECASE)  # its operand is a condition, not a name


def _normalize(statement: str, labels: set[str],
               resolve: Callable[[str], int | None] | None) -> str:
    """Rewrite decimal literals as hex and known program symbols as addresses."""
    first = True
    it_instruction = False

    def token(match: re.Match[str]) -> str:
        nonlocal first, it_instruction
        number, name = match.group(1), match.group(2)
        if number is not None:
            # GNU as reads a leading 0 as octal (010 is 8), as gdb does.
            octal = len(number) > 1 and number[0] == "0" and set(number) <= set("01234567")
            return hex(int(number, 8 if octal else 10))
        was_first, first = first, False
        if was_first:
            it_instruction = bool(_IT.match(name))
            return name  # a mnemonic or directive
        if (it_instruction or name.startswith(".") or name.lower() in _KEYWORDS
                or name in labels or _PSR_FIELDS.match(name)):
            return name  # a directive, register, condition or local label
        if "_" not in name and name.lower().rstrip("0123456789") in ("c", "p", "d", "s", "q"):
            return name  # coprocessor and VFP/NEON register names
        address = resolve(name) if resolve is not None else None
        return hex(address) if address is not None else name

    out, last = [], 0
    body = _LABEL.sub("", statement) if _LABEL.match(statement) else statement
    prefix = statement[:len(statement) - len(body)]
    for string in _STRING.finditer(body):
        out.append(_TOKEN.sub(token, body[last:string.start()]))
        out.append(string.group(0))
        last = string.end()
    out.append(_TOKEN.sub(token, body[last:]))
    return prefix + "".join(out)


def _no_symbols(name: bytes, value_ptr: object) -> bool:
    return False


def split_statements(text: str) -> list[str]:
    """Statements are separated by ';' or newlines; '@' and '//' start comments.

    Separators and comment markers inside string or character literals are text
    (``.asciz "a;b"``).  A statement whose string is left open keeps its quote, for
    :func:`assemble` to reject.
    """
    out = []
    for line in text.splitlines():
        current: list[str] = []
        index = 0
        while index < len(line):
            char = line[index]
            if char in "\"'":
                literal = _STRING.match(line, index)
                if literal is None:  # an open quote: the rest of the line is its text
                    current.append(line[index:])
                    break
                current.append(literal.group(0))
                index = literal.end()
                continue
            if char == "@" or line.startswith("//", index):
                break
            if char == ";":
                out.append("".join(current).strip())
                current = []
            else:
                current.append(char)
            index += 1
        out.append("".join(current).strip())
    return [statement for statement in out if statement]


def _open_quote(statement: str) -> bool:
    """Whether a statement has a string literal that is never closed."""
    index = 0
    while index < len(statement):
        if statement[index] == '"':
            literal = _STRING.match(statement, index)
            if literal is None:
                return True
            index = literal.end()
            continue
        if statement[index] == "'" and (literal := _STRING.match(statement, index)):
            index = literal.end()
            continue
        index += 1
    return False


_NUMERIC_LABEL = re.compile(r"^\s*(\d+)\s*:")
_NUMERIC_REF = re.compile(r"(?<![\w$.])(\d+)([bf])(?![\w.$])")


def _rename_numeric_labels(statements: list[str]) -> list[str]:
    """GNU as local labels: ``N:`` may be defined again and again; ``Nb`` is the
    nearest definition before the statement, ``Nf`` the nearest one after it."""
    definitions: dict[str, list[int]] = {}
    for index, statement in enumerate(statements):
        if match := _NUMERIC_LABEL.match(statement):
            definitions.setdefault(str(int(match.group(1))), []).append(index)
    if not definitions and not any(_NUMERIC_REF.search(s) for s in statements):
        return statements

    def name(number: str, index: int) -> str:
        return f"__armdbg_local_{number}_{index}"

    out = []
    for index, statement in enumerate(statements):
        label = ""
        body = statement
        if match := _NUMERIC_LABEL.match(statement):
            label = name(str(int(match.group(1))), index) + ":"
            body = statement[match.end():]

        def reference(ref: re.Match[str], here: int = index) -> str:
            number, direction = str(int(ref.group(1))), ref.group(2)
            places = definitions.get(number, [])
            if direction == "b":
                found = [p for p in places if p <= here][-1:]
            else:
                found = [p for p in places if p > here][:1]
            if not found:
                # Keystone would read "1b" as the hex number 0x1b: refuse, as GNU as does.
                raise AssemblyError(f"cannot assemble instruction {here + 1} "
                                    f"`{statements[here]}': undefined local label "
                                    f"{ref.group(0)}")
            return name(number, found[0])

        parts, last = [], 0
        for literal in _STRING.finditer(body):
            parts.append(_NUMERIC_REF.sub(reference, body[last:literal.start()]))
            parts.append(literal.group(0))
            last = literal.end()
        parts.append(_NUMERIC_REF.sub(reference, body[last:]))
        out.append((label + " " if label else "") + "".join(parts).strip())
    return out


def _explain(err: keystone.KsError) -> str:
    message = str(err)
    # "Invalid mnemonic (KS_ERR_ASM_MNEMONICFAIL)" -> "invalid mnemonic"
    message = re.sub(r"\s*\(KS_ERR_[A-Z_]+\)", "", message)
    return message[:1].lower() + message[1:]


@contextlib.contextmanager
def _stderr_captured(into: list[str]) -> Iterator[None]:
    """Keystone (LLVM) prints its warnings straight to file descriptor 2, as three
    lines (message, source, caret); they are taken from there and handed to the caller
    as one line each instead of bypassing armdbg's output."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("warning: "):
            source = lines[index + 1].strip() if index + 1 < len(lines) else ""
            into.append(f"{line} ({source})" if source else line)


def assemble(text: str, address: int, thumb: bool,
             resolve: Callable[[str], int | None] | None = None,
             warnings: list[str] | None = None) -> bytes:
    """Assemble ``text`` as if placed at ``address``.

    ``resolve`` maps names Keystone does not know (symbols of the loaded program) to
    addresses.  Keystone's warnings are appended to ``warnings`` when it is given
    (and dropped otherwise).
    """
    originals = split_statements(text)
    if not originals:
        raise AssemblyError("nothing to assemble")
    for number, statement in enumerate(originals, 1):
        if _open_quote(statement):
            raise AssemblyError(f"cannot assemble instruction {number} `{statement}': "
                                f"missing closing quote")
    renamed = _rename_numeric_labels(originals)
    labels = {m.group(1) for s in renamed if (m := _LABEL.match(s))}
    statements = [_normalize(s, labels, resolve) for s in renamed]
    try:
        with _stderr_captured(warnings if warnings is not None else []):
            encoding, _ = _keystone(thumb).asm("\n".join(statements), address)
    except keystone.KsError as err:
        raise AssemblyError(_locate_failure(originals, statements, labels, address, thumb,
                                            _explain(err))) from None
    if not encoding:
        if all(_LABEL.sub("", s).strip() == "" for s in statements):
            raise AssemblyError("nothing to assemble")
        # Keystone gave up without an error (seen for instructions that do not fit
        # the IT block around them): find the statement it choked on.
        raise AssemblyError(_locate_failure(originals, statements, labels, address, thumb,
                                            "rejected without a reason"))
    return bytes(encoding)


def _locate_failure(originals: list[str], statements: list[str], labels: set[str],
                    address: int, thumb: bool, reason: str) -> str:
    """Name the statement that fails, as the user wrote it."""
    ks = _keystone(thumb)
    for number, statement in enumerate(statements, 1):
        body = _LABEL.sub("", statement).strip()
        if not body:
            continue
        # Labels defined elsewhere in the input become this address, so that a lone
        # statement such as "b loop" is judged on its own merits.
        alone = _normalize(body, set(), lambda n: address if n in labels else None)
        try:
            with _stderr_captured([]):  # warnings of a retry are noise
                ks.asm(alone, address)
        except keystone.KsError as one:
            return f"cannot assemble instruction {number} `{originals[number - 1]}': " \
                   f"{_explain(one)}"
    # Every statement assembles alone: the failure depends on what comes before it
    # (an IT block, a label).  Grow the input one statement at a time, keeping the
    # later labels defined, until Keystone fails.
    for number in range(1, len(statements) + 1):
        later = [f"{m.group(1)}:" for s in statements[number:] if (m := _LABEL.match(s))]
        body = _LABEL.sub("", statements[number - 1]).strip()
        try:
            with _stderr_captured([]):
                encoding, _ = ks.asm("\n".join(statements[:number] + later), address)
        except keystone.KsError as err:
            return f"cannot assemble instruction {number} `{originals[number - 1]}': " \
                   f"{_explain(err)}"
        if body and not encoding:
            hint = ""
            if thumb and any(re.match(r"it[te]{0,3}\s", s, re.IGNORECASE)
                             for s in statements[max(0, number - 5):number - 1]):
                hint = " (inside an IT block an instruction must carry its slot's " \
                       "condition, e.g. addeq)"
            return f"cannot assemble instruction {number} `{originals[number - 1]}': " \
                   f"rejected in this context{hint}"
    return f"cannot assemble: {reason}"
