# info registers / info all-registers: gdb's columns; pc symbolized, cpsr decoded.
# args: --keep-going
# exit: 1
info registers
set $r0 = -1
set $r1 = 0x7fffffff
set $r11 = 0x80410000
set $cpsr = 0xf80f0053
set $lr = 0x8000808c
info registers r0 r1 $lr pc sp cpsr
i r fp ip sb sl r13 r14 r15
info all-registers r0
info registers general
info registers r16
info registers r0 bogus
