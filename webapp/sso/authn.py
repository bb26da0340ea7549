"""Who the caller is: the UST, the application and the caller's state (SPEC §4 step 3).

One authentication per request (issue 14): inside `request_scope()` (every Flask request, see
`init_request_scope`), the caller found for a (UST, application) is kept and handed to every later
service call of the same request: the console's role check, the update and the page's own reads
share one session lookup. Any committed write forgets them, so a request that logs out, changes a
password or edits its own account authenticates afresh before its next call. Refusals are never kept.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, event, select

from ..db import WRITE_OPTION
from ..models import sessions, users
from .context import Context
from .errors import Code, Kind, SSOError


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


_known: ContextVar[dict | None] = ContextVar("sso_request_callers", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    """Within this block, one authentication per (UST, application) until a write commits."""
    token = _known.set({})
    try:
        yield
    finally:
        _known.reset(token)


def _forget_callers(conn: Connection) -> None:
    known = _known.get()
    if known and conn.get_execution_options().get(WRITE_OPTION):   # a read transaction changes nothing
        known.clear()


def init_request_scope(app, engine: Engine) -> None:
    """Every request of `app` is one scope; every commit on `engine` (a write) ends what it knew."""
    event.listen(engine, "commit", _forget_callers)

    def enter() -> None:
        from flask import g
        g._sso_request_scope = request_scope()
        g._sso_request_scope.__enter__()

    def leave(_error=None) -> None:
        from flask import g
        scope = g.pop("_sso_request_scope", None)
        if scope is not None:
            scope.__exit__(None, None, None)

    app.before_request(enter)
    app.teardown_request(leave)


def authenticate(ctx: Context, conn: Connection, current_ust: Any, current_app: Any) -> Caller:
    """The caller behind a UST, or the step-3 error that refuses them (once per request scope)."""
    digest = ctx.codec.session_hash_of(current_ust)
    if digest is None:
        raise SSOError.single(Kind.unauthenticated, Code.session_invalid)
    known = _known.get()
    key = (id(ctx), digest, current_app if isinstance(current_app, str) else None)
    if known is not None and key[2] is not None and key in known:
        return known[key]
    caller = _authenticate(ctx, conn, digest, current_app)
    if known is not None and key[2] is not None:
        known[key] = caller
    return caller


# Built once: SQLAlchemy then finds the compiled form in its cache without rebuilding the statement
# (building and cache-keying it per call was a quarter of a JSON update's time).
_SESSION_AND_USER = (select(sessions.c.id.label("session_pk"), sessions.c.expiration_time, users)
                     .join(users, users.c.user_id == sessions.c.user_id)
                     .where(sessions.c.session_hash == bindparam("digest")))


def _authenticate(ctx: Context, conn: Connection, digest: str, current_app: Any) -> Caller:
    row = conn.execute(_SESSION_AND_USER, {"digest": digest}).mappings().first()
    now = ctx.clock()
    if row is None or row["expiration_time"] <= now or row["approval_status"] != "approved" or not row["is_active"]:
        raise SSOError.single(Kind.unauthenticated, Code.session_invalid)
    check_app(ctx, current_app)
    refuse_if_unusable(row, now)
    return Caller(user=row, session_id=row["session_pk"], current_app=current_app)


def refuse_if_unusable(user: Any, now: datetime) -> None:
    """E005002 / E005003 / E005001 for a locked, not-signed-up or password-expired user."""
    if user["is_locked"]:
        raise SSOError.single(Kind.forbidden, Code.user_locked)
    if user["sign_up_status"] != "final":
        raise SSOError.single(Kind.forbidden, Code.sign_up_not_final)
    if user["password_expiry"] is not None and user["password_expiry"] <= now:
        raise SSOError.single(Kind.forbidden, Code.auth_invalid)
