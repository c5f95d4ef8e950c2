# start (a temporary breakpoint on main, then run), starti, and the run-timeout setting.
set context off
show run-timeout
set run-timeout 30
show run-timeout
start
info breakpoints
print $pc
stepi
starti
stepi
break print
start
info breakpoints
continue
print/x $r0
x/s $r0
