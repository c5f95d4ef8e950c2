# ftracer: kretprobes on fib, its recursion as an indented call graph.
# args: @FIXTURES@/calls-arm.elf
set ftracer args 1
ftracer start fib
info kprobes
run
ftracer show --max-depth 3
ftracer show --limit 18
ftracer stop
ftracer clear
ftracer show
set ftracer args 2
ftracer start [gc]*
run
ftracer show
ftracer stop
