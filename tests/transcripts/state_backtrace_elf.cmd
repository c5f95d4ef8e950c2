# backtrace through gcc code: shrink-wrapped prologues (cmp; bxle lr; push) and recursion.
# args: @FIXTURES@/calls-thumb.elf
set context off
break fib if $r0 == 1
run
bt 4
bt -2
info symbol $lr
