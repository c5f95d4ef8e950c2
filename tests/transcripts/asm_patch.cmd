# asm: assemble into memory in the mode of the address, or as told; symbols resolve.
# args: --keep-going
# exit: 1
set context off
asm far_function 'add r0, r0, r0, lsl #1; bx lr'
x/2i far_function
asm thumb_clamp+12 "nop; bx lr"
x/2i thumb_clamp+12
asm --arm 0x80009000 'mov r0, #10; bl do_something; b 0x80009000'
asm --thumb 0x80009100 'cmp r0, #1; ite eq; moveq r0, #5; movne r0, #6; bl thumb_clamp'
disassemble 0x80009100,+14
asm 0x80009101 'movs r1, #1'
x/i 0x80009100
break cond_first
run
asm cond_first 'addgt r0, r0, #200'
info breakpoints
x/i cond_first
x/xw cond_first
p $r0
stepi
p $r0
run
x/i cond_first
asm 0x80009000 'mov r0, #1; bogus r1, r2; mov r2, #3'
asm 0x80009000 'ldr r0, [r1, #99999]'
asm 0x80009000
asm 0x80009000 'mov r0, #1
asm --mips 0x80009000 'nop'
asm 0x10 'nop'
