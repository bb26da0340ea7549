"""Creating users (SPEC §5): by a super-user through the API, or from the command line."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.exc import IntegrityError

from ...db import reading, writing
from ..kernel.attributes import ATTRIBUTES, REMOTE_ADDR_MAX, check_values, safe_text
from ..kernel.audit import SECRET_CHANGE, attribute_change, change, record
from ..kernel.call import Call, local
from ..kernel.caller import authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, username_taken
from ..kernel.inputs import reject_unknown, require_input, require_mapping
from ..kernel.password_rules import password_columns, password_problem
from ..kernel.permissions import USERS_APPROVE, USERS_CREATE, attribute_permission, require
from ..kernel.presentation import UserData, user_view
from ..kernel.profile_fields import ProfileSchema, check_profile_values, wire_value
from ..kernel.profile_rows import load_schema, profile_value_taken, taken_values, write_value
from ..kernel.ratelimit import RATE_LIMIT_KEYS, check_rate_limit_input
from ..kernel.required_actions import KEY as ACTIONS_KEY
from ..kernel.required_actions import ask_newcomer, of_row
from ..kernel.rows import attribute_columns, is_username_taken, new_user_id, side_effects
from ..kernel.tables import users
from ..kernel.texts import _t
from ..kernel.tokens import new_totp_key

CREATE_KEYS = (
    "username",
    "password",
    "email",
    "display_name",
    "first_name",
    "middle_name",
    "last_name",
    "password_must_change",
    "is_locked",
    "is_totp_enabled",
    "totp_label",
    "totp_key",
    "auto_approve",
    "sign_up_status",
    "external_id",
    *RATE_LIMIT_KEYS,
)


def refuse_keys_outside_permissions(caller, data) -> None:
    """E008002 (403) naming every key of a new user whose permission the caller lacks (SPEC §17): a new
    account's name, email, names and password come with `users.create`; its state (locked, approved,
    sign-up status), credentials settings and rate limit need the permission that changes them later."""
    errors = FieldErrors()
    for key in data:
        needed = USERS_APPROVE if key == "auto_approve" else attribute_permission(key)
        if key not in _CREATED_WITH_THE_USER and not caller.holds(needed):
            errors.add(key, _t("you do not hold the permission to set this (%(permission)s)", permission=needed))
    errors.raise_if_any(Kind.forbidden)


_CREATED_WITH_THE_USER = ("username", "password", "email", "display_name", "first_name", "middle_name", "last_name")


def create_user(ctx: Context, call: Call, data, *, check_only: bool = False) -> UserData | None:
    """Create a user (super-users only); returns the new user with its `user_id`.

    With `check_only`, every check runs (values, password rules, a taken username) and every problem
    is raised at once, but nothing is written and None is returned (a form can report all mistakes
    even when it refuses the input itself, e.g. two password boxes that differ)."""
    data = require_mapping(data)
    with reading(ctx.engine) as conn:
        schema = load_schema(conn)
        reject_unknown(
            data, frozenset(CREATE_KEYS) | schema.names(), lambda key: "is not an attribute a new user can be given"
        )
        caller = authenticate(ctx, conn, call)
    require(caller, USERS_CREATE)
    refuse_keys_outside_permissions(caller, data)
    if check_only:
        check_new_user(ctx, data, taken_too=True, schema=schema)
        return None
    return insert_user(ctx, call, data, actor_id=caller.user_id, super_user=False, schema=schema)


def create_local(
    ctx: Context, username: str, password: str | None, *, super_user: bool, email: str | None = None
) -> UserData:
    """Create an approved, sign-up-final user from the command line (the only way to a super-user)."""
    data: dict[str, Any] = {"username": username, "auto_approve": True}
    if email is not None:
        data["email"] = email
    if password is not None:
        data["password"] = password
    return insert_user(ctx, local(), data, actor_id=None, super_user=super_user)


def check_new_user(
    ctx: Context, data: Mapping, *, taken_too: bool = False, schema: ProfileSchema | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The checked attribute values (and, with `schema`, profile fields: the required ones must be given)
    and rate-limit columns of a new user; raises every problem at once (password included)."""
    require_input(data, "username")
    errors = FieldErrors()
    attrs = {key: value for key, value in data.items() if key in ATTRIBUTES}
    clean = check_values(attrs, errors)
    if schema is not None:
        profile = {key: value for key, value in data.items() if schema.get(key) is not None}
        clean.update(check_profile_values(schema, profile, errors))
        for f in schema.active:
            if f.required and f.name not in data:
                errors.add(f.name, _t("is required"))
    if type(data.get("auto_approve", False)) is not bool:
        errors.add("auto_approve", _t("must be true or false"))
    if "password" in data:
        problem = password_problem(
            data["password"],
            ctx.settings["SSO_PASSWORD_REJECT_LIST"],
            ctx.settings.get("SSO_PASSWORD_MIN_COMPLEXITY", 0),
        )
        if problem:
            errors.add("password", problem[1], problem[0])
    if taken_too and "username" in clean and "username" not in errors.errors:
        with reading(ctx.engine) as conn:
            if is_username_taken(conn, clean["username"], None):
                errors.add("username", _t("is already taken"), Code.username_exists)
    limits = check_rate_limit_input(data, errors)
    errors.raise_if_any(Kind.invalid)
    return clean, limits


def insert_user(
    ctx: Context,
    call: Call,
    data: Mapping,
    *,
    actor_id,
    super_user: bool,
    sign_up_status: str = "final",
    approved_by: str | None = None,
    action: str = "create",
    within: Callable[[Connection, dict], None] | None = None,
    schema: ProfileSchema | None = None,
) -> UserData:
    """Validate `data` (CREATE_KEYS), then insert the user and its audit record in one transaction.

    Sign-up passes its own `sign_up_status`, `approved_by` ("auto"), `action`, and `within`, which runs in
    the same transaction after the insert (its tokens; raising there writes nothing)."""
    clean, limits = check_new_user(ctx, data, schema=schema)
    profile = {name: value for name, value in clean.items() if name not in ATTRIBUTES and value is not None}
    auto_approve = data.get("auto_approve", False)
    now = ctx.clock()
    row: dict[str, Any] = {
        "user_id": new_user_id(),
        "is_super_user": super_user,
        "is_active": True,
        "is_internal": False,
        "is_locked": False,
        "password_must_change": False,
        "password_is_set": False,
        "is_totp_enabled": False,
        "sign_up_time": now,
        "last_modified": now,
        "sign_up_status": sign_up_status,
        "approval_status": "before_decision",
        "version": 1,
        "creation_ctx": {
            "channel": call.channel,
            "creator": actor_id,
            "remote_addr": safe_text(call.remote_addr, REMOTE_ADDR_MAX),
            "current_app": call.current_app,
        },
    }
    for name in ATTRIBUTES:
        if ATTRIBUTES[name].searchable:
            row.update(attribute_columns(name, clean.get(name)))
    for name in ("is_locked", "password_must_change", "is_totp_enabled", "totp_label", "sign_up_status", "external_id"):
        if name in clean:
            row[name] = clean[name]
    row.update(limits)
    # Every user has a TOTP key from the start, as in Zato: turning two-factor sign-in on needs no other step.
    row.update(attribute_columns("totp_key", clean.get("totp_key") or new_totp_key(), ctx.codec))
    if row["is_locked"]:
        row.update(side_effects("is_locked", True, actor_id, now))
    if auto_approve:
        row["approval_status"] = "approved"
    if auto_approve or actor_id is not None:
        # Who set the approval status and when, approved or waiting, as Zato: the creating super-user (issue
        # 31 #7); approved with no actor (the CLI, an auto-approved sign-up): "auto" (SPEC §14). A sign-up
        # waiting for a decision has none yet.
        row.update(side_effects("approval_status", row["approval_status"], approved_by or actor_id or "auto", now))
    if "password" in data:
        row.update(password_columns(ctx, data["password"], now, must_change=row["password_must_change"]))
    shown = {
        name: attribute_change(name, None, row[name]) if name in ATTRIBUTES else change(None, row[name])
        for name in (*ATTRIBUTES, "is_super_user", *RATE_LIMIT_KEYS)
        if row.get(name) is not None
    }
    fields = schema.by_name if schema is not None else {}  # (profile is empty without a schema)
    for name, value in profile.items():
        f = fields[name]
        shown[name] = dict(SECRET_CHANGE) if f.sensitive else change(None, wire_value(f, value))
    try:
        with writing(ctx.engine) as conn:
            if is_username_taken(conn, clean["username"], None):
                raise username_taken()
            if schema is not None:
                for name in taken_values(conn, schema, profile, None):
                    raise profile_value_taken(name)
            conn.execute(insert(users).values(**row))
            stored = ask_newcomer(conn, row["user_id"], now)  # SPEC §19: terms everyone must accept
            if stored:
                shown[ACTIONS_KEY] = change(None, of_row(row, stored))
            for name, value in profile.items():
                write_value(conn, row["user_id"], fields[name], value)
            if within is not None:
                within(conn, row)
            record(
                conn, now=now, **call.audit(), action=action, actor_id=actor_id, target_id=row["user_id"], changes=shown
            )
    except IntegrityError:
        if schema is not None:
            with reading(ctx.engine) as conn:
                for name in taken_values(conn, schema, profile, None):
                    raise profile_value_taken(name) from None
        raise username_taken() from None
    shown_profile = schema.visible(profile, super_user=True, is_self=False) if schema is not None else None
    view = user_view({name: row.get(name) for name in users.c.keys()}, True, shown_profile)  # noqa: SIM118
    view[ACTIONS_KEY] = of_row(row, stored)  # SPEC §19: change_password when the password must change
    return view
