"""Tokens sent by email (sign-up confirmation, password reset, reset keys, email change): random, stored only as a
hash."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from sqlalchemy import Connection, select

from ..models import email_tokens

SIGNUP, RESET, EMAIL_CHANGE = "signup", "reset", "email_change"
_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,128}")


def new_token() -> tuple[str, str]:
    """A new (token, hash) pair; only the hash is stored."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)  # type: ignore[return-value]


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
