"""The permissions of SPEC §17: the fixed list, what each allows, the shipped roles, and the one check.

A caller's permissions are the union of their roles' (a super-user holds every one). Every operation
names the permission it needs once, here or where it is called, and asks `require(caller, name)`;
acting on another user also asks `require_over(conn, caller, target)`: a caller who is not a
super-user cannot act on a super-user or on someone holding a permission they lack.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, func, select

from .errors import Code, Kind, SSOError
from .tables import roles, user_roles, users
from .texts import _t

if TYPE_CHECKING:
    from .caller import Caller

USERS_VIEW = "users.view"
USERS_CREATE = "users.create"
USERS_EDIT = "users.edit"
USERS_LOCK = "users.lock"
USERS_APPROVE = "users.approve"
USERS_CREDENTIALS = "users.credentials"
USERS_SESSIONS = "users.sessions"
USERS_DELETE = "users.delete"
USERS_ATTRIBUTES = "users.attributes"
AUDIT_VIEW = "audit.view"
SCHEMA_MANAGE = "schema.manage"
ROLES_MANAGE = "roles.manage"
POLICIES_MANAGE = "policies.manage"

# The fixed list, in the order the console shows it, each with what it allows in words.
PERMISSIONS: dict[str, str] = {
    USERS_VIEW: _t("List and search users, open a user, see their sessions and history"),
    USERS_CREATE: _t("Create users"),
    USERS_EDIT: _t("Change a user's username, email and names"),
    USERS_LOCK: _t("Lock and unlock users"),
    USERS_APPROVE: _t("Approve and reject users, change their sign-up status"),
    USERS_CREDENTIALS: _t("Set passwords, password expiry and must-change, turn two-factor sign-in off"),
    USERS_SESSIONS: _t("Sign users out (end their sessions)"),
    USERS_DELETE: _t("Delete users"),
    USERS_ATTRIBUTES: _t("Manage users' Zato attributes, rate limits and linked API clients"),
    AUDIT_VIEW: _t("Read and export the audit across all users"),
    SCHEMA_MANAGE: _t("Manage profile field definitions"),
    ROLES_MANAGE: _t("Create, change and delete roles; grant and revoke them"),
    POLICIES_MANAGE: _t("Manage account policies and terms"),
}
ALL_PERMISSIONS = frozenset(PERMISSIONS)

# The roles the first migration creates (0009_roles.py keeps its own frozen copy); editable afterwards.
SHIPPED_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "helpdesk": (
        _t("Help desk: unlock accounts, reset passwords, sign people out"),
        (USERS_VIEW, USERS_LOCK, USERS_CREDENTIALS, USERS_SESSIONS),
    ),
    "auditor": (_t("Auditor: reads users and the audit, never writes"), (USERS_VIEW, AUDIT_VIEW)),
    "user-admin": (
        _t("User administrator: everything about users but deleting them"),
        tuple(name for name in PERMISSIONS if name.startswith("users.") and name != USERS_DELETE),
    ),
}

# The permission each updatable attribute of SPEC §3 needs when written on someone else's account.
ATTRIBUTE_PERMISSIONS: dict[str, str] = {
    "username": USERS_EDIT,
    "email": USERS_EDIT,
    "display_name": USERS_EDIT,
    "first_name": USERS_EDIT,
    "middle_name": USERS_EDIT,
    "last_name": USERS_EDIT,
    "is_locked": USERS_LOCK,
    "approval_status": USERS_APPROVE,
    "sign_up_status": USERS_APPROVE,
    "password_expiry": USERS_CREDENTIALS,
    "password_must_change": USERS_CREDENTIALS,
    "is_totp_enabled": USERS_CREDENTIALS,
    "totp_label": USERS_CREDENTIALS,
    "totp_key": USERS_CREDENTIALS,
    "is_rate_limit_active": USERS_ATTRIBUTES,
    "rate_limit_def": USERS_ATTRIBUTES,
    "required_actions": USERS_CREDENTIALS,  # SPEC §19
}


def attribute_permission(name: str) -> str:
    """The permission writing attribute `name` of another user needs (an attribute added later without
    an entry here needs `users.edit`)."""
    return ATTRIBUTE_PERMISSIONS.get(name, USERS_EDIT)


def split(text: str | None) -> frozenset[str]:
    """Permission or role names stored as one space-separated text (what the aggregate query returns)."""
    return frozenset((text or "").split())


def join(names: Iterable[str]) -> str:
    """Names stored as one space-separated text, sorted (so equal sets are equal texts)."""
    return " ".join(sorted(set(names)))


def refused(*permissions: str) -> SSOError:
    """E005001: the caller holds none of `permissions` (Zato's answer to a non-super-user), naming them."""
    return SSOError.single(
        Kind.forbidden,
        Code.auth_invalid,
        "permission",
        _t("your roles do not include %(permission)s", permission=permissions[0])
        if len(permissions) == 1
        else _t("your roles include none of %(permissions)s", permissions=", ".join(permissions)),
    )


def require(caller: Caller, permission: str) -> None:
    """E005001 unless the caller holds `permission` (a super-user holds every one)."""
    if not caller.holds(permission):
        raise refused(permission)


NOT_OVER = _t("you cannot act on an administrator who holds more than you")


def not_over(field: str = "user_id") -> SSOError:
    """E008001: the caller may not act on an account stronger than their own."""
    return SSOError.single(Kind.forbidden, Code.invalid_operation, field, NOT_OVER)


# Built once (statement cache): the user is a parameter.
_ROLES_OF = (
    select(roles.c.name, roles.c.permissions)
    .select_from(user_roles.join(roles, roles.c.name == user_roles.c.role))
    .where(user_roles.c.user_id == bindparam("b_user_id"))
    .order_by(roles.c.name)
)


def roles_of(conn: Connection, user_id: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The names of `user_id`'s roles (sorted) and the union of their permissions (not counting super-user)."""
    names: list[str] = []
    found: set[str] = set()
    for name, text in conn.execute(_ROLES_OF, {"b_user_id": user_id}).all():
        names.append(name)
        found |= split(text)
    return tuple(names), frozenset(found)


def permissions_of(conn: Connection, user_id: str) -> frozenset[str]:
    """The union of the permissions of `user_id`'s roles (not counting super-user)."""
    return roles_of(conn, user_id)[1]


# A user row read with `target_roles_column()` (rows.load_user(..., with_roles=True)) carries its roles'
# permissions under this key, so the role check below needs no query of its own.
TARGET_PERMISSIONS = "target_role_permissions"


def target_roles_column() -> Any:
    """A correlated subquery for a query on sso_user: the user's roles' permissions, space-separated (NULL
    when they hold none), labelled TARGET_PERMISSIONS."""
    return (
        select(func.aggregate_strings(roles.c.permissions, " "))
        .select_from(user_roles.join(roles, roles.c.name == user_roles.c.role))
        .where(user_roles.c.user_id == users.c.user_id)
        .scalar_subquery()
        .label(TARGET_PERMISSIONS)
    )


def require_over(conn: Connection, caller: Caller, target: Any, field: str = "user_id") -> None:
    """E008001 when a caller who is not a super-user acts on someone else who is stronger (§17)."""
    if caller.is_super_user or target["user_id"] == caller.user_id:
        return
    if TARGET_PERMISSIONS in target:  # read with the target's row
        held = split(target[TARGET_PERMISSIONS])
    else:
        held = permissions_of(conn, target["user_id"])
    if target["is_super_user"] or not held <= caller.permissions:
        raise not_over(field)
