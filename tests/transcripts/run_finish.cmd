# finish: run until the current function returns to its caller.  The return address
# comes from LR at the entry, or from where the prologue saved it (push {r4, lr}).
# args: --keep-going
# exit: 1
set context off
break do_something
run
finish
print $r0
print $pc
# From the middle of the function, after its push: LR was saved on the stack.
break *0x8000804c
continue
continue
finish
# A breakpoint where finish ends is reported as hit.
delete 2
break *0x8000808c
continue
finish
info breakpoints 3
# A Thumb leaf function returning to ARM code (blx).
delete
break thumb_clamp
continue
finish
print $r0
# main is the outermost frame, as in gdb (unless "set backtrace past-main on").
finish
set backtrace past-main on
finish
finish
finish 1
