"""Login (SPEC §5): the password, the account's state, a forced or expired password, the new session."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update

from ..db import reading, writing
from ..models import sessions, users
from .attributes import fold, safe_text, text_problem
from .audit import record
from .authn import check_app
from .context import Context
from .errors import Code, Kind, SSOError
from .hashing import hash_password, needs_rehash, verify_password
from .passwords import check_new_password, password_changes, password_columns
from .login_metadata import resolve as resolve_metadata
from .ratelimit import enforce as enforce_rate_limit
from .throttle import is_throttled, record_failure, throttle_keys


@dataclass
class LoginResult:
    """A successful login: the UST, when it expires, and `warning` status when one is due."""

    ust: str
    expiration_time: datetime
    user_id: str
    status: str = "ok"
    sub_status: list[str] = field(default_factory=list)


_dummy_hashes: dict[int, str] = {}


def dummy_hash(ctx: Context) -> str:
    """A hash at the configured cost to verify against when there is no user: both failures cost the same."""
    n = ctx.settings["SSO_SCRYPT_N"]
    if n not in _dummy_hashes:
        _dummy_hashes[n] = hash_password("not a real password, only for timing", n)
    return _dummy_hashes[n]


def _refused() -> SSOError:
    return SSOError.single(Kind.forbidden, Code.auth_invalid)


def login(ctx: Context, cid, username, password, current_app, remote_addr, user_agent=None, new_password=None,
          *, channel: str = "python", claimed_metadata=None) -> LoginResult:
    """Open a session: returns the UST (SPEC §5); every refusal of identity is E005001.

    `claimed_metadata`: `remote_addr`/`user_agent` a trusted app says its end user has (SPEC §14)."""
    check_app(ctx, current_app)
    remote_addr, user_agent, audit_addr = resolve_metadata(ctx, current_app, remote_addr, user_agent,
                                                           claimed_metadata)
    missing = {name: "is required" for name, value in (("username", username), ("password", password))
               if not isinstance(value, str) or not value}
    if missing:  # an empty or null credential is a wrong one, as in Zato (SPEC §14)
        raise SSOError(Kind.forbidden, [Code.auth_invalid], missing)
    if text_problem(username):  # no stored username has one, and the database could not compare it
        raise _refused()
    now = ctx.clock()
    keys = throttle_keys(username, remote_addr)
    with reading(ctx.engine) as conn:
        if is_throttled(ctx, conn, keys, now):
            raise _refused()
        user = conn.execute(select(users).where(users.c.username_search == fold(username))).mappings().first()
    stored_hash = user["password_hash"] if user is not None else None
    # A missing user or a user without a password costs one scrypt too: the timing tells nothing.
    if not verify_password(password, stored_hash or dummy_hash(ctx)) or stored_hash is None:
        record_failure(ctx, keys, now)
        raise _refused()
    if (user["approval_status"] != "approved" or user["is_locked"] or user["sign_up_status"] != "final"
            or not user["is_active"]):
        raise _refused()
    enforce_rate_limit(ctx, user, current_app)
    if new_password is None:
        if user["password_must_change"]:
            raise SSOError.single(Kind.forbidden, Code.password_must_change)
        if user["password_expiry"] is not None and user["password_expiry"] <= now:
            raise SSOError.single(Kind.forbidden, Code.password_expired)
    else:
        check_new_password(ctx, new_password, "new_password")
    ust, digest = ctx.codec.new()
    expiration = now + timedelta(seconds=ctx.settings["SSO_SESSION_TTL"])
    expiry = user["password_expiry"]
    # A hash imported from Zato becomes scrypt (hashed before the write lock is taken).
    rehashed = hash_password(password, ctx.settings["SSO_SCRYPT_N"]) \
        if new_password is None and needs_rehash(stored_hash) else None
    with writing(ctx.engine) as conn:
        changes: dict[str, Any] = {}
        if rehashed is not None:
            conn.execute(update(users).where(users.c.user_id == user["user_id"], users.c.password_hash == stored_hash)
                         .values(password_hash=rehashed))
        if new_password is not None:
            columns = password_columns(ctx, new_password, now)
            expiry = columns["password_expiry"]
            conn.execute(delete(sessions).where(sessions.c.user_id == user["user_id"]))
            conn.execute(update(users).where(users.c.user_id == user["user_id"])
                         .values(**columns, version=users.c.version + 1))
            changes = password_changes(user, columns)
        # Expired sessions of this user are of no further use: they go as a new one starts.
        conn.execute(delete(sessions).where(sessions.c.user_id == user["user_id"],
                                            sessions.c.expiration_time <= now))
        conn.execute(insert(sessions).values(
            session_hash=digest, user_id=user["user_id"], current_app=current_app,
            remote_addr=safe_text(remote_addr, 256), user_agent=safe_text(user_agent, 1024),
            creation_time=now, expiration_time=expiration))
        record(conn, now=now, cid=cid, action="login", actor_id=user["user_id"], target_id=user["user_id"],
               channel=channel, current_app=current_app, remote_addr=audit_addr, user_agent=user_agent,
               changes=changes)
    result = LoginResult(ust=ust, expiration_time=expiration, user_id=user["user_id"])
    warn = timedelta(days=ctx.settings["SSO_PASSWORD_EXPIRY_WARN_DAYS"])
    if expiry is not None and expiry - now <= warn:
        result.status, result.sub_status = "warning", [Code.password_expiring]
    return result
