"""Errors of the kprobe_events parser, and the tracefs ``error_log`` they produce.

Mirrors three kernel pieces:

* the ``ERRORS`` table of kernel/trace/trace_probe.h (messages quoted verbatim, typos
  included: "Invalid $-valiable specified", "an function entry");
* ``__trace_probe_log_err()`` of kernel/trace/trace_probe.c, which turns (argument index,
  offset inside that argument) into a caret column of the command re-joined with single
  spaces (:class:`ProbeLog`);
* ``tracing_log_err()`` / ``tracing_err_log_seq_show()`` of kernel/trace/trace.c, which
  keep the last 8 entries and print each as::

      [  123.456789] trace_kprobe: error: Invalid register name
        Command: p do_something %none_reg
                                ^

  The caret line is ``sizeof(CMD_PREFIX) - 1`` (11) spaces, then one space per
  column of the position, then ``^``.
"""

from __future__ import annotations

import errno as _errno
import os
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from armdbg.errors import ArmdbgError

# kernel/trace/trace_probe.h ERRORS, in the kernel's order (current mainline, with the
# BTF and entry-argument additions of 6.x).  Keys are the TP_ERR_* suffixes.
ERRORS: dict[str, str] = {
    "FILE_NOT_FOUND": "Failed to find the given file",
    "NO_REGULAR_FILE": "Not a regular file",
    "BAD_REFCNT": "Invalid reference counter offset",
    "REFCNT_OPEN_BRACE": "Reference counter brace is not closed",
    "BAD_REFCNT_SUFFIX": "Reference counter has wrong suffix",
    "BAD_UPROBE_OFFS": "Invalid uprobe offset",
    "BAD_MAXACT_TYPE": "Maxactive is only for function exit",
    "BAD_MAXACT": "Invalid maxactive number",
    "MAXACT_TOO_BIG": "Maxactive is too big",
    "BAD_PROBE_ADDR": "Invalid probed address or symbol",
    "NON_UNIQ_SYMBOL": "The symbol is not unique",
    "BAD_RETPROBE": "Retprobe address must be an function entry",
    "NO_TRACEPOINT": "Tracepoint is not found",
    "BAD_TP_NAME": "Invalid character in tracepoint name",
    "BAD_ADDR_SUFFIX": "Invalid probed address suffix",
    "NO_GROUP_NAME": "Group name is not specified",
    "GROUP_TOO_LONG": "Group name is too long",
    "BAD_GROUP_NAME": "Group name must follow the same rules as C identifiers",
    "NO_EVENT_NAME": "Event name is not specified",
    "EVENT_TOO_LONG": "Event name is too long",
    "BAD_EVENT_NAME": "Event name must follow the same rules as C identifiers",
    "EVENT_EXIST": "Given group/event name is already used by another event",
    "RETVAL_ON_PROBE": "$retval is not available on probe",
    "NO_RETVAL": "This function returns 'void' type",
    "BAD_STACK_NUM": "Invalid stack number",
    "BAD_ARG_NUM": "Invalid argument number",
    "BAD_VAR": "Invalid $-valiable specified",
    "BAD_REG_NAME": "Invalid register name",
    "BAD_MEM_ADDR": "Invalid memory address",
    "BAD_IMM": "Invalid immediate value",
    "IMMSTR_NO_CLOSE": "String is not closed with '\"'",
    "FILE_ON_KPROBE": "File offset is not available with kprobe",
    "BAD_FILE_OFFS": "Invalid file offset value",
    "SYM_ON_UPROBE": "Symbol is not available with uprobe",
    "TOO_MANY_OPS": "Dereference is too much nested",
    "DEREF_NEED_BRACE": "Dereference needs a brace",
    "BAD_DEREF_OFFS": "Invalid dereference offset",
    "DEREF_OPEN_BRACE": "Dereference brace is not closed",
    "COMM_CANT_DEREF": "$comm can not be dereferenced",
    "BAD_FETCH_ARG": "Invalid fetch argument",
    "ARRAY_NO_CLOSE": "Array is not closed",
    "BAD_ARRAY_SUFFIX": "Array has wrong suffix",
    "BAD_ARRAY_NUM": "Invalid array size",
    "ARRAY_TOO_BIG": "Array number is too big",
    "BAD_TYPE": "Unknown type is specified",
    "BAD_STRING": "String accepts only memory argument",
    "BAD_SYMSTRING": "Symbol String doesn't accept data/userdata",
    "BAD_BITFIELD": "Invalid bitfield",
    "ARG_NAME_TOO_LONG": "Argument name is too long",
    "NO_ARG_NAME": "Argument name is not specified",
    "BAD_ARG_NAME": "Argument name must follow the same rules as C identifiers",
    "USED_ARG_NAME": "This argument name is already used",
    "ARG_TOO_LONG": "Argument expression is too long",
    "NO_ARG_BODY": "No argument expression",
    "BAD_INSN_BNDRY": "Probe point is not an instruction boundary",
    "FAIL_REG_PROBE": "Failed to register probe event",
    "DIFF_PROBE_TYPE": "Probe type is different from existing probe",
    "DIFF_ARG_TYPE": "Argument type or name is different from existing probe",
    "SAME_PROBE": "There is already the exact same probe event",
    "NO_EVENT_INFO": "This requires both group and event name to attach",
    "BAD_ATTACH_EVENT": "Attached event does not exist",
    "BAD_ATTACH_ARG": "Attached event does not have this field",
    "NO_EP_FILTER": "No filter rule after 'if'",
    "NOSUP_BTFARG": "BTF is not available or not supported",
    "NO_BTFARG": "This variable is not found at this probe point",
    "NO_BTF_ENTRY": "No BTF entry for this probe point",
    "BAD_VAR_ARGS": "$arg* must be an independent parameter without name etc.",
    "NOFENTRY_ARGS": "$arg* can be used only on function entry or exit",
    "DOUBLE_ARGS": "$arg* can be used only once in the parameters",
    "ARGS_2LONG": "$arg* failed because the argument list is too long",
    "ARGIDX_2BIG": "$argN index is too big",
    "NO_PTR_STRCT": "This is not a pointer to union/structure.",
    "NOSUP_DAT_ARG": "Non pointer structure/union argument is not supported.",
    "BAD_HYPHEN": "Failed to parse single hyphen. Forgot '>'?",
    "NO_BTF_FIELD": "This field is not found.",
    "BAD_BTF_TID": "Failed to get BTF type info.",
    "BAD_TYPE4STR": "This type does not fit for string.",
    "NEED_STRING_TYPE": "$comm and immediate-string only accepts string type",
    "TOO_MANY_ARGS": "Too many arguments are specified",
    "TOO_MANY_EARGS": "Too many entry arguments specified",
}

# The error_log "location" kprobe events log under (trace_kprobe.c trace_probe_log_init).
TRACE_KPROBE = "trace_kprobe"
# trace.c: TRACING_LOG_ERRS_MAX, CMD_PREFIX.
TRACING_LOG_ERRS_MAX = 8
CMD_PREFIX = "  Command: "


@dataclass(frozen=True)
class ErrorLogEntry:
    """One error_log record: where, what, the re-joined command and the caret column."""

    location: str
    message: str
    command: str
    position: int

    def format(self, timestamp_ns: int) -> str:
        return format_error_log_entry(self, timestamp_ns)


def format_error_log_entry(entry: ErrorLogEntry, timestamp_ns: int) -> str:
    """tracing_err_log_seq_show(): ``[%5llu.%06u] LOC: error: MSG`` + command + caret.

    The kernel splits local_clock() nanoseconds with do_div and prints nsec / 1000, so the
    microseconds are truncated, not rounded.
    """
    sec, nsec = divmod(timestamp_ns, 1_000_000_000)
    # tracing_err_log_show_pos() counts the position in a u16.
    pos = entry.position & 0xFFFF
    return (
        f"[{sec:5d}.{nsec // 1000:06d}] {entry.location}: error: {entry.message}\n"
        f"{CMD_PREFIX}{entry.command}\n"
        f"{' ' * (len(CMD_PREFIX) + pos)}^\n"
    )


class ErrorLog:
    """tracefs ``error_log``: the last :data:`TRACING_LOG_ERRS_MAX` entries, oldest first.

    tracing_log_err() recycles the oldest entry once eight exist; opening the file with
    O_TRUNC (``echo > error_log``) clears it.
    """

    def __init__(self, limit: int = TRACING_LOG_ERRS_MAX) -> None:
        self._entries: deque[tuple[int, ErrorLogEntry]] = deque(maxlen=limit)

    def add(self, entry: ErrorLogEntry, timestamp_ns: int) -> None:
        self._entries.append((timestamp_ns, entry))

    def extend(self, entries: Iterable[ErrorLogEntry], timestamp_ns: int) -> None:
        for entry in entries:
            self.add(entry, timestamp_ns)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def text(self) -> str:
        return "".join(entry.format(ts) for ts, entry in self._entries)


class ProbeDefinitionError(ArmdbgError):
    """A kprobe_events command the kernel rejects.

    ``message``/``position`` are the first error_log record (caret column in the
    re-joined ``command``); ``log`` holds every record the kernel would append, in order
    (nearly always exactly one).  ``message`` is None when the kernel rejects the write
    without logging (e.g. ``-EINVAL`` from an unknown command letter, or a malformed
    delete); ``errno`` is what write(2) fails with.
    """

    def __init__(
        self,
        message: str | None,
        position: int | None = None,
        *,
        command: str = "",
        errno: int = _errno.EINVAL,
        log: Sequence[ErrorLogEntry] | None = None,
        location: str = TRACE_KPROBE,
    ) -> None:
        if log is None:
            log = () if message is None else (
                ErrorLogEntry(location, message, command, position or 0),
            )
        self.log: tuple[ErrorLogEntry, ...] = tuple(log)
        if self.log:
            message, position, command = (
                self.log[0].message, self.log[0].position, self.log[0].command)
        self.message = message
        self.position = position
        self.command = command
        self.errno = errno
        super().__init__(message if message is not None else os.strerror(errno))

    def error_log_text(self, timestamp_ns: int) -> str:
        """The error_log lines this error appends, all stamped ``timestamp_ns``."""
        return "".join(entry.format(timestamp_ns) for entry in self.log)


def log_position(argv: Sequence[str], index: int, offset: int) -> int:
    """__trace_probe_log_err(): caret column for (argv index, offset in that argument).

    The command is argv joined by single spaces; an index past the last argument puts
    the caret one column after the end ("next to the last arg + space") and ignores the
    offset.
    """
    pos = 0
    length = 0
    for i, word in enumerate(argv):
        if i == index:
            pos = length
        length += len(word) + 1
    if index >= len(argv):
        return length
    return pos + offset


class ProbeLog:
    """trace_probe_log: the command being parsed and the argument errors refer to.

    ``err()`` records an entry and parsing continues (the kernel does that in a few
    places); ``fail()`` records one and raises :class:`ProbeDefinitionError` with every
    entry recorded so far.
    """

    def __init__(self, argv: Sequence[str], location: str = TRACE_KPROBE) -> None:
        self.argv = tuple(argv)
        self.location = location
        self.index = 0
        self.entries: list[ErrorLogEntry] = []

    @property
    def command(self) -> str:
        return " ".join(self.argv)

    def entry(self, offset: int, error: str) -> ErrorLogEntry:
        return ErrorLogEntry(self.location, ERRORS[error], self.command,
                             log_position(self.argv, self.index, offset))

    def err(self, offset: int, error: str) -> None:
        self.entries.append(self.entry(offset, error))

    def fail(self, offset: int, error: str, errno: int = _errno.EINVAL) -> NoReturn:
        self.err(offset, error)
        raise ProbeDefinitionError(None, command=self.command, errno=errno,
                                   log=self.entries)

    def fail_unlogged(self, errno: int = _errno.EINVAL) -> NoReturn:
        """Reject without an error_log entry (the kernel's -ECANCELED paths etc.)."""
        raise ProbeDefinitionError(None, command=self.command, errno=errno,
                                   log=self.entries)
