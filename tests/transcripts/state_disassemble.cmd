# disassemble: the function at PC, a named function, /r and /b, ranges; Thumb and IT blocks.
# args: --keep-going
# exit: 1
disassemble
disassemble do_something
disassemble /r cond_first
disassemble /b print
disassemble thumb_itblocks
disassemble /r 0x80008140,0x80008150
disassemble 0x8000806c,+12
disassemble 0x80008138,0x80008148
disassemble _start,+8
disassemble far_function+4
disassemble 0x80300000
disassemble /q main
disassemble 0x8040fff8,+16
