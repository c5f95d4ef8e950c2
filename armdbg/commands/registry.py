"""Command declarations and the registry that finds them the way gdb does.

One declaration per command is the single source of its parsing, its ``help`` text and
its completion.  Modules (and plugins) collect declarations in a :class:`CommandSet`;
the :class:`Registry` is built from command sets, and a duplicate name or alias is an
error when it is built.

Argument handling comes in two shapes.  Most gdb commands take free text (an
expression, a location, ``/FMT``), so by default a command receives its raw argument
string and declares a ``usage`` line for help.  Commands with option-style arguments
(``kprobe --stop``) declare an :class:`ArgParser`, which parses and produces the usage.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from armdbg.errors import UsageError

if TYPE_CHECKING:
    from armdbg.commands.context import Context

CommandFunc = Callable[["Context", Any], None]
# A repeat policy: given the argument string last used, the line Enter should run
# (``x`` continues from the next address), or None for "do not repeat".
RepeatPolicy = Callable[["Context", str], "str | None"]

CATEGORIES = {
    "breakpoints": "Making program stop at certain points",
    "running": "Running the program",
    "data": "Examining data",
    "stack": "Examining the stack",
    "status": "Status inquiries",
    "files": "Specifying and examining files",
    "support": "Support facilities",
    "kprobes": "Linux kprobes and optprobes on the emulated machine",
    "tracing": "ftrace-style kprobe events",
    "obscure": "Obscure features",
    "user-defined": "User-defined commands",
    "plugins": "Plugin commands",
}


class ArgParser(argparse.ArgumentParser):
    """argparse that reports errors as one-line :class:`UsageError` instead of exiting."""

    def __init__(self, prog: str, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(prog=prog, exit_on_error=False, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}. Usage: {self.usage_line()}")

    def usage_line(self) -> str:
        return " ".join(self.format_usage().split())[len("usage: "):]

    def parse(self, text: str) -> argparse.Namespace:
        import shlex

        try:
            words = shlex.split(text)
        except ValueError as err:
            raise UsageError(f"{self.prog}: {err}. Usage: {self.usage_line()}") from None
        try:
            return self.parse_args(words)
        except argparse.ArgumentError as err:
            self.error(str(err))
            raise  # unreachable: error() raises


@dataclass
class CommandSpec:
    name: str                      # "break", or "info registers" for a subcommand
    func: CommandFunc
    category: str = "support"
    aliases: tuple[str, ...] = ()
    parser: ArgParser | None = None
    usage: str = ""
    repeat: bool | RepeatPolicy = False
    complete: tuple[str, ...] = ()  # completion kinds: expression, location, file, register, ...
    prefix: bool = False           # has subcommands ("info", "set", "kprobe")
    owner: str = "armdbg"

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        first = self.doc.splitlines()[0] if self.doc else ""
        return first.rstrip(".") + "." if first else ""

    @property
    def words(self) -> list[str]:
        return self.name.split()

    def usage_line(self) -> str:
        if self.parser is not None:
            return self.parser.usage_line()
        return self.usage or self.name

    def parse_args(self, text: str) -> Any:
        return self.parser.parse(text) if self.parser is not None else text


class CommandSet:
    """Declarations collected by one module or plugin."""

    def __init__(self, owner: str = "armdbg") -> None:
        self.owner = owner
        self.specs: list[CommandSpec] = []

    def command(self, name: str, *, category: str = "support", aliases: Iterable[str] = (),
                parser: ArgParser | None = None, usage: str = "",
                repeat: bool | RepeatPolicy = False, complete: Iterable[str] = (),
                prefix: bool = False) -> Callable[[CommandFunc], CommandFunc]:
        def declare(func: CommandFunc) -> CommandFunc:
            self.specs.append(CommandSpec(name, func, category, tuple(aliases), parser, usage,
                                          repeat, tuple(complete), prefix, self.owner))
            return func

        return declare


@dataclass
class _Node:
    """One level of the command tree: its own spec and its subcommands."""

    spec: CommandSpec | None = None
    children: dict[str, _Node] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)


class Registry:
    def __init__(self, sets: Iterable[CommandSet] = ()) -> None:
        self._root = _Node()
        self._specs: list[CommandSpec] = []
        for command_set in sets:
            self.add_set(command_set)

    def add_set(self, command_set: CommandSet) -> None:
        for spec in command_set.specs:
            self.add(spec)

    def add(self, spec: CommandSpec) -> None:
        words = spec.words
        node = self._root
        for word in words[:-1]:
            node = node.children.setdefault(word, _Node())
        leaf = words[-1]
        existing = node.children.get(leaf)
        if (existing is not None and existing.spec is not None) or leaf in node.aliases:
            raise ValueError(f'command "{spec.name}" is declared twice')
        for alias in spec.aliases:
            if alias in node.aliases or (alias in node.children and alias != leaf):
                raise ValueError(f'alias "{alias}" of "{spec.name}" is already taken')
        child = existing or _Node()
        child.spec = spec
        node.children[leaf] = child
        for alias in spec.aliases:
            node.aliases[alias] = leaf
        self._specs.append(spec)

    def replace(self, spec: CommandSpec) -> CommandSpec | None:
        """Declare ``spec`` even if its name is taken, as gdb's ``define`` redefines.

        A command of that name is replaced (its subcommands stay); an alias of that
        name is taken away from the command it belonged to.  Returns the replaced
        spec, or None.  Unlike :meth:`add` this is for run time, not for declarations.
        """
        node = self._root
        for word in spec.words[:-1]:
            node = node.children.setdefault(word, _Node())
        leaf = spec.words[-1]
        if leaf in node.aliases:
            owner_node = node.children[node.aliases.pop(leaf)]
            if owner_node.spec is not None:
                old_owner = owner_node.spec
                # A new object: specs are shared by every registry built from a module.
                owner_node.spec = replace(old_owner, aliases=tuple(
                    a for a in old_owner.aliases if a != leaf))
                self._specs[self._specs.index(old_owner)] = owner_node.spec
        child = node.children.setdefault(leaf, _Node())
        old = child.spec
        child.spec = spec
        if old is not None:
            self._specs[self._specs.index(old)] = spec
        else:
            self._specs.append(spec)
        return old

    def remove_owner(self, owner: str) -> None:
        """Forget a plugin's commands (for unload and reload)."""
        keep = [s for s in self._specs if s.owner != owner]
        self._root = _Node()
        self._specs = []
        for spec in keep:
            self.add(spec)

    def specs(self) -> list[CommandSpec]:
        return list(self._specs)

    def find(self, name: str) -> CommandSpec:
        spec, rest = self.resolve(name)
        if spec is None or rest.strip():
            raise UsageError(f'Undefined command: "{name}".  Try "help".')
        return spec

    def subcommands(self, prefix: str) -> list[CommandSpec]:
        node = self._root
        for word in prefix.split():
            node = node.children.get(word) or _Node()
        return [c.spec for c in node.children.values() if c.spec is not None]

    def top_level_names(self, node: _Node | None = None) -> list[str]:
        node = node or self._root
        return sorted(list(node.children) + list(node.aliases))

    def names_at(self, prefix_words: list[str]) -> list[str]:
        node = self._root
        for word in prefix_words:
            found = self._lookup(node, word)
            if found is None:
                return []
            node = found
        return sorted(n for n, c in node.children.items() if c.spec is not None or c.children)

    def _lookup(self, node: _Node, word: str) -> _Node | None:
        if word in node.children:
            return node.children[word]
        if word in node.aliases:
            return node.children[node.aliases[word]]
        matches = [n for n in node.children if n.startswith(word)]
        if len(matches) == 1:
            return node.children[matches[0]]
        if len(matches) > 1:
            raise UsageError(f'Ambiguous command "{word}": {", ".join(sorted(matches))}.')
        return None

    def resolve(self, line: str) -> tuple[CommandSpec | None, str]:
        """Find the command a line names; return it and the argument text after it.

        Words are matched by exact name, alias, or unique prefix at each level, as gdb
        does.  A command word ends at whitespace or at ``/`` (``x/4xw``, ``p/x``).
        """
        node = self._root
        spec: CommandSpec | None = None
        rest = line.lstrip()
        while rest:
            word, after = split_word(rest)
            if not word:
                break
            child = self._lookup(node, word)
            if child is None:
                if node is self._root:
                    raise UsageError(f'Undefined command: "{word}".  Try "help".')
                break  # not a subcommand: it is the parent's argument text
            node = child
            spec = child.spec or spec
            rest = after
            if not child.children:
                break
        return spec, rest.strip()


def split_word(text: str) -> tuple[str, str]:
    """A command word as gdb reads one: letters, digits, '-' and '_'; and the rest."""
    text = text.lstrip()
    end = 0
    while end < len(text) and (text[end].isalnum() or text[end] in "-_"):
        end += 1
    return text[:end], text[end:]
