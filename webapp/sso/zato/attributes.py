"""Free-form attributes of a user or of one session (SPEC §12), as Zato's `user.attr` / `session.attr`.

One owner per call: a user (`user_id`; a super-user may name anyone, a regular user only
themselves, else E005001), or one session (`target_ust`; its owner or a super-user). Each call
takes a single `name` (with `value`, `expiration` seconds, `encrypt`) or a `data` list of many (every
method accepts Zato's whole input set and ignores what it does not use);
a list is all or nothing. Values are any JSON value of at most 64 KiB, stored as JSON text (or
as a Fernet token of it when `encrypt` is true). Expired attributes are invisible and are pruned
whenever their owner's attributes are written. The audit records which names changed, never values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection, LargeBinary, and_, cast, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ...db import reading, writing
from ..kernel.attributes import text_problem
from ..kernel.audit import record
from ..kernel.call import Call
from ..kernel.caller import authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError, no_such_user
from ..kernel.permissions import USERS_ATTRIBUTES, require, require_over
from ..kernel.rows import load_user
from ..kernel.tables import sessions, user_attrs, users
from ..kernel.texts import _t

ATTR_NAME_MAX = 256
VALUE_MAX_BYTES = 64 * 1024
EXPIRATION_MAX = 100 * 365 * 86400
MANY_MAX = 1000
WRITE_OPS = ("create", "update", "set", "delete")
READ_OPS = ("get", "exists", "names")
OPERATIONS = WRITE_OPS + READ_OPS
# The inputs each operation reads besides the owner.
INPUTS = {
    "create": ("name", "value", "expiration", "encrypt", "data"),
    "update": ("name", "value", "expiration", "encrypt", "data"),
    "set": ("name", "value", "expiration", "encrypt", "data"),
    "delete": ("name", "data"),
    "get": ("name", "data", "decrypt", "decrypt_on_get", "serialize_dt"),
    "exists": ("name", "data"),
    "names": (),
}
# Zato's attribute services have one input set for every method, and its client sends it whole (issue 31
# #6): each operation accepts all of it and ignores what it does not read; any other key is refused.
ZATO_INPUTS = ("name", "value", "data", "expiration", "encrypt", "decrypt_on_get", "serialize_dt")
ACCEPTED = {op: tuple(dict.fromkeys((*ZATO_INPUTS, *INPUTS[op]))) for op in INPUTS}
IGNORED = {op: tuple(key for key in ACCEPTED[op] if key not in INPUTS[op]) for op in INPUTS}


@dataclass
class Owner:
    """Whose attributes a call works on: a user, or one session of theirs (`session_pk`)."""

    user_id: str
    session_pk: int | None
    actor_id: str

    @property
    def scope(self) -> str:
        return "" if self.session_pk is None else str(self.session_pk)


def _refuse(field: str, message: str) -> SSOError:
    return SSOError.single(Kind.invalid, Code.invalid_input, field, message)


# --- who owns the attributes ---------------------------------------------------------------------------------


def user_owner(ctx: Context, conn: Connection, call: Call, user_id) -> Owner:
    """The user `user_id` (None: the caller); a regular user naming someone else gets E005001."""
    caller = authenticate(ctx, conn, call)
    if user_id is None or user_id == caller.user_id:
        return Owner(caller.user_id, None, caller.user_id)
    require(caller, USERS_ATTRIBUTES)
    target = load_user(conn, user_id) if isinstance(user_id, str) else None
    if target is None:
        raise no_such_user()
    require_over(conn, caller, target)
    return Owner(user_id, None, caller.user_id)


def session_owner(ctx: Context, conn: Connection, call: Call, target_ust, user_id=None) -> Owner:
    """The live session behind `target_ust`; only its owner or a super-user may use its attributes."""
    caller = authenticate(ctx, conn, call)
    digest = ctx.codec.session_hash_of(target_ust)
    row = (
        None
        if digest is None
        else conn.execute(
            select(sessions.c.id, sessions.c.user_id, sessions.c.expiration_time).where(
                sessions.c.session_hash == digest
            )
        )
        .mappings()
        .first()
    )
    if row is None or row["expiration_time"] <= ctx.clock():
        raise SSOError.single(Kind.not_found, Code.session_invalid, "target_ust", _t("no such session"))
    if row["user_id"] != caller.user_id:
        require(caller, USERS_ATTRIBUTES)
        owner = load_user(conn, row["user_id"])
        if owner is not None:
            require_over(conn, caller, owner, "target_ust")
    if user_id is not None and user_id != row["user_id"]:
        raise _refuse("user_id", "is not the owner of target_ust")
    return Owner(row["user_id"], row["id"], caller.user_id)


# --- reading the inputs ----------------------------------------------------------------------------------------


def check_attr_name(value: Any, field: str, errors: FieldErrors) -> str | None:
    """An attribute's name as stored, or None with the problem added to `errors` (the import uses it too)."""
    if not isinstance(value, str) or not value:
        errors.add(field, _t("must be a non-empty string"))
    elif len(value) > ATTR_NAME_MAX:
        errors.add(field, f"must be at most {ATTR_NAME_MAX} characters")
    elif text_problem(value):
        errors.add(field, text_problem(value) or "")
    else:
        return value
    return None


def _check_expiration(value: Any, field: str, errors: FieldErrors) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 1 <= value <= EXPIRATION_MAX:
        errors.add(field, f"must be a whole number of seconds from 1 to {EXPIRATION_MAX}")
        return None
    return value


def check_attr_value(value: Any, field: str, errors: FieldErrors) -> str | None:
    """An attribute's value as stored text, or None with the problem added to `errors` (the import uses it too)."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        errors.add(field, _t("must be a JSON value"))
        return None
    if len(text.encode("utf-8", "surrogatepass")) > VALUE_MAX_BYTES:
        errors.add(field, f"must be at most {VALUE_MAX_BYTES // 1024} KiB as JSON")
        return None
    if "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text):
        errors.add(field, _t("must not contain NUL or unpaired surrogate characters"))
        return None
    return text


def _check_bool(value: Any, field: str, errors: FieldErrors, default: bool) -> bool:
    if value is None:
        return default
    if type(value) is not bool:
        errors.add(field, _t("must be true or false"))
        return default
    return value


def _items(op: str, inputs: Mapping[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
    """(many, items): the single `name` or the `data` list, each item validated for `op`."""
    unknown = [key for key in inputs if key not in INPUTS[op]]
    if unknown:
        raise SSOError(
            Kind.invalid, [Code.invalid_input], {key[:128]: "is not an input of this call" for key in unknown}
        )
    if "name" in inputs and "data" in inputs:
        raise _refuse("data", "send either name or data, not both")
    if "name" not in inputs and "data" not in inputs:
        raise SSOError.single(Kind.missing, Code.invalid_input, "name", _t("is required (or data, a list)"))
    errors = FieldErrors()
    writes = op in ("create", "update", "set")
    if "name" in inputs:
        if writes and "value" not in inputs and op != "update":
            errors.add("value", _t("is required"))
        raw = [{key: inputs[key] for key in ("name", "value", "expiration", "encrypt") if key in inputs}]
        many = False
    else:
        data = inputs["data"]
        if not isinstance(data, list) or not data or len(data) > MANY_MAX:
            raise _refuse("data", f"must be a list of 1 to {MANY_MAX} items")
        if writes:
            if not all(isinstance(item, dict) for item in data):
                raise _refuse("data", "must be a list of objects with name and value")
            raw = []
            for item in data:
                merged = {key: inputs[key] for key in ("expiration", "encrypt") if key in inputs}
                raw.append({**merged, **item})
        else:
            raw = [{"name": item} for item in data]
        many = True
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        at = (
            (lambda key, index=index: f"data[{index}].{key}")
            if many and writes
            else ((lambda key, index=index: f"data[{index}]") if many else (lambda key: key))
        )
        extra = [key for key in item if key not in ("name", "value", "expiration", "encrypt")]
        for key in extra:
            errors.add(at(str(key)[:64]), "is not a key of an attribute")
        clean: dict[str, Any] = {"name": check_attr_name(item.get("name"), at("name"), errors)}
        if clean["name"] in seen:
            errors.add(at("name"), "is named twice")
        seen.add(clean["name"])
        if writes:
            if "value" in item:
                clean["value"] = check_attr_value(item["value"], at("value"), errors)
            elif many and op != "update":
                errors.add(at("value"), "is required")
            if "expiration" in item:
                clean["expiration"] = _check_expiration(item["expiration"], at("expiration"), errors)
            if item.get("encrypt") is not None:  # absent: a new one is clear, a stored one keeps its way
                clean["encrypt"] = _check_bool(item["encrypt"], at("encrypt"), errors, False)
        items.append(clean)
    errors.raise_if_any(Kind.invalid)
    return many, items


# --- storage ----------------------------------------------------------------------------------------------------

_ciphers: dict[tuple[str, ...], MultiFernet] = {}


def attr_cipher(ctx: Context) -> MultiFernet:
    """The keys that encrypt attribute values (the import keeps encrypted values encrypted with them)."""
    keys = tuple(ctx.settings["SSO_FERNET_KEYS"])
    if keys not in _ciphers:
        _ciphers[keys] = MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    return _ciphers[keys]


def _live(owner: Owner, now: datetime):
    return and_(
        user_attrs.c.user_id == owner.user_id,
        user_attrs.c.scope == owner.scope,
        or_(user_attrs.c.expiration_time.is_(None), user_attrs.c.expiration_time > now),
    )


def _live_rows(conn: Connection, owner: Owner, now: datetime, names: list[str] | None = None) -> dict[str, Any]:
    query = select(user_attrs).where(_live(owner, now))
    if names is not None:
        query = query.where(user_attrs.c.name.in_(names))
    return {row["name"]: row for row in conn.execute(query.order_by(user_attrs.c.name)).mappings()}


def _prune(conn: Connection, owner: Owner, now: datetime) -> None:
    conn.execute(
        delete(user_attrs).where(
            user_attrs.c.user_id == owner.user_id,
            user_attrs.c.expiration_time.is_not(None),
            user_attrs.c.expiration_time <= now,
        )
    )


def _stored_value(ctx: Context, item: dict[str, Any], encrypt: bool) -> str:
    text = item["value"]
    return attr_cipher(ctx).encrypt(text.encode()).decode() if encrypt else text


def _expiry(item: dict[str, Any], now: datetime, current: datetime | None = None) -> datetime | None:
    if "expiration" not in item:
        return current
    return None if item["expiration"] is None else now + timedelta(seconds=item["expiration"])


def write(ctx: Context, conn: Connection, op: str, owner: Owner, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply a create/update/set/delete of `items` for `owner`; returns the audit changes."""
    now = ctx.clock()
    _prune(conn, owner, now)
    existing = _live_rows(conn, owner, now, [item["name"] for item in items])
    errors = FieldErrors()
    for index, item in enumerate(items):
        field = "name" if len(items) == 1 else f"data[{index}]"
        if op == "create" and item["name"] in existing:
            errors.add(field, f"attribute {item['name'][:64]!r} exists already", Code.attr_exists)
        if op in ("update", "delete") and item["name"] not in existing:
            errors.add(field, f"no attribute {item['name'][:64]!r}", Code.attr_missing)
    if errors.errors:
        kind = Kind.conflict if Code.attr_exists in errors.codes else Kind.not_found
        errors.raise_if_any(kind)
    grows = op != "delete"
    before = _sizes(conn, owner, now) if grows else None
    changes: dict[str, Any] = {}
    for item in items:
        name, row = item["name"], existing.get(item["name"])
        label = f"attribute {name}"
        if op == "delete":
            assert row is not None, "checked above: every attribute to delete exists"
            conn.execute(delete(user_attrs).where(user_attrs.c.id == row["id"]))
            changes[label] = {"old": "(set)", "new": None}
            continue
        if row is None:
            conn.execute(
                insert(user_attrs).values(
                    user_id=owner.user_id,
                    scope=owner.scope,
                    session_pk=owner.session_pk,
                    name=name,
                    value=_stored_value(ctx, item, item.get("encrypt", False)),
                    is_encrypted=item.get("encrypt", False),
                    creation_time=now,
                    last_modified=now,
                    expiration_time=_expiry(item, now),
                )
            )
            changes[label] = {"old": None, "new": "(set)"}
            continue
        values: dict[str, Any] = {"last_modified": now, "expiration_time": _expiry(item, now, row["expiration_time"])}
        if "value" in item:
            # An encrypted attribute stays encrypted unless the call says `encrypt: false` (issue 31 #12;
            # Zato stores the new value in clear).
            encrypt = item.get("encrypt", bool(row["is_encrypted"]))
            values.update(value=_stored_value(ctx, item, encrypt), is_encrypted=encrypt)
        conn.execute(update(user_attrs).where(user_attrs.c.id == row["id"]).values(**values))
        changes[label] = {"old": "(set)", "new": "(changed)"}
    if before is not None:
        _check_caps(ctx, owner, before, _sizes(conn, owner, now), "name" if len(items) == 1 else "data")
    return changes


# --- caps (issue 31 #11): how many attributes, and how many bytes of them, an account and a session may hold ---

CAPS = (
    # (setting, scope, dimension, what the message calls it)
    ("SSO_ATTR_MAX_PER_USER", "user", 0, "attributes (its sessions' included)"),
    ("SSO_ATTR_MAX_BYTES_PER_USER", "user", 1, "bytes of attributes (its sessions' included)"),
    ("SSO_ATTR_MAX_PER_SESSION", "session", 0, "attributes"),
    ("SSO_ATTR_MAX_BYTES_PER_SESSION", "session", 1, "bytes of attributes"),
)


def _sizes(conn: Connection, owner: Owner, now: datetime) -> dict[str, tuple[int, int]]:
    """(count, bytes of stored values) of the live attributes of the owner's user, all scopes, and (for a
    session owner) of that session. The user's row is locked first, so parallel writers count one by one."""
    conn.execute(select(users.c.user_id).where(users.c.user_id == owner.user_id).with_for_update())
    if conn.dialect.name == "postgresql":
        size = func.octet_length(user_attrs.c.value)
    else:
        size = func.length(cast(user_attrs.c.value, LargeBinary))
    live = or_(user_attrs.c.expiration_time.is_(None), user_attrs.c.expiration_time > now)
    totals = select(func.count(), func.coalesce(func.sum(size), 0))
    count, total = conn.execute(totals.where(user_attrs.c.user_id == owner.user_id, live)).one()
    sizes = {"user": (int(count), int(total))}
    if owner.session_pk is not None:
        count, total = conn.execute(totals.where(_live(owner, now))).one()
        sizes["session"] = (int(count), int(total))
    return sizes


def _check_caps(
    ctx: Context, owner: Owner, before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], field: str
) -> None:
    """Refuse a write that takes the user or the session past a cap (a write that shrinks is always fine)."""
    for setting, scope, dimension, what in CAPS:
        if scope not in after:
            continue
        cap, now_at = ctx.settings[setting], after[scope][dimension]
        if now_at > cap and now_at > before[scope][dimension]:
            holder = "an account" if scope == "user" else "a session"
            raise SSOError.single(
                Kind.invalid,
                Code.invalid_input,
                field,
                f"{holder} may hold at most {cap} {what} ({setting}); this write would make it {now_at}",
            )


def _shown(ctx: Context, row: Any, decrypt: bool) -> dict[str, Any]:
    value: Any = row["value"]
    if row["is_encrypted"]:
        if decrypt:
            try:
                value = json.loads(attr_cipher(ctx).decrypt(value.encode()))
            except (InvalidToken, ValueError):
                value = None  # a key no longer configured: the value cannot be read back
    else:
        value = json.loads(value)
    return {
        "name": row["name"],
        "value": value,
        "creation_time": row["creation_time"],
        "last_modified": row["last_modified"],
        "expiration_time": row["expiration_time"],
        "is_encrypted": bool(row["is_encrypted"]),
    }


def read(ctx: Context, conn: Connection, op: str, owner: Owner, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """get / exists / names, answered in Zato's shape."""
    now = ctx.clock()
    if op == "names":
        return {"result": list(_live_rows(conn, owner, now))}
    errors = FieldErrors()
    options = ("decrypt", "decrypt_on_get", "serialize_dt")
    on_get = _check_bool(inputs.get("decrypt_on_get"), "decrypt_on_get", errors, True)  # Zato's name
    decrypt = _check_bool(inputs.get("decrypt"), "decrypt", errors, on_get)
    _check_bool(inputs.get("serialize_dt"), "serialize_dt", errors, True)  # Zato's; datetimes are always text
    errors.raise_if_any(Kind.invalid)
    many, items = _items(op, {key: value for key, value in inputs.items() if key not in options})
    names = [item["name"] for item in items]
    rows = _live_rows(conn, owner, now, names)
    if op == "exists":
        return {"result": {name: name in rows for name in names}} if many else {"result": names[0] in rows}
    if many:
        return {"result": [_shown(ctx, rows[name], decrypt) for name in names if name in rows]}
    if names[0] not in rows:
        return {"found": False}
    return {"found": True, **_shown(ctx, rows[names[0]], decrypt)}


# --- the service calls --------------------------------------------------------------------------------------------


def _used_inputs(op: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs `op` reads: keys Zato never had are refused; Zato's others are dropped, and so is a null
    `name` or `data` beside the other (Zato's client sends every key, null when unused)."""
    unknown = [key for key in inputs if key not in ACCEPTED[op]]
    if unknown:
        raise SSOError(
            Kind.invalid, [Code.invalid_input], {str(key)[:128]: "is not an input of this call" for key in unknown}
        )
    used = {key: value for key, value in inputs.items() if key in INPUTS[op]}
    for key, other in (("name", "data"), ("data", "name")):
        if key in used and used[key] is None and used.get(other) is not None:
            del used[key]
    return used


def attr_call(ctx: Context, call: Call, op: str, owner_of, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Run one attribute operation; `owner_of(conn)` resolves (and authorises) the owner."""
    if op not in OPERATIONS:
        raise _refuse("operation", "is not an attribute operation")
    if not isinstance(inputs, Mapping):
        raise _refuse("data", "must be a mapping")
    inputs = _used_inputs(op, inputs)
    if op in READ_OPS:
        with reading(ctx.engine) as conn:
            return read(ctx, conn, op, owner_of(conn), inputs)
    _, items = _items(op, inputs)
    try:
        with writing(ctx.engine) as conn:
            owner = owner_of(conn)
            changes = write(ctx, conn, op, owner, items)
            scope = "user" if owner.session_pk is None else "session"
            record(
                conn,
                now=ctx.clock(),
                **call.audit(),
                action=f"{scope}_attr_{op}",
                actor_id=owner.actor_id,
                target_id=owner.user_id,
                changes=changes,
            )
    except IntegrityError:  # another writer created the same name between our read and our insert
        raise SSOError.single(Kind.conflict, Code.attr_exists, "name", _t("exists already")) from None
    return {}


def user_attr(ctx: Context, call: Call, op: str, user_id, inputs) -> dict[str, Any]:
    """An attribute operation on the user `user_id` (None: the caller)."""
    return attr_call(ctx, call, op, lambda conn: user_owner(ctx, conn, call, user_id), inputs)


def session_attr(ctx: Context, call: Call, op: str, target_ust, inputs, *, user_id=None) -> dict[str, Any]:
    """An attribute operation on the session behind `target_ust`."""
    return attr_call(ctx, call, op, lambda conn: session_owner(ctx, conn, call, target_ust, user_id), inputs)


def list_attributes(ctx: Context, call: Call, user_id) -> list[dict[str, Any]]:
    """A user's live attributes, their own and their sessions', by name: no values, only what and until
    when (Manage user's read-only list; a super-user on anyone, a user on themselves)."""
    now = ctx.clock()
    with reading(ctx.engine) as conn:
        owner = user_owner(ctx, conn, call, user_id)
        rows = conn.execute(
            select(
                user_attrs.c.name,
                user_attrs.c.scope,
                user_attrs.c.is_encrypted,
                user_attrs.c.last_modified,
                user_attrs.c.expiration_time,
            )
            .where(
                user_attrs.c.user_id == owner.user_id,
                or_(user_attrs.c.expiration_time.is_(None), user_attrs.c.expiration_time > now),
            )
            .order_by(user_attrs.c.scope, user_attrs.c.name)
        ).mappings()
        return [{**row, "is_session_attr": row["scope"] != ""} for row in rows]
