# Exit statuses as gdb prints them (octal, with a leading 0) and $_exitcode.
# exitcode-arm.elf calls exit(42) from inner(), called by outer(), called by main().
# args: @FIXTURES@/exitcode-arm.elf
# exit: 3
set context off
print $_exitcode
break inner
break outer
run
info breakpoints
continue
# inner never returns: finish ends with the program.
finish
print $_exitcode
print $bpnum
# A second run: the breakpoints were put back into the fresh image.
run
delete
continue
# Another program: breakpoints set by name follow their function.
tbreak puts
info breakpoints
file @FIXTURES@/hello-arm.elf
info breakpoints
run
x/i $pc
continue
print $_exitcode
