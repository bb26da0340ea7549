"""Change-password and the command line's set-password (the rules are `kernel/password_rules.py`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update

from ...db import reading, writing
from ..kernel.audit import record
from ..kernel.call import Call
from ..kernel.caller import authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError, no_such_user
from ..kernel.inputs import reject_unknown, require_input, require_mapping
from ..kernel.password_rules import check_new_password, password_changes, password_columns
from ..kernel.permissions import USERS_CREDENTIALS, require_over
from ..kernel.required_actions import CHANGE_PASSWORD
from ..kernel.rows import load_user
from ..kernel.tables import sessions, users
from ..kernel.texts import _t
from .throttle import check_current_password

CHANGE_PASSWORD_KEYS = ("new_password", "old_password", "user_id", "password_expiry", "must_change")
EXPIRY_DAYS_MAX = 36500


def change_password(ctx: Context, call: Call, data) -> None:
    """Set a password (SPEC §5): one's own with the old one, anyone's as a super-user."""
    data = require_mapping(data)
    reject_unknown(data, CHANGE_PASSWORD_KEYS, lambda key: "is not a change-password input")
    require_input(data, "new_password")
    user_id = data.get("user_id")
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, completes=(CHANGE_PASSWORD,))
        own = user_id is None or user_id == caller.user_id
        if not own and not caller.holds(USERS_CREDENTIALS):
            raise SSOError.single(
                Kind.forbidden, Code.invalid_input, "user_id", _t("you may change only your own password")
            )
        target = caller.user if own else load_user(conn, user_id)
        if target is None:
            raise no_such_user()
        if not own:
            require_over(conn, caller, target)
    errors = FieldErrors()
    days = data.get("password_expiry")
    if days is not None and (type(days) is not int or not 1 <= days <= EXPIRY_DAYS_MAX):
        errors.add("password_expiry", _t("must be a whole number of days from 1 to %(num)d", num=EXPIRY_DAYS_MAX))
    must_change = data.get("must_change", False)
    if type(must_change) is not bool:
        errors.add("must_change", _t("must be true or false"))
    errors.raise_if_any(Kind.invalid)
    check_new_password(ctx, data["new_password"], "new_password")
    if own:
        # A guess at the old password counts like a failed login of this username from this address.
        check_current_password(ctx, target, data.get("old_password"), call.remote_addr, field_name="old_password")
    now = ctx.clock()
    columns = password_columns(ctx, data["new_password"], now, days, must_change)
    with writing(ctx.engine) as conn:
        conn.execute(
            update(users).where(users.c.user_id == target["user_id"]).values(**columns, version=users.c.version + 1)
        )
        ending = delete(sessions).where(sessions.c.user_id == target["user_id"])
        if own:
            ending = ending.where(sessions.c.id != caller.session_id)
        conn.execute(ending)
        record(
            conn,
            now=now,
            **call.audit(),
            action="change_password",
            actor_id=caller.user_id,
            target_id=target["user_id"],
            changes=password_changes(target, columns),
        )
        if ctx.notify is not None:
            ctx.notify.password_changed(conn, target, by_administrator=not own)


def set_password_local(ctx: Context, user_id: str, password: Any) -> None:
    """The command line: set `user_id`'s password (the rules of SPEC §5) and end all their sessions."""
    check_new_password(ctx, password, "password")
    now = ctx.clock()
    columns = password_columns(ctx, password, now)
    with writing(ctx.engine) as conn:
        target = load_user(conn, user_id, lock=True)
        if target is None:
            raise no_such_user()
        conn.execute(update(users).where(users.c.user_id == user_id).values(**columns, version=users.c.version + 1))
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
        record(
            conn,
            now=now,
            cid="cli",
            action="change_password",
            actor_id=None,
            target_id=user_id,
            channel="cli",
            current_app=None,
            remote_addr=None,
            user_agent=None,
            changes=password_changes(target, columns),
        )
        if ctx.notify is not None:
            ctx.notify.password_changed(conn, target, by_administrator=True)
