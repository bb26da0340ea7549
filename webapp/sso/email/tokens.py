"""Tokens sent by email (sign-up confirmation, password reset, reset keys, email change): random, stored only as a
hash."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select

from ..kernel.rows import load_user
from ..kernel.tables import email_tokens

SIGNUP, RESET, EMAIL_CHANGE = "signup", "reset", "email_change"
_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,128}")


def new_token() -> tuple[str, str]:
    """A new (token, hash) pair; only the hash is stored."""
    token = secrets.token_urlsafe(32)
    digest = token_hash(token)
    assert digest is not None, "token_urlsafe(32) has the shape of our tokens"
    return token, digest


def issue(conn: Connection, purpose: str, user_id: str, now: datetime, expires: datetime, **extra: Any) -> str:
    """A new single-use link token for `purpose`, its hash stored in `conn`'s transaction; returns the token
    (for the link; it is never stored). `extra`: more columns (`new_email`)."""
    token, digest = new_token()
    conn.execute(
        insert(email_tokens).values(
            token_hash=digest, purpose=purpose, user_id=user_id, creation_time=now, expiration_time=expires, **extra
        )
    )
    return token


def token_hash(token: Any) -> str | None:
    """SHA-256 of a token (256 random bits need no salt or slow hash); None when it cannot be one of ours."""
    if not isinstance(token, str) or not _SHAPE.fullmatch(token):
        return None
    return hashlib.sha256(token.encode()).hexdigest()


def find(conn: Connection, purpose: str, token: Any, *, lock: bool = False):
    """The stored row of a token of `purpose`, or None."""
    digest = token_hash(token)
    if digest is None:
        return None
    query = select(email_tokens).where(email_tokens.c.token_hash == digest, email_tokens.c.purpose == purpose)
    return conn.execute(query.with_for_update() if lock else query).mappings().first()


def may_log_in(user: Any) -> bool:
    """Only an account that could log in with a password gets (and may use) an emailed link."""
    return (
        user["approval_status"] == "approved"
        and not user["is_locked"]
        and user["sign_up_status"] == "final"
        and bool(user["is_active"])
    )


def open_link(
    conn: Connection,
    purpose: str,
    token: Any,
    refusal: Callable[[], Exception],
    *,
    now: datetime | None = None,
    lock: bool = False,
) -> tuple[RowMapping, RowMapping]:
    """(token row, user row) of a link of `purpose` that is not used yet (with `now`: nor expired) and whose
    user may log in; else raises `refusal()`. With `lock`, both rows are read FOR UPDATE."""
    row = find(conn, purpose, token, lock=lock)
    if row is None or row["used_time"] is not None or (now is not None and row["expiration_time"] <= now):
        raise refusal()
    user = load_user(conn, row["user_id"], lock=lock)
    if user is None or not may_log_in(user):
        raise refusal()
    return row, user
