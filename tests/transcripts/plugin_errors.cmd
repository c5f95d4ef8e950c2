# A plugin that fails to load, or raises in a command or handler, is one line naming
# it; it is disabled; the session and the program go on unchanged.
# args: --keep-going --plugin-dir @FIXTURES@/../plugins/broken
# exit: 1
plugin list
bad-register-cmd
show bad-register value
faulty-usage
plugin load faulty_command
faulty-usage
faulty-usage 3
faulty-divide
faulty-usage 3
plugin reload faulty_command
faulty-usage 3
plugin load faulty_probe
plugin load faulty_retprobe
run
x/wx &result
info kprobes
plugin unload faulty_probe
plugin unload faulty_retprobe
run
x/wx &result
help odd-doc
help bad-usage
