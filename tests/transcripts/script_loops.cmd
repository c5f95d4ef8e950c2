# while/if with convenience-variable arithmetic, loop_break and loop_continue, nesting.
set $i = 0
set $odd = 0
while $i < 10
  set $i = $i + 1
  if $i == 8
    loop_break
  end
  # Only odd numbers go on; even ones skip the rest of the body.
  if $i % 2 == 0
    loop_continue
  end
  set $odd = $odd + 1
  set $j = 0
  while 1
    set $j++
    if $j >= $i
      loop_break
    end
  end
  printf "i=%d j=%d\n", $i, $j
end
show convenience
if $odd == 4 && $j == 7
  echo nested loops counted right\n
else
  echo wrong\n
end
if !$never_set
  echo an unset variable is void, and false\n
end
echo a # is not a comment here\n
  # but an indented line starting with one is
define in_loop
  set $k = 0
  while $k < 3
    set $k = $k + 1
    if $k == 2
      loop_continue
    end
    output $k
    echo \ in $arg0\n
  end
end
in_loop body
