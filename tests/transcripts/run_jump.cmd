# jump: resume at another address.  A breakpoint there is reported before anything
# runs (execution "arrives" at it, as in gdb).
# args: --keep-going
# exit: 1
set context off
break do_something
tbreak *0x80008084
run
print $r5
# Skip main's loop entirely: do_something is never called.
jump *0x80008098
print *(int *)&calls
# Jumping onto a breakpoint reports it at once.
tbreak *0x80008084
run
jump do_something
print $pc
print *(int *)&calls
break *0x80008034
continue
info breakpoints
# A PC set by hand works the same way.
set var $pc = 0x80008030
continue
jump
jump nosuch
