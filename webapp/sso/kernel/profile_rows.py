"""Reading and writing profile fields' definitions and values (the helpers every user service shares)."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select

from .errors import Code, Kind, SSOError
from .profile_fields import (
    VALUE_COLUMNS,
    ProfileField,
    ProfileSchema,
    field_from_row,
    search_key,
    stored_value,
    value_columns,
)
from .tables import profile_fields, profile_values
from .texts import _t

_FIELDS = select(profile_fields)  # built once (statement cache)


def load_schema(conn: Connection) -> ProfileSchema:
    """Every profile field's definition, retired ones included (one query)."""
    return ProfileSchema.of(field_from_row(row) for row in conn.execute(_FIELDS).mappings())


def load_values(conn: Connection, schema: ProfileSchema, user_id: str) -> dict[str, Any]:
    """{field name: value} of one user's set profile fields."""
    return load_many(conn, schema, [user_id]).get(user_id, {})


def load_many(conn: Connection, schema: ProfileSchema, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """{user_id: {field name: value}} of several users' set profile fields (one query)."""
    ids = list(user_ids)
    if not schema.fields or not ids:
        return {}
    by_id = {f.id: f for f in schema.fields}
    found: dict[str, dict[str, Any]] = {}
    if len(ids) == 1:
        rows = conn.execute(_VALUES_OF_ONE, {"b_user_id": ids[0]}).mappings()
    else:
        rows = conn.execute(_VALUES_OF_MANY, {"b_user_ids": ids}).mappings()
    for row in rows:
        f = by_id.get(row["field_id"])
        if f is not None:
            found.setdefault(row["user_id"], {})[f.name] = stored_value(f, row)
    return found


# Built once (statement cache): the values are parameters.
_VALUES_OF_ONE = select(profile_values).where(profile_values.c.user_id == bindparam("b_user_id"))
_VALUES_OF_MANY = select(profile_values).where(profile_values.c.user_id.in_(bindparam("b_user_ids", expanding=True)))
_UPSERTS: dict[str, Any] = {}


def _upsert(dialect: str):
    """INSERT ... ON CONFLICT (user_id, field_id) DO UPDATE of every value column, built once per dialect."""
    if dialect not in _UPSERTS:
        # The dialect's own module only (a SQLite worker never loads PostgreSQL's, about 2 MiB).
        module = "postgresql" if dialect == "postgresql" else "sqlite"
        insert: Any = importlib.import_module(f"sqlalchemy.dialects.{module}").insert
        columns = (*VALUE_COLUMNS, "search_key", "unique_key")
        statement = insert(profile_values).values({name: bindparam(name) for name in ("user_id", "field_id", *columns)})
        _UPSERTS[dialect] = statement.on_conflict_do_update(
            index_elements=["user_id", "field_id"], set_={name: statement.excluded[name] for name in columns}
        )
    return _UPSERTS[dialect]


def write_value(conn: Connection, user_id: str, f: ProfileField, value: Any) -> None:
    """Set (or with None, clear) one user's value of one field: a write of that row alone, so writers of
    other fields of the same user touch other rows (SPEC §16: never a read-modify-write of a document)."""
    write_values(conn, user_id, [(f, value)])


def write_values(conn: Connection, user_id: str, values: list[tuple[ProfileField, Any]]) -> None:
    """Set or clear several of one user's values: one row each, the sets in one statement (executemany)."""
    sets = [{"user_id": user_id, "field_id": f.id, **value_columns(f, v)} for f, v in values if v is not None]
    clears = [{"b_user_id": user_id, "b_field_id": f.id} for f, v in values if v is None]
    if sets:
        conn.execute(_upsert(conn.dialect.name), sets)
    if clears:
        conn.execute(_DELETE, clears)


_VERSIONS = select(profile_fields.c.id, profile_fields.c.version).where(
    profile_fields.c.id.in_(bindparam("b_ids", expanding=True))
)
_VERSIONS_SHARED = _VERSIONS.with_for_update(read=True)
_DELETE = delete(profile_values).where(
    profile_values.c.user_id == bindparam("b_user_id"), profile_values.c.field_id == bindparam("b_field_id")
)


def definitions_moved(conn: Connection, fields: Mapping[str, ProfileField]) -> bool:
    """Whether any of `fields` changed since it was read; on PostgreSQL the rows stay share-locked to the end
    of the transaction, so a definition change waits for this write (and this write for a change)."""
    if not fields:
        return False
    query = _VERSIONS_SHARED if conn.dialect.name == "postgresql" else _VERSIONS
    now = dict(conn.execute(query, {"b_ids": [f.id for f in fields.values()]}).all())
    return any(now.get(f.id) != f.version for f in fields.values())


def shown_profile(
    conn: Connection, user_id: str, *, super_user: bool, is_self: bool, roles: Iterable[str] = ()
) -> dict[str, Any]:
    """The profile fields of one user a caller may view, as the wire shows them (two queries)."""
    schema = load_schema(conn)
    if not schema.fields:
        return {}
    values = load_values(conn, schema, user_id)
    return schema.visible(values, super_user=super_user, is_self=is_self, roles=roles)


def profile_value_taken(name: str) -> SSOError:
    """E001002-style conflict (409) naming a unique profile field whose value another user holds."""
    return SSOError.single(Kind.conflict, Code.username_exists, name, _t("is already another user's value"))


def taken_values(conn: Connection, schema: ProfileSchema, clean: Mapping[str, Any], own_id: str | None) -> list[str]:
    """The unique profile fields among `clean` whose value another user than `own_id` holds."""
    names = []
    for name, value in clean.items():
        f = schema.by_name[name]
        if not f.unique or value is None:
            continue
        query = select(profile_values.c.user_id).where(
            profile_values.c.field_id == f.id, profile_values.c.unique_key == search_key(f, value)
        )
        if own_id is not None:
            query = query.where(profile_values.c.user_id != own_id)
        if conn.execute(query.limit(1)).first() is not None:
            names.append(name)
    return names
