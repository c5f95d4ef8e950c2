"""A kprobe handler that changes registers and memory, then raises.

On its third hit: its changes must not reach the program.
"""

AUTOLOAD = False

from armdbg.api import Kprobe, PluginAPI, PtRegs  # noqa: E402

RESULT = 0x80200004  # the demo's result word

calls = {"hits": 0}


def register(api: PluginAPI) -> None:
    calls["hits"] = 0

    def pre_handler(probe: Kprobe, regs: PtRegs) -> int:
        calls["hits"] += 1
        if calls["hits"] == 3:
            regs.ARM_r0 = 0xDEAD
            regs.ARM_pc = 0x80008000
            api.write_memory(RESULT, b"\xef\xbe\xad\xde")
            raise RuntimeError("third hit")
        return 0

    api.kprobe("do_something", pre_handler, name="faulty_probe")
