"""Failed-login throttling (SPEC §5, issue 12): per (username, address) pair, per address, and per
username with a growing delay, so a stranger can slow a person's sign-in but never lock it.

Every attempt is counted *before* its password is checked, in one write transaction that first takes
a lock on its keys (PostgreSQL: transaction advisory locks; SQLite: BEGIN IMMEDIATE), so parallel
guesses cannot all read the same count: the 6th of 48 simultaneous guesses is refused. A successful
attempt takes its marks back (`succeeded`), so successful logins never count, and forgets the
earlier failures of its own pair.

The limits, within `SSO_LOGIN_FAILURE_WINDOW` seconds:
- `SSO_LOGIN_MAX_FAILURES` per (username, address): that pair is paused until its oldest mark leaves.
- `SSO_LOGIN_MAX_FAILURES_PER_ADDRESS` per address, whatever the usernames.
- `SSO_LOGIN_MAX_FAILURES_PER_USERNAME` per username from all addresses; beyond it each further
  attempt waits 1, 2, 4 ... seconds after the previous failure, at most `SSO_LOGIN_MAX_DELAY`. An
  address this username signed in from successfully within `SSO_LOGIN_KNOWN_ADDRESS_DAYS` does not
  wait (its own pair and address limits still hold): a person is not kept out by strangers.
`SSO_LOGIN_MAX_FAILURES=0` turns all of it off. Nothing here depends on whether the account exists.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, not_, or_, select, text

from ...db import writing
from ..kernel.attributes import KEY_MAX, REMOTE_ADDR_MAX, fold, safe_text
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError, sign_in_paused
from ..kernel.hashing import verify_password
from ..kernel.tables import login_failures
from ..kernel.texts import _t


@dataclass
class Attempt:
    """One counted attempt: its keys and the marks written for it (taken back when it succeeds)."""

    pair: str
    address: str
    username: str
    known: str
    mark_ids: list[int] = field(default_factory=list)


def attempt_keys(username: Any, remote_addr: Any) -> Attempt:
    """The keys an attempt by `username` from `remote_addr` is counted under."""
    # the name gets half a key, so a pair key keeps (most of) its address
    name = fold(unicodedata.normalize("NFKC", safe_text(username, KEY_MAX // 2) or ""))
    addr = safe_text(remote_addr, REMOTE_ADDR_MAX) or "-"
    return Attempt(
        pair=f"p:{name}|{addr}"[:KEY_MAX],
        address=f"a:{addr}"[:KEY_MAX],
        username=f"u:{name}"[:KEY_MAX],
        known=f"k:{name}|{addr}"[:KEY_MAX],
    )


def _lock(conn: Connection, keys: list[str]) -> None:
    """Serialise attempts that share a key (SQLite's BEGIN IMMEDIATE already serialises every writer)."""
    if conn.dialect.name != "postgresql":
        return
    ids = sorted(
        {int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True) for key in keys}
    )
    for lock_id in ids:  # always in the same order: two attempts never wait for each other in a cycle
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


lock_keys = _lock  # the same lock for other counters kept per key (an administrator's emails to one user)


def _times(conn: Connection, key: str, since: datetime) -> list[datetime]:
    return list(
        conn.execute(
            select(login_failures.c.time)
            .where(login_failures.c.key == key, login_failures.c.time > since)
            .order_by(login_failures.c.time)
        ).scalars()
    )


def _wait(ctx: Context, conn: Connection, attempt: Attempt, now: datetime) -> float:
    """Seconds until this attempt may be made (0: now)."""
    settings = ctx.settings
    window = timedelta(seconds=settings["SSO_LOGIN_FAILURE_WINDOW"])
    since = now - window
    waits = [0.0]
    for key, limit in (
        (attempt.pair, settings["SSO_LOGIN_MAX_FAILURES"]),
        (attempt.address, settings["SSO_LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    ):
        if limit > 0:
            times = _times(conn, key, since)
            if len(times) >= limit:
                waits.append((times[len(times) - limit] + window - now).total_seconds())
    limit = settings["SSO_LOGIN_MAX_FAILURES_PER_USERNAME"]
    if limit > 0:
        times = _times(conn, attempt.username, since)
        excess = len(times) - limit + 1
        if excess > 0 and not _is_known(ctx, conn, attempt, now):
            delay = min(2.0 ** min(excess - 1, 30), settings["SSO_LOGIN_MAX_DELAY"])
            waits.append((times[-1] + timedelta(seconds=delay) - now).total_seconds())
    return max(waits)


def _is_known(ctx: Context, conn: Connection, attempt: Attempt, now: datetime) -> bool:
    since = now - timedelta(days=ctx.settings["SSO_LOGIN_KNOWN_ADDRESS_DAYS"])
    return (
        conn.execute(
            select(login_failures.c.id)
            .where(login_failures.c.key == attempt.known, login_failures.c.time > since)
            .limit(1)
        ).first()
        is not None
    )


def _is_on(ctx: Context) -> bool:
    return ctx.settings["SSO_LOGIN_MAX_FAILURES"] > 0


def begin_attempt(
    ctx: Context, username: Any, remote_addr: Any, now: datetime, *, field_name: str = "password"
) -> Attempt | None:
    """Count an attempt before its password is checked, or raise "sign-in paused" (HTTP 429) with the
    seconds to wait. Returns None when throttling is off."""
    if not _is_on(ctx):
        return None
    attempt = attempt_keys(username, remote_addr)
    window = timedelta(seconds=ctx.settings["SSO_LOGIN_FAILURE_WINDOW"])
    known_since = now - timedelta(days=ctx.settings["SSO_LOGIN_KNOWN_ADDRESS_DAYS"])
    with writing(ctx.engine) as conn:
        _lock(conn, [attempt.pair, attempt.address, attempt.username])
        wait = _wait(ctx, conn, attempt, now)
        if wait > 0:
            raise sign_in_paused(wait, field_name)
        # Marks that left the window (known-address marks after their days) are forgotten as we go.
        known = login_failures.c.key.like("k:%")
        conn.execute(
            delete(login_failures).where(
                or_(
                    and_(not_(known), login_failures.c.time <= now - window),
                    and_(known, login_failures.c.time <= known_since),
                )
            )
        )
        for key in (attempt.pair, attempt.address, attempt.username):
            attempt.mark_ids.append(
                conn.execute(
                    insert(login_failures).values(key=key, time=now).returning(login_failures.c.id)
                ).scalar_one()
            )
    return attempt


def succeeded(conn: Connection, attempt: Attempt | None, now: datetime) -> None:
    """The attempt was right: take its marks back, forget this pair's earlier failures (typos) and
    remember the address as known to this username. Runs inside the caller's write transaction."""
    if attempt is None:
        return
    conn.execute(
        delete(login_failures).where(
            or_(login_failures.c.id.in_(attempt.mark_ids), login_failures.c.key.in_([attempt.known, attempt.pair]))
        )
    )
    conn.execute(insert(login_failures).values(key=attempt.known, time=now))


def took_back(ctx: Context, attempt: Attempt | None) -> None:
    """The attempt was not a guess after all (the password was right but something else stopped it,
    e.g. a password that must change): take its marks back without remembering the address."""
    if attempt is None:
        return
    with writing(ctx.engine) as conn:
        conn.execute(delete(login_failures).where(login_failures.c.id.in_(attempt.mark_ids)))


def check_current_password(
    ctx: Context, user: Any, password: Any, remote_addr: Any, *, field_name: str, message: str = _t("is not right")
) -> None:
    """The one check of a signed-in person's current password (change-password, turning two-factor
    sign-in on or off, new recovery codes, ...): counted like a sign-in of that username from that address
    before the password is checked, so a stolen session cannot guess it without limit; a wrong one is
    `E005001` on `field_name`, a pause "sign-in paused" (HTTP 429). A right one takes its marks back.

    Call it outside any write transaction of the caller (SQLite has one writer at a time)."""
    now = ctx.clock()
    attempt = begin_attempt(ctx, user["username"], remote_addr, now, field_name=field_name)
    if not isinstance(password, str) or not verify_password(password, user["password_hash"]):
        raise SSOError.single(Kind.forbidden, Code.auth_invalid, field_name, message)
    if attempt is not None:
        with writing(ctx.engine) as conn:
            succeeded(conn, attempt, now)
