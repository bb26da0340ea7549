"""Administering profile fields (SPEC §16): define, change, reorder, retire, delete, export and import.

Every change is audited old → new (target `profile-schema`, one line per changed key, `NAME.KEY`), in
the change's transaction, which first moves the schema version (`profile_rows.hold_schema`). A change
stored values could break (`TIGHTENING_KEYS`) is checked against them after that, so a value write racing
it either lands before the check (and is counted) or finds the version moved and is checked again against
the new definition (`profile_rows.SCHEMA_UNCHANGED`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ...db import reading, writing
from ..kernel.audit import change, record
from ..kernel.call import Call, local
from ..kernel.caller import Caller, authenticate, operator
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError
from ..kernel.permissions import SCHEMA_MANAGE, require
from ..kernel.profile_fields import (
    DEFINITION_KEYS,
    TIGHTENING_KEYS,
    ProfileField,
    check_definition,
    check_field_value,
    definition_columns,
    field_from_row,
    may,
    search_key,
    stored_value,
)
from ..kernel.profile_rows import hold_schema, load_schema, write_value
from ..kernel.tables import profile_fields, profile_values, roles, users
from ..kernel.texts import _nt, _t

AUDIT_TARGET = "profile-schema"
OPERATOR_CALL = local("profile-schema")  # the command line's call: this very object, which no face can build
SCHEMA_CHANNEL = "schema"


@dataclass(frozen=True)
class DryRun:
    """What a change would do to stored values: how many users' values break it, and the first of them."""

    count: int
    first_user_id: str | None = None
    first_username: str | None = None
    clearable: bool = False  # the field may be cleared: the administrator can clear the violating values
    user_ids: tuple[str, ...] = ()


def _admin(ctx: Context, call: Call) -> Caller:
    """The caller, who must hold `schema.manage` (SPEC §17; super-users hold every permission)."""
    if call is OPERATOR_CALL:
        return operator()
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
    require(caller, SCHEMA_MANAGE)
    return caller


def no_such_field(name: Any) -> SSOError:
    return SSOError.single(
        Kind.not_found, Code.invalid_input, "name", _t("no profile field is called %(name)s", name=repr(str(name)[:64]))
    )


def list_fields(ctx: Context, call: Call) -> list[ProfileField]:
    """Every profile field (retired ones too), in form order."""
    _admin(ctx, call)
    with reading(ctx.engine) as conn:
        return list(load_schema(conn).fields)


def active_fields(ctx: Context) -> tuple[ProfileField, ...]:
    """The active fields' definitions, for documents about the API (no caller: nothing here is a value)."""
    with reading(ctx.engine) as conn:
        return load_schema(conn).active


def retired_fields(ctx: Context) -> tuple[ProfileField, ...]:
    """The retired fields' definitions (a form opened before one was retired may still carry it)."""
    with reading(ctx.engine) as conn:
        return tuple(f for f in load_schema(conn).fields if f.retired)


def editable_fields(ctx: Context, call: Call, user_id: str | None) -> tuple[ProfileField, ...]:
    """The active fields the caller may edit on `user_id`'s record (None: their own), for the forms."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        schema = load_schema(conn)
    is_self = user_id is None or user_id == caller.user_id
    roles = caller.role_names
    return tuple(f for f in schema.active if may(f.edit, super_user=caller.is_super_user, is_self=is_self, roles=roles))


def readable_fields(ctx: Context, call: Call, user_id: str | None) -> tuple[ProfileField, ...]:
    """The active fields the caller may view on `user_id`'s record (None: their own), for the forms (those among
    them the caller may not edit are drawn view-only)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        schema = load_schema(conn)
    is_self = user_id is None or user_id == caller.user_id
    roles = caller.role_names
    return tuple(f for f in schema.active if may(f.view, super_user=caller.is_super_user, is_self=is_self, roles=roles))


def viewable_fields(ctx: Context, call: Call) -> tuple[ProfileField, ...]:
    """The active fields the caller may view on other users' records (the user list's filters and columns)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        schema = load_schema(conn)
    super_user, roles = caller.is_super_user, caller.role_names
    return tuple(f for f in schema.active if may(f.view, super_user=super_user, is_self=False, roles=roles))


def define_field(ctx: Context, call: Call, data: Mapping[str, Any]) -> ProfileField:
    """Add a profile field (immediate: no value can break a new field)."""
    caller = _admin(ctx, call)
    with writing(ctx.engine) as conn:
        return _define(ctx, conn, call, caller, data)


def _define(ctx: Context, conn: Connection, call: Call, caller: Caller, data: Mapping[str, Any]) -> ProfileField:
    hold_schema(conn)
    schema = load_schema(conn)
    clean = check_definition(data, current=None, schema=schema, role_names=_role_names(conn))
    if "position" not in data:
        clean["position"] = max((f.position for f in schema.fields), default=-10) + 10
    conn.execute(insert(profile_fields).values(**definition_columns(clean), version=1))
    created = _load_field(conn, clean["name"])
    _audit(ctx, conn, call, caller, created.name, {}, created.definition())
    return created


def dry_run(ctx: Context, call: Call, name: str, data: Mapping[str, Any]) -> DryRun:
    """How many users' stored values the change `data` of field `name` would break (nothing written)."""
    _admin(ctx, call)
    with reading(ctx.engine) as conn:
        current = _require(conn, name)
        new = _proposed(conn, current, data)
        return violations(conn, current, new)


def change_field(
    ctx: Context, call: Call, name: str, data: Mapping[str, Any], *, clear_violations: bool = False
) -> ProfileField:
    """Change field `name`'s definition. Refused (E008002 naming the field) while stored values would break
    it, unless `clear_violations` and the field may be cleared: then each violating value is cleared by one
    audited update of its user (channel `schema`), in the same transaction."""
    caller = _admin(ctx, call)
    with writing(ctx.engine) as conn:
        return _change(ctx, conn, call, caller, name, data, clear_violations=clear_violations)


def _change(
    ctx: Context,
    conn: Connection,
    call: Call,
    caller: Caller,
    name: str,
    data: Mapping[str, Any],
    *,
    clear_violations: bool = False,
) -> ProfileField:
    hold_schema(conn)
    current = _require(conn, name, lock=True)
    new = _proposed(conn, current, data)
    found = violations(conn, current, new) if _tightens(current, new) else DryRun(0)
    if found.count and not (clear_violations and found.clearable):
        raise SSOError.single(Kind.invalid, Code.invalid_input, name, _refusal(found))
    for user_id in found.user_ids:
        _clear_value(ctx, conn, call, caller, user_id, current)
    before, after = current.definition(), new.definition()
    changed = {key: after[key] for key in DEFINITION_KEYS if before[key] != after[key]}
    if not changed:
        return current
    conn.execute(
        update(profile_fields)
        .where(profile_fields.c.id == current.id)
        .values(**_columns(changed), version=profile_fields.c.version + 1)
    )
    _rekey(conn, current, new)
    _audit(ctx, conn, call, caller, name, {key: before[key] for key in changed}, changed)
    return _load_field(conn, name)


def reorder(ctx: Context, call: Call, names: Iterable[str]) -> list[ProfileField]:
    """Put the fields in the order of `names` (those not named keep their order, after them)."""
    caller = _admin(ctx, call)
    names = list(names)
    with writing(ctx.engine) as conn:
        hold_schema(conn)
        schema = load_schema(conn)
        unknown = [n for n in names if not isinstance(n, str) or n not in schema.by_name]
        if unknown:
            raise no_such_field(unknown[0])
        order = list(dict.fromkeys(names)) + [f.name for f in schema.fields if f.name not in names]
        for index, field_name in enumerate(order):
            f = schema.by_name[field_name]
            if f.position != index * 10:
                conn.execute(
                    update(profile_fields)
                    .where(profile_fields.c.id == f.id)
                    .values(position=index * 10, version=profile_fields.c.version + 1)
                )
                _audit(ctx, conn, call, caller, field_name, {"position": f.position}, {"position": index * 10})
        return list(load_schema(conn).fields)


def retire_field(ctx: Context, call: Call, name: str, *, retired: bool = True) -> ProfileField:
    """Retire a field (hidden, no writes; its values kept), or bring it back."""
    return change_field(ctx, call, name, {"retired": retired})


def delete_field(ctx: Context, call: Call, name: str, confirm: Any) -> None:
    """Delete a field and every value of it; `confirm` must be the field's name, typed."""
    caller = _admin(ctx, call)
    if confirm != name:
        raise SSOError.single(Kind.invalid, Code.invalid_input, "confirm", _t("type the field's name to delete it"))
    with writing(ctx.engine) as conn:
        hold_schema(conn)
        current = _require(conn, name, lock=True)
        count = conn.execute(
            select(func.count()).select_from(profile_values).where(profile_values.c.field_id == current.id)
        ).scalar_one()
        conn.execute(delete(profile_values).where(profile_values.c.field_id == current.id))
        conn.execute(delete(profile_fields).where(profile_fields.c.id == current.id))
        before = current.definition()
        after: dict[str, Any] = {"deleted": True, "values_deleted": count}
        _audit(ctx, conn, call, caller, name, {"deleted": False, "values_deleted": None}, after, before_all=before)


def export_schema(ctx: Context, call: Call) -> list[dict[str, Any]]:
    """Every definition, as JSON-ready dicts (what `import_schema` reads)."""
    return [f.definition() for f in list_fields(ctx, call)]


def import_schema(ctx: Context, call: Call, definitions: Any, *, dry_run_only: bool = False) -> list[str]:
    """Make the stored definitions those of `definitions` (fields not listed are left alone): adds and
    changes, each as the administration would; returns the diff (one line per change, empty when none).
    All or nothing: every definition is applied in one transaction, and any refusal (every one of them,
    each named `FIELD` or `FIELD.KEY`) rolls back the whole import. A dry run does the very same and
    then rolls back, so it refuses exactly what the real run would. Idempotent: a second run finds
    nothing to do."""
    if not isinstance(definitions, list) or not all(isinstance(d, Mapping) for d in definitions):
        raise SSOError.single(
            Kind.invalid, Code.invalid_input, "definitions", _t("must be a list of field definitions")
        )
    caller = _admin(ctx, call)
    lines: list[str] = []
    try:
        with writing(ctx.engine) as conn:
            refusals = FieldErrors()
            for definition in definitions:
                name = definition.get("name")
                try:
                    with conn.begin_nested():  # a refused definition leaves nothing, the others go on being checked
                        lines.extend(_import_one(ctx, conn, call, caller, definition))
                except SSOError as e:
                    for key, message in e.errors.items():
                        named = key if key == name or not isinstance(name, str) else f"{name}.{key}"
                        refusals.add(named, message, e.sub_status[0] if e.sub_status else Code.invalid_input)
            refusals.raise_if_any(Kind.invalid)
            if dry_run_only:
                raise _DryRunDone
    except _DryRunDone:
        pass
    return lines


class _DryRunDone(Exception):
    """Ends a dry run's transaction by rolling it back (everything was applied and checked)."""


def _import_one(ctx: Context, conn: Connection, call: Call, caller: Caller, definition: Mapping[str, Any]) -> list[str]:
    """Apply one imported definition in `conn`'s transaction; its diff lines."""
    name = definition.get("name")
    schema = load_schema(conn)
    current = schema.by_name.get(name) if isinstance(name, str) else None
    if current is None:
        _define(ctx, conn, call, caller, definition)
        return [f"+ {name}"]
    data = {key: value for key, value in definition.items() if key != "name"}
    before = current.definition()
    proposed = {**before, **check_definition(data, current=current, schema=schema, role_names=_role_names(conn))}
    diff = {key: proposed[key] for key in DEFINITION_KEYS if key in data and proposed[key] != before[key]}
    if diff:
        _change(ctx, conn, call, caller, current.name, diff)
    return [f"~ {name}.{key}: {before[key]!r} -> {value!r}" for key, value in diff.items()]


# --- helpers -------------------------------------------------------------------------------------------


def _require(conn: Connection, name: Any, *, lock: bool = False) -> ProfileField:
    query = select(profile_fields).where(profile_fields.c.name == name)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first() if isinstance(name, str) else None
    if row is None:
        raise no_such_field(name)
    return field_from_row(row)


def _role_names(conn: Connection) -> frozenset[str]:
    """The roles that exist, which a field's view and edit sets may name (SPEC §16–§17)."""
    return frozenset(conn.execute(select(roles.c.name)).scalars())


def _load_field(conn: Connection, name: str) -> ProfileField:
    return field_from_row(conn.execute(select(profile_fields).where(profile_fields.c.name == name)).mappings().one())


def _proposed(conn: Connection, current: ProfileField, data: Mapping[str, Any]) -> ProfileField:
    """The definition `current` would become with `data` (every problem raised at once)."""
    clean = check_definition(data, current=current, schema=load_schema(conn), role_names=_role_names(conn))
    return field_from_row({"id": current.id, "version": current.version, **_columns(clean)})


def _columns(clean: Mapping[str, Any]) -> dict[str, Any]:
    renamed = {"unique": "is_unique", "group": "field_group"}
    return {renamed.get(key, key): value for key, value in clean.items()}


def _tightens(current: ProfileField, new: ProfileField) -> bool:
    before, after = current.definition(), new.definition()
    return any(before[key] != after[key] for key in TIGHTENING_KEYS)


def violations(conn: Connection, current: ProfileField, new: ProfileField) -> DryRun:
    """The users whose stored value of `current` breaks `new` (type, limits, options, required, unique)."""
    bad: list[str] = []
    seen: dict[str, str] = {}
    rows = conn.execute(
        select(profile_values).where(profile_values.c.field_id == current.id).order_by(profile_values.c.user_id)
    ).mappings()
    for row in rows:
        value = stored_value(current, row)
        if current.type != new.type:
            value = _as_new_type(current, new, value)
        clean, message = check_field_value(new, value)
        if message is not None:
            bad.append(row["user_id"])
            continue
        if new.unique:
            key = search_key(new, clean)
            if key is not None and key in seen:
                bad.append(row["user_id"])
            elif key is not None:
                seen[key] = row["user_id"]
    if new.required:
        lacking = conn.execute(
            select(users.c.user_id)
            .where(
                ~users.c.user_id.in_(select(profile_values.c.user_id).where(profile_values.c.field_id == current.id))
            )
            .order_by(users.c.user_id)
        ).scalars()
        bad.extend(lacking)
    if not bad:
        return DryRun(0, clearable=new.nullable)
    first = sorted(bad)[0]
    username = conn.execute(select(users.c.username).where(users.c.user_id == first)).scalar()
    # A missing required value cannot be cleared away: only values that are there can be.
    clearable = new.nullable and not new.required
    return DryRun(len(bad), first, username, clearable, tuple(bad))


def _as_new_type(current: ProfileField, new: ProfileField, value: Any) -> Any:
    """A stored value as the new type would receive it over JSON (so a type change is checked honestly)."""
    if value is None:
        return None
    if new.type in ("text", "email", "url", "phone", "choice") and current.type in ("integer", "date"):
        return str(value) if current.type == "integer" else value.isoformat()
    if current.type == "date":
        return value.isoformat()
    return value


def _refusal(found: DryRun) -> str:
    first = found.first_username or found.first_user_id or ""
    if found.clearable:
        return _nt(
            "%(num)d user holds a value this change would break (the first: %(first)s). "
            "Clear it first, or choose to clear it.",
            "%(num)d users hold a value this change would break (the first: %(first)s). "
            "Clear them first, or choose to clear them.",
            found.count,
            first=first,
        )
    return _nt(
        "%(num)d user holds a value this change would break (the first: %(first)s).",
        "%(num)d users hold a value this change would break (the first: %(first)s).",
        found.count,
        first=first,
    )


def _clear_value(ctx: Context, conn: Connection, call: Call, caller: Caller, user_id: str, f: ProfileField) -> None:
    """Clear one user's value of `f` as one audited update (channel `schema`), moving their version."""
    row = (
        conn.execute(
            select(profile_values).where(profile_values.c.user_id == user_id, profile_values.c.field_id == f.id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return
    old = stored_value(f, row)
    write_value(conn, user_id, f, None)
    now = ctx.clock()
    conn.execute(update(users).where(users.c.user_id == user_id).values(version=users.c.version + 1, last_modified=now))
    from ..kernel.audit import SECRET_CHANGE
    from ..kernel.profile_fields import wire_value

    audit_context = {**call.audit(), "channel": SCHEMA_CHANNEL}
    record(
        conn,
        now=now,
        action="update",
        actor_id=caller.user_id,
        target_id=user_id,
        changes={f.name: dict(SECRET_CHANGE) if f.sensitive else change(wire_value(f, old), None)},
        **audit_context,
    )


def _rekey(conn: Connection, current: ProfileField, new: ProfileField) -> None:
    """Recompute the stored search and unique keys when what they depend on changed (uniqueness, type)."""
    if (current.unique, current.type) == (new.unique, new.type):
        return
    rows = conn.execute(select(profile_values).where(profile_values.c.field_id == current.id)).mappings().all()
    for row in rows:
        value = stored_value(current, row)
        if current.type != new.type:
            value, _ = check_field_value(new, _as_new_type(current, new, value))
            write_value(conn, row["user_id"], new, value)
        else:
            key = search_key(new, value)
            conn.execute(
                update(profile_values)
                .where(profile_values.c.user_id == row["user_id"], profile_values.c.field_id == current.id)
                .values(search_key=key, unique_key=key if new.unique else None)
            )


def _audit(
    ctx: Context,
    conn: Connection,
    call: Call,
    caller: Caller,
    name: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    before_all: Mapping[str, Any] | None = None,
) -> None:
    # Only what changed: a new field's unset keys and a deleted field's unset keys are no change.
    changes = {
        f"{name}.{key}": change(before.get(key), value)
        for key, value in after.items()
        if before.get(key) != value and not (key not in before and value in (None, ""))
    }
    if before_all is not None:
        changes.update(
            {f"{name}.{key}": change(value, None) for key, value in before_all.items() if value not in (None, "")}
        )
    record(
        conn,
        now=ctx.clock(),
        action="profile_field",
        actor_id=caller.user_id,
        target_id=AUDIT_TARGET,
        changes=changes,
        **call.audit(),
    )


__all__ = [
    "DryRun",
    "change_field",
    "define_field",
    "delete_field",
    "dry_run",
    "export_schema",
    "import_schema",
    "list_fields",
    "reorder",
    "retire_field",
    "violations",
]
