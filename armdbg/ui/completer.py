"""Tab completion for the command line, driven by the command declarations.

The command words come from the registry (names, aliases, subcommands: ``info r`` ->
``info registers``); what follows them is completed by the kinds a command declares in
``complete=(...)`` (see :class:`~armdbg.commands.registry.CommandSpec`):

- ``location``/``expression`` (and the fallback for commands that declare nothing):
  symbols of the loaded program, and ``$`` registers and convenience variables;
- ``register``: register names (``info registers p`` -> ``pc``);
- ``file``: paths, relative to the session's directory;
- ``setting``: ``set``/``show`` setting names (multi-word: ``set history s`` ->
  ``history size``), then the values of on/off and enum settings;
- ``command``: a command line again (``help info r``).

A word starting with ``-`` completes the options of a command declared with an
ArgParser (``kprobe --st`` -> ``--stop``).

``set``, ``show``, ``help``, ``info registers``, ``source``, ``file`` and ``load elf``
get their kind even when their declaration does not name one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from armdbg.machine.machine import GENERAL_REGISTERS, REGISTER_ALIASES

if TYPE_CHECKING:
    from armdbg.commands.registry import CommandSpec, Registry
    from armdbg.session import Session

REGISTER_NAMES = tuple(sorted({*GENERAL_REGISTERS, *REGISTER_ALIASES}))

# Commands whose arguments are of a known kind even if their declaration is silent.
DEFAULT_KINDS: dict[str, tuple[str, ...]] = {
    "set": ("setting",),
    "show": ("setting",),
    "help": ("command",),
    "info registers": ("register",),
    "source": ("file",),
    "file": ("file",),
    "load elf": ("file",),
    "load raw": ("file",),
}

_COMMAND_WORD = re.compile(r"[A-Za-z0-9_-]*")
# The identifier being typed at the end of an expression: not the x of 0x12.
_PARTIAL_NAME = re.compile(r"(?<![\w$.])[A-Za-z_.$][\w.$]*$")
_ON_OFF = ("on", "off")


@dataclass
class _Entry:
    name: str                 # the word as typed in full (a name or an alias)
    canonical: str            # the declared word
    spec: CommandSpec | None  # None for a word that only groups subcommands
    has_children: bool


class CommandCompleter(Completer):
    """Completes armdbg command lines; ``complete(text)`` is the testable core."""

    def __init__(self, registry: Registry, session: Session) -> None:
        self.registry = registry
        self.session = session
        self._paths = PathCompleter(expanduser=True, get_paths=lambda: [str(session.cwd)])

    # ------------------------------------------------------------------ prompt_toolkit

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterator[Completion]:
        yield from self.complete(document.text_before_cursor, complete_event)

    # ------------------------------------------------------------------ command words

    def complete(self, text: str, event: CompleteEvent | None = None) -> list[Completion]:
        """Completions for the line typed so far (``text`` ends at the cursor)."""
        event = event or CompleteEvent(completion_requested=True)
        return _unique(self._complete_line(text, event))

    def _level(self, path: tuple[str, ...]) -> dict[str, _Entry]:
        """The words allowed after the command words ``path``, aliases included."""
        entries: dict[str, _Entry] = {}
        depth = len(path)
        parents: set[str] = set()
        for spec in self.registry.specs():
            words = tuple(spec.words)
            if len(words) > depth + 1 and words[:depth] == path:
                parents.add(words[depth])
        for spec in self.registry.specs():
            words = tuple(spec.words)
            if len(words) == depth + 1 and words[:depth] == path:
                word = words[depth]
                has_children = word in parents
                entries[word] = _Entry(word, word, spec, has_children)
                for alias in spec.aliases:
                    entries.setdefault(alias, _Entry(alias, word, spec, has_children))
        for word in parents:
            entries.setdefault(word, _Entry(word, word, None, True))
        return entries

    @staticmethod
    def _resolve(word: str, entries: dict[str, _Entry]) -> _Entry | None:
        """The registry's rule: exact name or alias, else a unique prefix of a name."""
        if word in entries:
            return entries[word]
        matches = [e for e in entries.values() if e.name == e.canonical
                   and e.name.startswith(word)]
        return matches[0] if len(matches) == 1 else None

    def _complete_line(self, text: str, event: CompleteEvent) -> Iterator[Completion]:
        path: tuple[str, ...] = ()
        spec: CommandSpec | None = None
        # A prefix command's own argument text is completed only by its declared kinds
        # (set: settings), never by the symbol fallback (info: only subcommands).
        fallback = True
        rest = text.lstrip()
        while True:
            entries = self._level(path)
            word = _COMMAND_WORD.match(rest)
            assert word is not None  # the pattern matches the empty string
            partial = word.group(0)
            if len(partial) == len(rest):
                # The cursor is in this word: the commands (or subcommands) it may start.
                yield from _command_words(partial, entries)
                if spec is not None and path:
                    yield from self._arguments(spec, rest, event, fallback=fallback)
                return
            entry = self._resolve(partial, entries) if partial else None
            if entry is None:
                if spec is not None:
                    yield from self._arguments(spec, rest, event, fallback=fallback)
                return
            path = (*path, entry.canonical)
            spec = entry.spec or spec
            fallback = not entry.has_children
            rest = rest[len(partial):]
            if not entry.has_children:
                if spec is not None:
                    yield from self._arguments(spec, rest.lstrip(" \t"), event)
                return
            rest = rest.lstrip(" \t")

    # ------------------------------------------------------------------ arguments

    def _arguments(self, spec: CommandSpec, args: str, event: CompleteEvent, *,
                   fallback: bool = True) -> Iterator[Completion]:
        kinds = spec.complete or DEFAULT_KINDS.get(spec.name, ())
        if not kinds and not fallback:
            return
        if "setting" in kinds:
            settings = list(self._settings(args))
            yield from settings
            if settings or set(kinds) <= {"setting"}:
                return  # else: set EXPR (set result = 1, set $r0 = 1)
        if "command" in kinds:
            yield from self._complete_line(args, event)
            return
        if "file" in kinds:
            last = args.split()[-1] if args and not args[-1].isspace() else ""
            yield from self._paths.get_completions(Document(last), event)
            return
        word = args.split()[-1] if args and not args[-1].isspace() else ""
        if word.startswith("-") and spec.parser is not None:
            yield from _matching(word, _option_strings(spec), "option")
            return
        match = _PARTIAL_NAME.search(args)
        partial = match.group(0) if match else ""
        if args and not match and not args[-1].isspace() and args[-1] not in "&*(+-,=!<>|^~[":
            return  # in the middle of a number or an operator: nothing sensible to offer
        if partial.startswith("$"):
            yield from self._dollar(partial)
            return
        if "register" in kinds:
            yield from _matching(partial, REGISTER_NAMES, "register")
            return
        # location, expression, anything else: the program's symbols.
        yield from _matching(partial, self.session.symbols.names(), "symbol")

    def _dollar(self, partial: str) -> Iterator[Completion]:
        registers = [f"${name}" for name in REGISTER_NAMES]
        variables = [f"${name}" for name in self.session.convenience]
        yield from _matching(partial, registers, "register")
        yield from _matching(partial, variables, "variable")

    def _settings(self, args: str) -> Iterator[Completion]:
        settings = self.session.settings
        text = args.lstrip()
        for name in settings.names():
            if name.startswith(text):
                yield Completion(name, -len(text), display_meta="setting")
        # After a full setting name: its values (set pagination o -> on, off).
        for name in settings.names():
            if text.startswith(name + " "):
                setting = settings.find(name)
                value = text[len(name) + 1:].lstrip()
                choices: Iterable[str] = ()
                if setting.kind == "bool":
                    choices = _ON_OFF
                elif setting.kind == "enum":
                    choices = setting.choices
                elif setting.kind == "uint":
                    choices = ("unlimited",)
                yield from _matching(value, choices, "value")


def _command_words(partial: str, entries: dict[str, _Entry]) -> Iterator[Completion]:
    for entry in sorted(entries.values(), key=lambda e: e.name):
        if not entry.name.startswith(partial):
            continue
        if entry.name != entry.canonical and (len(entry.name) < 2
                                              or entry.canonical.startswith(entry.name)):
            # One-letter aliases (b, c, s) are typed, never completed; an alias that
            # abbreviates its own command (inf, cont) would only repeat it.
            continue
        meta = entry.spec.summary.rstrip(".") if entry.spec is not None else ""
        yield Completion(entry.name, -len(partial), display_meta=meta)


def _option_strings(spec: CommandSpec) -> list[str]:
    """``--stop``, ``--name``... of an option-style command (its ArgParser)."""
    parser = spec.parser
    assert parser is not None
    actions = parser._actions  # argparse keeps no public list of its options
    return [o for action in actions for o in action.option_strings]


def _matching(partial: str, names: Iterable[str], meta: str) -> Iterator[Completion]:
    for name in sorted(names):
        if name.startswith(partial):
            yield Completion(name, -len(partial), display_meta=meta)


def _unique(completions: Iterable[Completion]) -> list[Completion]:
    seen: set[tuple[str, int]] = set()
    result = []
    for completion in completions:
        key = (completion.text, completion.start_position)
        if key not in seen:
            seen.add(key)
            result.append(completion)
    return result


def completion_texts(completions: Iterable[Any]) -> list[str]:
    """The words completions would produce (for tests and ``complete``-style output)."""
    return [c.text for c in completions]
