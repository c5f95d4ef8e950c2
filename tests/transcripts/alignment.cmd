# set alignment-check: the alignment faults Unicorn does not raise.  armv7 faults what
# ARMv7 always checks (LDM/STM, PUSH/POP, LDRD/STRD...), strict also single loads and
# stores (as with SCTLR.A set).  The faulting instruction has not run: fix the state and
# go on.  An unaligned LDREX is a data abort even with the check off.
# args: --keep-going
# exit: 1
set context off
show alignment-check
asm --arm 0x80009000 'ldm r1, {r4, r5}; ldr r6, [r1, #1]; strd r4, r5, [r2]; ldrh r7, [r1, #1]; nop'
set var {int} 0x80200000 = 0x11111111
set var {int} 0x80200004 = 0x22222222
set var {int} 0x80200008 = 0x33333333
set $r1 = 0x80200001
set $r2 = 0x80200006
set $pc = 0x80009000
set alignment-check armv7
stepi
p/x $r4
set $r1 = 0x80200000
stepi
p/x $r4
stepi
p/x $r6
stepi
x/3xw 0x80200000
set $r2 = 0x80200008
stepi
x/4xw 0x80200000
set alignment-check strict
stepi
p/x $r7
set alignment-check off
stepi
p/x $r7
# Thumb, inside an IT block: the fault stops at the ldm with the block's state.
asm --thumb 0x80009100 'cmp r0, r0; itte eq; ldmeq r1!, {r4, r5}; addeq r3, #1; addne r3, #2; adds r3, #4; nop'
set $r1 = 0x80200002
set $r3 = 0
set $cpsr = $cpsr | 0x20
set $pc = 0x80009100
set alignment-check armv7
tbreak *0x8000910c
continue
info it
p $r3
set $r1 = 0x80200000
continue
p $r3
p/x $r1
# The exclusives abort in Unicorn itself: SIGBUS at the address the ldrex computes.
set alignment-check off
asm --arm 0x80009200 'ldrex r0, [r1]; nop'
set $r1 = 0x80200002
set $cpsr = $cpsr & ~0x20
set $pc = 0x80009200
stepi
set $r1 = 0x80200004
stepi
p/x $r0
set alignment-check lax
set alignment-check
show alignment-check
