"""Reading one user (SPEC §6): oneself, or anyone as a super-user."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from ...db import reading
from ..kernel.call import Call
from ..kernel.caller import UserCaller, authenticate, pending_actions
from ..kernel.context import Context
from ..kernel.errors import no_such_user
from ..kernel.permissions import USERS_VIEW, require, roles_of
from ..kernel.presentation import UserData, user_view
from ..kernel.profile_rows import shown_profile
from ..kernel.required_actions import ANY, KEY, pending_of
from ..kernel.rows import load_user
from ..kernel.tables import users


def get_current_user(ctx: Context, call: Call) -> UserData:
    """The caller's own account, as their role may see it (also while required actions wait: it says which)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call, completes=ANY)
        return _own(conn, caller)


def _own(conn, caller: UserCaller) -> UserData:
    profile = shown_profile(
        conn, caller.user_id, super_user=caller.is_super_user, is_self=True, roles=caller.role_names
    )
    data = user_view(caller.user, caller.holds(USERS_VIEW), profile)
    data.permissions = caller.permissions
    data.role_names = tuple(sorted(caller.role_names))
    data[KEY] = pending_actions(caller)
    return data


def get_user_by_id(ctx: Context, call: Call, user_id) -> UserData:
    """A user by id: anyone with `users.view`; others only themselves. With their roles, and whether they
    hold more than the caller (what the console may offer to change)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        if user_id is None or user_id == caller.user_id:
            return _own(conn, caller)
        require(caller, USERS_VIEW)
        row = load_user(conn, user_id)
        if row is None:
            raise no_such_user()
        profile = shown_profile(
            conn, row["user_id"], super_user=caller.is_super_user, is_self=False, roles=caller.role_names
        )
        data = user_view(row, True, profile)
        data[KEY] = pending_of(conn, row)
        data.role_names, permissions = roles_of(conn, user_id)
        data.stronger_than_reader = not caller.is_super_user and (
            bool(row["is_super_user"]) or not permissions <= caller.permissions
        )
        data.usernames = _usernames(conn, {row["locked_by"], row["approval_status_mod_by"]} - {None})
        return data


# Built once (Manage user and the console's save read it on every request): the ids are bound as an expanding
# parameter, so SQLAlchemy reuses one compiled form instead of building and cache-keying the statement per call.
_USERNAMES = select(users.c.user_id, users.c.username).where(users.c.user_id.in_(bindparam("ids", expanding=True)))


def _usernames(conn, ids: set[str]) -> dict[str, str]:
    """{user_id: username} for the users among `ids` that exist (one query)."""
    if not ids:
        return {}
    return dict(conn.execute(_USERNAMES, {"ids": sorted(ids)}).all())
