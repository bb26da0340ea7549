"""Delete my account (SPEC §20): scheduled `SSO_DELETE_GRACE_DAYS` ahead, cancelled by the emailed link (with
the password) or by an administrator, carried out when due by `flask --app webapp sso delete-due` (cron).

Scheduling needs the password again; it locks the account at once (its sessions end, as a lock's do) and
sets `deletion_time`, in one transaction with its audit record (`deletion_scheduled`) and the outbox's
"deletion scheduled" notification (`ctx.notify`) carrying a single-use keep-my-account link (stored
hashed, valid until the deletion) when the account has an email. The last usable
super-user cannot schedule it (E008001). When due, the deletion is §8's (`accounts.lifecycle.delete_row`):
the audit keeps the record, with the person as the actor."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ...db import reading, writing
from ..accounts.guards import hold_super_users, require_a_usable_super_user, usable_super_users
from ..accounts.lifecycle import delete_row
from ..credentials.throttle import check_current_password
from ..email import tokens
from ..kernel.audit import change, record
from ..kernel.call import Call, local
from ..kernel.caller import authenticate, end_for_lock, forget_lock
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError, no_such_user, own_access
from ..kernel.permissions import USERS_DELETE, require, require_over
from ..kernel.rows import load_user
from ..kernel.tables import email_tokens, users
from ..kernel.texts import _t

UNDELETE = "undelete"  # the purpose of the emailed link that keeps the account
KEEP_PATH = "/account/keep/"  # the console page that link opens
SELF_DELETE_OFF = _t("deleting one's own account is turned off here (SSO_SELF_DELETE)")
WRONG_PASSWORD = _t("is not your current password")
LAST_SUPER_USER = _t("you are the last super-user who can log in: make another one first")


def link_refused() -> SSOError:
    """The one answer for a link that is forged, used, expired, or for an account no longer scheduled."""
    return SSOError.single(
        Kind.not_found, Code.invalid_input, "token", _t("this link is not valid any more (used, expired or never sent)")
    )


def _schedule_row(conn: Connection, target: Any, due: datetime, now: datetime) -> int:
    """Lock the account and set its deletion time (a conditional write on the version read); returns the
    sessions ended."""
    values = {"deletion_time": due, "version": users.c.version + 1, "last_modified": now}
    if not target["is_locked"]:
        values |= {"is_locked": True, "locked_time": now, "locked_by": target["user_id"]}
    done = conn.execute(
        update(users).where(users.c.user_id == target["user_id"], users.c.version == target["version"]).values(values)
    )
    if done.rowcount != 1:
        raise SSOError.single(
            Kind.precondition, Code.version_conflict, "version", _t("your account changed meanwhile, try again")
        )
    return end_for_lock(conn, target["user_id"], now)


def schedule_deletion(ctx: Context, call: Call, password) -> datetime:
    """Schedule the deletion of the caller's own account; returns when it is due."""
    if not ctx.settings.get("SSO_SELF_DELETE", True):
        raise SSOError.single(Kind.forbidden, Code.invalid_operation, "user_id", SELF_DELETE_OFF)
    now = ctx.clock()
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
    check_current_password(ctx, caller.user, password, call.remote_addr, field_name="password", message=WRONG_PASSWORD)
    with reading(ctx.engine) as conn:
        if caller.is_super_user and usable_super_users(conn) <= 1:  # said before any email goes out
            raise own_access("user_id", LAST_SUPER_USER)
    user = caller.user
    due = now + timedelta(days=ctx.settings.get("SSO_DELETE_GRACE_DAYS", 14))
    token = digest = None
    if user["email"]:
        token, digest = tokens.new_token()
    with writing(ctx.engine) as conn:
        target = load_user(conn, user["user_id"], lock=True)
        if target is None:
            raise no_such_user()
        if target["is_super_user"]:
            hold_super_users(conn)
        _schedule_row(conn, target, due, now)
        if target["is_super_user"]:
            require_a_usable_super_user(conn, "user_id")
        if digest is not None:
            conn.execute(
                insert(email_tokens).values(
                    token_hash=digest,
                    purpose=UNDELETE,
                    user_id=target["user_id"],
                    creation_time=now,
                    expiration_time=due,
                )
            )
        changes = {"deletion_time": change(None, due)}
        if not target["is_locked"]:
            changes["is_locked"] = change(False, True)
        if ctx.notify is not None and token is not None:  # through the outbox, in this transaction (SPEC §19)
            link = ctx.settings["SSO_PUBLIC_URL"] + KEEP_PATH + token
            ctx.notify.deletion_scheduled(conn, target, at=due, cancel_link=link)
        record(
            conn,
            now=now,
            **call.audit(),
            action="deletion_scheduled",
            actor_id=target["user_id"],
            target_id=target["user_id"],
            changes=changes,
        )
    return due


def _unschedule(conn: Connection, target: Any, now: datetime, call: Call, actor_id: str | None) -> None:
    """Clear the deletion time and the lock it set (a lock an administrator set stays), in the caller's
    transaction, audited (`deletion_cancelled`); the emailed links of the account stop working."""
    values: dict[str, Any] = {"deletion_time": None, "version": users.c.version + 1, "last_modified": now}
    changes = {"deletion_time": change(target["deletion_time"], None)}
    if target["is_locked"] and target["locked_by"] == target["user_id"]:
        values |= {"is_locked": False, "locked_time": None, "locked_by": None}
        changes["is_locked"] = change(True, False)
        forget_lock(conn, target["user_id"])
    conn.execute(update(users).where(users.c.user_id == target["user_id"]).values(values))
    conn.execute(
        update(email_tokens)
        .where(
            email_tokens.c.user_id == target["user_id"],
            email_tokens.c.purpose == UNDELETE,
            email_tokens.c.used_time.is_(None),
        )
        .values(used_time=now)
    )
    record(
        conn,
        now=now,
        **call.audit(),
        action="deletion_cancelled",
        actor_id=actor_id,
        target_id=target["user_id"],
        changes=changes,
    )


def cancel_deletion(ctx: Context, call: Call, user_id) -> None:
    """An administrator (`users.delete`, SPEC §20) cancels the scheduled deletion of `user_id` (their account
    is unlocked again when the schedule locked it). Nothing scheduled: E008002 naming `user_id`."""
    if user_id is None:
        raise SSOError.single(
            Kind.malformed,
            Code.invalid_input,
            "user_id",
            _t("is required: a scheduled deletion locks the account, so its owner cancels with the emailed link"),
        )
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
    require(caller, USERS_DELETE)
    with writing(ctx.engine) as conn:
        target = load_user(conn, user_id, lock=True)
        if target is None:
            raise no_such_user()
        require_over(conn, caller, target)
        if target["deletion_time"] is None:
            raise SSOError.single(
                Kind.invalid, Code.invalid_input, "user_id", _t("no deletion is scheduled for this user")
            )
        _unschedule(conn, target, ctx.clock(), call, caller.user_id)


def check_keep_link(ctx: Context, token) -> str:
    """The username an emailed keep-my-account link is for, while it works; else the link refusal."""
    with reading(ctx.engine) as conn:
        _row, user = _open(conn, token, ctx.clock())
    return user["username"]


def _open(conn: Connection, token: Any, now: datetime, *, lock: bool = False) -> tuple[Any, Any]:
    row = tokens.find(conn, UNDELETE, token, lock=lock)
    if row is None or row["used_time"] is not None or row["expiration_time"] <= now:
        raise link_refused()
    user = load_user(conn, row["user_id"], lock=lock)
    if user is None or user["deletion_time"] is None:
        raise link_refused()
    return row, user


def keep_account(ctx: Context, call: Call, token, password) -> str:
    """The emailed link with the password: cancel the deletion and unlock the account; returns the username
    (the person then signs in). A wrong password: E005001 naming `password` (the link stays usable)."""
    now = ctx.clock()
    with reading(ctx.engine) as conn:
        _row, user = _open(conn, token, now)
    # Counted like a sign-in of that username from that address (the link alone must not allow guessing).
    check_current_password(ctx, user, password, call.remote_addr, field_name="password", message=WRONG_PASSWORD)
    with writing(ctx.engine) as conn:
        _row, user = _open(conn, token, now, lock=True)
        _unschedule(conn, user, now, call, user["user_id"])
    return user["username"]


def delete_due(ctx: Context, *, now: datetime | None = None) -> list[tuple[str, str]]:
    """Carry out every deletion that is due (the operator's command, from cron): §8's delete, the person as
    the actor. Returns (username, outcome) per account: "deleted", or why not (the last usable super-user
    is kept, and stays scheduled)."""
    now = now or ctx.clock()
    with reading(ctx.engine) as conn:
        due = conn.execute(
            select(users.c.user_id, users.c.username)
            .where(users.c.deletion_time <= now)
            .order_by(users.c.deletion_time)
        ).all()
    outcomes = []
    call = local("delete-due")
    for user_id, username in due:
        try:
            with writing(ctx.engine) as conn:
                target = load_user(conn, user_id, lock=True)
                if target is None or target["deletion_time"] is None or target["deletion_time"] > now:
                    continue  # cancelled or deleted meanwhile
                delete_row(ctx, conn, target, actor_id=user_id, audit_context=call.audit())
        except SSOError as error:
            outcomes.append((username, "; ".join(error.errors.values()) or error.sub_status[0]))
            continue
        outcomes.append((username, "deleted"))
    return outcomes
