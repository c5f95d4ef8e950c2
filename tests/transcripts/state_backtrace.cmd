# backtrace from saved return addresses: prologue analysis, leaf functions, past-main, limits.
# args: --keep-going
# exit: 1
set context off
bt
break do_something
run
bt
where
stepi
stepi
bt
bt 1
bt -1
bt full
set backtrace past-main on
bt
info stack
set backtrace past-main off
delete
break thumb_itblocks
continue
bt
info symbol $pc
break far_function
continue
backtrace
set backtrace past-main on
set $sp = 0x90000000
bt
set $lr = 0
bt
set $lr = far_function
bt 3
bt nosuch
