# x: formats, sizes, sticky defaults, continuation, $_ and $__, and memory errors.
# args: --keep-going
# exit: 1
x
x/4xw 0x80008000
x
x/2
x/8xb _start
x/4dh 0x80008100
x/2uw do_something
x/2ow do_something
x/2tw do_something
x/2zb do_something
x/xg main
x/2a 0x8040fffc - 12
x/6c 0x800080fc
x/s 0x800080fc
x/s
x/2s 0x800080fc
p $_
p $__
x/3i $pc
x
x/4i thumb_itblocks+2
x/2i far_function
x/2xw calls
p $_
p $__
output $__ + 1
echo \n
x/fw 0x80008000
x/-2xw 0x80200008
x/-2i $pc
x/2xw 0
x/4xw 0x8040fff8
x/s 0x80410000
x/2i 0x8040fffc
x/q 0x80008000
x/2xw nosuch
