# print, inspect, output: value history ($, $$, $N), /FMT, registers and symbols.
# args: --keep-going
# exit: 1
print
p 6 * 7
p $
p $1 + 1
p $$2
inspect $2 * 2
p
p/x $1
p/o 8
p/t 10
p/c 65
p/d 'A'
p/x -1
p/u (char)-1
p/a 0x80008034
p/z 5
p $pc
p $sp
p $r0
p &calls
p *(int *)&calls = 7
p {int}0x80200000
p (char *)0x800080fc
p $nonexistent
p $1 + $nonexistent
output 10 / 3
echo \n
output/x 255
echo \n
p/i 1
p/2x 1
p/xw 1
output/s 1
echo \n
p 1 +
p $99
p nosuch
output
