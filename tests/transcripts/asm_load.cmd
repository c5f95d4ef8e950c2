# file / load elf / load raw: load a program, its symbols and sections; errors name the file.
# args: --keep-going
# exit: 1
set context off
file @FIXTURES@/hello-arm.elf
info symbol main
info symbol main+4
info registers pc
x/2i $pc
bt
load elf @FIXTURES@/calls-thumb.elf
info symbol gcd
disassemble /r gcd,+8
load @FIXTURES@/hello-thumb.elf
p $pc
load
file
file nosuch.elf
load raw @FIXTURES@/hello-arm.elf 0x80100000
x/4c $pc
info symbol $pc
load raw @FIXTURES@/hello-arm.elf 0x80100000 --thumb
info registers pc cpsr
load elf asm_load.cmd
load raw @FIXTURES@/hello.c
load raw nosuch.bin 0x80009000
