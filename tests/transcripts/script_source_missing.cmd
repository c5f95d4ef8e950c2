# A file that cannot be found is a warning when sourced from a script (as in gdb).
source no-such-file.cmd
echo the script goes on\n
