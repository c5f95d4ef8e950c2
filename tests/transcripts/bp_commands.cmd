# Breakpoint commands: shown after the stop; "silent" hides the stop; "continue" inside
# resumes, and the next stop's commands run in turn (no nesting, however many hits).
# args: --keep-going
# exit: 1
set context off
set $hits = 0
break do_something
commands
  silent
  set $hits = $hits + 1
  if $r0 % 250 == 0
    printf "r0 = %d, calls = %d\n", $r0, *(int *)&calls
  end
  continue
end
break cond_first
commands 2
echo reached cond_first\n
print $r0
end
info breakpoints
run
print $hits
info breakpoints
delete 1
break print
commands
end
info breakpoints 3
continue
# An error in the commands ends them, and is reported like any command's.
delete 3
commands 2
print nosuch
echo not reached\n
end
run
info breakpoints 2
