"""The guard rails of SPEC §8: nobody removes their own access, and some super-user can always log in;
and of §17: somebody who can log in can always manage roles (a usable super-user, or a holder of
`roles.manage`).

Both are checked by the service, so no face (console, API, Python, command line) can get round them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from ..kernel.errors import Code, FieldErrors, Kind, own_access
from ..kernel.permissions import ROLES_MANAGE
from ..kernel.tables import roles, user_roles, users
from ..kernel.texts import _t

# The changes that take a user's access away, each with the refusal a person sees about their own account.
_OWN_ACCESS = {
    "is_locked": (lambda value, now: value is True, _t("you cannot lock your own account")),
    "approval_status": (lambda value, now: value != "approved", _t("you cannot reject your own account")),
    "sign_up_status": (
        lambda value, now: value != "final",
        _t("you cannot put your own sign-up back before confirmation"),
    ),
    "password_expiry": (
        lambda value, now: value is not None and value <= now,
        _t("you cannot expire your own password"),
    ),
}


OWN_DELETE = _t("you cannot delete your own account")


def refused_on_own_account(name: str, value: Any, now: datetime) -> str | None:
    """Why setting `name` to `value` on one's own account is refused, or None when it is not (a face asks
    this to offer only what will be done)."""
    rule = _OWN_ACCESS.get(name)
    return rule[1] if rule is not None and rule[0](value, now) else None


def refuse_removing_own_access(
    caller_id: str | None, target: Mapping[str, Any], clean: Mapping[str, Any], now: datetime
) -> None:
    """E008001 naming every change in `clean` that would shut the caller out of their own account."""
    if caller_id is None or target["user_id"] != caller_id:
        return
    errors = FieldErrors()
    for name, value in clean.items():
        refusal = refused_on_own_account(name, value, now)
        if refusal is not None:
            errors.add(name, refusal, Code.invalid_operation)
    errors.raise_if_any(Kind.forbidden)


def takes_access_away(clean: Mapping[str, Any], now: datetime) -> bool:
    """Whether applying `clean` could stop a user from logging in."""
    return any(rule[0](clean[name], now) for name, rule in _OWN_ACCESS.items() if name in clean)


def hold_super_users(conn: Connection) -> None:
    """Lock every super-user's row (in one order, so two callers cannot deadlock) before a change that
    could leave none usable: two super-users locking each other at once then run one after the other.
    (SQLite's write transaction already excludes every other writer.)"""
    query = select(users.c.user_id).where(users.c.is_super_user.is_(True)).order_by(users.c.user_id)
    conn.execute(query.with_for_update()).all()


def usable_super_users(conn: Connection) -> int:
    """How many super-users could log in now (an expired password can be replaced at login, so it counts)."""
    query = (
        select(func.count())
        .select_from(users)
        .where(
            users.c.is_super_user.is_(True),
            users.c.is_active.is_(True),
            users.c.approval_status == "approved",
            users.c.is_locked.is_(False),
            users.c.sign_up_status == "final",
            users.c.password_is_set.is_(True),
        )
    )
    return conn.execute(query).scalar_one()


def require_a_usable_super_user(conn: Connection, field: str) -> None:
    """E008001 (the transaction rolls back) when no super-user could log in any more."""
    if usable_super_users(conn) == 0:
        raise own_access(field, _t("no super-user who can log in would be left"))


# --- SPEC §17: someone must be able to manage roles ---


def _role_manager_grants():
    """The grants of roles that carry `roles.manage` (a role's permissions are space-separated names)."""
    carrying = select(roles.c.name).where((" " + roles.c.permissions + " ").contains(f" {ROLES_MANAGE} "))
    return select(user_roles.c.user_id, user_roles.c.role).where(user_roles.c.role.in_(carrying.scalar_subquery()))


def hold_role_managers(conn: Connection) -> None:
    """Lock every super-user's row and every grant of a role carrying `roles.manage` (in one order, so
    two callers cannot deadlock) before a change that could leave nobody able to manage roles: two
    administrators revoking each other at the same instant then run one after the other."""
    hold_super_users(conn)
    grants = _role_manager_grants().order_by(user_roles.c.user_id, user_roles.c.role)
    conn.execute(grants.with_for_update()).all()


def usable_role_managers(conn: Connection) -> int:
    """How many accounts that could log in now hold `roles.manage` through a role."""
    holders = _role_manager_grants().with_only_columns(user_roles.c.user_id)
    query = (
        select(func.count(func.distinct(users.c.user_id)))
        .select_from(users)
        .where(
            users.c.user_id.in_(holders.scalar_subquery()),
            users.c.is_active.is_(True),
            users.c.approval_status == "approved",
            users.c.is_locked.is_(False),
            users.c.sign_up_status == "final",
            users.c.password_is_set.is_(True),
        )
    )
    return conn.execute(query).scalar_one()


def require_a_role_manager(conn: Connection, field: str, before: int) -> None:
    """E008001 when there were `before` usable holders of `roles.manage` and the change left none, and
    no usable super-user remains either."""
    if before > 0 and usable_role_managers(conn) == 0 and usable_super_users(conn) == 0:
        raise own_access(field, _t("nobody who can log in would be left able to manage roles"))


def holds_role_management(conn: Connection, user_id: str) -> bool:
    """Whether `user_id` holds `roles.manage` through one of their roles."""
    grants = _role_manager_grants().where(user_roles.c.user_id == user_id)
    return conn.execute(grants.limit(1)).first() is not None
