"""Security notifications (issue 27, SPEC §19): a message to the person when something happens to their account,
written to the outbox in the transaction of the change it tells of.

Kinds, each switched off by listing it in `SSO_NOTIFY_DISABLED` (the administrator's choice, at start):
`password_changed`, `email_changed` (sent to the *old* address), `two_factor_changed` (on or off),
`passkey_changed` (added or removed, by the owner or an administrator), `new_sign_in` (a sign-in, with a
password or a passkey, from an address or a browser this account has not signed in from before), `lock_changed`
(locked or unlocked by an administrator), `deletion_scheduled` (the privacy area calls `deletion_scheduled`).

A message says what happened, when, and (for a sign-in) from where; never a password, code, key or link with a
token: its only link is the console's My account. An account without an email address gets none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from ..kernel.attributes import REMOTE_ADDR_MAX, USER_AGENT_MAX, safe_text
from ..kernel.context import Context
from ..kernel.tables import audit
from ..kernel.texts import _t
from .mail import render, when
from .outbox import enqueue

KINDS = (
    "password_changed",
    "email_changed",
    "two_factor_changed",
    "passkey_changed",
    "new_sign_in",
    "lock_changed",
    "deletion_scheduled",
)
ACCOUNT_PATH = "/account"


def enabled(ctx: Context, kind: str) -> bool:
    """Whether the administrator left notifications of `kind` on."""
    return kind not in ctx.settings.get("SSO_NOTIFY_DISABLED", ())


def _send(
    ctx: Context,
    conn: Connection,
    kind: str,
    template: str,
    user: Mapping,
    *,
    to: str | None = None,
    link: str | None = None,
    **values: Any,
) -> None:
    address = to if to is not None else user["email"]
    if not address or not enabled(ctx, kind):
        return
    settings = ctx.settings
    locale = ctx.mailer.language(user) if ctx.mailer is not None else settings.get("SSO_DEFAULT_LOCALE", "en")
    message = render(
        f"notify/{template}",
        address,
        locale=locale,
        product=settings["SSO_PRODUCT_NAME"],
        username=user["username"],
        link=link or settings["SSO_PUBLIC_URL"] + ACCOUNT_PATH,
        at=when(ctx.clock(), locale),
        # A time the message tells of (e.g. when a deletion is due), written as the recipient's language does.
        **{name: when(value, locale) if isinstance(value, datetime) else value for name, value in values.items()},
    )
    enqueue(ctx, conn, message, user_id=user["user_id"])


def password_changed(ctx: Context, conn: Connection, user: Mapping, *, by_administrator: bool) -> None:
    """The password of `user` was set (by them, at a reset, at sign-in, or by an administrator)."""
    _send(ctx, conn, "password_changed", "password_changed", user, by_administrator=by_administrator)


def email_changed(ctx: Context, conn: Connection, user: Mapping, old_email: str | None, new_email: str | None) -> None:
    """The address changed: the message goes to the old one (the new owner of the account may be someone else)."""
    if old_email:
        _send(ctx, conn, "email_changed", "email_changed", user, to=old_email, new_email=new_email)


def two_factor_changed(ctx: Context, conn: Connection, user: Mapping, *, on: bool) -> None:
    """Two-factor sign-in was turned on or off."""
    _send(ctx, conn, "two_factor_changed", "two_factor_changed", user, on=on)


def passkey_changed(ctx: Context, conn: Connection, user: Mapping, *, added: bool, name: str) -> None:
    """A passkey named `name` was added to or removed from the account (called by the passkeys area)."""
    _send(ctx, conn, "passkey_changed", "passkey_changed", user, added=added, passkey=name)


def lock_changed(ctx: Context, conn: Connection, user: Mapping, *, locked: bool) -> None:
    """An administrator locked or unlocked the account."""
    _send(ctx, conn, "lock_changed", "lock_changed", user, locked=locked)


def deletion_scheduled(ctx: Context, conn: Connection, user: Mapping, *, at: datetime, cancel_link: str | None) -> None:
    """The account's deletion is scheduled for `at` (called by the privacy area; `cancel_link`, if any, is its
    own single-use link: the one link besides My account such a message may carry)."""
    _send(
        ctx,
        conn,
        "deletion_scheduled",
        "deletion_scheduled",
        user,
        link=cancel_link,
        delete_at=at,
        cancel=cancel_link is not None,
    )


def is_new_sign_in(conn: Connection, user_id: str, remote_addr: Any, user_agent: Any) -> bool:
    """True when the account has signed in before, but never from this address or never with this browser (the
    audit's login records; the first sign-in of an account is no news)."""
    logins = select(audit.c.id).where(audit.c.target_id == user_id, audit.c.action == "login")
    if conn.execute(logins.limit(1)).first() is None:
        return False
    address = safe_text(remote_addr, REMOTE_ADDR_MAX)
    agent = safe_text(user_agent, USER_AGENT_MAX)
    seen_address = conn.execute(logins.where(audit.c.remote_addr == address).limit(1)).first() is not None
    seen_agent = conn.execute(logins.where(audit.c.user_agent == agent).limit(1)).first() is not None
    return not (seen_address and seen_agent)


def new_sign_in(
    ctx: Context, conn: Connection, user: Mapping, remote_addr: Any, user_agent: Any, current_app: Any
) -> None:
    """A sign-in from an address or browser not seen before on this account (checked before its own record)."""
    if not enabled(ctx, "new_sign_in") or not user["email"]:
        return
    if is_new_sign_in(conn, user["user_id"], remote_addr, user_agent):
        _send(
            ctx,
            conn,
            "new_sign_in",
            "new_sign_in",
            user,
            address=safe_text(remote_addr, REMOTE_ADDR_MAX) or _t("an unknown address"),
            browser=safe_text(user_agent, USER_AGENT_MAX) or _t("an unknown browser or program"),
            app=safe_text(current_app, 64) or "",
        )


class Notifications:
    """The functions above bound to one context: `ctx.notify`, how accounts, credentials and sessions (and the
    passkeys and privacy areas) ask for a notification without importing this context."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def password_changed(self, conn: Connection, user: Mapping, *, by_administrator: bool) -> None:
        password_changed(self.ctx, conn, user, by_administrator=by_administrator)

    def email_changed(self, conn: Connection, user: Mapping, old_email: str | None, new_email: str | None) -> None:
        email_changed(self.ctx, conn, user, old_email, new_email)

    def two_factor_changed(self, conn: Connection, user: Mapping, *, on: bool) -> None:
        two_factor_changed(self.ctx, conn, user, on=on)

    def passkey_changed(self, conn: Connection, user: Mapping, *, added: bool, name: str) -> None:
        passkey_changed(self.ctx, conn, user, added=added, name=name)

    def lock_changed(self, conn: Connection, user: Mapping, *, locked: bool) -> None:
        lock_changed(self.ctx, conn, user, locked=locked)

    def new_sign_in(self, conn: Connection, user: Mapping, remote_addr: Any, user_agent: Any, current_app: Any) -> None:
        new_sign_in(self.ctx, conn, user, remote_addr, user_agent, current_app)

    def deletion_scheduled(self, conn: Connection, user: Mapping, *, at: datetime, cancel_link: str | None) -> None:
        deletion_scheduled(self.ctx, conn, user, at=at, cancel_link=cancel_link)
