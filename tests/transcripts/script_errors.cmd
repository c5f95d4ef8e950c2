# Mistakes in the command language, each reported as gdb words it.
# args: --keep-going
# exit: 1
if
  echo not run: the body of a failed if is still read\n
end
while
end
if nosuch_symbol
  echo not run\n
end
loop_break
loop_continue
end
else
define
define bad!name
document echo
end
document nosuch
end
source
show user echo
show user nosuch
define ok
  echo ok\n
end
document ok
Fine.
end
help ok
