# Faults stop the program as signals, with gdb's line, armdbg's detail of what the
# machine saw, and the location.  The faulting instruction has not completed:
# continuing runs it again (as after gdb's "signal 0"), so the state can be fixed first.
set context off
break *0x8000803c
run
x/i $pc
set var $r4 = 0
delete
continue
print $pc
continue
set var $r4 = 0x80200000
stepi
# An undefined instruction: SIGILL.
set var {int} 0x80008040 = 0xe7f000f0
continue
set var {int} 0x80008040 = 0xe2811001
# An SVC that semihosting does not know.
tbreak do_something
continue
set var {int} 0x80008034 = 0xef000012
continue
print $pc
# Jumping into the data region: not executable.
jump *0x80200000
