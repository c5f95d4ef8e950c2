"""The emulated ARM32 machine: Unicorn, memory, registers, traps, loaders, semihosting.

Only this package imports unicorn.
"""
