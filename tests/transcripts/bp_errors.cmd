# Wrong arguments to the breakpoint commands: gdb's messages, and the session goes on.
# args: --keep-going
# exit: 1
set context off
break nosuch
break 123
break do_something if nosuch == 1
break main if
tbreak *nosuch
info breakpoints
info watchpoints
break main
delete 9
disable 1 9
delete 3-1
enable foo
condition
condition x 1
condition 9 1
ignore
ignore 1
ignore 9 2
enable count
enable once
commands 9
echo never\n
end
info breakpoints 9
info watchpoints 1
rwatch $r0
awatch 1 + 2
watch *(char *)
info breakpoints
