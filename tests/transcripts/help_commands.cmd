# help COMMAND: the name and aliases, the summary, the usage line, then the rest.
# args: --keep-going
# exit: 1
help define
help h
help show user
help set print
help set print elements
help show confirm
help set variable
define frob
  echo frob\n
end
help frob
document frob
Frobnicate the widget.
end
help frob
help nosuch
help info nosuch
help set nosuch
help show print nosuch
