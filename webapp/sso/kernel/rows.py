"""Reading and writing user rows: new ids, loading a user, the columns and side effects an attribute writes."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from .attributes import ATTRIBUTES, fold, search_column, text_problem
from .permissions import target_roles_column
from .tables import users
from .tokens import TokenCodec


def new_user_id() -> str:
    """`zusr` + random base32, as Zato makes them."""
    return "zusr" + base64.b32encode(os.urandom(15)).decode().lower()


def new_session_id() -> str:
    """A session's public id: `zses` + random base32. Not a secret: it names a session, never opens one."""
    return "zses" + base64.b32encode(os.urandom(15)).decode().lower()


def load_user_by_username(conn: Connection, username: Any):
    """The user row whose username is `username` (case-insensitively), or None."""
    if not isinstance(username, str) or text_problem(username):
        return None
    return conn.execute(select(users).where(users.c.username_search == fold(username))).mappings().first()


def load_user(conn: Connection, user_id: Any, *, lock: bool = False, with_roles: bool = False):
    """The user row with `user_id` (FOR UPDATE with `lock`), or None. `with_roles` adds the user's roles'
    permissions to it (permissions.TARGET_PERMISSIONS) for `require_over`, in the same statement."""
    if not isinstance(user_id, str) or text_problem(user_id):  # no id has one; PostgreSQL refuses NUL
        return None
    statements = _USER_WITH_ROLES if with_roles else _USER
    return conn.execute(statements[lock], {"user_id": user_id}).mappings().first()


def _by_id(*columns: Any) -> tuple[Any, Any]:
    """(the statement, the same FOR UPDATE), built once: SQLAlchemy reuses their compiled forms."""
    statement = select(*columns).where(users.c.user_id == bindparam("user_id"))
    return statement, statement.with_for_update(of=users) if len(columns) > 1 else statement.with_for_update()


_USER = _by_id(users)
_USER_WITH_ROLES = _by_id(users, target_roles_column())  # the row locked, not the roles read with it


def current_value(target: Mapping, name: str, codec: TokenCodec) -> Any:
    """What `target` holds for an attribute (a write-only one decrypted, to compare with)."""
    return codec.unseal(target[name]) if ATTRIBUTES[name].write_only else target[name]


def changed(target: Mapping, clean: Mapping[str, Any], codec: TokenCodec) -> dict[str, Any]:
    """The values in `clean` that differ from what `target` holds."""
    return {name: value for name, value in clean.items() if current_value(target, name, codec) != value}


def is_username_taken(conn: Connection, username: str, own_id: str | None) -> bool:
    """Whether a user other than `own_id` has `username` (case-insensitively)."""
    query = select(users.c.user_id).where(users.c.username_search == fold(username))
    if own_id is not None:
        query = query.where(users.c.user_id != own_id)
    return conn.execute(query.limit(1)).first() is not None


def attribute_columns(name: str, value: Any, codec: TokenCodec | None = None) -> dict[str, Any]:
    """The columns one attribute writes: itself (a write-only one encrypted), and its search column kept in step."""
    if ATTRIBUTES[name].write_only:
        if codec is None:
            raise ValueError(f"{name} is stored encrypted: pass the codec")
        return {name: None if value is None else codec.seal(value)}
    columns = {name: value}
    if ATTRIBUTES[name].searchable:
        columns[search_column(name)] = fold(value)
    return columns


def side_effects(name: str, value: Any, actor_id: str | None, now: datetime) -> dict[str, Any]:
    """Columns that follow a change: who locked and when; who decided approval and when."""
    if name == "is_locked":
        return {"locked_time": now, "locked_by": actor_id} if value else {"locked_time": None, "locked_by": None}
    if name == "approval_status":
        return {"approval_status_mod_time": now, "approval_status_mod_by": actor_id}
    if name == "totp_key":  # the codes of a new key start afresh
        return {"totp_last_step": None}
    return {}
