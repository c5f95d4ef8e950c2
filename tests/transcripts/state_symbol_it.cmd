# info symbol, and info it: ITSTATE and which instructions of the IT block execute.
# args: --keep-going
# exit: 1
set context off
info symbol do_something
info symbol 0x80008034
info symbol main+140
info symbol &calls
info symbol 0x80200006
info symbol 0x1000
info symbol $sp
info symbol
info it
tbreak thumb_clamp
run
info it
stepi
info it
stepi
info it
stepi
info it
tbreak *0x80008152
continue
info it
stepi
info it
stepi
stepi
stepi
info it
stepi
info it
info it now
