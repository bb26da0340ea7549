"""Things the service layer reports as they happen (a login's outcome, a change, who the caller is).

The service layer stays free of Flask and of any metrics library: it calls `emit`, and whoever cares
(`webapp.ops`: metrics and the request log) subscribes with `listen`. A listener must not raise; one that
does is ignored, so observing can never break a request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[..., None]

LOGIN = "login"  # result="ok" | "failed" | "throttled"
CHANGE = "change"  # action=..., channel=... (one per audit record)
AUTHENTICATED = "authenticated"  # user_id=... (the caller of this call)

_listeners: dict[str, list[Listener]] = {}


def listen(event: str, listener: Listener) -> None:
    """Call `listener(**fields)` on every `emit(event, ...)` (once, however often it is registered)."""
    listeners = _listeners.setdefault(event, [])
    if listener not in listeners:
        listeners.append(listener)


def emit(event: str, **fields: Any) -> None:
    """Tell the listeners of `event`."""
    for listener in _listeners.get(event, ()):
        try:
            listener(**fields)
        except Exception:  # observing must never fail the call it observes
            pass
