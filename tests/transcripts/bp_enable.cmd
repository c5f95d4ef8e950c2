# enable once / enable delete / enable count, and temporary breakpoints.
set context off
break do_something
break print
tbreak cond_first
enable once 1
enable count 2 2
info breakpoints
run
print /x $r0
info breakpoints
continue
print /x $r0
info breakpoints
enable delete 1
info breakpoints
continue
print /x $r0
info breakpoints
continue
info breakpoints
enable 2
continue
info breakpoints
