"""tracefs/debugfs text formats of kprobes, character for character.

The ``trace`` header and record layout are compared with real kernel output
(``cat trace`` of a 5.17+ kernel: the migrate-disable column and
``irqs-off/BH-disabled``).
"""

from __future__ import annotations

from typing import Any

import pytest

from armdbg.tracing.formats import (
    DEFAULT_PID,
    KPROBE_CONTEXT_FLAGS,
    KRETPROBE_CONTEXT_FLAGS,
    format_timestamp,
    kprobe_event_text,
    kprobe_profile_line,
    kprobes_blacklist_line,
    kprobes_list_line,
    kretprobe_event_text,
    lat_flags,
    seq_print_ip_sym,
    sprint_symbol,
    symbol_name,
    task_comm,
    trace_header,
    trace_line,
)

from .conftest import symbolize_with_size

# Verbatim from a kernel's /sys/kernel/tracing/trace (64 CPUs, empty buffer).
KERNEL_HEADER = """\
# tracer: nop
#
# entries-in-buffer/entries-written: 0/0   #P:64
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
"""


def test_header_matches_the_kernel() -> None:
    assert trace_header(0, 0, cpus=64) == KERNEL_HEADER


def test_header_counts_and_tracer() -> None:
    header = trace_header(3, 5)
    assert header.splitlines()[2] == "# entries-in-buffer/entries-written: 3/5   #P:1"
    assert trace_header(0, 0, tracer="function").startswith("# tracer: function\n#\n")


def test_record_layout_matches_the_kernel() -> None:
    # Lines from kernel traces: "%16s-%-7d [%03d] " + flags + " %5lu.%06lu: "
    assert trace_line("__bio_add_page <-bio_add_page", comm="cat", pid=117, cpu=2,
                      flags="...1.", timestamp_ns=1_602_244_000) == (
        "             cat-117     [002] ...1.     1.602244: __bio_add_page <-bio_add_page\n")
    assert trace_line("xhci_urb_enqueue: ep3in-intr: ...", comm="python", pid=22331,
                      flags=".....", timestamp_ns=174497_068894_000) == (
        "          python-22331   [000] ..... 174497.068894: xhci_urb_enqueue: ep3in-intr: ...\n")


def test_record_of_a_kprobe_hit() -> None:
    body = kprobe_event_text("p_do_something_0", 0x80008030, ["arg1=0x1"], symbolize_with_size)
    assert trace_line(body, comm="demo", timestamp_ns=12_345_678_000) == (
        "            demo-1       [000] d....    12.345678: "
        "p_do_something_0: (do_something+0x0/0x24) arg1=0x1\n")
    body = kretprobe_event_text("r_do_something_0", 0x800080A4, 0x80008030, [],
                                symbolize_with_size)
    assert trace_line(body, comm="demo", timestamp_ns=12_345_678_000,
                      flags=KRETPROBE_CONTEXT_FLAGS) == (
        "            demo-1       [000] .....    12.345678: "
        "r_do_something_0: (main+0x34/0xd0 <- do_something)\n")


def test_context_defaults() -> None:
    assert (DEFAULT_PID, KPROBE_CONTEXT_FLAGS, KRETPROBE_CONTEXT_FLAGS) == (1, "d....", ".....")
    assert trace_line("x", comm="a-very-long-command-name", pid=1234567, cpu=1,
                      timestamp_ns=0) == (
        "a-very-long-command-name-1234567 [001] d....     0.000000: x\n")


@pytest.mark.parametrize(("ns", "text"), [
    (0, "     0.000000"),
    (499, "     0.000000"),
    (500, "     0.000001"),          # ns2usecs() rounds
    (12_345_678_499, "    12.345678"),
    (999_999_999_500, "  1000.000000"),
    (123456_000000_000, " 123456.000000"),
])
def test_timestamp(ns: int, text: str) -> None:
    assert format_timestamp(ns) == text


@pytest.mark.parametrize(("kwargs", "text"), [
    ({}, "....."),
    ({"irqs_off": True}, "d...."),
    ({"irqs_off": True, "bh_off": True}, "D...."),
    ({"bh_off": True}, "b...."),
    ({"need_resched": True}, ".n..."),
    ({"hardirq": True}, "..h.."),
    ({"softirq": True}, "..s.."),
    ({"hardirq": True, "softirq": True}, "..H.."),
    ({"nmi": True}, "..z.."),
    ({"nmi": True, "hardirq": True, "irqs_off": True}, "d.Z.."),
    ({"preempt_depth": 1}, "...1."),
    ({"preempt_depth": 11}, "...b."),
    ({"preempt_depth": 40}, "...f."),
    ({"migrate_disable": 2}, "....2"),
])
def test_lat_flags(kwargs: dict[str, Any], text: str) -> None:
    assert lat_flags(**kwargs) == text


def test_symbol_printing() -> None:
    assert sprint_symbol(0x80008034, symbolize_with_size) == "do_something+0x4/0x24"
    assert sprint_symbol(0x1234, symbolize_with_size) == "0x1234"
    assert symbol_name(0x80008034, symbolize_with_size) == "do_something"
    assert symbol_name(0x1234, symbolize_with_size) is None
    assert seq_print_ip_sym(0, symbolize_with_size) == "0"
    assert seq_print_ip_sym(0x1234, symbolize_with_size) == "0x1234"
    assert seq_print_ip_sym(0x1234, symbolize_with_size, offset=False) == "0x00001234"
    assert seq_print_ip_sym(0x800080A4, symbolize_with_size, offset=False) == "main"


def test_event_text_without_symbols() -> None:
    assert kprobe_event_text("ev", 0x1000, ["a=1", "b=2"], symbolize_with_size) == (
        "ev: (0x1000) a=1 b=2")
    assert kretprobe_event_text("ev", 0, 0x1000, ["ret=0x0"], symbolize_with_size) == (
        "ev: (0 <- 0x00001000) ret=0x0")


def test_kprobe_profile_line() -> None:
    assert kprobe_profile_line("p_do_something_0", 1000, 0) == (
        "  p_do_something_0                                        1000               0\n")
    name = "e" * 50
    assert kprobe_profile_line(name, 1, 23) == (
        f"  {name}               1              23\n")


def test_kprobes_list_lines() -> None:
    assert kprobes_list_line(0x80008030, is_return=False, symbol="do_something") == (
        "80008030  k  do_something+0x0    \n")
    assert kprobes_list_line(0xC03DEDC5, is_return=True, symbol="tcp_v4_rcv") == (
        "c03dedc5  r  tcp_v4_rcv+0x0    \n")
    assert kprobes_list_line(0x80008034, is_return=False, symbol="do_something", offset=4,
                             module="demo_mod", optimized=True) == (
        "80008034  k  do_something+0x4  demo_mod [OPTIMIZED]\n")
    assert kprobes_list_line(0x80008030, is_return=False, symbol="do_something",
                             disabled=True, ftrace=True) == (
        "80008030  k  do_something+0x0    [DISABLED][FTRACE]\n")
    assert kprobes_list_line(0x80008030, is_return=False, symbol="do_something",
                             gone=True, disabled=True) == (
        "80008030  k  do_something+0x0    [GONE]\n")
    assert kprobes_list_line(0x80008030, is_return=False, symbol="do_something",
                             show_address=False) == "00000000  k  do_something+0x0    \n"
    assert kprobes_list_line(0x80008034, is_return=False,
                             symbolize=symbolize_with_size) == (
        "80008034  k  do_something+0x4/0x24 \n")
    assert kprobes_list_line(0x80008500, is_return=False,
                             symbolize=symbolize_with_size) == "80008500  k  0x80008500 \n"


def test_kprobes_blacklist_lines() -> None:
    assert kprobes_blacklist_line(0x80008000, 0x80008030, "_start") == (
        "0x80008000-0x80008030\t_start\n")
    assert kprobes_blacklist_line(0x80008000, 0x80008030, "_start", show_address=False) == (
        "0x00000000-0x00000000\t_start\n")


def test_task_comm() -> None:
    assert task_comm("demo") == "demo"
    assert task_comm("a_very_long_program_name") == "a_very_long_pro"
