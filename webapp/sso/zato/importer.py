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
from sqlalchemy import MetaData, Table, create_engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from ...db import writing
from ..kernel.attributes import ATTRIBUTES, check_value, fold, is_valid_email, search_column
from ..kernel.audit import change, record
from ..kernel.context import Context
from ..kernel.hashing import PBKDF2_PREFIX
from ..kernel.tables import user_attrs, users, zato_imports
from .attributes import _fernet  # our keys, to keep encrypted attributes encrypted

FERNET_PREFIX = "gAAAAA"
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


def _creation_ctx(raw: Any) -> Any:
    if raw is None or isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError):
        return {"zato": str(raw)[:1000]}
    return parsed if isinstance(parsed, dict) or parsed is None else {"zato": parsed}


def _as_bool(value: Any) -> bool:
    return bool(value) if value is not None else False


def convert(source: dict[str, Any], decrypt: _Decrypter) -> tuple[dict[str, Any], list[str]]:
    """Our user row for a Zato row, and notes; raises ValueError with the reason to reject it."""
    notes: list[str] = []
    password = decrypt(source.get("password"), "the password hash")
    if source.get("password_is_set", True) and not (isinstance(password, str) and password.startswith(PBKDF2_PREFIX)):
        raise ValueError("the password is not a PBKDF2-SHA512 hash in passlib's format")
    username = source.get("username")
    _, problem = check_value(ATTRIBUTES["username"], username)
    if problem:
        raise ValueError(f"username {problem}")
    email = decrypt(source.get("email"), "the email")
    if email is not None and not is_valid_email(email):
        notes.append(f"email {email!r} is not a valid address; kept as it was")
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
        "locked_by": source.get("locked_by"),
        "creation_ctx": _creation_ctx(source.get("creation_ctx")),
        "sign_up_time": source.get("sign_up_time"),
        "sign_up_status": source.get("sign_up_status") or "final",
        "approval_status": source.get("approval_status") or "before_decision",
        "approval_status_mod_time": source.get("approval_status_mod_time"),
        "approval_status_mod_by": source.get("approval_status_mod_by"),
        "is_rate_limit_active": _as_bool(source.get("is_rate_limit_active")),
        "rate_limit_def": source.get("rate_limit_def"),
    }
    for name in ("display_name", "first_name", "middle_name", "last_name"):
        row[name] = source.get(name)
    for name in ("display_name", "first_name", "middle_name", "last_name", "username", "email"):
        row[search_column(name)] = fold(row[name])
    if row["sign_up_status"] not in ATTRIBUTES["sign_up_status"].choices:
        raise ValueError(f"sign_up_status {row['sign_up_status']!r} is not one we know")
    if row["approval_status"] not in ATTRIBUTES["approval_status"].choices:
        raise ValueError(f"approval_status {row['approval_status']!r} is not one we know")
    if row["sign_up_time"] is None:
        raise ValueError("it has no sign_up_time")
    return row, notes


def _read_source(url: str) -> tuple[list[dict], dict[str, list[dict]]]:
    try:
        engine = create_engine(url)
        meta = MetaData()
        with engine.connect() as conn:
            user_table = Table("zato_sso_user", meta, autoload_with=conn)
            rows = [dict(r) for r in conn.execute(select(user_table).order_by(user_table.c.username)).mappings()]
            attrs: dict[str, list[dict]] = {}
            if engine.dialect.has_table(conn, "zato_sso_attr"):
                attr_table = Table("zato_sso_attr", meta, autoload_with=conn)
                for r in conn.execute(
                    select(attr_table).where(attr_table.c.is_session_attr.is_(False)).order_by(attr_table.c.name)
                ).mappings():
                    attrs.setdefault(r["user_id"], []).append(dict(r))
        engine.dispose()
    except SQLAlchemyError as e:
        raise ImportFailed(
            f"cannot read a Zato ODB there ({type(e).__name__}); it needs a zato_sso_user table"
        ) from None
    return rows, attrs


def _attr_rows(ctx: Context, user_id: str, source_attrs: list[dict], decrypt: _Decrypter, now: datetime) -> list[dict]:
    out = []
    for a in source_attrs:
        if a.get("expiration_time") is not None and a["expiration_time"] <= now:
            continue
        value = decrypt(a["value"], f"attribute {a['name']}") if a.get("is_encrypted") else a["value"]
        try:
            json.loads(value)
        except (TypeError, ValueError):
            value = json.dumps(value)
        stored = _fernet(ctx).encrypt(value.encode()).decode() if a.get("is_encrypted") else value
        out.append(
            {
                "user_id": user_id,
                "scope": "",
                "session_pk": None,
                "name": a["name"],
                "value": stored,
                "is_encrypted": bool(a.get("is_encrypted")),
                "creation_time": a["creation_time"],
                "last_modified": a.get("last_modified") or a["creation_time"],
                "expiration_time": a.get("expiration_time"),
            }
        )
    return out


def import_zato(ctx: Context, source_url: str, *, zato_secret_key: str | None = None, dry_run: bool = False) -> Summary:
    """Import every user of the Zato ODB at `source_url` (see the module docstring)."""
    decrypt = _Decrypter(zato_secret_key)
    rows, attrs = _read_source(source_url)
    summary = Summary(dry_run=dry_run)
    now = ctx.clock()
    for source in rows:
        name = str(source.get("username"))
        user_id = source["user_id"]  # the Zato table's primary key
        source_attrs = attrs.get(user_id, [])
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
