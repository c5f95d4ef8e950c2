# help with no argument lists the classes; a class lists its commands.
help
define frob
  echo frob\n
end
document frob
Frobnicate the widget.
Second line of the frob documentation.
end
define plain
  echo plain\n
end
help user-defined
help user
