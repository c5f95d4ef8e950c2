# break, tbreak, info breakpoints, delete, disable and enable on the demo image.
set context off
info breakpoints
break do_something
tbreak main
b *0x80008094
br print
break do_something+12
info breakpoints
print $bpnum
delete 4
disable 1 3
info breakpoints
run
info breakpoints
enable 1
continue
info breakpoints
delete 1-3
info breakpoints
delete
info breakpoints
continue
