# Recursion: finish and nexti stop where the current call returns, not where a deeper
# call of the same function returns to the same address.  calls-arm.elf: fib(15).
# args: @FIXTURES@/calls-arm.elf
set context off
break fib
run
print $r0
continue 3
print $r0
print/x $sp
disable 1
finish
print $r0
print/x $sp
advance *0x8478
print $r0
nexti
print $r0
print/x $sp
until
x/i $pc
