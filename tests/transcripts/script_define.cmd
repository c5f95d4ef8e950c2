# define/document: user commands with $argc and $arg0.., help, show user, redefinition.
# args: --keep-going
# exit: 1
define greet
  # Comments and blank lines in a body do nothing.

  echo argc=$argc\n
  if $argc == 0
    echo hello, nobody\n
  else
    echo hello, $arg0\n
  end
end
greet
greet world
greet "two words" 3
gree abbreviated
document greet
Greet someone by name.
Usage: greet [NAME]
end
help greet
help user-defined
apropos someone
show user greet
define greet
  echo redefined $arg0\n
end
greet again
help greet
define twice
  greet $arg0
  greet $arg0
end
twice x
define failing
  echo before\n
  nosuch-command
  echo not reached\n
end
failing
echo the file goes on after the error\n
define recurse
  recurse
end
recurse
set max-user-call-depth 5
define countdown
  output $arg0
  echo \n
  if $arg0 > 0
    countdown $arg0-1
  end
end
countdown 3
countdown 10
show user
