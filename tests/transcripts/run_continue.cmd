# continue N: ignore the breakpoint that stopped the program N-1 more times.
# args: --keep-going
# exit: 1
set context off
break do_something
break cond_first
c
print $r0
continue 10
print $r0
info breakpoints
c 1
print $r0
delete 1
continue 2
info breakpoints
continue x
continue
continue
