@ armdbg's embedded demo image: a tiny "kernel" to probe.
@
@ Text loads at 0x80008000 (kernel text), data at 0x80200000, far_function at
@ 0x84000000 -- more than 32 MiB from the module area, so no optprobe trampoline can be
@ reached from it with one branch.  Output goes through ARM semihosting.

.org 0x80008000
.arm
.func _start
    movw    sp, #0x0000
    movt    sp, #0x8041             @ sp = 0x80410000, top of the stack region
    bl      main
    sub     sp, sp, #8              @ SYS_EXIT_EXTENDED block {ADP_Stopped_ApplicationExit, status}
    movw    r1, #0x0026
    movt    r1, #0x0002
    str     r1, [sp]
    str     r0, [sp, #4]
    mov     r1, sp
    mov     r0, #0x20
    svc     #0x123456
    b       .
.endfunc

@ Called in a loop: the function to put kprobes on.
.func do_something
    push    {r4, lr}
    movw    r4, #0x0000
    movt    r4, #0x8020             @ &calls
    ldr     r1, [r4]
    add     r1, r1, #1
    str     r1, [r4]
    add     r0, r0, r0, lsl #1      @ r0 = 3 * r0
    eor     r0, r0, #0x55
    pop     {r4, pc}
.endfunc

@ Its first instruction is conditional: a probe here must honour the condition.
.func cond_first
    addgt   r0, r0, #100
    suble   r0, r0, #1
    bx      lr
.endfunc

.func print
    mov     r1, r0
    mov     r0, #0x04               @ SYS_WRITE0
    svc     #0x123456
    bx      lr
.endfunc

.func main
    push    {r4, r5, r6, lr}
    adr     r0, banner
    bl      print
    mov     r4, #0                  @ checksum
    mov     r5, #1000               @ iterations
loop:
    mov     r0, r5
    bl      do_something
    add     r4, r4, r0
    subs    r5, r5, #1
    bne     loop
    cmp     r4, #0
    mov     r0, #5
    bl      cond_first              @ flags from cmp: gt, so r0 = 105
    add     r4, r4, r0
    mov     r0, #50
    mov     r1, #0
    mov     r2, #10
    blx     thumb_clamp             @ -> 10
    add     r4, r4, r0
    mov     r0, #3
    mov     r1, #3
    blx     thumb_itblocks
    add     r4, r4, r0
    mov     r0, #7
    movw    ip, #0x0000
    movt    ip, #0x8400
    blx     ip                      @ far_function(7) = 14
    add     r4, r4, r0
    movw    r6, #0x0004
    movt    r6, #0x8020
    str     r4, [r6]                @ result
    adr     r0, done
    bl      print
    mov     r0, #0
    pop     {r4, r5, r6, pc}
banner:
    .asciz  "armdbg demo: calling do_something 1000 times\n"
done:
    .asciz  "armdbg demo: done\n"
    .align  2
.endfunc

.thumb
@ Thumb-2 with IT blocks: clamp r0 into [r1, r2].
.func thumb_clamp
    cmp     r0, r1
    it      lt
    movlt   r0, r1
    cmp     r0, r2
    it      gt
    movgt   r0, r2
    bx      lr
.endfunc

@ IT blocks of every shape, with 16-bit add/sub that set flags only outside a block.
.func thumb_itblocks
    cmp     r0, r1
    itete   eq
    addeq   r0, r0, #1
    subne   r0, r0, #1
    addeq   r1, r1, #2
    subne   r1, r1, #2
    adds    r0, r0, r1
    ittet   ne
    addne   r0, r0, r1
    subne   r0, r0, #1
    addeq   r0, r0, #3
    movne   r2, r0
    cmp     r0, #8
    ite     hi
    movhi   r0, #1
    movls   r0, #2
    bx      lr
.endfunc

.arm
.org 0x84000000
.func far_function
    add     r0, r0, r0
    bx      lr
.endfunc

.org 0x80200000
.object calls
    .word   0
.endobject
.object result
    .word   0
.endobject
