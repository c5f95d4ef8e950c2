# docs/plugins.md's example plugin, loaded from --plugin-dir docs/examples.
# args: --plugin-dir @FIXTURES@/../../docs/examples
plugin list
hello
show hello greeting
set hello greeting hi
hello plugin writer
help hello
help count-calls
count-calls do_something
count-calls cond_first
run
info kprobes
break thumb_clamp
run
set context-sections calls
context
plugin unload hello_plugin
info kprobes
