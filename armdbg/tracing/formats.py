"""Text formats of the tracefs and debugfs files kprobes show, as pure functions.

Each function names the kernel function whose output it reproduces:

* ``trace`` file: the header of ``s_show()``/``print_func_help_header_irq()``
  (kernel/trace/trace.c, current format with the migrate-disable column and
  ``irqs-off/BH-disabled``), one record per ``trace_print_context()`` +
  ``trace_print_lat_fmt()`` (kernel/trace/trace_output.c) + ``print_kprobe_event()`` /
  ``print_kretprobe_event()`` (kernel/trace/trace_kprobe.c);
* ``kprobe_profile``: ``probes_profile_seq_show()``;
* debugfs ``kprobes/list`` and ``kprobes/blacklist``: ``report_probe()`` and
  ``kprobe_blacklist_seq_show()`` (kernel/kprobes.c).

The emulated machine is one CPU running one task.  Records carry the task's comm
(:func:`task_comm`, the program's name cut to TASK_COMM_LEN - 1) and pid 1 -- the
single task plays init -- on CPU 0.  The latency column is the one an arm32 kernel
built without CONFIG_PREEMPTION (Debian armhf's PREEMPT_VOLUNTARY) records:

* kprobe hits (:data:`KPROBE_CONTEXT_FLAGS`, ``d....``): ARM kprobes run from the
  undefined-instruction exception and ``kprobe_trap_handler()`` does
  ``local_irq_save()`` around ``kprobe_handler()``, so IRQs are off; the undef trap is
  neither a hard nor a soft IRQ, and the preempt count is 0 (with CONFIG_PREEMPTION the
  kernel's ``tracing_gen_ctx_dec()`` would underflow it, which is why the
  non-preemptible build is the one modelled);
* kretprobe hits (:data:`KRETPROBE_CONTEXT_FLAGS`, ``.....``): the rethook trampoline
  is reached by a plain function return, with IRQs on; its ``preempt_disable_notrace()``
  does not count without CONFIG_PREEMPT_COUNT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# symbolize_with_size(address) -> "sym+0xoff/0xsize" or None (what sprint_symbol finds).
Symbolizer = Callable[[int], str | None]

TASK_COMM_LEN = 16
DEFAULT_PID = 1
DEFAULT_CPU = 0
KPROBE_CONTEXT_FLAGS = "d...."
KRETPROBE_CONTEXT_FLAGS = "....."


def task_comm(program_name: str) -> str:
    """A task's comm: at most TASK_COMM_LEN - 1 characters (set_task_comm())."""
    return program_name[:TASK_COMM_LEN - 1]


def sprint_symbol(address: int, symbolize: Symbolizer) -> str:
    """sprint_symbol() / ``%pS``: ``sym+0xoff/0xsize``, else ``0x%lx``."""
    found = symbolize(address)
    return found if found else f"0x{address:x}"


def symbol_name(address: int, symbolize: Symbolizer) -> str | None:
    """kallsyms_lookup() name only (``%ps``), derived from the sized form."""
    found = symbolize(address)
    if not found:
        return None
    return found.split("+", 1)[0]


def seq_print_ip_sym(ip: int, symbolize: Symbolizer, *, offset: bool = True) -> str:
    """seq_print_ip_sym(): ``0`` for a NULL ip, else the symbol (with ``+off/size`` when
    ``offset``), else the address: ``0x%lx`` from sprint_symbol, ``0x%08lx`` without
    offset (trace_seq_print_sym())."""
    if not ip:
        return "0"
    if offset:
        return sprint_symbol(ip, symbolize)
    name = symbol_name(ip, symbolize)
    return name if name else f"0x{ip:08x}"


# --- the trace file ------------------------------------------------------------------

def trace_header(entries: int, written: int, *, cpus: int = 1, tracer: str = "nop") -> str:
    """The ``trace`` file header: ``# tracer:``, print_event_info() and the legend of
    print_func_help_header_irq() (default trace options: irq-info on, no TGID)."""
    space = " " * 28
    return (
        f"# tracer: {tracer}\n"
        "#\n"
        f"# entries-in-buffer/entries-written: {entries}/{written}   #P:{cpus}\n"
        "#\n"
        f"#{space}    _-----=> irqs-off/BH-disabled\n"
        f"#{space}   / _----=> need-resched\n"
        f"#{space}  | / _---=> hardirq/softirq\n"
        f"#{space}  || / _--=> preempt-depth\n"
        f"#{space}  ||| / _-=> migrate-disable\n"
        f"#{space}  |||| /     delay\n"
        "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
        "#              | |         |   |||||     |         |\n"
    )


def lat_flags(*, irqs_off: bool = False, bh_off: bool = False, need_resched: bool = False,
              hardirq: bool = False, softirq: bool = False, nmi: bool = False,
              preempt_depth: int = 0, migrate_disable: int = 0) -> str:
    """trace_print_lat_fmt(): the five latency characters (``d.h1.`` etc.)."""
    irqs = ("D" if irqs_off and bh_off else "d" if irqs_off else "b" if bh_off else ".")
    resched = "n" if need_resched else "."
    hardsoft = ("Z" if nmi and hardirq else "z" if nmi else "H" if hardirq and softirq
                else "h" if hardirq else "s" if softirq else ".")
    # tracing_gen_ctx() saturates both counts at 0xf; 0 prints as '.'.
    depth, migrate = min(preempt_depth, 15), min(migrate_disable, 15)
    return (irqs + resched + hardsoft + (f"{depth:x}" if depth else ".")
            + (f"{migrate:x}" if migrate else "."))


def format_timestamp(timestamp_ns: int) -> str:
    """trace_print_time(): `` %5lu.%06lu`` of ns2usecs() (rounded to the microsecond)."""
    usecs = (timestamp_ns + 500) // 1000
    secs, usec = divmod(usecs, 1_000_000)
    return f" {secs:5d}.{usec:06d}"


def trace_line(body: str, *, comm: str, timestamp_ns: int, pid: int = DEFAULT_PID,
               cpu: int = DEFAULT_CPU, flags: str = KPROBE_CONTEXT_FLAGS) -> str:
    """One trace record: trace_print_context() (``%16s-%-7d [%03d] `` + latency flags +
    timestamp + ``: ``) followed by the event's own text, newline-terminated."""
    return (f"{comm:>16}-{pid:<7d} [{cpu:03d}] {flags}{format_timestamp(timestamp_ns)}: "
            f"{body}\n")


def kprobe_event_text(event: str, ip: int, args: Iterable[str],
                      symbolize: Symbolizer) -> str:
    """print_kprobe_event(): ``EVENT: (sym+0xoff/0xsize) NAME=VALUE...``."""
    return f"{event}: ({seq_print_ip_sym(ip, symbolize)})" + "".join(f" {a}" for a in args)


def kretprobe_event_text(event: str, ret_ip: int, func: int, args: Iterable[str],
                         symbolize: Symbolizer) -> str:
    """print_kretprobe_event(): ``EVENT: (caller+0xoff/0xsize <- func) NAME=VALUE...``."""
    return (f"{event}: ({seq_print_ip_sym(ret_ip, symbolize)} <- "
            f"{seq_print_ip_sym(func, symbolize, offset=False)})"
            + "".join(f" {a}" for a in args))


# --- kprobe_profile ---------------------------------------------------------------------

def kprobe_profile_line(event: str, hits: int, missed: int) -> str:
    """probes_profile_seq_show(): ``"  %-44s %15lu %15lu\\n"``.

    For a return probe ``missed`` is the kprobe's nmissed plus the kretprobe's.
    """
    return f"  {event:<44} {hits:15d} {missed:15d}\n"


# --- debugfs kprobes/list and kprobes/blacklist ----------------------------------------

def kprobes_list_line(address: int, *, is_return: bool, symbol: str | None = None,
                      offset: int = 0, module: str | None = None,
                      symbolize: Symbolizer | None = None, gone: bool = False,
                      disabled: bool = False, optimized: bool = False,
                      ftrace: bool = False, show_address: bool = True) -> str:
    """report_probe(): ``%px  k|r  sym+0xoff  MOD `` then ``[GONE]`` ``[DISABLED]``
    ``[OPTIMIZED]`` ``[FTRACE]``.

    ``%px`` is 8 hex digits on arm32 and prints zeros when kallsyms values are hidden
    (``show_address=False``).  Without a symbol the line uses ``%pS`` of the address.
    ``optimized``/``ftrace`` are the aggregate probe's flags, ``gone``/``disabled`` the
    probe's own; ``[DISABLED]`` is not shown for a gone probe.
    """
    shown = f"{address if show_address else 0:08x}"
    kind = "r" if is_return else "k"
    if symbol is not None:
        head = f"{shown}  {kind}  {symbol}+0x{offset:x}  {module if module else ' '} "
    else:
        where = sprint_symbol(address, symbolize) if symbolize else f"0x{address:x}"
        head = f"{shown}  {kind}  {where} "
    return (head + ("[GONE]" if gone else "") + ("[DISABLED]" if disabled and not gone else "")
            + ("[OPTIMIZED]" if optimized else "") + ("[FTRACE]" if ftrace else "") + "\n")


def kprobes_blacklist_line(start: int, end: int, symbol: str, *,
                           show_address: bool = True) -> str:
    """kprobe_blacklist_seq_show(): ``0x%px-0x%px\\t%ps`` (zeros when values are hidden)."""
    if not show_address:
        start = end = 0
    return f"0x{start:08x}-0x{end:08x}\t{symbol}\n"
