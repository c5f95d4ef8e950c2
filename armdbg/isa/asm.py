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

Keystone reports a failure for a whole input without saying which statement failed,
so on error each statement is assembled on its own to name the culprit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_TOKEN = re.compile(r"(?<![\w$.])(?:(\d+)(?![\w.:])|([A-Za-z_.$][\w.$]*))")
_KEYWORDS = {f"r{i}" for i in range(16)} | {
    "sp", "lr", "pc", "fp", "ip", "sb", "sl", "apsr", "cpsr", "spsr",
    "lsl", "lsr", "asr", "ror", "rrx"}


def _normalize(statement: str, labels: set[str],
               resolve: Callable[[str], int | None] | None) -> str:
    """Rewrite decimal literals as hex and known program symbols as addresses."""
    first = True

    def token(match: re.Match[str]) -> str:
        nonlocal first
        number, name = match.group(1), match.group(2)
        if number is not None:
            return hex(int(number))
        was_first, first = first, False
        if was_first or name.startswith(".") or name.lower() in _KEYWORDS or name in labels:
            return name  # a mnemonic, directive, register or local label
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
    """Statements are separated by ';' or newlines; '@' and '//' start comments."""
    out = []
    for line in text.replace(";", "\n").splitlines():
        line = re.split(r"@|//", line, maxsplit=1)[0].strip()
        if line:
            out.append(line)
    return out


def _explain(err: keystone.KsError) -> str:
    message = str(err)
    # "Invalid mnemonic (KS_ERR_ASM_MNEMONICFAIL)" -> "invalid mnemonic"
    message = re.sub(r"\s*\(KS_ERR_[A-Z_]+\)", "", message)
    return message[:1].lower() + message[1:]


def assemble(text: str, address: int, thumb: bool,
             resolve: Callable[[str], int | None] | None = None) -> bytes:
    """Assemble ``text`` as if placed at ``address``.

    ``resolve`` maps names Keystone does not know (symbols of the loaded program) to
    addresses.
    """
    statements = split_statements(text)
    if not statements:
        raise AssemblyError("nothing to assemble")
    labels = {m.group(1) for s in statements if (m := _LABEL.match(s))}
    statements = [_normalize(s, labels, resolve) for s in statements]
    try:
        encoding, _ = _keystone(thumb).asm("\n".join(statements), address)
    except keystone.KsError as err:
        raise AssemblyError(_locate_failure(statements, labels, address, thumb, err)) from None
    if not encoding:
        raise AssemblyError("nothing to assemble")
    return bytes(encoding)


def _locate_failure(statements: list[str], labels: set[str], address: int, thumb: bool,
                    err: keystone.KsError) -> str:
    ks = _keystone(thumb)
    for number, statement in enumerate(statements, 1):
        body = _LABEL.sub("", statement).strip()
        if not body:
            continue
        # Labels defined elsewhere in the input become this address, so that a lone
        # statement such as "b loop" is judged on its own merits.
        alone = _normalize(body, set(), lambda n: address if n in labels else None)
        try:
            ks.asm(alone, address)
        except keystone.KsError as one:
            return f"cannot assemble instruction {number} `{body}': {_explain(one)}"
    return f"cannot assemble: {_explain(err)}"
