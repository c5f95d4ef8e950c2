# printf: conversions, flags, width and precision, C strings from memory, gdb's errors.
# args: --keep-going
# exit: 1
printf "x=%d,y=%d,z=%d\n", 5, 6, 7
printf "%i %u %x %X %o\n", -1, -1, 255, 255, 8
printf "[%5d] [%-5d] [%05d] [%+d] [% d] [%.3d]\n", 42, 42, 42, 42, 42, 42
printf "[%#x] [%#o] [%#x] [%8.4x]\n", 255, 8, 0, 10
printf "%hd %hu %lld %llx\n", 65537, -1, -1, -1
printf "%c%c%c|%3c|%-3c|\n", 'a', 98, 0x163, 'x', 'y'
printf "%s\n", 0x800080fc
printf "[%.6s] [%10.3s] [%-8s]\n", 0x800080fc, 0x800080fc, "str"
printf "%s|%p|%p|%12p|\n", 0, 0, $sp, 0x1234
printf "%f %.2f %e %g\n", 3, 10, 12345, 100000
printf "%%%d%%\n", 5
printf "tab\there \"quoted\" \\ bell\a\n"
printf "no newline"
echo \n
printf "%s\n", $r0 + 4
printf "pc=%V sp=%V c=%V\n", $pc, $sp, (char)65
printf
printf "%d\n"
printf "%d\n", 1, 2
printf %d\n, 1
printf "%d\n, 1
printf "%d\n" 1
printf "%q\n", 1
printf "%n\n", 1
printf "%*d\n", 1, 2
printf "%#u\n", 1
printf "%5p\n", 1
printf "trailing %"
printf "\q"
printf "%d\n", nosuch
