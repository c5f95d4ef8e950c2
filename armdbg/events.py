"""A small publish/subscribe bus for news the engine has and the UI may show.

The engine never calls into the UI: a stop is returned as a value, and asynchronous
news (a probe got optimized, the program wrote to its console) is published here.
Subscribers that raise are reported through ``on_error`` and never break the publisher.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[..., None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self.on_error: Callable[[str, Handler, BaseException], None] | None = None

    def subscribe(self, event: str, handler: Handler) -> Callable[[], None]:
        """Register ``handler`` for ``event``; returns a function that unsubscribes it."""
        self._handlers[event].append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers[event]:
                self._handlers[event].remove(handler)

        return unsubscribe

    def publish(self, event: str, /, **payload: Any) -> None:
        for handler in list(self._handlers.get(event, ())):
            try:
                handler(**payload)
            except Exception as err:  # a subscriber's bug is not the publisher's
                if self.on_error is not None:
                    self.on_error(event, handler, err)

    def has_subscribers(self, event: str) -> bool:
        return bool(self._handlers.get(event))
