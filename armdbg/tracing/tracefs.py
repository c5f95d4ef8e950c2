"""A virtual tracefs, debugfs and procfs with the files kprobes users reach for.

Paths and contents follow Linux: ``/sys/kernel/tracing`` (also reachable as
``/sys/kernel/debug/tracing``), ``/sys/kernel/debug/kprobes`` and
``/proc/sys/debug/kprobes-optimization``.  Reading returns the file's text; writing
behaves as ``echo TEXT > FILE`` (``append`` for ``>>``).
"""

from __future__ import annotations

import errno
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from armdbg.tracing import formats
from armdbg.tracing.probe_events import ProbeEvent, ProbeEvents, TracingError

if TYPE_CHECKING:
    from armdbg.kprobes.system import KprobeSystem
    from armdbg.machine.symbols import SymbolTable

TRACING = "/sys/kernel/tracing"
TRACING_ALIAS = "/sys/kernel/debug/tracing"
KPROBES_DEBUG = "/sys/kernel/debug/kprobes"
OPTIMIZATION = "/proc/sys/debug/kprobes-optimization"


@dataclass
class File:
    read: Callable[[], str]
    write: Callable[[str, bool], None] | None = None


def _read_only(path: str) -> Callable[[str, bool], None]:
    def refuse(_text: str, _append: bool) -> None:
        raise TracingError(errno.EACCES, f"{path} is read-only")

    return refuse


class TraceFS:
    def __init__(self, events: ProbeEvents, system: KprobeSystem,
                 symbols: Callable[[], SymbolTable], comm: Callable[[], str],
                 kprobe_list: Callable[[], str],
                 set_optimization: Callable[[bool], None]) -> None:
        self.events = events
        self.system = system
        self._symbols = symbols
        self.comm = comm
        self.kprobe_list = kprobe_list
        self.set_optimization = set_optimization

    # ------------------------------------------------------------------ paths

    @staticmethod
    def normalize(path: str) -> str:
        path = posixpath.normpath("/" + path.strip().lstrip("/"))
        if path == TRACING_ALIAS or path.startswith(TRACING_ALIAS + "/"):
            path = TRACING + path[len(TRACING_ALIAS):]
        return path

    @staticmethod
    def is_virtual(path: str) -> bool:
        path = TraceFS.normalize(path)
        return path.startswith(("/sys/", "/proc/")) or path in ("/sys", "/proc")

    def files(self) -> dict[str, File]:
        """Every file, by path, built from the current state (events come and go)."""
        events = self.events
        buffer = events.buffer
        table: dict[str, File] = {
            f"{TRACING}/kprobe_events": File(events.read, self._write_kprobe_events),
            f"{TRACING}/trace": File(self._read_trace, self._write_trace),
            f"{TRACING}/trace_pipe": File(self._read_trace_pipe),
            f"{TRACING}/kprobe_profile": File(self._read_profile),
            f"{TRACING}/error_log": File(events.error_log.text, lambda t, a: self._clear_log(a)),
            f"{TRACING}/tracing_on": File(lambda: f"{int(buffer.on)}\n",
                                          lambda t, a: self._set_tracing_on(t)),
            f"{TRACING}/buffer_size_kb": File(lambda: f"{buffer.size_kb}\n",
                                              lambda t, a: self._set_buffer_size(t)),
            f"{KPROBES_DEBUG}/list": File(self.kprobe_list),
            f"{KPROBES_DEBUG}/enabled": File(
                lambda: f"{0 if self.system.kprobes.all_disarmed else 1}\n",
                lambda t, a: self._write_enabled(t)),
            f"{KPROBES_DEBUG}/blacklist": File(self._read_blacklist),
            OPTIMIZATION: File(lambda: f"{int(self.system.optimizer.enabled)}\n",
                               lambda t, a: self._write_optimization(t)),
        }
        for group in events.groups() or []:
            table[f"{TRACING}/events/{group}/enable"] = File(
                partial(self._group_enabled, group), partial(self._set_group_file, group))
        for event in events.events:
            base = f"{TRACING}/events/{event.group}/{event.name}"
            table[f"{base}/enable"] = File(partial(self._event_enabled, event),
                                           partial(self._set_event_file, event))
            table[f"{base}/format"] = File(partial(self._format, event))
            table[f"{base}/id"] = File(partial(self._event_id, event))
        return table

    @staticmethod
    def _event_enabled(event: ProbeEvent) -> str:
        return f"{int(event.enabled)}\n"

    @staticmethod
    def _event_id(event: ProbeEvent) -> str:
        return f"{event.id}\n"

    def _set_event_file(self, event: ProbeEvent, text: str, _append: bool) -> None:
        self._set_event(event, text)

    def _set_group_file(self, group: str, text: str, _append: bool) -> None:
        self._set_group(group, text)

    def _lookup(self, path: str) -> File:
        path = self.normalize(path)
        found = self.files().get(path)
        if found is None:
            if self.listing(path) is not None:
                raise TracingError(errno.EISDIR, f"{path}: Is a directory")
            raise TracingError(errno.ENOENT, f"{path}: No such file or directory")
        return found

    def read(self, path: str) -> str:
        return self._lookup(path).read()

    def write(self, path: str, text: str, *, append: bool) -> None:
        target = self._lookup(path)
        if target.write is None:
            raise TracingError(errno.EACCES, f"{self.normalize(path)}: Permission denied")
        target.write(text, append)

    def listing(self, path: str) -> list[str] | None:
        """Names in a directory (``/`` marks subdirectories), or None if not one."""
        path = self.normalize(path)
        prefix = "/" if path == "/" else path + "/"
        names: set[str] = set()
        for name in self.files():
            if name.startswith(prefix):
                rest = name[len(prefix):]
                head, sep, _ = rest.partition("/")
                names.add(head + "/" if sep else head)
        if path in (f"{TRACING}/events", f"{TRACING}") and not self.events.events:
            names.add("events/" if path == TRACING else "kprobes/")
        return sorted(names) if names else None

    # ------------------------------------------------------------------ writers

    def _write_kprobe_events(self, text: str, append: bool) -> None:
        self.events.write(text, truncate=not append)

    def _write_trace(self, _text: str, _append: bool) -> None:
        self.events.buffer.clear()  # any write (``echo > trace``) empties the buffer

    def _clear_log(self, _append: bool) -> None:
        self.events.error_log.clear()

    def _set_tracing_on(self, text: str) -> None:
        self.events.buffer.on = _parse_int(text) != 0

    def _set_buffer_size(self, text: str) -> None:
        size = _parse_int(text)
        if size <= 0:
            raise TracingError(errno.EINVAL)
        self.events.buffer.resize(size)

    def _write_enabled(self, text: str) -> None:
        word = text.strip()[:1]
        if word in ("y", "Y", "1"):
            self.system.kprobes.set_all_armed(True)
        elif word in ("n", "N", "0"):
            self.system.kprobes.set_all_armed(False)
            self.system.optimizer.wait()
        else:
            raise TracingError(errno.EINVAL)

    def _write_optimization(self, text: str) -> None:
        value = _parse_int(text)
        if value not in (0, 1):
            raise TracingError(errno.EINVAL)
        self.set_optimization(bool(value))

    def _set_event(self, event: ProbeEvent, text: str) -> None:
        value = _parse_int(text)
        if value not in (0, 1):
            raise TracingError(errno.EINVAL)
        self.events.set_enabled(event, bool(value))

    def _group_enabled(self, group: str) -> str:
        states = {e.enabled for e in self.events.events if e.group == group}
        return "X\n" if len(states) > 1 else f"{int(states.pop() if states else 0)}\n"

    def _set_group(self, group: str, text: str) -> None:
        for event in self.events.events:
            if event.group == group:
                self._set_event(event, text)

    # ------------------------------------------------------------------ readers

    def trace_lines(self, records: list) -> list[str]:  # type: ignore[type-arg]
        comm = formats.task_comm(self.comm())
        lines = []
        for record in records:
            flags = formats.KRETPROBE_CONTEXT_FLAGS if record.ret_ip is not None \
                else formats.KPROBE_CONTEXT_FLAGS
            lines.append(formats.trace_line(record.body(), comm=comm,
                                            timestamp_ns=record.timestamp,
                                            flags=flags).rstrip("\n"))
        return lines

    def _read_trace(self) -> str:
        buffer = self.events.buffer
        records = list(buffer.records)
        header = formats.trace_header(len(records), buffer.written)
        return header + "".join(line + "\n" for line in self.trace_lines(records))

    def _read_trace_pipe(self) -> str:
        return "".join(line + "\n" for line in self.trace_lines(self.events.buffer.consume()))

    def _read_profile(self) -> str:
        return "".join(formats.kprobe_profile_line(e.name, e.hits, e.missed)
                       for e in self.events.events)

    def _read_blacklist(self) -> str:
        return "".join(formats.kprobes_blacklist_line(start, end, name)
                       for start, end, name in self.system.blacklist_ranges())

    def _format(self, event: ProbeEvent) -> str:
        """The event's ``format`` file (kernel/trace/trace_events.c f_show)."""
        definition = event.definition
        lines = [f"name: {event.name}", f"ID: {event.id}", "format:",
                 "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;",
                 "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;",
                 "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;",
                 "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;", ""]
        offset = 8
        if definition.is_return:
            lines.append(f"\tfield:unsigned long __probe_func;\toffset:{offset};\tsize:4;"
                         "\tsigned:0;")
            lines.append(f"\tfield:unsigned long __probe_ret_ip;\toffset:{offset + 4};"
                         "\tsize:4;\tsigned:0;")
            offset += 8
            head, refs = "(%lx <- %lx)", ["REC->__probe_func", "REC->__probe_ret_ip"]
        else:
            lines.append(f"\tfield:unsigned long __probe_ip;\toffset:{offset};\tsize:4;"
                         "\tsigned:0;")
            offset += 4
            head, refs = "(%lx)", ["REC->__probe_ip"]
        fmts = []
        for arg in definition.args:
            ftype = arg.fetch_type
            size = 4 if ftype.is_string else ftype.size
            ctype = "__data_loc char[]" if ftype.is_string else ftype.fmttype
            lines.append(f"\tfield:{ctype} {arg.name};\toffset:{offset};\tsize:{size};"
                         f"\tsigned:{int(ftype.is_signed)};")
            offset += size
            spec = {"u": "%u", "s": "%d", "x": "0x%x", "char": "'%c'", "symbol": "%pS",
                    "string": '\\"%s\\"'}.get(ftype.printer, "0x%x")
            fmts.append(f"{arg.name}={spec}")
            refs.append(f"__get_str({arg.name})" if ftype.is_string else f"REC->{arg.name}")
        body = " ".join([head, *fmts])
        lines.append("")
        lines.append(f'print fmt: "{body}", {", ".join(refs)}')
        return "\n".join(lines) + "\n"


def _parse_int(text: str) -> int:
    try:
        return int(text.strip(), 0)
    except ValueError:
        raise TracingError(errno.EINVAL) from None
