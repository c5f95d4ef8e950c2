# syscalls: linux_hello-thumb.elf (its own _start, svc 0) prints and exits with its code.
# args: @FIXTURES@/linux_hello-thumb.elf --plugin syscalls
# exit: 7
syscalls
run
info registers r0 r7
