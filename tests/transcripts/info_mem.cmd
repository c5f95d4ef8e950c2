# The default memory map, and errors that leave the session usable.
# args: --keep-going
# exit: 1
info mem
info nosuch
echo still here\n
