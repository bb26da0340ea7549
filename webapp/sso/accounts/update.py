"""The update of SPEC §2 and §4: the seed's `update_current_user` / `update_user_by_id`.

How a write lands, in order:
1. the fast path: every check against one read, then the conditional UPDATE (`... WHERE version =
   :read`) and the audit INSERT; on SQLite the read is its own transaction so the write lock is held
   only for the write, on PostgreSQL both are one transaction (one round trip less, no row lock);
2. if the row moved in between (the UPDATE touched nothing; with profile fields written, also when the
   schema version moved: the conditional UPDATE checks it too), the write goes to
3. the locked path: the same checks again inside the write transaction with the schema version
   share-locked and the row locked, which cannot lose, writing only what still differs (so the audit's
   old values are the replaced ones); a caller who expected a version that is no longer the row's gets
   E011001 there.

The profile fields' definitions come from the process's copy while the schema version is the one it was
read at (`profile_rows.load_schema`: one read of one row per update instead of every definition).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, update
from sqlalchemy.exc import IntegrityError

from ...db import reading, writing
from ..kernel.attributes import ATTRIBUTES, check_values
from ..kernel.audit import SECRET_CHANGE, attribute_change, change, record
from ..kernel.call import Call, local
from ..kernel.caller import Caller, UserCaller, authenticate, end_for_lock, forget_lock, operator, pending_actions
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError, no_such_user, username_taken, version_conflict
from ..kernel.inputs import reject_unknown, require_mapping
from ..kernel.permissions import USERS_CREDENTIALS, USERS_VIEW, attribute_permission, require, require_over
from ..kernel.presentation import UserData, user_view
from ..kernel.profile_fields import ProfileSchema, check_profile_values, may, wire_value
from ..kernel.profile_rows import (
    SCHEMA_UNCHANGED,
    load_schema,
    load_values,
    profile_value_taken,
    taken_values,
    write_values,
    write_values_with_version,
)
from ..kernel.required_actions import (
    ANY,
    CHANGE_PASSWORD,
    COMPLETE_PROFILE,
    SET_UP_TWO_FACTOR,
    STORED_COLUMN,
    check_actions,
    gate,
    of_row,
    ordered,
    stored_of,
    write_stored,
)
from ..kernel.required_actions import KEY as ACTIONS_KEY
from ..kernel.rows import attribute_columns, changed, is_username_taken, load_user, side_effects
from ..kernel.tables import users
from ..kernel.texts import _t
from .guards import (
    hold_role_managers,
    hold_super_users,
    holds_role_management,
    refuse_removing_own_access,
    require_a_role_manager,
    require_a_usable_super_user,
    takes_access_away,
    usable_role_managers,
)


class Computed:
    """An update's data computed from the user as it stands, in the update's own read (SCIM's PATCH applies
    its operations to the user as the caller sees them): no read of its own before the update. `compute`
    may run twice (again on the locked path, against the row as it then is); it must only compute."""

    def __init__(self, compute: Callable[[UserData], Mapping[str, Any]]):
        self.compute = compute
        self.last: Mapping[str, Any] = {}

    def __call__(self, current: UserData) -> Mapping[str, Any]:
        self.last = dict(self.compute(current))  # empty: nothing changes (the user as it stands is answered)
        return self.last


class RowMoved(Exception):
    """The row's version changed between our read and our conditional write."""


class Target(dict):
    """The user row an update writes, with its profile fields: `schema` (the definitions read with it) and
    `profile` (field name → value, only those set)."""

    schema: ProfileSchema = ProfileSchema()
    profile: dict[str, Any]
    actions: list[str]  # the stored required actions (SPEC §19; change_password is password_must_change)

    @classmethod
    def read(cls, conn: Connection, row: Mapping[str, Any], schema: ProfileSchema) -> Target:
        target = cls(row)
        target.schema = schema
        target.profile = load_values(conn, schema, row["user_id"])
        # the caller's own row already holds them (read with the session); anyone else's are one indexed read
        stored = row.get(STORED_COLUMN, False)
        target.actions = stored_of(conn, row["user_id"]) if stored is False else ordered((stored or "").split())
        return target


def profile_view(target: Target, values: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """The profile fields of `target` its caller may view, with `values` (name → value) as they now stand."""
    return target.schema.visible(
        values,
        super_user=caller.is_super_user,
        is_self=caller.user_id == target["user_id"],
        roles=getattr(caller, "role_names", ()),
    )


def allowed_keys(schema: ProfileSchema) -> frozenset[str]:
    """Every key an update's data may hold: the built-in attributes and the active profile fields."""
    return frozenset(ATTRIBUTES) | schema.names() | {ACTIONS_KEY}


def split(clean: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(built-in attributes, profile fields) of a clean update (its required actions are in neither)."""
    builtin = {name: value for name, value in clean.items() if name in ATTRIBUTES}
    return builtin, {name: value for name, value in clean.items() if name not in ATTRIBUTES and name != ACTIONS_KEY}


def has_changes(ctx: Context, target: Target, clean: Mapping[str, Any]) -> bool:
    """Whether `clean` differs from what `target` holds, in a built-in attribute, a profile field or the
    stored required actions."""
    builtin, profile = split(clean)
    if ACTIONS_KEY in clean and set(clean[ACTIONS_KEY]) != set(target.actions):
        return True
    return bool(changed(target, builtin, ctx.codec)) or any(target.profile.get(k) != v for k, v in profile.items())


def taken(ctx: Context, user_id, data: Mapping) -> SSOError:
    """The conflict a unique constraint refused: a profile field's value another user holds (found again
    by reading), else the username."""
    with reading(ctx.engine) as conn:
        schema = load_schema(conn)
        errors = FieldErrors()
        clean = check_profile_values(
            schema, {k: v for k, v in data.items() if schema.get(k) is not None and k not in ATTRIBUTES}, errors
        )
        owner = user_id if isinstance(user_id, str) else None
        for name in taken_values(conn, schema, clean, owner):
            return profile_value_taken(name)
    return username_taken()


def update_user(
    ctx: Context,
    call: Call,
    user_id,
    data,
    *,
    expected_version,
    permission: str | None = None,
    unchanged: Mapping[str, Any] | None = None,
    restored_from: int | None = None,
) -> UserData:
    """Apply the partial `data` to `user_id` (None: the caller), as SPEC §4 says.

    `permission` (approve, reject, lock, unlock: Zato's super-user calls): a caller without it is
    refused with E005001 before anything else. `unchanged` (the console's save after a lost race):
    attribute → the value the caller last saw; the write is refused with E011001 only if one of those
    still differs, checked again under the row lock when the row moved, so saves of different fields
    merge however many run at once. `data` may be `Computed` (from the user as read by this update)."""
    data = data if isinstance(data, Computed) else require_mapping(data)
    audit_context = call.audit()
    if restored_from is not None:
        audit_context["restored_from"] = restored_from
    check = (call, user_id, data, expected_version, permission, unchanged)
    try:
        if ctx.engine.dialect.name == "sqlite":
            # SQLite has one writer: check outside the write lock, hold it only for the write.
            with reading(ctx.engine) as conn:
                caller, target, clean = check_update(ctx, conn, *check)
            if not has_changes(ctx, target, clean):
                view = user_view(target, caller.holds(USERS_VIEW), profile_view(target, target.profile, caller))
                view[ACTIONS_KEY] = of_row(target, target.actions)
                return view
            with writing(ctx.engine) as conn:
                return write_update(ctx, conn, caller, target, clean, audit_context)
        # PostgreSQL: the check and the conditional write in one transaction (no row lock: the
        # version condition still sees a save in between), one round trip of BEGIN/COMMIT less.
        with writing(ctx.engine) as conn:
            caller, target, clean = check_update(ctx, conn, *check)
            return write_update(ctx, conn, caller, target, clean, audit_context)
    except RowMoved:
        pass  # the locked path checks again, the expected version too, against the row as it now stands
    except IntegrityError:
        raise taken(ctx, user_id, data.last if isinstance(data, Computed) else data) from None
    try:
        with writing(ctx.engine) as conn:
            caller, target, clean = check_update(ctx, conn, *check, lock=True)
            return write_update(ctx, conn, caller, target, clean, audit_context)
    except RowMoved:  # under the row lock and the schema's share lock nothing can move it
        raise version_conflict() from None
    except IntegrityError:
        raise taken(ctx, user_id, data.last if isinstance(data, Computed) else data) from None


def update_local(ctx: Context, user_id: str, data: Mapping) -> UserData:
    """An update from the command line (no session; the audit's actor is nobody): the same value rules,
    side effects, guard rails, conditional write and audit as every other update, on the row locked."""
    data = require_mapping(data)
    reject_unknown(data, ATTRIBUTES)
    errors = FieldErrors()
    clean = check_values(dict(data), errors)
    errors.raise_if_any(Kind.invalid)
    audit_context = local().audit()
    try:
        with writing(ctx.engine) as conn:
            target = load_user(conn, user_id, lock=True)
            if target is None:
                raise no_such_user()
            if "username" in clean and is_username_taken(conn, clean["username"], target["user_id"]):
                raise username_taken()
            return write_update(ctx, conn, operator(), target, clean, audit_context)
    except IntegrityError:
        raise username_taken() from None


def check_update(
    ctx: Context,
    conn: Connection,
    call: Call,
    user_id,
    data: Mapping | Computed,
    expected_version,
    permission: str | None = None,
    unchanged: Mapping[str, Any] | None = None,
    *,
    lock: bool = False,
) -> tuple[UserCaller, Any, dict[str, Any]]:
    """Steps 3–8 of SPEC §4 against one consistent read, with the guard rails of §8 and §17 after the
    values; returns (caller, target, clean values).

    Who may write what (SPEC §17): on one's own account the self-editable attributes, and the others
    one holds the permission of; on another's, the attributes whose permission one holds (every field
    outside them is named at once, E008002 403), and never on an account stronger than one's own
    (E008001). With `lock`, the target row is read FOR UPDATE (inside a write transaction), after the
    schema version is share-locked (the order a definition change takes them in)."""
    schema = load_schema(conn, share=lock)
    if not isinstance(data, Computed):
        reject_unknown(data, allowed_keys(schema))
    caller = authenticate(ctx, conn, call, completes=ANY)
    naming_other = user_id is not None and user_id != caller.user_id
    # SPEC §19: one's own update completes a profile (or turns two-factor on); anything else waits.
    own = () if naming_other or permission else (COMPLETE_PROFILE, SET_UP_TWO_FACTOR)
    gate(pending_actions(caller), {*own, *call.completes})
    if permission is not None:
        require(caller, permission)
    if naming_other and not caller.is_administrator:
        raise SSOError.single(Kind.forbidden, Code.invalid_input, "user_id", _t("you may update only your own account"))
    if not isinstance(data, Computed):
        _may_write(caller, schema, data, naming_other)
    else:
        require(caller, USERS_VIEW)  # the data is computed from the user as the caller reads them
    if naming_other or lock:
        row = load_user(
            conn,
            user_id if naming_other else caller.user_id,
            lock=lock,
            with_roles=naming_other and not caller.is_super_user,
        )
    else:
        row = caller.user
    if row is None:
        raise no_such_user()
    target = Target.read(conn, row, schema)
    if naming_other:
        require_over(conn, caller, target)
    values: Mapping[str, Any]
    if isinstance(data, Computed):
        current = user_view(target, True, profile_view(target, target.profile, caller))
        current.fields = schema.active
        current.editable = frozenset(
            f.name
            for f in schema.active
            if may(f.edit, super_user=caller.is_super_user, is_self=not naming_other, roles=caller.role_names)
        )
        values = data(current)
        reject_unknown(values, allowed_keys(schema))
        _may_write(caller, schema, values, naming_other)
    else:
        values = data
    builtin, profile = split(values)
    errors = FieldErrors()
    clean = check_values(builtin, errors)
    clean.update(check_profile_values(schema, profile, errors))
    if ACTIONS_KEY in values:
        _check_actions(values, clean, errors)
    errors.raise_if_any(Kind.invalid)
    refuse_removing_own_access(caller.user_id, target, clean, ctx.clock())
    if "username" in clean and is_username_taken(conn, clean["username"], target["user_id"]):
        raise username_taken()
    for name in taken_values(conn, schema, split(clean)[1], target["user_id"]):
        raise profile_value_taken(name)
    if expected_version is not None and expected_version != target["version"]:
        raise version_conflict()
    if unchanged:
        shown = {**user_view(target, True), **profile_view(target, target.profile, operator())}
        if any(name not in shown or shown[name] != value for name, value in unchanged.items()):
            raise version_conflict()
    return caller, target, clean


def _check_actions(data: Mapping, clean: dict[str, Any], errors: FieldErrors) -> None:
    """`required_actions` (SPEC §19) as clean values: the stored ones under its key, `change_password` as
    `password_must_change` (which, sent too, must say the same)."""
    actions = check_actions(data[ACTIONS_KEY], errors)
    if actions is None:
        return
    must_change = CHANGE_PASSWORD in actions
    if "password_must_change" in clean and clean["password_must_change"] != must_change:
        errors.add(ACTIONS_KEY, _t("contradicts password_must_change (change_password is that flag)"))
        return
    clean["password_must_change"] = must_change
    clean[ACTIONS_KEY] = [action for action in actions if action != CHANGE_PASSWORD]


def _actions_after(target, clean: Mapping[str, Any], values_changed: Mapping[str, Any], profile: Mapping) -> list[str]:
    """The stored required actions once this update is written: those sent, less what it completes (two-factor
    turned on; every required profile field filled)."""
    after = list(clean.get(ACTIONS_KEY, target.actions))
    if values_changed.get("is_totp_enabled") is True and SET_UP_TWO_FACTOR in after:
        after.remove(SET_UP_TWO_FACTOR)
    filled = all(profile.get(f.name) is not None for f in target.schema.active if f.required)
    if COMPLETE_PROFILE in after and ACTIONS_KEY not in clean and filled:
        after.remove(COMPLETE_PROFILE)
    return after


def _may_write(caller: UserCaller, schema: ProfileSchema, data: Mapping[str, Any], naming_other: bool) -> None:
    """Who may write what (SPEC §16, §17): every key the caller may not change named at once (403)."""
    if caller.is_super_user:
        return
    errors = FieldErrors()
    for key in data:
        if key == ACTIONS_KEY:  # SPEC §19: set and cleared by administrators
            if not caller.holds(USERS_CREDENTIALS):
                errors.add(
                    key,
                    _t("you do not hold the permission to change this (%(permission)s)", permission=USERS_CREDENTIALS),
                )
            continue
        if key not in ATTRIBUTES:  # a profile field: its own edit set (SPEC §16)
            edit = schema.by_name[key].edit
            if not may(edit, super_user=False, is_self=not naming_other, roles=caller.role_names):
                errors.add(key, _t("you may not change this field"))
            continue
        needed = attribute_permission(key)
        if (naming_other or not ATTRIBUTES[key].self_editable) and not caller.holds(needed):
            errors.add(key, _t("you do not hold the permission to change this (%(permission)s)", permission=needed))
    errors.raise_if_any(Kind.forbidden)


# Built once; the changed columns come as parameters, so SQLAlchemy reuses one compiled form per set
# of changed columns instead of building and cache-keying a statement on every request.
_CONDITIONAL_UPDATE = (
    update(users)
    .where(users.c.user_id == bindparam("b_user_id"), users.c.version == bindparam("b_version"))
    .values(version=users.c.version + 1)
)
# The same, also writing profile fields: only while the definitions they were checked against are in force.
_CONDITIONAL_UPDATE_OF_PROFILE = _CONDITIONAL_UPDATE.where(SCHEMA_UNCHANGED)


def write_update(
    ctx: Context,
    conn: Connection,
    caller: Caller,
    target,
    clean: dict[str, Any],
    audit_context: dict[str, Any],
    *,
    also: dict[str, Any] | None = None,
    extra_changes: dict[str, Any] | None = None,
) -> UserData:
    """UPDATE the changed columns where the version is still the one read, and audit it (one transaction).

    `also`: columns that are no attribute, written in the same statement (e.g. the TOTP step just used);
    `extra_changes`: audit lines for what the caller changed beside the row (e.g. new recovery codes)."""
    builtin, profile = split(clean)
    values_changed = changed(target, builtin, ctx.codec)
    current_profile = target.profile if isinstance(target, Target) else {}
    profile_changed = {name: value for name, value in profile.items() if current_profile.get(name) != value}
    if not isinstance(target, Target):  # the command line's row
        target = Target(target)
        target.actions = stored_of(conn, target["user_id"])
        target.profile = {}
    actions_before = list(target.actions)
    actions_after = _actions_after(target, clean, values_changed, {**current_profile, **profile_changed})
    actions_changed = set(actions_after) != set(actions_before)
    if not values_changed and not profile_changed and not also and not actions_changed:
        view = user_view(target, caller.holds(USERS_VIEW), _shown(target, current_profile, caller))
        view[ACTIONS_KEY] = of_row(target, actions_before)
        return view
    now = ctx.clock()
    values: dict[str, Any] = {}
    for name, value in values_changed.items():
        values.update(attribute_columns(name, value, ctx.codec))
        values.update(side_effects(name, value, caller.user_id, now))
    values.update(also or {})
    values["last_modified"] = now
    guarding = takes_access_away(values_changed, now)
    guarding_super_user = guarding and bool(target["is_super_user"])
    managers_before = 0
    guarding_managers = guarding and holds_role_management(conn, target["user_id"])
    if guarding_managers:
        hold_role_managers(conn)
        managers_before = usable_role_managers(conn)
    elif guarding_super_user:
        hold_super_users(conn)
    schema = target.schema if profile_changed else None
    profile_writes = [(schema.by_name[n], v) for n, v in profile_changed.items()] if schema is not None else []
    if schema is not None and not values_changed and not also and conn.dialect.name == "postgresql":
        # Profile fields alone: the version's UPDATE and the values' upsert in one statement.
        if not write_values_with_version(
            conn, target["user_id"], target["version"], schema.version, now, profile_writes
        ):
            raise RowMoved()
        profile_writes = []
    else:
        keys = {"b_user_id": target["user_id"], "b_version": target["version"]}
        if schema is not None:
            keys["b_schema"] = schema.version
        statement = _CONDITIONAL_UPDATE if schema is None else _CONDITIONAL_UPDATE_OF_PROFILE
        if conn.execute(statement, {**values, **keys}).rowcount != 1:
            raise RowMoved()
    if guarding_super_user:
        require_a_usable_super_user(conn, next(iter(values_changed)))
    if guarding_managers:
        require_a_role_manager(conn, next(iter(values_changed)), managers_before)
    changes = {name: attribute_change(name, target[name], value) for name, value in values_changed.items()}
    if schema is not None:
        if profile_writes:
            write_values(conn, target["user_id"], profile_writes)
        for name, value in profile_changed.items():
            f = schema.by_name[name]
            old = wire_value(f, current_profile.get(name))
            changes[name] = dict(SECRET_CHANGE) if f.sensitive else change(old, wire_value(f, value))
    after_row = {**target, **values}
    if actions_changed:
        write_stored(conn, target["user_id"], actions_before, actions_after, now)
    if actions_changed or (ACTIONS_KEY in clean and "password_must_change" in values_changed):
        changes[ACTIONS_KEY] = change(of_row(target, actions_before), of_row(after_row, actions_after))
    if values_changed.get("is_locked") is True:  # the lock's audit record stands for the sessions it ended
        end_for_lock(conn, target["user_id"], now)
    elif values_changed.get("is_locked") is False:
        forget_lock(conn, target["user_id"])
    record(
        conn,
        now=now,
        action="update",
        actor_id=caller.user_id,
        target_id=target["user_id"],
        changes={**changes, **(extra_changes or {})},
        **audit_context,
    )
    _notify(ctx, conn, caller, after_row, target, values_changed)
    view = user_view(
        {**after_row, "version": target["version"] + 1},
        caller.holds(USERS_VIEW),
        _shown(target, {**current_profile, **profile_changed}, caller),
    )
    view[ACTIONS_KEY] = of_row(after_row, actions_after)
    return view


def _shown(target, values: Mapping[str, Any], caller: Caller) -> dict[str, Any] | None:
    return profile_view(target, values, caller) if isinstance(target, Target) else None


def _notify(ctx: Context, conn: Connection, caller: Caller, after, before, values_changed: dict[str, Any]) -> None:
    """The security notifications an update calls for (SPEC §19), in its transaction: the email changed (to the
    old address), two-factor on or off, locked or unlocked by someone else."""
    notify = ctx.notify
    if notify is None:
        return
    if "email" in values_changed and (before["email"] or "").casefold() != (values_changed["email"] or "").casefold():
        notify.email_changed(conn, after, before["email"], values_changed["email"])
    if "is_totp_enabled" in values_changed:
        notify.two_factor_changed(conn, after, on=bool(values_changed["is_totp_enabled"]))
    if "is_locked" in values_changed and caller.user_id != before["user_id"]:
        notify.lock_changed(conn, after, locked=bool(values_changed["is_locked"]))
