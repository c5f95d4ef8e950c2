"""kprobe_events commands: parse one line as Linux does, and print it back.

Public API::

    parse_definition(line: str, symbols: SymbolLookup)
        -> ProbeDefinition | DeleteRequest | None   # None: a line without words
        # raises ProbeDefinitionError(message, position) -- armdbg.tracing.errors
    split_commands(buffer: str) -> list[str]        # one write(2) -> command lines

    class ProbeDefinition:   # one probe (struct trace_kprobe), frozen
        is_return, group, event, symbol (None for an address), offset, address,
        maxactive (0 = default), args: list[FetchArg], argv, command
        text                                  # kprobe_events read-back, no newline
        event_text(env, *, ret_ip=None) -> str   # "EVENT: (sym+0x0/0x24) arg1=0x1"
        append_error(existing) / registration_error(kind)  # for the event registry
    class DeleteRequest:     # "-:[GRP/]EVENT [SYM ARGS...]"
        group, event, args; matches(definition) -> bool

    class FetchArg:          # armdbg.tracing.fetchargs
        name, type, text (as written after NAME=), type_spec, count
        fetch(env: FetchEnv) -> str             # "name=value"
        value(env: FetchEnv) -> str             # "value"
    parse_fetchargs(text, *, is_return, on_function_entry=True) -> list[FetchArg]

    class SymbolLookup(Protocol):
        lookup(name) -> Sequence[int]           # every address of that name
        is_function_entry(address) -> bool      # offset 0 inside its symbol
    class FetchEnv(Protocol):                   # armdbg.tracing.fetchargs
        read_register(name) -> int; read_memory(addr, size) -> bytes (raises
        MemoryAccessError); symbol_address(name) -> int | None;
        symbolize_with_size(addr) -> "sym+0xoff/0xsize" | None;
        retval() -> int | None; comm() -> str

A full trace record is ``formats.trace_line(defn.event_text(env, ret_ip=...),
comm=..., timestamp_ns=..., flags=KPROBE_CONTEXT_FLAGS or KRETPROBE_CONTEXT_FLAGS)``.

Mirrors kernel/trace/trace_kprobe.c ``trace_kprobe_create_internal()``,
``trace_kprobe_show()``, ``trace_kprobe_match()``/``trace_kprobe_match_command_head()``,
``append_trace_kprobe()`` and kernel/trace/trace_dynevent.c ``dyn_event_release()``,
kernel/trace/trace.c ``trace_parse_run_command()``.  Checks happen in the kernel's order
(maxactive, probe point, event name, ``$arg`` pre-pass, argument count, each argument,
then what registration checks: ``@SYM`` resolution and the return-probe address).

What stays with the caller (the event registry): "Given group/event name is already
used by another event", appending to an existing event (:meth:`append_error`), and
the kprobes core's refusals (:meth:`registration_error`).
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from armdbg.tracing.errors import ProbeDefinitionError, ProbeLog
from armdbg.tracing.fetchargs import (
    TPARG_FL_FENTRY,
    TPARG_FL_KERNEL,
    TPARG_FL_RETURN,
    FetchArg,
    FetchEnv,
    is_good_name,
    kstrtouint,
    kstrtoul,
    parse_fetchargs,
    parse_probe_args,
    split_argv,
    split_symbol_offset,
)
from armdbg.tracing.formats import kprobe_event_text, kretprobe_event_text

__all__ = [
    "DeleteRequest",
    "FetchArg",
    "FetchEnv",
    "ProbeDefinition",
    "ProbeDefinitionError",
    "SymbolLookup",
    "parse_definition",
    "parse_fetchargs",
    "split_commands",
]

KPROBE_EVENT_SYSTEM = "kprobes"
MAX_EVENT_NAME_LEN = 64
KRETPROBE_MAXACTIVE_MAX = 4096
UINT_MAX = 0xFFFFFFFF
WRITE_BUFSIZE = 4096


class SymbolLookup(Protocol):
    """The kallsyms view parsing needs.

    ``lookup`` returns every address the name has (several: "The symbol is not
    unique"); ``is_function_entry`` says whether an address is the start of its symbol
    (kprobe_on_func_entry() on ARM: offset 0; an address outside every symbol is not).
    """

    def lookup(self, name: str) -> Sequence[int]: ...

    def is_function_entry(self, address: int) -> bool: ...


@dataclass(frozen=True)
class ProbeDefinition:
    """One kprobe event probe (struct trace_kprobe), as parsed from kprobe_events.

    ``symbol`` is None for an address probe; ``address`` is always the probed address
    (symbol + offset once resolved).  ``maxactive`` 0 means the kernel default.
    ``argv``/``command`` are the words and their single-spaced join, as error_log
    shows them.
    """

    is_return: bool
    group: str
    event: str
    symbol: str | None
    offset: int
    address: int
    maxactive: int = 0
    args: list[FetchArg] = field(default_factory=list)
    argv: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        return " ".join(self.argv)

    @property
    def location(self) -> str:
        """The probe point as trace_kprobe_show() prints it.

        Address probes print ``0x%p``; the kernel hashes %p, armdbg shows the real
        address (as ``no_hash_pointers`` does), 8 digits as on 32-bit.
        """
        if self.symbol is None:
            return f"0x{self.address:08x}"
        if self.offset:
            return f"{self.symbol}+{self.offset}"
        return self.symbol

    @property
    def text(self) -> str:
        """trace_kprobe_show(): ``p|r[MAXACTIVE]:GRP/EVENT LOCATION NAME=ARG...``."""
        head = "r" if self.is_return else "p"
        if self.is_return and self.maxactive:
            head += str(self.maxactive)
        args = "".join(f" {a.definition_text}" for a in self.args)
        return f"{head}:{self.group}/{self.event} {self.location}{args}"

    def event_text(self, env: FetchEnv, *, ret_ip: int | None = None) -> str:
        """The event part of a trace record for a hit now (values fetched from ``env``).

        A return probe needs ``ret_ip``, the address the function returns to.
        """
        values = [a.fetch(env) for a in self.args]
        if self.is_return:
            return kretprobe_event_text(self.event, ret_ip or 0, self.address, values,
                                        env.symbolize_with_size)
        return kprobe_event_text(self.event, self.address, values, env.symbolize_with_size)

    # --- what registration decides (register_trace_kprobe / append_trace_kprobe) ---------

    def error(self, index: int, offset: int, kind: str, err: int = errno.EINVAL
              ) -> ProbeDefinitionError:
        """An error_log entry for argv ``index``, ``offset`` columns in."""
        log = ProbeLog(self.argv)
        log.index = index
        return ProbeDefinitionError(None, errno=err, log=[log.entry(offset, kind)])

    def registration_error(self, kind: str, err: int = errno.EINVAL) -> ProbeDefinitionError:
        """How trace_kprobe_create_internal() reports a failed register_trace_kprobe().

        ``kind``: "BAD_INSN_BNDRY" (-EILSEQ), "BAD_PROBE_ADDR" (-ENOENT) or
        "FAIL_REG_PROBE" (anything else) point at the probe point; "EVENT_EXIST"
        (-EEXIST) at the command's start.
        """
        if kind == "EVENT_EXIST":
            return self.error(0, 0, kind, errno.EEXIST)
        return self.error(1, 0, kind, err)

    def compare_arg_types(self, other: ProbeDefinition) -> int:
        """trace_probe_compare_arg_type(): 0, or the 1-based index of the first
        argument whose type, array size or name differs (count mismatch: one past the
        shorter list)."""
        if len(self.args) != len(other.args):
            return min(len(self.args), len(other.args)) + 1
        for i, (a, b) in enumerate(zip(self.args, other.args)):
            if a.type != b.type or a.count != b.count or a.name != b.name:
                return i + 1
        return 0

    def is_same_probe(self, other: ProbeDefinition) -> bool:
        """trace_kprobe_has_same_kprobe() for one existing probe: same symbol (address
        probes all count as "unknown"), same offset and the same argument texts."""
        return ((self.symbol or "unknown") == (other.symbol or "unknown")
                and self.offset == other.offset
                and [a.text for a in self.args] == [a.text for a in other.args])

    def append_error(self, existing: Sequence[ProbeDefinition]) -> ProbeDefinitionError | None:
        """The error of adding this probe to an event that already has ``existing``
        probes (register_trace_kprobe() + append_trace_kprobe()), or None if it may."""
        if not existing:
            return None
        first = existing[0]
        if self.is_return != first.is_return:
            return self.error(0, 0, "DIFF_PROBE_TYPE", errno.EEXIST)
        mismatch = self.compare_arg_types(first)
        if mismatch:
            # "Note that argument starts index = 2"
            return self.error(mismatch + 1, 0, "DIFF_ARG_TYPE", errno.EEXIST)
        if any(self.is_same_probe(p) for p in existing):
            return self.error(0, 0, "SAME_PROBE", errno.EEXIST)
        return None


@dataclass(frozen=True)
class DeleteRequest:
    """``-:[GRP/]EVENT [SYM[+OFFS]|ADDR [NAME=ARG...]]`` (dyn_event_release()).

    ``group`` None matches any group; ``event`` "" (only with a group) matches every
    event of the group; ``args`` (if any) must match the probe's head.
    """

    group: str | None
    event: str
    args: tuple[str, ...] = ()

    def matches(self, definition: ProbeDefinition) -> bool:
        """trace_kprobe_match() + trace_kprobe_match_command_head()."""
        if self.event and self.event != definition.event:
            return False
        if self.group is not None and self.group != definition.group:
            return False
        if not self.args:
            return True
        if self.args[0] != definition.location:
            return False
        rest = self.args[1:]
        if len(definition.args) < len(rest):
            return False
        return all(a.definition_text == want for a, want in zip(definition.args, rest))


def split_commands(buffer: str) -> list[str]:
    """trace_parse_run_command(): the commands one write(2) of kprobe_events carries.

    Lines end at ``\\n``; everything from ``#`` on is a comment.  Lines are not
    stripped: only a line whose first character is ``-`` is a delete.  A line longer
    than WRITE_BUFSIZE - 2 is refused with -EINVAL and nothing logged.
    """
    commands = []
    for line in buffer.split("\n"):
        if len(line) > WRITE_BUFSIZE - 2:
            raise ProbeDefinitionError(None, errno=errno.EINVAL)
        commands.append(line.split("#", 1)[0])
    if commands and commands[-1] == "" and buffer.endswith("\n"):
        commands.pop()
    return commands


def _sanitize_event_name(name: str) -> str:
    """sanitize_event_name(): ':', '.' and '*' become '_' (from the second character)."""
    return name[:1] + "".join("_" if c in ":.*" else c for c in name[1:])


def _parse_event_name(text: str, offset: int, log: ProbeLog) -> tuple[str | None, str | None]:
    """traceprobe_parse_event_name(): ``[GROUP/][EVENT]`` (or ``GROUP.EVENT``).

    Returns (group or None, event or None); errors at the group's or event's column.
    """
    group: str | None = None
    slash = text.find("/")
    if slash < 0:
        slash = text.find(".")
    event = text
    if slash >= 0:
        if slash == 0:
            log.fail(offset, "NO_GROUP_NAME")
        if slash + 1 > MAX_EVENT_NAME_LEN:
            log.fail(offset, "GROUP_TOO_LONG")
        group = text[:slash]
        if not is_good_name(group, hyphen_ok=True):
            log.fail(offset, "BAD_GROUP_NAME")
        event = text[slash + 1:]
        offset += slash + 1
    if not event:
        if slash >= 0:
            return group, None
        log.fail(offset, "NO_EVENT_NAME")
    if len(event) >= MAX_EVENT_NAME_LEN:
        log.fail(offset, "EVENT_TOO_LONG")
    if not is_good_name(event):
        log.fail(offset, "BAD_EVENT_NAME")
    return group, event


def _parse_delete(line: str) -> DeleteRequest:
    """dyn_event_release(): failures are -EINVAL without an error_log entry."""
    argv = split_argv(line)
    head = argv[0]
    if head[1:2] != ":":
        raise ProbeDefinitionError(None, command=" ".join(argv), errno=errno.EINVAL)
    event = head[2:]
    group: str | None = None
    if "/" in event:
        group, event = event.split("/", 1)
    if group is None and not event:
        raise ProbeDefinitionError(None, command=" ".join(argv), errno=errno.EINVAL)
    return DeleteRequest(group, event, tuple(argv[1:]))


def parse_definition(line: str, symbols: SymbolLookup
                     ) -> ProbeDefinition | DeleteRequest | None:
    """Parse one kprobe_events command (create_or_delete_trace_kprobe()).

    ``line`` is one command as :func:`split_commands` yields it (comment removed).
    Returns None for a line with no words (the kernel accepts it and does nothing).
    Raises :class:`ProbeDefinitionError` with the kernel's error_log message(s), caret
    position(s) and errno.
    """
    if line[:1] == "-":
        return _parse_delete(line)
    argv = split_argv(line)
    if not argv:
        return None
    log = ProbeLog(argv)
    # trace_kprobe_create_internal(): -ECANCELED (then -EINVAL, nothing logged) when
    # the command is not a kprobe one.
    if argv[0][0] not in "pr" or len(argv) < 2:
        log.fail_unlogged()
    head = argv[0]
    is_return = head[0] == "r"
    colon = head.find(":", 1)
    event_text = head[colon + 1:] if colon >= 0 else None

    maxactive = 0
    if "0" <= head[1:2] <= "9":
        if not is_return:
            log.fail(1, "BAD_MAXACT_TYPE")
        length = colon - 1 if colon >= 0 else len(head) - 1
        if length > MAX_EVENT_NAME_LEN - 1:
            log.fail(1, "BAD_MAXACT")
        parsed = kstrtouint(head[1:1 + length], 0)
        if not parsed:
            log.fail(1, "BAD_MAXACT")
        # kretprobe instances are kept on a list: keep the number reasonable.
        if parsed > KRETPROBE_MAXACTIVE_MAX:
            log.fail(1, "MAXACT_TOO_BIG")
        maxactive = parsed

    flags = TPARG_FL_KERNEL
    symbol: str | None = None
    offset = 0
    address = kstrtoul(argv[1], 0)
    if address is None:
        log.index = 1
        if "/" in argv[1] and ":" in argv[1]:
            log.fail_unlogged()             # a uprobe definition
        symbol = argv[1]
        percent = symbol.find("%")
        if percent >= 0:
            if symbol[percent:] != "%return":
                log.fail(percent, "BAD_ADDR_SUFFIX")
            symbol = symbol[:percent]
            is_return = True
        split = split_symbol_offset(symbol)
        if split is None or not 0 <= split[1] <= UINT_MAX:
            log.fail(0, "BAD_PROBE_ADDR")
        symbol, offset = split
        found = symbols.lookup(symbol)
        if len(found) > 1:
            log.fail(0, "NON_UNIQ_SYMBOL")
        if not found:
            log.fail(0, "BAD_PROBE_ADDR")
        address = (found[0] + offset) & UINT_MAX
        # Only a symbol probe gets these flags: as in the kernel, "r 0xADDR" parses its
        # arguments like a plain probe, so it cannot use $retval.
        if is_return:
            flags |= TPARG_FL_RETURN
        on_entry = symbols.is_function_entry(address)
        if on_entry and not is_return:
            flags |= TPARG_FL_FENTRY
        if not on_entry and is_return:
            log.fail(0, "BAD_RETPROBE")

    log.index = 0
    group = KPROBE_EVENT_SYSTEM
    event: str | None = None
    if event_text is not None:
        parsed_group, event = _parse_event_name(event_text, colon + 1, log)
        if parsed_group is not None:
            group = parsed_group
    if event is None:
        kind = "r" if is_return else "p"
        generated = (f"{kind}_{symbol}_{offset}" if symbol is not None
                     else f"{kind}_0x{address:08x}")
        event = _sanitize_event_name(generated[:MAX_EVENT_NAME_LEN - 1])

    args = parse_probe_args(argv[2:], log, flags, first_index=2)
    definition = ProbeDefinition(is_return, group, event, symbol, offset, address,
                                 maxactive, args, tuple(argv))
    _check_registration(definition, symbols, log)
    return definition


def _check_registration(definition: ProbeDefinition, symbols: SymbolLookup,
                        log: ProbeLog) -> None:
    """The parts of register_trace_kprobe() that depend only on the symbol table.

    traceprobe_update_arg() resolves ``@SYM[+|-OFFS]``: a bad offset is -EINVAL ("Failed
    to register probe event"), an unknown symbol -ENOENT ("Invalid probed address or
    symbol"), both reported at the probe point.  register_kretprobe() then refuses an
    address that is not a function entry.
    """
    log.index = 1
    for arg in definition.args:
        for reference in arg.symbols:
            split = split_symbol_offset(reference)
            if split is None:
                log.fail(0, "FAIL_REG_PROBE")
            if not symbols.lookup(split[0]):
                log.fail(0, "BAD_PROBE_ADDR", errno.ENOENT)
    if definition.is_return and definition.symbol is None \
            and not symbols.is_function_entry(definition.address):
        log.fail(0, "FAIL_REG_PROBE")

