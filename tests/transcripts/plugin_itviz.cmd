# itviz: the demo's Thumb IT blocks as tables, as execution goes through them.
# args: --keep-going
# exit: 1
set context off
break thumb_itblocks
run
itviz
stepi 2
itviz
stepi
itviz
itviz thumb_itblocks+14
itviz thumb_clamp
itviz do_something
set itviz context on
set context on
stepi
set itviz context off
stepi
