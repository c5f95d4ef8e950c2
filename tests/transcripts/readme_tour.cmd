# The README's tour, checked by the tests so it cannot go stale.
set context off
kprobe do_something
kprobe cond_first --log 'x=%r0 flags=%cpsr'
echo 'p:demo/clamp thumb_clamp x=%r0:s32 hi=%r2:s32' >> /sys/kernel/tracing/kprobe_events
echo 1 > /sys/kernel/tracing/events/demo/clamp/enable
break thumb_itblocks
run
info kprobes
stepi
info it
stepi
stepi
info registers cpsr
x/4i $pc
print $r0 + 1
x/2dw &calls
asm --arm 0x80100000 'mov r0, #41; add r0, r0, #1; bx lr'
kprobes wait-optimizer
info trampoline p_do_something_0
kprobe why p_cond_first_0
disassemble do_something
cat /sys/kernel/tracing/trace
continue
