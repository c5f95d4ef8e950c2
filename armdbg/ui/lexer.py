"""A Pygments lexer for armdbg's command language (one command per line).

``break do_something if $r0 == 3`` lexes as a command word, a symbol, a keyword, a
register, an operator and a number; a line starting with ``#`` is a comment (as the
dispatcher treats it: ``#`` later on a line is argument text).  Which first words
take a subcommand (``info registers``, ``set var``) comes from the registry, given as
the ``prefixes`` option, so ``i r`` highlights both words; without it only the first
word is a command word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar

from pygments.lexer import RegexLexer, default
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
    _TokenType,
)

_WORD = r"[A-Za-z_][\w-]*"


def _resolve(word: str, names: Iterable[str]) -> str | None:
    """gdb's rule: an exact name, else a unique prefix."""
    names = list(names)
    if word in names:
        return word
    matches = [n for n in names if n.startswith(word)]
    return matches[0] if len(matches) == 1 else None


class ArmdbgLexer(RegexLexer):
    """Option ``prefixes``: {first word: [subcommand words]} (aliases included), or a
    function returning it (so commands added later, by plugins, are seen)."""

    name = "armdbg"
    aliases: ClassVar[list[str]] = ["armdbg", "armdbg-commands"]
    filenames: ClassVar[list[str]] = ["*.armdbg", ".armdbgrc"]

    def __init__(self, **options: Any) -> None:
        prefixes = options.pop("prefixes", None) or {}
        self._prefixes: Callable[[], Mapping[str, list[str]]] = (
            prefixes if callable(prefixes) else lambda: prefixes)
        super().__init__(**options)

    def _command(self, match: re.Match[str]) -> Iterator[tuple[int, _TokenType, str]]:
        """The command word, and the subcommand word when the command has them."""
        lead, first, gap, second = match.group(1, 2, 3, 4)
        prefixes = self._prefixes()
        parent = _resolve(first, prefixes)
        subwords = prefixes.get(parent, []) if parent is not None else []
        kind = Keyword if second and _resolve(second, subwords) is not None else Name
        start = match.start()
        for token, text in ((Whitespace, lead), (Keyword, first), (Whitespace, gap),
                            (kind, second)):
            if text:
                yield start, token, text
                start += len(text)

    tokens: ClassVar[dict[str, Any]] = {
        "root": [
            (r"\n", Whitespace),
            (r"[ \t]*#.*", Comment.Single),
            (rf"([ \t]*)({_WORD})([ \t]*)({_WORD}(?![\w(\[.+*/-]))?", _command,
             ("args", "format")),
            (r"[ \t]+", Whitespace),
            (r".+", Text),
        ],
        # x/4xw, p/x, display/i: the format right after the command word.
        "format": [
            (r"/[A-Za-z0-9]+", Keyword.Type),
            default("#pop"),
        ],
        "args": [
            (r"\n", Whitespace, "#pop"),
            (r"[ \t]+", Whitespace),
            (r'"(\\\\|\\"|[^"\n])*"?', String.Double),
            (r"'(\\\\|\\'|[^'\n])*'?", String.Char),
            (r"(?<![\w$])--?[A-Za-z][\w-]*", Name.Attribute),
            (r"\$[\w$]*", Name.Variable),
            (r"0[xX][0-9A-Fa-f]+\b", Number.Hex),
            (r"\d+\.\d*([eE][+-]?\d+)?", Number.Float),
            (r"\d+\b", Number.Integer),
            (r"(?<=[ \t])(if|thread)\b", Keyword),  # break LOC if COND
            (r"[A-Za-z_.][\w.]*", Name),
            (r"[-+*/%&|^~!<>=?:]+", Operator),
            (r"[()\[\]{},@]", Punctuation),
            (r".", Text),
        ],
    }


def prefixes_of(registry: Any) -> dict[str, list[str]]:
    """{command word or alias: its subcommand words and aliases} from a Registry."""
    result: dict[str, list[str]] = {}
    top_aliases: dict[str, list[str]] = {}
    for spec in registry.specs():
        words = spec.words
        if len(words) == 1:
            top_aliases.setdefault(words[0], []).extend(spec.aliases)
        elif len(words) >= 2:
            result.setdefault(words[0], []).extend([words[1], *spec.aliases])
    for name, aliases in top_aliases.items():
        for alias in aliases:
            if name in result:
                result[alias] = result[name]
    return result


def lexer_class(registry: Any) -> type[ArmdbgLexer]:
    """An ArmdbgLexer class bound to ``registry`` (prompt_toolkit's PygmentsLexer
    instantiates the class itself, so the option is bound here)."""

    class RegistryLexer(ArmdbgLexer):
        def __init__(self, **options: Any) -> None:
            options.setdefault("prefixes", lambda: prefixes_of(registry))
            super().__init__(**options)

    return RegistryLexer
