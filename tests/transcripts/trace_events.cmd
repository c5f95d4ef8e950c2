# kprobe events through the virtual tracefs, as on a board.
# args: --keep-going
# exit: 1
set context off
echo 'p:myprobe do_something n=%r0 calls=@calls:u32' > /sys/kernel/tracing/kprobe_events
echo 'r:myret do_something $retval' >> /sys/kernel/debug/tracing/kprobe_events
echo 'p:clamp thumb_clamp x=%r0:s32 lo=%r1:s32 hi=%r2:s32' >> /sys/kernel/tracing/kprobe_events
cat /sys/kernel/tracing/kprobe_events
cat /sys/kernel/tracing/events/kprobes/myprobe/enable
cat /sys/kernel/debug/kprobes/list
# Errors: the kernel's message, nothing registered, error_log keeps it with a caret.
echo 'p:bad do_something %nonreg' >> /sys/kernel/tracing/kprobe_events
echo 'r:bad2 do_something+4' >> /sys/kernel/tracing/kprobe_events
echo 'p:svc _start+40' >> /sys/kernel/tracing/kprobe_events
cat /sys/kernel/tracing/error_log
cat /sys/kernel/tracing/kprobe_events
echo 1 > /sys/kernel/tracing/events/kprobes/enable
cat /sys/kernel/tracing/events/kprobes/enable
# An enabled event cannot be removed.
echo '-:myprobe' >> /sys/kernel/tracing/kprobe_events
# A small buffer: the oldest records are overwritten and counted.
echo 1 > /sys/kernel/tracing/buffer_size_kb
cat /sys/kernel/tracing/buffer_size_kb
break cond_first
run
cat /sys/kernel/tracing/kprobe_profile
cat /sys/kernel/tracing/trace
echo 0 > /sys/kernel/tracing/events/kprobes/myret/enable
echo 0 > /sys/kernel/tracing/tracing_on
continue
cat /sys/kernel/tracing/kprobe_profile
echo > /sys/kernel/tracing/trace
cat /sys/kernel/tracing/trace
echo 0 > /sys/kernel/tracing/events/kprobes/enable
echo '-:myret' >> /sys/kernel/tracing/kprobe_events
cat /sys/kernel/tracing/kprobe_events
echo > /sys/kernel/tracing/kprobe_events
cat /sys/kernel/tracing/kprobe_events
info kprobes
