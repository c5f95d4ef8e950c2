# kill, then what needs a running program, then run again: breakpoints survive, their
# traps are put back into the fresh image and their hit counts start from zero.
# args: --keep-going
# exit: 1
set context off
break do_something
run
continue 3
info breakpoints
print *(int *)&calls
kill
continue
stepi
next
finish
until
advance main
jump main
kill
info breakpoints
x/2i do_something
print *(int *)&calls
run
print $r0
info breakpoints
# Under "set confirm on", gdb's question (answered off a terminal).
set confirm on
kill
