# plugin list|load|unload|reload: the bundled plugins; syscalls waits for "plugin load".
# args: --keep-going
# exit: 1
plugin list
plugin load syscalls
plugin list
syscalls
plugin reload syscalls
plugin unload syscalls
syscalls
plugin unload syscalls
plugin load hitstats
plugin load nosuch
plugin load
plugin frob
help plugin
help plugins
