"""The account lifecycle of SPEC §8: approve, reject, lock, unlock (each the update of one attribute, so the
same rules, guard rails and audit, and a call that changes nothing writes nothing) and delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select

from ...db import reading, writing
from ..kernel.attributes import DERIVED, fold
from ..kernel.audit import change, record
from ..kernel.call import Call
from ..kernel.caller import authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError, no_such_user, own_access
from ..kernel.permissions import USERS_APPROVE, USERS_DELETE, USERS_LOCK, require, require_over
from ..kernel.presentation import FULL_VIEW, UserData
from ..kernel.rows import load_user
from ..kernel.tables import ended_sessions, required_actions, sessions, terms_acceptances, user_roles, users
from ..kernel.texts import _t
from .guards import (
    OWN_DELETE,
    hold_role_managers,
    hold_super_users,
    holds_role_management,
    require_a_role_manager,
    require_a_usable_super_user,
    usable_role_managers,
)
from .update import update_local, update_user


def _require_user_id(user_id: Any) -> None:
    if user_id is None:
        raise SSOError.single(Kind.malformed, Code.invalid_input, "user_id", _t("is required"))


# The permission each lifecycle call needs (SPEC §17), named once.
PERMISSION_OF = {"is_locked": USERS_LOCK, "approval_status": USERS_APPROVE}


def _set(ctx: Context, call: Call, user_id, data: dict[str, Any]) -> UserData:
    _require_user_id(user_id)
    return update_user(ctx, call, user_id, data, expected_version=None, permission=PERMISSION_OF[next(iter(data))])


def approve_user(ctx: Context, call: Call, user_id) -> UserData:
    """Approve `user_id` (super-users): they may log in, if nothing else stops them."""
    return _set(ctx, call, user_id, {"approval_status": "approved"})


def reject_user(ctx: Context, call: Call, user_id) -> UserData:
    """Reject `user_id` (super-users): they cannot log in, and their sessions stop working."""
    return _set(ctx, call, user_id, {"approval_status": "rejected"})


def lock_user(ctx: Context, call: Call, user_id) -> UserData:
    """Lock `user_id` (super-users): they cannot log in, and their sessions end."""
    return _set(ctx, call, user_id, {"is_locked": True})


def unlock_user(ctx: Context, call: Call, user_id) -> UserData:
    """Unlock `user_id` (super-users): they may log in again (the sessions the lock ended stay ended)."""
    return _set(ctx, call, user_id, {"is_locked": False})


def delete_user(ctx: Context, call: Call, user_id) -> None:
    """Delete `user_id` (super-users) with everything that hangs off the account, in one transaction; the
    audit keeps the record as it was."""
    _require_user_id(user_id)
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
    require(caller, USERS_DELETE)
    if user_id == caller.user_id:
        raise own_access("user_id", OWN_DELETE)
    with writing(ctx.engine) as conn:
        target = load_user(conn, user_id, lock=True)
        if target is None:
            raise no_such_user()
        require_over(conn, caller, target)
        delete_row(ctx, conn, target, actor_id=caller.user_id, audit_context=call.audit())


def delete_row(
    ctx: Context, conn: Connection, target: Any, *, actor_id: str | None, audit_context: dict[str, Any]
) -> None:
    """Inside a write transaction, with `target` read FOR UPDATE: delete the user and everything keyed to them,
    keep a usable super-user and a role manager (E008001, rolled back), and audit the record as it was
    (SPEC §8; also the deletion a person scheduled, when due, with themself as the actor)."""
    user_id = target["user_id"]
    managing = holds_role_management(conn, user_id)
    managers_before = 0
    if managing:
        hold_role_managers(conn)
        managers_before = usable_role_managers(conn)
    elif target["is_super_user"]:
        hold_super_users(conn)
    # Sessions (and anything else keyed to the user) also go by ON DELETE CASCADE; said here so it
    # does not depend on SQLite's foreign-key pragma.
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
    conn.execute(delete(ended_sessions).where(ended_sessions.c.user_id == user_id))
    conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id))
    conn.execute(delete(required_actions).where(required_actions.c.user_id == user_id))
    conn.execute(delete(terms_acceptances).where(terms_acceptances.c.user_id == user_id))
    conn.execute(delete(users).where(users.c.user_id == user_id))
    if target["is_super_user"]:
        require_a_usable_super_user(conn, "user_id")
    if managing:
        require_a_role_manager(conn, "user_id", managers_before)
    record(
        conn,
        now=ctx.clock(),
        **audit_context,
        action="delete",
        actor_id=actor_id,
        target_id=user_id,
        changes={
            name: change(target[name], None) for name in FULL_VIEW if name not in DERIVED and target[name] is not None
        },
    )


def user_id_of(ctx: Context, username: str) -> str:
    """The command line names users by username: their id, or E001100."""
    with reading(ctx.engine) as conn:
        row = conn.execute(select(users.c.user_id).where(users.c.username_search == fold(username))).first()
    if row is None:
        raise SSOError.single(Kind.not_found, Code.user_id_unknown, "username", _t("no such user"))
    return row.user_id


def unlock_local(ctx: Context, username: str) -> UserData:
    """The command line: unlock `username` (the way back for a locked-out administrator)."""
    return update_local(ctx, user_id_of(ctx, username), {"is_locked": False})


def list_local(ctx: Context) -> list[dict[str, Any]]:
    """The command line: every user, by username, with what decides whether they can log in."""
    columns = (
        users.c.username,
        users.c.user_id,
        users.c.is_super_user,
        users.c.approval_status,
        users.c.is_locked,
        users.c.sign_up_status,
        users.c.email,
    )
    with reading(ctx.engine) as conn:
        return [dict(row) for row in conn.execute(select(*columns).order_by(users.c.username_search)).mappings()]
