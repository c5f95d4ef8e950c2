# until and advance in main's loop (main+20 .. main+36 calls do_something 1000 times).
# args: --keep-going
# exit: 1
set context off
tbreak *0x80008094
run
x/i $pc
print $r5
# until at the loop's backward branch: no going back, the loop runs to its end.
until
print $r5
print *(int *)&calls
# Elsewhere it is a step that steps over calls.
u
u
x/i $pc
until
print $r0
# until LOCATION runs to a place in this frame.
until *0x800080c8
# advance stops at the location in any frame...
advance far_function
# ...and, like until, also when the current function returns first.
tbreak do_something
run
advance cond_first
print $r5
advance
until nosuch
# until LOCATION stops there only in the current frame: cond_first runs a frame deeper,
# so the program goes on, here to its end (main is the outermost frame).
until cond_first
