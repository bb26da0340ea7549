"""Helpers for the service-core tests: direct reads of the database and expected refusals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.db import reading
from webapp.sso import SSOError
from webapp.sso.kernel.context import utcnow
from webapp.sso.kernel.tables import audit, outbox, sessions, users

from ..conftest import PASSWORD

CID, APP, ADDR = "test-cid", "CRM", "127.0.0.1"

__all__ = [
    "ADDR",
    "APP",
    "CID",
    "PASSWORD",
    "audit_of",
    "count_users",
    "frozen_clock",
    "outbox_rows",
    "outbox_to",
    "refused",
    "row_of",
    "session_rows",
    "settle",
]


@contextmanager
def refused(kind: str, *codes: str) -> Iterator[pytest.ExceptionInfo]:
    """Expect an SSOError of `kind` whose sub_status is exactly `codes`."""
    with pytest.raises(SSOError) as info:
        yield info
    assert (info.value.kind, info.value.sub_status) == (kind, list(codes)), info.value


def row_of(sso, user_id: str) -> dict:
    """The stored sso_user row, read straight from the database."""
    with reading(sso.ctx.engine) as conn:
        return dict(conn.execute(select(users).where(users.c.user_id == user_id)).mappings().one())


def audit_of(sso, target_id: str | None = None, action: str | None = None) -> list[dict]:
    """Audit records, oldest first, optionally only those about `target_id` / of `action`."""
    query = select(audit).order_by(audit.c.id)
    if target_id is not None:
        query = query.where(audit.c.target_id == target_id)
    if action is not None:
        query = query.where(audit.c.action == action)
    with reading(sso.ctx.engine) as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def session_rows(sso, user_id: str | None = None) -> list[dict]:
    """Stored sessions, optionally of one user."""
    query = select(sessions)
    if user_id is not None:
        query = query.where(sessions.c.user_id == user_id)
    with reading(sso.ctx.engine) as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def outbox_rows(sso) -> list[dict]:
    """The outbox's messages, oldest first (bodies are encrypted: read the mailbox for what was sent)."""
    with reading(sso.ctx.engine) as conn:
        return [dict(row) for row in conn.execute(select(outbox).order_by(outbox.c.id)).mappings()]


def outbox_to(sso, address: str, kind: str | None = None) -> list[dict]:
    """The messages ever queued for `address` (none: nothing was or will be sent to it), of `kind` if given."""
    return [
        row
        for row in outbox_rows(sso)
        if row["recipient"].lower() == address.lower() and (kind is None or row["kind"] == kind)
    ]


def settle(sso, timeout: float = 10) -> None:
    """Wait until the worker has delivered every queued message (so the mailbox holds all there will be)."""
    deadline = time.monotonic() + timeout
    while any(row["status"] == "queued" for row in outbox_rows(sso)):
        assert time.monotonic() < deadline, "the outbox did not empty in time"
        time.sleep(0.02)


def count_users(sso) -> int:
    with reading(sso.ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(users)).scalar_one()


def frozen_clock(sso, at: datetime | None = None):
    """Freeze the service clock at `at` (default: now, to the microsecond); returns a setter."""
    state = {"now": at or utcnow()}
    sso.ctx.clock = lambda: state["now"]

    def move(**delta) -> datetime:
        state["now"] = state["now"] + timedelta(**delta)
        return state["now"]

    move.now = lambda: state["now"]  # type: ignore[attr-defined]
    return move
