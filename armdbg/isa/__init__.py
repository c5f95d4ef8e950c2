"""Pure ARM/Thumb-2 instruction-set knowledge: conditions, ITSTATE, CPSR, decode and encode.

Only this package imports capstone and keystone.  Everything that does not need them
(ITSTATE arithmetic, condition evaluation, CPSR fields) is plain Python with no
emulator in sight, so it is unit-tested in microseconds.
"""
