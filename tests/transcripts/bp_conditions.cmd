# Conditions on $r0, ignore counts, and hit counts as "info breakpoints" shows them.
# do_something is called with r0 = 1000, 999, ... 1.
set context off
break do_something if $r0 == 998
info breakpoints
run
print $r0
info breakpoints
condition 1 $r0 % 100 == 0 && $r0 < 900
continue
print $r0
condition 1
ignore 1 3
info breakpoints
continue
print $r0
info breakpoints
# A second breakpoint at the same address, with its own condition on memory.
break do_something if *(int *)&calls == 210
info breakpoints
disable 1
continue
print $r0
print *(int *)&calls
info breakpoints
delete
# Flags in the condition: main compares r4 with 0 just before calling cond_first.
break cond_first if $r0 == 5 && ($cpsr & 0x20000000) != 0
continue
print $r0
# An error in the condition stops the program, with gdb's message.
break do_something if *(int *)0 == 1
run
info breakpoints
