# Without the syscalls plugin svc 0 stops the program; "plugin load syscalls" handles it.
# args: @FIXTURES@/linux_hello-thumb.elf
# exit: 7
set context off
run
plugin load syscalls
run
