# stepi, nexti, step and next.  Right after loading, the program stands at its first
# instruction, as after gdb's starti: stepping starts there.
set context off
stepi
si
x/i $pc
# nexti runs a whole call: bl main returns after all the program's work.
ni
stepi 3
# In a function without line information, step and next run until it returns,
# stepping over the calls it makes.
break do_something
run
ni
x/i $pc
step
print $r0
# Stepping over a call still stops at a breakpoint inside it.
next
delete
next
next
