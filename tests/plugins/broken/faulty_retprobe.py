"""A kretprobe handler that changes the return value, then raises.

On the second return: the program must see the real value every time.
"""

AUTOLOAD = False

from armdbg.api import KretprobeInstance, PluginAPI, PtRegs  # noqa: E402

calls = {"returns": 0}


def register(api: PluginAPI) -> None:
    calls["returns"] = 0

    def ret_handler(instance: KretprobeInstance, regs: PtRegs) -> None:
        calls["returns"] += 1
        if calls["returns"] == 2:
            regs.ARM_r0 = 0
            raise KeyError("second return")

    api.kretprobe("do_something", ret_handler, name="faulty_ret")
