"""The interactive shell: prompt, completion, highlighting, colour, Ctrl-C.

The only package that imports prompt_toolkit and pygments.  Batch mode never needs it
beyond :mod:`armdbg.ui.output` (which imports pygments only to colour).
"""
