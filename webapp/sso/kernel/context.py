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
    """What the outbox's worker needs of a mailer (`email.mail.Mailer` is the one the app builds)."""

    def send(
        self, message: Any, *, about: str, message_id: str | None = None, date: datetime | None = None
    ) -> None: ...

    def language(self, recipient: Any) -> str: ...


class Notifier(Protocol):
    """The security notifications (SPEC §19) a context outside `email/` asks for, written to the outbox in the
    caller's transaction (`email.notifications.Notifications` is the one the app builds; passing it through
    the context keeps accounts, credentials and sessions from importing the email context)."""

    def password_changed(self, conn: Any, user: Any, *, by_administrator: bool) -> None: ...

    def email_changed(self, conn: Any, user: Any, old_email: str | None, new_email: str | None) -> None: ...

    def two_factor_changed(self, conn: Any, user: Any, *, on: bool) -> None: ...

    def passkey_changed(self, conn: Any, user: Any, *, added: bool, name: str) -> None: ...

    def lock_changed(self, conn: Any, user: Any, *, locked: bool) -> None: ...

    def new_sign_in(self, conn: Any, user: Any, remote_addr: Any, user_agent: Any, current_app: Any) -> None: ...

    def deletion_scheduled(self, conn: Any, user: Any, *, at: datetime, cancel_link: str | None) -> None: ...


@dataclass
class Context:
    """Shared dependencies of the SSO services, built once per app."""

    engine: Engine
    codec: TokenCodec
    settings: dict[str, Any]
    clock: Callable[[], datetime] = field(default=utcnow)
    mailer: Outgoing | None = None  # built by create_app (SPEC §11); the outbox's worker sends through it
    notify: Notifier | None = None  # built by create_service (issue 27); None: no security notifications

    @property
    def apps(self) -> list[str]:
        return self.settings["SSO_APPS"]
