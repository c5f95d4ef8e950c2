"""Fails to import: a module that does not exist."""

import armdbg_no_such_module  # noqa: F401


def register(api: object) -> None:
    raise AssertionError("never called")
