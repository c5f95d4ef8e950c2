# Thumb IT blocks: thumb_itblocks(3, 3).  cmp r0, r1 gives "eq", so in its first block
# (itete eq) addeq runs and subne is skipped.  A breakpoint on a slot whose condition
# fails does not stop: the CPU skips that slot, trap word included, as on hardware.
set context off
break *0x80008154
break *0x80008156
break *0x80008164
break *0x8000816e
break *0x8000816c
info breakpoints
run
print $r0
continue
print $r0
info breakpoints
# Stepping shows every slot, the skipped ones too; arriving on a breakpoint in a slot
# that executes reports it, one in a skipped slot is just a step.
delete
break thumb_itblocks
break *0x80008164
run
stepi
stepi
stepi
stepi
stepi
stepi
stepi
stepi
stepi
stepi
stepi
stepi
print $r0
stepi 4
print $r0
info breakpoints
