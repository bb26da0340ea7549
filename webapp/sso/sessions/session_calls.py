"""Sessions after login (SPEC §5, §9): logout, renew, verify, get, list, and ending one or all.

A session is named publicly by its `session_id` (random, not a secret: it cannot open the session).
Who may see or end a session: its owner, or a super-user. Ending a session is audited; so is a lock
ending them (as part of the lock's own record)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update

from ...db import reading, writing
from ..kernel.attributes import as_utc, fold, text_problem
from ..kernel.audit import change, record
from ..kernel.call import Call
from ..kernel.caller import UserCaller, authenticate, refuse_if_unusable, session_row
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError, no_such_session, no_such_user
from ..kernel.permissions import USERS_SESSIONS, USERS_VIEW, require, require_over
from ..kernel.required_actions import ANY
from ..kernel.rows import load_user
from ..kernel.tables import sessions, users
from ..kernel.texts import _t

SESSION_FIELDS = (
    "session_id",
    "user_id",
    "current_app",
    "remote_addr",
    "user_agent",
    "creation_time",
    "expiration_time",
    "last_use_time",
)


def session_view(row: Any, current_pk: int | None) -> dict[str, Any]:
    """A session as it is shown: its public id, where and when, and whether it is the caller's own."""
    shown: dict[str, Any] = {name: row[name] for name in SESSION_FIELDS}
    for name in ("creation_time", "expiration_time", "last_use_time"):
        shown[name] = as_utc(shown[name])
    shown["is_current"] = row["id"] == current_pk
    return shown


def logout(ctx: Context, call: Call) -> None:
    """End the session behind `current_ust`; always succeeds, so USTs cannot be probed."""
    digest = ctx.codec.session_hash_of(call.ust)
    if digest is not None:
        with writing(ctx.engine) as conn:
            conn.execute(delete(sessions).where(sessions.c.session_hash == digest))


def renew(ctx: Context, call: Call) -> datetime:
    """Extend a live session by the session lifetime from now; returns the new expiration time."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, touch=False, completes=ANY)
    now = ctx.clock()
    expiration = now + timedelta(seconds=ctx.settings["SSO_SESSION_TTL"])
    with writing(ctx.engine) as conn:
        conn.execute(
            update(sessions)
            .where(sessions.c.id == caller.session_id)
            .values(expiration_time=expiration, last_use_time=now)
        )
    return expiration


def _target_row(ctx: Context, conn: Connection, caller: UserCaller, target_ust: Any):
    """The session behind `target_ust` (or None); E005001 when it is another user's and the caller
    lacks `users.view`."""
    row = session_row(ctx, conn, target_ust)
    if row is not None and row["user_id"] != caller.user_id:
        require(caller, USERS_VIEW)
    return row


def _is_usable(row: Any, now: datetime) -> bool:
    if row["expiration_time"] <= now or row["approval_status"] != "approved" or not row["is_active"]:
        return False
    try:
        refuse_if_unusable(row, now)
    except SSOError:
        return False
    return True


def verify_session(ctx: Context, call: Call, target_ust) -> bool:
    """Whether `target_ust` would be accepted now (super-users: anyone's; others: their own). Never renews
    it, nor counts as its use."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        row = _target_row(ctx, conn, caller, target_ust)
        return row is not None and _is_usable(row, ctx.clock())


def _live_row(conn: Connection, session_pk: int, now: datetime):
    query = select(sessions).where(sessions.c.id == session_pk, sessions.c.expiration_time > now)
    return conn.execute(query).mappings().first()


def get_session(ctx: Context, call: Call, target_ust) -> dict[str, Any]:
    """The details of the live session behind `target_ust` (super-users: anyone's; others: their own)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        row = _target_row(ctx, conn, caller, target_ust)
        live = None if row is None else _live_row(conn, row["session_pk"], ctx.clock())
        if live is None:
            raise no_such_session("target_ust")
        return session_view(live, caller.session_id)


def list_sessions(ctx: Context, call: Call, user_id, *, target_ust=None) -> list[dict[str, Any]]:
    """The live sessions, newest first, of the caller, of `user_id`, or of the owner of `target_ust`
    (another user's: super-users only)."""
    if user_id is not None and target_ust is not None:
        raise SSOError(
            Kind.invalid,
            [Code.invalid_input],
            {"target_ust": "send either target_ust or user_id", "user_id": "send either target_ust or user_id"},
        )
    now = ctx.clock()
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        owner = _owner(ctx, conn, caller, user_id, target_ust, now)
        query = (
            select(sessions)
            .where(sessions.c.user_id == owner, sessions.c.expiration_time > now)
            .order_by(sessions.c.creation_time.desc(), sessions.c.id.desc())
        )
        return [session_view(row, caller.session_id) for row in conn.execute(query).mappings()]


def _owner(ctx: Context, conn: Connection, caller: UserCaller, user_id, target_ust, now: datetime) -> str:
    if target_ust is not None:
        row = _target_row(ctx, conn, caller, target_ust)
        if row is None or row["expiration_time"] <= now:
            raise no_such_session("target_ust")
        return row["user_id"]
    if user_id is None or user_id == caller.user_id:
        return caller.user_id
    require(caller, USERS_VIEW)
    if load_user(conn, user_id) is None:
        raise no_such_user()
    return user_id


def end_session(ctx: Context, call: Call, session_id) -> None:
    """End one live session by its public id: one's own, or anyone's as a super-user."""
    if not isinstance(session_id, str):
        raise SSOError.single(Kind.invalid, Code.invalid_input, "session_id", _t("must be a string"))
    with writing(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        now = ctx.clock()
        row = None
        if not text_problem(session_id):  # no id has one; PostgreSQL refuses NUL
            row = (
                conn.execute(
                    select(sessions).where(sessions.c.session_id == session_id, sessions.c.expiration_time > now)
                )
                .mappings()
                .first()
            )
        # Another user's session is as unknown to a regular user as one that does not exist.
        if row is None or (row["user_id"] != caller.user_id and not caller.holds(USERS_SESSIONS)):
            raise no_such_session("session_id")
        if row["user_id"] != caller.user_id:
            owner = load_user(conn, row["user_id"])
            if owner is not None:
                require_over(conn, caller, owner, "session_id")
        conn.execute(delete(sessions).where(sessions.c.id == row["id"]))
        record(
            conn,
            now=now,
            **call.audit(),
            action="end_session",
            actor_id=caller.user_id,
            target_id=row["user_id"],
            changes={"session": change(session_id, None)},
        )


def end_sessions(ctx: Context, call: Call, user_id) -> int:
    """End every session of `user_id` (super-users) or, with None or one's own id, every session of the
    caller but the current one. Returns how many ended."""
    with writing(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        own = user_id is None or user_id == caller.user_id
        if not own:
            require(caller, USERS_SESSIONS)
            owner = load_user(conn, user_id)
            if owner is None:
                raise no_such_user()
            require_over(conn, caller, owner)
        target = caller.user_id if own else user_id
        return _end_all(
            conn, ctx.clock(), target, keep=caller.session_id if own else None, **call.audit(), actor_id=caller.user_id
        )


def end_sessions_local(ctx: Context, username: str) -> int:
    """The command line: end every session of `username`; returns how many ended."""
    with writing(ctx.engine) as conn:
        row = conn.execute(select(users.c.user_id).where(users.c.username_search == fold(username))).first()
        if row is None:
            raise SSOError.single(Kind.not_found, Code.user_id_unknown, "username", _t("no such user"))
        return _end_all(
            conn,
            ctx.clock(),
            row.user_id,
            keep=None,
            cid="cli",
            actor_id=None,
            channel="cli",
            current_app=None,
            remote_addr=None,
            user_agent=None,
        )


def _end_all(conn: Connection, now: datetime, user_id: str, *, keep: int | None, **audit_context) -> int:
    ending = delete(sessions).where(sessions.c.user_id == user_id)
    if keep is not None:
        ending = ending.where(sessions.c.id != keep)
    count = conn.execute(ending).rowcount
    if count:
        record(
            conn,
            now=now,
            action="end_sessions",
            target_id=user_id,
            changes={"sessions": change(count, 0)},
            **audit_context,
        )
    return count
