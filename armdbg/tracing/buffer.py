"""The trace ring buffer: bounded in bytes like ``buffer_size_kb``, overwriting the
oldest records and counting what was lost, paused by ``tracing_on``."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The kernel's default per-CPU buffer (1408 KiB once expanded).
DEFAULT_SIZE_KB = 1408
# A ring-buffer event header (4) + time delta (4) + struct trace_entry (8) + the probe IP.
RECORD_OVERHEAD = 20


@dataclass(slots=True)
class TraceRecord:
    timestamp: int            # clock ns
    event: Any                # the ProbeEvent
    size: int                 # bytes this record takes in the buffer
    text: str | None = None   # formatted at hit time (arguments that read memory)
    regs: dict[str, int] | None = None   # or formatted on read from these registers
    retval: int | None = None
    ret_ip: int | None = None
    seq: int = 0

    def body(self) -> str:
        if self.text is None:
            self.text = self.event.format_from_registers(self)
        return self.text


class TraceBuffer:
    def __init__(self, size_kb: int = DEFAULT_SIZE_KB) -> None:
        self.size_kb = size_kb
        self.records: deque[TraceRecord] = deque()
        self.used = 0
        self.written = 0      # every record ever written (entries-written)
        self.overrun = 0      # records overwritten before being read
        self.on = True        # tracing_on
        self.readers: list[Callable[[TraceRecord], None]] = []  # trace_pipe while it reads
        self._seq = 0

    @property
    def size_kb(self) -> int:
        return self._size_kb

    @size_kb.setter
    def size_kb(self, value: int) -> None:
        self._size_kb = value
        self.capacity = value * 1024  # read on every record: kept, not computed

    def record(self, record: TraceRecord) -> bool:
        if not self.on:
            return False
        self._seq += 1
        record.seq = self._seq
        self.written += 1
        if self.readers:
            # trace_pipe consumes as it reads: a record handed to a reader is gone.
            for reader in self.readers:
                reader(record)
            return True
        self.records.append(record)
        self.used += record.size
        while self.used > self.capacity and self.records:
            dropped = self.records.popleft()
            self.used -= dropped.size
            self.overrun += 1
        return True

    def clear(self) -> None:
        self.records.clear()
        self.used = 0
        self.written = 0
        self.overrun = 0

    def resize(self, size_kb: int) -> None:
        self.size_kb = max(1, size_kb)
        while self.used > self.capacity and self.records:
            dropped = self.records.popleft()
            self.used -= dropped.size
            self.overrun += 1

    def consume(self) -> list[TraceRecord]:
        records = list(self.records)
        self.records.clear()
        self.used = 0
        return records
