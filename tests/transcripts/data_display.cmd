# display: shown after every stop (and by "display"), in gdb's formats; undisplay, info display.
# args: --keep-going
# exit: 1
set context off
info display
display
display/i $pc
display $r0
display/x $sp
display/2xw &calls
display/s 0x8000812a
display *(int *)0
display/xw 0
info display
stepi
display
undisplay 2 9
undisplay 3-4 x
info display
stepi
disable display 5-6
info display
display
enable display
delete display 7
stepi
undisplay
info display
display/i
display 1 +
display/i $pc
stepi
