"""What every service function needs: the engine, the token codec, settings and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from .mail import Mailer
from .tokens import TokenCodec


def utcnow() -> datetime:
    """The current time as naive UTC (the stored form)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Context:
    """Shared dependencies of the SSO services, built once per app."""

    engine: Engine
    codec: TokenCodec
    settings: dict[str, Any]
    clock: Callable[[], datetime] = field(default=utcnow)
    mailer: Mailer | None = None  # built by create_app (SPEC §11); None sends nothing and logs nothing

    @property
    def apps(self) -> list[str]:
        return self.settings["SSO_APPS"]
