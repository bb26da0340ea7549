"""Bringing users over from a Zato 3.x ODB (SPEC §15): `sso import-zato SOURCE_DATABASE_URL`.

Users keep their `user_id`, state and password: Zato's PBKDF2-SHA512 hash is stored as it is and
verified at the next login (`hashing.verify_pbkdf2_sha512`), which replaces it with scrypt. Values
Zato encrypted (the hash, emails, attribute values) are decrypted with the Zato server's Fernet key.
Each imported user gets one audit record (channel `cli`); `sso_zato_import` remembers the user's
version and the source row's digest, so a second run changes nothing, and a user changed here
since the last import is never overwritten. A dry run reports the same summary without writing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from ...db import writing
from ..kernel.attributes import (
    ATTRIBUTES,
    EMAIL_MAX,
    USER_ID_MAX,
    check_value,
    fold,
    is_valid_email,
    safe_text,
    search_column,
    text_problem,
)
from ..kernel.audit import change, record
from ..kernel.context import Context
from ..kernel.errors import FieldErrors
from ..kernel.hashing import PBKDF2_PREFIX, pbkdf2_problem
from ..kernel.ratelimit import check_rate_limit_input
from ..kernel.tables import user_attrs, users, zato_imports
from .attributes import (
    ATTR_NAME_MAX,
    attr_cipher,  # our keys, to keep encrypted attributes encrypted
    check_attr_name,
    check_attr_value,
)

FERNET_PREFIX = "gAAAAA"
CREATION_CTX_MAX = 4096  # characters of creation_ctx as JSON; a longer one is kept cut, as text
FREE_TEXT = ("display_name", "first_name", "middle_name", "last_name")
USER_COLUMNS = (
    "username",
    "email",
    "display_name",
    "first_name",
    "middle_name",
    "last_name",
    "password_hash",
    "password_is_set",
    "password_must_change",
    "password_last_set",
    "password_expiry",
    "is_super_user",
    "is_active",
    "is_internal",
    "is_locked",
    "locked_time",
    "locked_by",
    "creation_ctx",
    "sign_up_time",
    "sign_up_status",
    "approval_status",
    "approval_status_mod_time",
    "approval_status_mod_by",
    "is_rate_limit_active",
    "rate_limit_def",
)


class ImportFailed(Exception):
    """The source cannot be read at all (no such database, no zato_sso_user table)."""


@dataclass
class Summary:
    """What a run did (or, dry, would do)."""

    imported: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # imported, but something is worth saying
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would be " if self.dry_run else ""
        out = [
            f"{len(self.imported)} {verb}imported, {len(self.updated)} {verb}updated, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped, {len(self.rejected)} rejected"
            + (" (dry run: nothing written)" if self.dry_run else "")
        ]
        out += [f"  skipped {name}: {why}" for name, why in self.skipped]
        out += [f"  rejected {name}: {why}" for name, why in self.rejected]
        out += [f"  note {name}: {why}" for name, why in self.notes]
        if not (self.imported or self.updated) and not self.dry_run:
            out.append("Nothing changed.")
        return out


class _Decrypter:
    def __init__(self, key: str | None):
        self.fernet = Fernet(key.encode() if isinstance(key, str) else key) if key else None

    def __call__(self, value: Any, what: str) -> Any:
        if not isinstance(value, str) or not value.startswith(FERNET_PREFIX):
            return value
        if self.fernet is None:
            raise ValueError(f"{what} is encrypted: pass --zato-secret-key")
        try:
            return self.fernet.decrypt(value.encode()).decode("utf-8")
        except (InvalidToken, UnicodeDecodeError):
            raise ValueError(f"{what} does not decrypt with the given --zato-secret-key") from None


def _digest(row: dict[str, Any], attrs: list[dict[str, Any]]) -> str:
    text = json.dumps({"user": row, "attrs": attrs}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _creation_ctx(raw: Any, notes: list[str]) -> Any:
    if raw is None:
        return None
    parsed = raw
    if not isinstance(raw, dict):
        try:
            parsed = json.loads(raw)
        except (TypeError, ValueError):
            return {"zato": safe_text(raw, 1000)}
    if not isinstance(parsed, dict):
        parsed = {"zato": parsed}
    text = json.dumps(parsed, ensure_ascii=False, default=str)
    if len(text) > CREATION_CTX_MAX or text_problem(text):
        notes.append(f"creation_ctx of {len(text)} characters kept cut to 1000, as text")
        return {"zato": safe_text(text, 1000)}
    return parsed


def _free_text(name: str, value: Any, notes: list[str]) -> str | None:
    """A name as the API would take it: control characters taken out, cut to the limit; each change noted
    (SPEC §15: free text is kept, cut, and reported)."""
    if value is None:
        return None
    limit = ATTRIBUTES[name].max_length or 0
    text = str(value)
    cleaned = "".join(char for char in text if text_problem(char) is None)
    if cleaned != text:
        notes.append(f"{name} held {len(text) - len(cleaned)} control or surrogate characters; taken out")
    if len(cleaned) > limit:
        notes.append(f"{name} of {len(cleaned)} characters cut to {limit}")
        cleaned = cleaned[:limit]
    return cleaned or None


def _id_column(name: str, value: Any, notes: list[str]) -> str | None:
    """`locked_by` / `approval_status_mod_by`: a user id or "auto"; anything else is dropped and noted."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > USER_ID_MAX or text_problem(value):
        notes.append(f"{name} is not a user id; left empty")
        return None
    return value


def _as_bool(value: Any) -> bool:
    return bool(value) if value is not None else False


def convert(source: dict[str, Any], decrypt: _Decrypter) -> tuple[dict[str, Any], list[str]]:
    """Our user row for a Zato row, and notes; raises ValueError with the reason to reject it."""
    notes: list[str] = []
    user_id = source.get("user_id")
    if not isinstance(user_id, str) or not user_id or len(user_id) > USER_ID_MAX or text_problem(user_id):
        raise ValueError(f"user_id must be text of 1 to {USER_ID_MAX} characters without control characters")
    password = decrypt(source.get("password"), "the password hash")
    if source.get("password_is_set", True):
        if not (isinstance(password, str) and password.startswith(PBKDF2_PREFIX)):
            raise ValueError("the password is not a PBKDF2-SHA512 hash in passlib's format")
        malformed = pbkdf2_problem(password)
        if malformed:
            raise ValueError(f"the password hash is malformed ({malformed}): no password could ever match it")
    username, problem = check_value(ATTRIBUTES["username"], source.get("username"))  # NFKC, as the API stores it
    if problem:
        raise ValueError(f"username {problem}")
    email = decrypt(source.get("email"), "the email")
    if email is not None:
        if not isinstance(email, str) or len(email) > EMAIL_MAX or text_problem(email):
            raise ValueError(f"email must be text of at most {EMAIL_MAX} characters without control characters")
        if not is_valid_email(email):
            notes.append(f"email {email!r} is not a valid address; kept as it was")
    limits = FieldErrors()
    rate_limit = check_rate_limit_input(
        {
            "is_rate_limit_active": _as_bool(source.get("is_rate_limit_active")),
            "rate_limit_def": source.get("rate_limit_def"),
        },
        limits,
    )
    if limits.errors:
        raise ValueError("; ".join(f"{key} {message}" for key, message in limits.errors.items()))
    row: dict[str, Any] = {
        "username": username,
        "email": email,
        "password_hash": password if source.get("password_is_set", True) else None,
        "password_is_set": _as_bool(source.get("password_is_set", True)),
        "password_must_change": _as_bool(source.get("password_must_change")),
        "password_last_set": source.get("password_last_set"),
        "password_expiry": source.get("password_expiry"),
        "is_super_user": _as_bool(source.get("is_super_user")),
        "is_active": _as_bool(source.get("is_active", True)),
        "is_internal": _as_bool(source.get("is_internal")),
        "is_locked": _as_bool(source.get("is_locked")),
        "locked_time": source.get("locked_time"),
        "locked_by": _id_column("locked_by", source.get("locked_by"), notes),
        "creation_ctx": _creation_ctx(source.get("creation_ctx"), notes),
        "sign_up_time": source.get("sign_up_time"),
        "sign_up_status": source.get("sign_up_status") or "final",
        "approval_status": source.get("approval_status") or "before_decision",
        "approval_status_mod_time": source.get("approval_status_mod_time"),
        "approval_status_mod_by": _id_column("approval_status_mod_by", source.get("approval_status_mod_by"), notes),
        **rate_limit,
    }
    for name in FREE_TEXT:
        row[name] = _free_text(name, source.get(name), notes)
    for name in ("display_name", "first_name", "middle_name", "last_name", "username", "email"):
        row[search_column(name)] = fold(row[name])
    for name in ("password_last_set", "password_expiry", "locked_time", "sign_up_time", "approval_status_mod_time"):
        if row[name] is not None and not isinstance(row[name], datetime):
            raise ValueError(f"{name} is not a date and time")
    if row["sign_up_status"] not in ATTRIBUTES["sign_up_status"].choices:
        raise ValueError(f"sign_up_status {safe_text(row['sign_up_status'], 40)!r} is not one we know")
    if row["approval_status"] not in ATTRIBUTES["approval_status"].choices:
        raise ValueError(f"approval_status {safe_text(row['approval_status'], 40)!r} is not one we know")
    if row["sign_up_time"] is None:
        raise ValueError("it has no sign_up_time")
    return row, notes


UNREADABLE = "__unreadable__"  # in a source row: why a value of it could not be read


def _readable(table: Table, raw: dict[str, Any], what: str) -> dict[str, Any]:
    """A source row with its dates, flags and JSON as Python values. The values come as the database holds
    them (a SQLite column may hold anything); one that is not of its column's type is not guessed at: the
    row is marked unreadable, naming the column (the run goes on)."""
    row = dict(raw)
    for column in table.columns:
        value = row.get(column.name)
        if value is None:
            continue
        try:
            if isinstance(column.type, (DateTime, Date)) and not isinstance(value, datetime):
                if not isinstance(value, str):
                    raise ValueError
                row[column.name] = datetime.fromisoformat(value)
            elif isinstance(column.type, Boolean) and not isinstance(value, bool):
                if value not in (0, 1, "0", "1"):
                    raise ValueError
                row[column.name] = bool(int(value))
            elif isinstance(column.type, JSON) and isinstance(value, str):
                row[column.name] = json.loads(value)
        except (ValueError, TypeError):
            shown = safe_text(repr(value), 40)
            row[UNREADABLE] = f"{what}: column {column.name} holds {shown}, not a {column.type.__class__.__name__}"
            break
    return row


def _read_source(url: str) -> tuple[list[dict], dict[str, list[dict]]]:
    try:
        engine = create_engine(url)
        meta = MetaData()
        with engine.connect() as conn:
            user_table = Table("zato_sso_user", meta, autoload_with=conn)
            raw = select(*(type_coerce(column, String()).label(column.name) for column in user_table.columns))
            rows = [
                _readable(user_table, dict(r), f"row {number}")
                for number, r in enumerate(conn.execute(raw.order_by(user_table.c.username)).mappings(), 1)
            ]
            attrs: dict[str, list[dict]] = {}
            if engine.dialect.has_table(conn, "zato_sso_attr"):
                attr_table = Table("zato_sso_attr", meta, autoload_with=conn)
                raw = select(*(type_coerce(column, String()).label(column.name) for column in attr_table.columns))
                for number, r in enumerate(conn.execute(raw.order_by(attr_table.c.name)).mappings(), 1):
                    attr = _readable(attr_table, dict(r), f"attribute row {number}")
                    if attr.get(UNREADABLE) or not attr.get("is_session_attr"):
                        attrs.setdefault(str(attr.get("user_id")), []).append(attr)
        engine.dispose()
    except SQLAlchemyError as e:
        raise ImportFailed(
            f"cannot read a Zato ODB there ({type(e).__name__}); it needs a zato_sso_user table"
        ) from None
    return rows, attrs


def _attr_rows(ctx: Context, user_id: str, source_attrs: list[dict], decrypt: _Decrypter, now: datetime) -> list[dict]:
    """Our attribute rows for a user's Zato attributes, through the API's rules (name, 64 KiB of JSON, the
    caps per account); ValueError with the reason otherwise (the user is rejected)."""
    out = []
    errors = FieldErrors()
    for a in source_attrs:
        if a.get(UNREADABLE):
            raise ValueError(a[UNREADABLE])
        if a.get("expiration_time") is not None and a["expiration_time"] <= now:
            continue
        name = check_attr_name(a.get("name"), "attribute name", errors)
        label = f"attribute {safe_text(a.get('name'), 64)!r}"
        if name is None:
            raise ValueError(f"{label}: name {errors.errors['attribute name']} (at most {ATTR_NAME_MAX} characters)")
        value = decrypt(a["value"], f"attribute {name}") if a.get("is_encrypted") else a["value"]
        try:
            parsed = json.loads(value)
        except (TypeError, ValueError):
            parsed = value
        text = check_attr_value(parsed, label, errors)
        if text is None:
            raise ValueError(f"{label}: value {errors.errors[label]}")
        stored = attr_cipher(ctx).encrypt(text.encode()).decode() if a.get("is_encrypted") else text
        out.append(
            {
                "user_id": user_id,
                "scope": "",
                "session_pk": None,
                "name": name,
                "value": stored,
                "is_encrypted": bool(a.get("is_encrypted")),
                "creation_time": a["creation_time"],
                "last_modified": a.get("last_modified") or a["creation_time"],
                "expiration_time": a.get("expiration_time"),
            }
        )
    count, size = len(out), sum(len(a["value"].encode()) for a in out)
    for setting, used, what in (
        ("SSO_ATTR_MAX_PER_USER", count, "attributes"),
        ("SSO_ATTR_MAX_BYTES_PER_USER", size, "bytes of attributes"),
    ):
        if used > ctx.settings[setting]:
            raise ValueError(f"{used} {what}, more than an account may hold ({setting}, {ctx.settings[setting]})")
    return out


def import_zato(ctx: Context, source_url: str, *, zato_secret_key: str | None = None, dry_run: bool = False) -> Summary:
    """Import every user of the Zato ODB at `source_url` (see the module docstring)."""
    decrypt = _Decrypter(zato_secret_key)
    rows, attrs = _read_source(source_url)
    summary = Summary(dry_run=dry_run)
    now = ctx.clock()
    for source in rows:
        name = safe_text(source.get("username"), 64) or f"user_id {safe_text(source.get('user_id'), 64)}"
        if source.get(UNREADABLE):
            summary.rejected.append((name, source[UNREADABLE]))
            continue
        user_id = source["user_id"]  # the Zato table's primary key
        source_attrs = attrs.get(str(user_id), [])
        digest = _digest(source, source_attrs)
        try:
            row, notes = convert(source, decrypt)
            attr_rows = _attr_rows(ctx, user_id, source_attrs, decrypt, now)
        except ValueError as e:
            summary.rejected.append((name, str(e)))
            continue
        summary.notes += [(name, note) for note in notes]
        try:
            with writing(ctx.engine) as conn:
                outcome = _import_one(ctx, conn, user_id, row, attr_rows, digest, now, dry_run)
                if dry_run:
                    raise _DryRun(outcome)  # leaving the block by an exception rolls the transaction back
        except _DryRun as rolled_back:
            outcome = rolled_back.outcome
        kind, why = outcome
        if kind in ("skipped", "rejected"):
            getattr(summary, kind).append((name, why))
        else:
            getattr(summary, kind).append(name)
    return summary


class _DryRun(Exception):
    """Ends a dry run's transaction without writing; carries what the import would have done."""

    def __init__(self, outcome: tuple[str, str]):
        super().__init__(outcome[0])
        self.outcome = outcome


def _import_one(ctx, conn, user_id, row, attr_rows, digest, now, dry_run) -> tuple[str, str]:
    mark = conn.execute(select(zato_imports).where(zato_imports.c.user_id == user_id)).mappings().first()
    here = conn.execute(select(users).where(users.c.user_id == user_id)).mappings().first()
    taken = conn.execute(
        select(users.c.user_id).where(users.c.username_search == fold(row["username"]), users.c.user_id != user_id)
    ).first()
    if taken is not None:
        return "rejected", "the username belongs to another user here"
    if here is not None and mark is None:
        return "skipped", "a user with this user_id exists here and was not imported"
    if mark is not None and mark["source_digest"] == digest:
        return "unchanged", ""
    if here is not None and here["version"] != mark["version"]:
        return "skipped", "changed here since the last import"
    if dry_run:
        return ("updated" if here is not None else "imported"), ""
    if here is None:
        conn.execute(insert(users).values(user_id=user_id, version=1, **row))
        version, action = 1, "imported"
        changes = {key: change(None, row[key]) for key in ATTRIBUTES if row.get(key) is not None}
    else:
        version = here["version"] + 1
        conn.execute(update(users).where(users.c.user_id == user_id).values(version=version, **row))
        action = "updated"
        changes = {key: change(here[key], row[key]) for key in ATTRIBUTES if key in row and here[key] != row[key]}
    if row["password_hash"] is not None and (here is None or here["password_hash"] != row["password_hash"]):
        changes["password"] = {"old": None, "new": "(changed)"}
    if attr_rows:
        conn.execute(
            delete(user_attrs).where(
                user_attrs.c.user_id == user_id,
                user_attrs.c.scope == "",
                user_attrs.c.name.in_([a["name"] for a in attr_rows]),
            )
        )
        conn.execute(insert(user_attrs), attr_rows)
        changes["attributes"] = {"old": None, "new": sorted(a["name"] for a in attr_rows)}
    conn.execute(delete(zato_imports).where(zato_imports.c.user_id == user_id))
    conn.execute(insert(zato_imports).values(user_id=user_id, imported_at=now, version=version, source_digest=digest))
    record(
        conn,
        now=now,
        cid="import-zato",
        action="import",
        actor_id=None,
        target_id=user_id,
        channel="cli",
        current_app=None,
        remote_addr=None,
        user_agent=None,
        changes=changes,
    )
    return action, ""
