# set/show of settings: full names, abbreviations, multi-word names, groups, errors.
# args: --keep-going
# exit: 1
show width
set width 100
show width
set wid 120
show wid
set width 2*36
show width
set width unlimited
show width
set print elements 4
show print elements
set pr el 16
show print
set history size 50
show history
set confirm
show confirm
set confirm off
show confirm
set color of
show color
set debug on
show debug
set debug off
show max-user-call-depth
set c 1
set p 1
set print
set print nosuch 3
set width
set width -1
set height lots
set confirm maybe
set color
set color purple
show nosuch
show print nosuch
