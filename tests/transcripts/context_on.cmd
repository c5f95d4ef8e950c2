# The context display on every stop (regs with changes marked *, code, stack), then displays.
# args: --keep-going
# exit: 1
display/x $r0
tbreak *0x80008152
run
stepi
stepi
context code
context regs stack
set context-sections code
stepi
context off
stepi
context on
set context-sections stack regs bogus
stepi
context
context bogus
set context-sections regs code stack
set width 60
tbreak far_function
continue
