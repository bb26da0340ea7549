"""Who the caller is: the UST, the application and the caller's state (SPEC §4 step 3)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from ..models import sessions, users
from .context import Context
from .errors import Code, Kind, SSOError
from .ratelimit import enforce as enforce_rate_limit


@dataclass
class Caller:
    """The authenticated caller of a call: their user row and their session."""

    user: Any
    session_id: int
    current_app: str

    @property
    def user_id(self) -> str:
        return self.user["user_id"]

    @property
    def is_super_user(self) -> bool:
        return bool(self.user["is_super_user"])


def check_app(ctx: Context, current_app: Any) -> None:
    """E004001 unless `current_app` is one of the configured applications."""
    if not isinstance(current_app, str) or current_app not in ctx.apps:
        raise SSOError.single(Kind.forbidden, Code.app_not_allowed, "current_app", "is not a configured application")


def authenticate(ctx: Context, conn: Connection, current_ust: Any, current_app: Any) -> Caller:
    """The caller behind a UST, or the step-3 error that refuses them."""
    digest = ctx.codec.session_hash_of(current_ust)
    if digest is None:
        raise SSOError.single(Kind.unauthenticated, Code.session_invalid)
    query = (select(sessions.c.id.label("session_pk"), sessions.c.expiration_time, users)
             .join(users, users.c.user_id == sessions.c.user_id)
             .where(sessions.c.session_hash == digest))
    row = conn.execute(query).mappings().first()
    now = ctx.clock()
    if row is None or row["expiration_time"] <= now or row["approval_status"] != "approved" or not row["is_active"]:
        raise SSOError.single(Kind.unauthenticated, Code.session_invalid)
    check_app(ctx, current_app)
    refuse_if_unusable(row, now)
    enforce_rate_limit(ctx, row, current_app)
    return Caller(user=row, session_id=row["session_pk"], current_app=current_app)


def refuse_if_unusable(user: Any, now: datetime) -> None:
    """E005002 / E005003 / E005001 for a locked, not-signed-up or password-expired user."""
    if user["is_locked"]:
        raise SSOError.single(Kind.forbidden, Code.user_locked)
    if user["sign_up_status"] != "final":
        raise SSOError.single(Kind.forbidden, Code.sign_up_not_final)
    if user["password_expiry"] is not None and user["password_expiry"] <= now:
        raise SSOError.single(Kind.forbidden, Code.auth_invalid)
