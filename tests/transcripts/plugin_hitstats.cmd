# hitstats: what is deterministic (the histograms are host times: tests/plugins).
# args: --keep-going
# exit: 1
hitstats
hitstats on
hitstats on nosuch
kprobe do_something
hitstats on 1
hitstats on p_do_something_0
hitstats on cond_first
info kprobes
hitstats show 2
hitstats off 2
hitstats off 2
show hitstats bars
show hitstats histogram
set hitstats bars x
hitstats reset
plugin unload hitstats
info kprobes
