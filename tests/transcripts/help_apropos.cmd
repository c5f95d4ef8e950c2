# apropos searches names, aliases and documentation, ignoring case.
# args: --keep-going
# exit: 1
define frob
  echo frob\n
end
document frob
Frobnicate the WIDGET.
Mentions xyzzy only here.
end
apropos widget
apropos XYZZY
apropos -v xyzzy
apropos ^frob$
apropos dont-rep
apropos no-command-mentions-this
apropos
apropos -v
apropos [unclosed
