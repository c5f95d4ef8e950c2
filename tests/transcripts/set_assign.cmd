# set as assignment: convenience variables, registers, memory, and "set var".
# args: --keep-going
# exit: 1
show convenience
set $n = 5
set $n = $n * 2 + 1
set $n += 1
print $n
set $flag = $n == 12
set var $c = (char)65
set variable $neg = -3
set $p = (char *)0
show convenience
set $r0 = 0x1234
set $r1 = $r0 + 1
p/x $r1
set {int}&calls = 41
set {int}&calls = {int}&calls + 1
print {int}&calls
set var *(char *)&result = 7
output {char}&result
echo \n
set $n
set var $n
set nosuch_symbol = 1
set
set var
set $n = (
set {int}0 = 1
show args
set args one  two
show args
set args
show args
