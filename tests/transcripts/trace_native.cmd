# The same events from armdbg's own commands; trace_pipe follows a run; event probes
# get optimized like any other (a fast virtual clock: 10 us jiffies).
set context off
set kprobes hz 100000
set kprobes optimize-delay 2
kprobe event 'p:demo/entry do_something n=%r0'
kprobe event 'r4:demo/exit do_something ret=$retval:s32'
info kprobe-events
ls /sys/kernel/tracing/events
ls /sys/kernel/tracing/events/demo
cat /sys/kernel/tracing/events/demo/exit/format
kprobe event enable demo/entry
kprobe event enable exit
break do_something if $r0 == 996
run
delete
tbreak do_something if $r0 == 993
cat /sys/kernel/tracing/trace_pipe
continue
ftrace profile
info kprobes
kprobe why entry
ftrace save saved-trace.txt
ftrace clear
ftrace show
kprobe event disable entry
kprobe event delete entry
info kprobe-events
