"""Reading and writing profile fields' definitions and values (the helpers every user service shares)."""

from __future__ import annotations

import importlib
import json
import time
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, text, update

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
from .tables import profile_fields, profile_schema, profile_values
from .texts import _t

_FIELDS = select(profile_fields)  # built once (statement cache)
_SCHEMA_ROW = profile_schema.c.id == 1
_SCHEMA_VERSION = select(profile_schema.c.version).where(_SCHEMA_ROW)
_SCHEMA_VERSION_SHARED = _SCHEMA_VERSION.with_for_update(read=True)
_BUMP = update(profile_schema).where(_SCHEMA_ROW).values(version=profile_schema.c.version + 1)

# Per process: the definitions last read from each database, with the schema version they were read at. A
# read of the version (one row by its key) says whether they still hold; a definition change moves it.
_SCHEMAS: weakref.WeakKeyDictionary[Engine, ProfileSchema] = weakref.WeakKeyDictionary()
# The connections whose transaction is changing definitions: what they read is not committed (never kept).
_CHANGING: weakref.WeakSet[Connection] = weakref.WeakSet()


def load_schema(conn: Connection, *, share: bool = False) -> ProfileSchema:
    """Every profile field's definition, retired ones included, at the schema version in force: one read of
    the version, and the definitions themselves only when this process has not read them at that version.

    With `share` (PostgreSQL) the version's row stays share-locked to the end of the transaction, so no
    definition change can commit before it (a change takes that row first: `hold_schema`)."""
    query = _SCHEMA_VERSION_SHARED if share and conn.dialect.name == "postgresql" else _SCHEMA_VERSION
    version = conn.execute(query).scalar()
    changing = conn in _CHANGING
    kept = None if changing else _SCHEMAS.get(conn.engine)
    if kept is not None and version is not None and kept.version == version:
        return kept
    # Read after the version (on PostgreSQL a later statement sees at least as much): what is kept under a
    # version is never older than it, and a write checks the version again in its own statement.
    schema = ProfileSchema.of((field_from_row(row) for row in conn.execute(_FIELDS).mappings()), version=version or 0)
    if version is not None and not changing:
        _SCHEMAS[conn.engine] = schema
    return schema


def hold_schema(conn: Connection) -> None:
    """Start a definition change: move the schema version, first, in the change's write transaction. Every
    process's kept definitions are stale from its commit on; on PostgreSQL the row stays locked to the end,
    so a value write (which share-locks it) waits for the change, and the change for a value write already
    under way (whose value the change's dry run then counts)."""
    _CHANGING.add(conn)
    if conn.execute(_BUMP).rowcount == 0:  # the row was removed by hand: a version no process has kept
        conn.execute(insert(profile_schema).values(id=1, version=time.time_ns()))


# A condition for a value write's own statement: the schema version is still `b_schema`, the one its values
# were checked at (share-locked on PostgreSQL until the write commits; on SQLite the write transaction is the
# database's one writer).
# (No row, which only removing it by hand leaves, reads as version 0.)
SCHEMA_UNCHANGED = func.coalesce(_SCHEMA_VERSION_SHARED.scalar_subquery(), 0) == bindparam("b_schema")


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
        insert_: Any = importlib.import_module(f"sqlalchemy.dialects.{module}").insert
        columns = (*VALUE_COLUMNS, "search_key", "unique_key")
        statement = insert_(profile_values).values({n: bindparam(n) for n in ("user_id", "field_id", *columns)})
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


def write_values_with_version(
    conn: Connection, user_id: str, version: int, schema_version: int, now: Any, values: list[tuple[ProfileField, Any]]
) -> bool:
    """PostgreSQL, an update that writes profile fields and no built-in attribute: the conditional UPDATE of
    the user's version (`... WHERE version = :read`, the schema version unchanged) and the upsert of the set
    values in one statement (a data-modifying WITH: the values are written only if the row moved on), then
    the cleared ones deleted. False (nothing written) when the row or the schema version has moved."""
    sets = [{"field_id": f.id, **value_columns(f, v)} for f, v in values if v is not None]
    for row in sets:
        if row["date_value"] is not None:
            row["date_value"] = row["date_value"].isoformat()
    params = {
        "user_id": user_id,
        "version": version,
        "schema_version": schema_version,
        "now": now,
        "rows": json.dumps(sets),  # one parameter, however many fields (json_to_recordset)
    }
    if conn.execute(_UPDATE_AND_UPSERT, params).rowcount != len(sets):
        return False
    clears = [{"b_user_id": user_id, "b_field_id": f.id} for f, v in values if v is None]
    if clears:
        conn.execute(_DELETE, clears)
    return True


_UPDATE_AND_UPSERT = text(
    """
WITH moved AS (
    UPDATE sso_user SET version = version + 1, last_modified = :now
    WHERE user_id = :user_id AND version = :version
      AND coalesce((SELECT version FROM sso_profile_schema WHERE id = 1 FOR SHARE), 0) = :schema_version
    RETURNING user_id
)
INSERT INTO sso_profile_value
    (user_id, field_id, text_value, int_value, bool_value, date_value, json_value, search_key, unique_key)
SELECT moved.user_id, v.field_id, v.text_value, v.int_value, v.bool_value, v.date_value, v.json_value,
       v.search_key, v.unique_key
FROM moved, json_to_recordset(CAST(:rows AS json)) AS v(
    field_id integer, text_value text, int_value bigint, bool_value boolean, date_value date, json_value json,
    search_key varchar, unique_key varchar
)
ON CONFLICT (user_id, field_id) DO UPDATE SET
    text_value = excluded.text_value, int_value = excluded.int_value, bool_value = excluded.bool_value,
    date_value = excluded.date_value, json_value = excluded.json_value, search_key = excluded.search_key,
    unique_key = excluded.unique_key
"""
)


_DELETE = delete(profile_values).where(
    profile_values.c.user_id == bindparam("b_user_id"), profile_values.c.field_id == bindparam("b_field_id")
)


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
