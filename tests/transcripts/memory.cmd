# Mapping and unmapping memory regions; errors are one line and the session goes on.
# args: --keep-going
# exit: 1
mem map scratch 0x10000000 0x2000 rw
mem map guard 0x10002000 4096 ---
mem map code 0x10010000 0x1000 r-x
info mem
x/2xw 0x10001ff8
set {int}0x10001ffc = 42
x/2xw 0x10001ff8
x/xw 0x10002000
mem map scratch 0x20000000 0x1000
mem map other 0x10001000 0x1000
mem map odd 0x10020010 0x1000
mem map odd 0x10020000 100
mem map bad 0x10030000 0x1000 rwz
mem map 1bad 0x10030000 0x1000
mem map toofew 0x10030000
mem map huge 0xfffff000 0x2000
mem map late nosuchsymbol 0x1000
mem map "spaced" "0x10000000 + 0x40000" "2 * 0x1000" rw
mem unmap scratch
mem unmap 0x10002010
mem unmap nosuch
mem unmap 0x10000000
mem unmap
mem map above_stack $sp 0x1000
mem unmap $sp + 8
mem unmap spaced
info mem extra
mem
mem frob
echo still here\n
