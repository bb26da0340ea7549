"""What every service function needs: the engine, the token codec, settings and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine

from .tokens import TokenCodec


def utcnow() -> datetime:
    """The current time as naive UTC (the stored form)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Outgoing(Protocol):
    """What the service needs of a mailer (`email.mail.Mailer` is the one the app builds)."""

    def send(self, message: Any, *, about: str) -> None: ...

    def check_reachable(self, *, about: str) -> None: ...

    def language(self, recipient: Any) -> str: ...


@dataclass
class Context:
    """Shared dependencies of the SSO services, built once per app."""

    engine: Engine
    codec: TokenCodec
    settings: dict[str, Any]
    clock: Callable[[], datetime] = field(default=utcnow)
    mailer: Outgoing | None = None  # built by create_app (SPEC §11); None sends nothing and logs nothing

    @property
    def apps(self) -> list[str]:
        return self.settings["SSO_APPS"]
