# Watchpoints on the demo's data: calls (incremented by each do_something) and result.
# They are memory hooks; the program stops right after the accessing instruction.
# args: --keep-going
# exit: 1
set context off
watch calls
watch *(int *)0x80200004
info watchpoints
run
x/i $pc - 4
continue
info watchpoints
# A read watchpoint stops after the load; an access watchpoint shows "Value =" when
# the value did not change, and old and new values when it did.
rwatch {int} 0x80200000
awatch *(unsigned int *)&calls
continue
print $r1
continue
delete 1 3 4
# A condition, and a watchpoint that counts the stops it did not make.
watch calls if *(int *)&calls == 100
continue
info watchpoints
print $r0
delete 5
# Stepping over the store: the watchpoint reports it after the step.
tbreak *0x80008044
continue
watch *(int *)0x80200000
stepi
stepi
delete 7
# result is written once, at the end of main.
continue
info breakpoints
# What cannot be watched.
watch $r0
watch 5
watch
watch nosuch
info watchpoints
