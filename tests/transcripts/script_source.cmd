# `source` runs a command file; the first error stops it and is reported with that
# file's line.  This file sources itself once: the nested run fails at the "if $inner"
# block below, which stops the outer run too.
# exit: 1
echo start\n
if !$inner
  set $inner = 1
  source script_source.cmd
  echo not reached: the nested error stops this file too\n
end
if $inner
  echo nested run\n
  nosuch-command
end
