"""Roles of SPEC §17: list, read, create, change and delete roles; a user's roles, granted and revoked.

Who may: reading roles needs `roles.manage` or `users.view` (a user's own roles: anyone); every write
needs `roles.manage`, and the guard rails (E008001): nobody creates, changes, grants or revokes a role
carrying a permission they do not hold; nobody grants to or revokes from an account stronger than
their own; nobody leaves the system without a usable account able to manage roles. A role is deleted
only while nobody holds it (the refusal names the holders). Every write is audited old -> new.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...db import reading, writing
from ..kernel.attributes import ROLE_DESCRIPTION_MAX, ROLE_NAME_MAX, text_problem
from ..kernel.audit import change, record
from ..kernel.call import Call, local
from ..kernel.caller import Caller, authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError, no_such_user
from ..kernel.inputs import reject_unknown, require_mapping
from ..kernel.permissions import PERMISSIONS, ROLES_MANAGE, USERS_VIEW, join, refused, require, require_over, split
from ..kernel.rows import load_user
from ..kernel.tables import roles, user_roles, users
from ..kernel.texts import _t, at_most_characters
from .guards import hold_role_managers, require_a_role_manager, usable_role_managers

ROLE_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")
ROLE_KEYS = ("name", "description", "permissions")
# The audit's target for a role (no user id starts so: they are `zusr...`).
ROLE_TARGET = "role:"


def no_such_role(field: str = "role") -> SSOError:
    """E008002 (404): no role has this name."""
    return SSOError.single(Kind.not_found, Code.invalid_input, field, _t("no such role"))


def _role_row(conn: Connection, name: Any, *, lock: bool = False) -> Any:
    """The role named `name`, or None (also for a name no role can have: the database is not asked)."""
    if not isinstance(name, str) or len(name) > ROLE_NAME_MAX or not ROLE_NAME.match(name):
        return None
    query = select(roles).where(roles.c.name == name)
    return conn.execute(query.with_for_update() if lock else query).mappings().first()


def _holders(conn: Connection, name: str) -> list[dict[str, str]]:
    query = (
        select(users.c.user_id, users.c.username)
        .join(user_roles, user_roles.c.user_id == users.c.user_id)
        .where(user_roles.c.role == name)
        .order_by(users.c.username_search)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _shown(row: Any, holders: list[dict[str, str]] | None = None) -> dict[str, Any]:
    permissions = split(row["permissions"])
    shown: dict[str, Any] = {
        "name": row["name"],
        "description": row["description"],
        "permissions": [name for name in PERMISSIONS if name in permissions],
    }
    if holders is not None:
        shown["holders"] = holders
    return shown


def _require_reader(caller: Caller) -> None:
    if not (caller.holds(ROLES_MANAGE) or caller.holds(USERS_VIEW)):
        raise refused(ROLES_MANAGE, USERS_VIEW)


def list_roles(ctx: Context, call: Call) -> list[dict[str, Any]]:
    """Every role, by name, with its permissions and how many hold it (`roles.manage` or `users.view`)."""
    with reading(ctx.engine) as conn:
        _require_reader(authenticate(ctx, conn, call))
        rows = conn.execute(select(roles).order_by(roles.c.name)).mappings().all()
        counts: dict[str, int] = dict(
            conn.execute(select(user_roles.c.role, func.count()).group_by(user_roles.c.role)).all()
        )
    return [{**_shown(row), "holder_count": counts.get(row["name"], 0)} for row in rows]


def get_role(ctx: Context, call: Call, name) -> dict[str, Any]:
    """One role with the users holding it (`roles.manage` or `users.view`)."""
    with reading(ctx.engine) as conn:
        _require_reader(authenticate(ctx, conn, call))
        row = _role_row(conn, name) if isinstance(name, str) else None
        if row is None:
            raise no_such_role("name")
        return _shown(row, _holders(conn, name))


def _check_name(name: Any, errors: FieldErrors) -> None:
    if not isinstance(name, str):
        errors.add("name", _t("is required") if name is None else "must be text")
    elif not name:
        errors.add("name", _t("must not be empty"))
    elif len(name) > ROLE_NAME_MAX:
        errors.add("name", at_most_characters(ROLE_NAME_MAX))
    elif not ROLE_NAME.match(name):
        errors.add("name", _t("must start with a lowercase letter and hold only a-z, 0-9, '.', '_' and '-'"))


def _check_description(description: Any, errors: FieldErrors) -> str:
    if not isinstance(description, str):
        errors.add("description", _t("must be text"))
        return ""
    problem = text_problem(description)
    if len(description) > ROLE_DESCRIPTION_MAX:
        problem = f"must be at most {ROLE_DESCRIPTION_MAX} characters"
    if problem:
        errors.add("description", problem)
    return description


def _check_permissions(value: Any, errors: FieldErrors) -> frozenset[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(name, str) for name in value):
        errors.add("permissions", _t("must be a list of permission names"))
        return frozenset()
    unknown = [name for name in value if name not in PERMISSIONS]
    if unknown:
        errors.add("permissions", _t("unknown permission: %(names)s", names=", ".join(sorted(set(unknown)))[:200]))
    if len(set(value)) != len(value):
        errors.add("permissions", _t("names a permission twice"))
    return frozenset(value)


def _require_holding(caller: Caller, permissions: frozenset[str], field: str = "permissions") -> None:
    """E008001 naming what the caller would hand out (or take away) without holding it."""
    lacking = sorted(permissions - caller.permissions)
    if lacking:
        raise SSOError.single(
            Kind.forbidden,
            Code.invalid_operation,
            field,
            "you cannot hand out or take away a permission you do not hold: " + ", ".join(lacking),
        )


def create_role(ctx: Context, call: Call, data: Any) -> dict[str, Any]:
    """A new role (`roles.manage`): `name` (required), `description`, `permissions` (a list)."""
    data = require_mapping(data)
    reject_unknown(data, ROLE_KEYS, lambda key: "is not a key of a role")
    errors = FieldErrors()
    _check_name(data.get("name"), errors)
    description = _check_description(data.get("description", ""), errors)
    permissions = _check_permissions(data.get("permissions", []), errors)
    with writing(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        require(caller, ROLES_MANAGE)
        errors.raise_if_any(Kind.invalid)
        _require_holding(caller, permissions)
        name = data["name"]
        if _role_row(conn, name) is not None:
            raise _name_taken()
        now = ctx.clock()
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(roles).values(
                        name=name, description=description, permissions=join(permissions), creation_time=now
                    )
                )
        except IntegrityError:
            raise _name_taken() from None
        shown = _shown({"name": name, "description": description, "permissions": join(permissions)})
        changes = {"name": change(None, name), "description": change(None, description)}
        changes["permissions"] = change(None, shown["permissions"])
        _record(conn, ctx, call, caller.user_id, "role_create", ROLE_TARGET + name, changes)
        return {**shown, "holders": []}


def _name_taken() -> SSOError:
    return SSOError.single(Kind.conflict, Code.invalid_input, "name", _t("a role with this name exists"))


def update_role(ctx: Context, call: Call, name: Any, data: Any) -> dict[str, Any]:
    """Change a role's `description` and/or `permissions` (`roles.manage`; the caller must hold every
    permission the role has before and after). A role is not renamed."""
    data = require_mapping(data)
    reject_unknown(
        data,
        ("description", "permissions"),
        lambda key: "cannot be changed" if key == "name" else "is not a key of a role",
    )
    errors = FieldErrors()
    description = _check_description(data["description"], errors) if "description" in data else None
    permissions = _check_permissions(data["permissions"], errors) if "permissions" in data else None
    with writing(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        require(caller, ROLES_MANAGE)
        errors.raise_if_any(Kind.invalid)
        row = _role_row(conn, name, lock=True) if isinstance(name, str) else None
        if row is None:
            raise no_such_role("name")
        old_permissions = split(row["permissions"])
        new_permissions = old_permissions if permissions is None else permissions
        _require_holding(caller, old_permissions | new_permissions)
        taking_management = ROLES_MANAGE in old_permissions and ROLES_MANAGE not in new_permissions
        before = 0
        if taking_management:
            hold_role_managers(conn)
            before = usable_role_managers(conn)
        values: dict[str, Any] = {}
        changes: dict[str, Any] = {}
        if description is not None and description != row["description"]:
            values["description"] = description
            changes["description"] = change(row["description"], description)
        if new_permissions != old_permissions:
            values["permissions"] = join(new_permissions)
            old_shown, new_shown = _shown(row)["permissions"], _shown({**row, **values})["permissions"]
            changes["permissions"] = change(old_shown, new_shown)
        if values:
            conn.execute(update(roles).where(roles.c.name == name).values(**values))
            if taking_management:
                require_a_role_manager(conn, "permissions", before)
            _record(conn, ctx, call, caller.user_id, "role_update", ROLE_TARGET + name, changes)
        return _shown({**row, **values}, _holders(conn, name))


def delete_role(ctx: Context, call: Call, name: Any) -> None:
    """Delete a role nobody holds (`roles.manage`); while anyone holds it, E008001 naming them."""
    with writing(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        require(caller, ROLES_MANAGE)
        row = _role_row(conn, name, lock=True) if isinstance(name, str) else None
        if row is None:
            raise no_such_role("name")
        _require_holding(caller, split(row["permissions"]))
        holders = _holders(conn, name)
        if holders:
            shown = ", ".join(holder["username"] for holder in holders[:10])
            more = f" and {len(holders) - 10} more" if len(holders) > 10 else ""
            raise SSOError.single(
                Kind.forbidden, Code.invalid_operation, "name", f"revoke it from its holders first: {shown}{more}"
            )
        conn.execute(delete(roles).where(roles.c.name == name))
        changes = {key: change(value, None) for key, value in _shown(row).items()}
        _record(conn, ctx, call, caller.user_id, "role_delete", ROLE_TARGET + name, changes)


def _role_names(conn: Connection, user_id: str) -> list[str]:
    query = select(user_roles.c.role).where(user_roles.c.user_id == user_id).order_by(user_roles.c.role)
    return list(conn.execute(query).scalars())


def user_roles_of(ctx: Context, call: Call, user_id) -> list[str]:
    """The names of the roles `user_id` holds (None: the caller's own; anyone else's: `users.view`)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        if user_id is None or user_id == caller.user_id:
            return sorted(caller.role_names)
        if not (caller.holds(USERS_VIEW) or caller.holds(ROLES_MANAGE)):
            raise refused(USERS_VIEW, ROLES_MANAGE)
        if load_user(conn, user_id) is None:
            raise no_such_user()
        return _role_names(conn, user_id)


def _grant_or_revoke(ctx: Context, call: Call, user_id: Any, role: Any, *, grant: bool) -> list[str]:
    errors = FieldErrors()
    if not isinstance(user_id, str) or not user_id:
        errors.add("user_id", _t("is required"))
    if not isinstance(role, str) or not role:
        errors.add("role", _t("is required"))
    if errors.errors:
        raise SSOError(Kind.malformed, errors.codes, errors.errors)
    with writing(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        require(caller, ROLES_MANAGE)
        row = _role_row(conn, role)
        if row is None:
            raise no_such_role()
        target = load_user(conn, user_id, lock=True)
        if target is None:
            raise no_such_user()
        _require_holding(caller, split(row["permissions"]), "role")
        require_over(conn, caller, target)
        return _change_grant(conn, ctx, call, target["user_id"], row, caller.user_id, grant=grant)


def _change_grant(
    conn: Connection, ctx: Context, call: Call, user_id: str, role_row: Any, actor_id: str | None, *, grant: bool
) -> list[str]:
    """Add or remove one grant under the §17 rail (the last usable role manager stays), audited."""
    role = role_row["name"]
    taking_management = not grant and ROLES_MANAGE in split(role_row["permissions"])
    before = 0
    if taking_management:
        hold_role_managers(conn)
        before = usable_role_managers(conn)
    held = _role_names(conn, user_id)
    if (role in held) == grant:
        return held
    if grant:
        conn.execute(insert(user_roles).values(user_id=user_id, role=role, grant_time=ctx.clock()))
        now_held = sorted({*held, role})
    else:
        conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id, user_roles.c.role == role))
        now_held = [name for name in held if name != role]
        if taking_management:
            require_a_role_manager(conn, "role", before)
    _record(
        conn, ctx, call, actor_id, "role_grant" if grant else "role_revoke", user_id, {"roles": change(held, now_held)}
    )
    return now_held


def grant_role(ctx: Context, call: Call, user_id, role) -> list[str]:
    """Give `user_id` the role (`roles.manage`, holding all of its permissions); their roles after."""
    return _grant_or_revoke(ctx, call, user_id, role, grant=True)


def revoke_role(ctx: Context, call: Call, user_id, role) -> list[str]:
    """Take the role from `user_id` (`roles.manage`, holding all of its permissions); their roles after."""
    return _grant_or_revoke(ctx, call, user_id, role, grant=False)


def grant_local(ctx: Context, user_id: str, role: str, *, grant: bool) -> list[str]:
    """The command line (the operator, as a super-user): grant or revoke a role by name."""
    with writing(ctx.engine) as conn:
        row = _role_row(conn, role)
        if row is None:
            raise no_such_role()
        return _change_grant(conn, ctx, local(), user_id, row, None, grant=grant)


def _record(
    conn: Connection, ctx: Context, call: Call, actor_id: str | None, action: str, target_id: str, changes: Mapping
) -> None:
    record(
        conn,
        now=ctx.clock(),
        **call.audit(),
        action=action,
        actor_id=actor_id,
        target_id=target_id,
        changes=dict(changes),
    )
