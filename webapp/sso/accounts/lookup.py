"""Reading one user (SPEC §6): oneself, or anyone as a super-user."""

from __future__ import annotations

from sqlalchemy import select

from ...db import reading
from ..kernel.call import Call
from ..kernel.caller import authenticate
from ..kernel.context import Context
from ..kernel.errors import no_such_user, super_user_required
from ..kernel.presentation import UserData, user_view
from ..kernel.rows import load_user
from ..kernel.tables import users


def get_current_user(ctx: Context, call: Call) -> UserData:
    """The caller's own account, as their role may see it."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        return user_view(caller.user, caller.is_super_user)


def get_user_by_id(ctx: Context, call: Call, user_id) -> UserData:
    """A user by id: super-users any user, regular users only themselves."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        if user_id is None or user_id == caller.user_id:
            return user_view(caller.user, caller.is_super_user)
        if not caller.is_super_user:
            raise super_user_required()
        row = load_user(conn, user_id)
        if row is None:
            raise no_such_user()
        data = user_view(row, True)
        data.usernames = _usernames(conn, {row["locked_by"], row["approval_status_mod_by"]} - {None})
        return data


def _usernames(conn, ids: set[str]) -> dict[str, str]:
    """{user_id: username} for the users among `ids` that exist (one query)."""
    if not ids:
        return {}
    return dict(conn.execute(select(users.c.user_id, users.c.username).where(users.c.user_id.in_(ids))).all())
