"""Has no register(api) function."""

VALUE = 1
