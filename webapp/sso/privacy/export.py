"""Download my data (SPEC §20): everything held about one person, as one JSON document, streamed.

The document (its JSON Schema: docs/export-schema-v1.json, `FORMAT`/`VERSION` below) holds the record's
attributes, the profile fields the person may view (an administrator's copy: those both may view), two-factor
state (never a key or a code), passkeys (names and dates), sessions and devices, Zato attributes (values of
plain ones; encrypted ones by name and dates only), linked API clients, pending emailed links (purpose and
dates, never a token), and the audit records about the person. The audit part is written as it is read, in
batches (`accounts.export.audit_rows`), so a person with 100,000 records costs no more memory than one with
ten. Who acted is said as the person reads it: "self", "an administrator" with their role, or "the command
line"; an administrator's name, address and browser are not part of the person's data (docs/DECISIONS.md).

The caller must have signed in within the last 5 minutes, or give their password (or a passkey) again, as
for adding a passkey; the export is audited (action `export`) before the first byte, so a refusal is an
error and not a broken file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from ...db import reading, writing
from ..accounts.export import COLUMNS, audit_rows
from ..accounts.terms import acceptances_of
from ..credentials.passkeys import REAUTHENTICATE, confirm_recent_sign_in, signed_in_at
from ..kernel.audit import SECRET_CHANGE, record
from ..kernel.call import Call
from ..kernel.caller import authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError, no_such_user
from ..kernel.permissions import AUDIT_VIEW, USERS_VIEW, require, roles_of
from ..kernel.presentation import jsonable, user_view
from ..kernel.profile_fields import ProfileSchema, may, wire_value
from ..kernel.profile_rows import load_schema, load_values
from ..kernel.required_actions import pending_of
from ..kernel.rows import load_user
from ..kernel.tables import email_tokens, linked_auths, passkeys, recovery_codes, sessions, user_attrs, users
from ..kernel.texts import _t

FORMAT = "sso-user-export"
VERSION = 1
SCHEMA = "docs/export-schema-v1.json"
ADMINISTRATOR = "an administrator"
SUPER_USER_ROLE = "super-user"
SIGN_IN_AGAIN = _t(
    "enter your current password (or confirm with a passkey): downloading your data needs a sign-in within "
    "the last 5 minutes"
)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=jsonable)


def _user_part(row: Any) -> dict[str, Any]:
    shown = {name: jsonable(value) for name, value in user_view(row, True).items()}
    shown["version"] = row["version"]
    for name in ("locked_by", "approval_status_mod_by"):  # who: an id of another person, said as a role
        if shown.get(name) not in (None, row["user_id"]):
            shown[name] = ADMINISTRATOR
    created = shown.get("creation_ctx")
    if isinstance(created, dict) and created.get("creator") not in (None, row["user_id"]):
        # Created by an administrator (or an API client acting as one): their id and address are not the person's.
        shown["creation_ctx"] = {**created, "creator": ADMINISTRATOR, "remote_addr": None}
    return shown


def _profile_fields(conn: Connection, schema: ProfileSchema, row: Any, producer: Any) -> list[dict[str, Any]]:
    """The profile fields (SPEC §16) the person may view, with their values (null: not set); sensitive ones
    too, flagged (the person's own data; only CSV lists leave them out). A retired field's kept value is
    still held, so it is listed, flagged. An administrator's copy leaves out what its producer may not view
    (the export never shows an administrator more than Manage user does; docs/DECISIONS.md)."""
    if not schema.fields:
        return []
    values = load_values(conn, schema, row["user_id"])
    subject_roles = roles_of(conn, row["user_id"])[0]
    own = producer.user_id == row["user_id"]
    shown = []
    for f in schema.fields:
        if not may(f.view, super_user=bool(row["is_super_user"]), is_self=True, roles=subject_roles):
            continue
        if not own and not may(f.view, super_user=producer.is_super_user, is_self=False, roles=producer.role_names):
            continue
        shown.append(
            {
                "name": f.name,
                "label": f.label,
                "group": f.group or None,
                "type": f.type,
                "sensitive": f.sensitive,
                "retired": f.retired,
                "value": wire_value(f, values.get(f.name)),
            }
        )
    return shown


def _sessions(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    columns = (
        sessions.c.session_id,
        sessions.c.current_app,
        sessions.c.remote_addr,
        sessions.c.user_agent,
        sessions.c.creation_time,
        sessions.c.expiration_time,
        sessions.c.last_use_time,
    )
    query = select(*columns).where(sessions.c.user_id == user_id).order_by(sessions.c.creation_time)
    return [{key: jsonable(value) for key, value in row.items()} for row in conn.execute(query).mappings()]


def _attributes(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    query = (
        select(user_attrs, sessions.c.session_id)
        .outerjoin(sessions, sessions.c.id == user_attrs.c.session_pk)
        .where(user_attrs.c.user_id == user_id)
        .order_by(user_attrs.c.scope, user_attrs.c.name)
    )
    shown = []
    for row in conn.execute(query).mappings():
        encrypted = bool(row["is_encrypted"])
        shown.append(
            {
                "scope": "session" if row["session_pk"] is not None else "user",
                "session_id": row["session_id"],
                "name": row["name"],
                "is_encrypted": encrypted,
                # An encrypted value is one an application chose to hide (often a secret of its own):
                # named, never decrypted into a file (docs/DECISIONS.md).
                "value": None if encrypted else json.loads(row["value"]),
                "creation_time": jsonable(row["creation_time"]),
                "last_modified": jsonable(row["last_modified"]),
                "expiration_time": jsonable(row["expiration_time"]),
            }
        )
    return shown


def _linked(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    columns = (
        linked_auths.c.auth_type,
        linked_auths.c.auth_username,
        linked_auths.c.is_active,
        linked_auths.c.creation_time,
    )
    query = select(*columns).where(linked_auths.c.user_id == user_id).order_by(linked_auths.c.auth_username)
    return [
        {
            "auth_type": r.auth_type,
            "api_client": r.auth_username,
            "is_active": bool(r.is_active),
            "creation_time": jsonable(r.creation_time),
        }
        for r in conn.execute(query)
    ]


def _pending_links(conn: Connection, user_id: str, now: datetime) -> list[dict[str, Any]]:
    columns = (
        email_tokens.c.purpose,
        email_tokens.c.creation_time,
        email_tokens.c.expiration_time,
        email_tokens.c.new_email,
    )
    query = (
        select(*columns)
        .where(
            email_tokens.c.user_id == user_id, email_tokens.c.used_time.is_(None), email_tokens.c.expiration_time > now
        )
        .order_by(email_tokens.c.creation_time)
    )
    return [
        {
            "purpose": r.purpose,
            "creation_time": jsonable(r.creation_time),
            "expiration_time": jsonable(r.expiration_time),
            "new_email": r.new_email,
        }
        for r in conn.execute(query)
    ]


def _passkeys(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    """Names and dates (and whether the authenticator syncs it), never the key or the credential id."""
    columns = (passkeys.c.name, passkeys.c.creation_time, passkeys.c.last_use_time, passkeys.c.backed_up)
    query = select(*columns).where(passkeys.c.user_id == user_id).order_by(passkeys.c.creation_time)
    return [
        {
            "name": r.name,
            "creation_time": jsonable(r.creation_time),
            "last_use_time": jsonable(r.last_use_time),
            "synced": bool(r.backed_up),
        }
        for r in conn.execute(query)
    ]


def _terms(conn: Connection, row: Any) -> dict[str, Any]:
    """The terms accepted (SPEC §19) and the required actions still to do."""
    return {
        "accepted": [
            {"version": a.version, "time": jsonable(a.time), "remote_addr": a.remote_addr}
            for a in acceptances_of(conn, row["user_id"])
        ],
        "required_actions": pending_of(conn, row),
    }


def _two_factor(conn: Connection, row: Any) -> dict[str, Any]:
    left = conn.execute(
        select(func.count()).select_from(recovery_codes).where(recovery_codes.c.user_id == row["user_id"])
    ).scalar_one()
    return {
        "is_totp_enabled": bool(row["is_totp_enabled"]),
        "totp_label": row["totp_label"],
        "recovery_codes_left": left,
    }


class _Actors:
    """Says who made a record, as the person reads it; one lookup per distinct administrator."""

    def __init__(self, ctx: Context, user_id: str):
        self.ctx, self.user_id = ctx, user_id
        self.roles: dict[str, str | None] = {}

    def describe(self, actor_id: str | None, channel: str) -> dict[str, Any]:
        if actor_id == self.user_id:
            return {"actor": "self"}
        if actor_id is None:
            return {"actor": "the command line" if channel == "cli" else "the system"}
        if actor_id not in self.roles:
            with reading(self.ctx.engine) as conn:
                is_super = conn.execute(select(users.c.is_super_user).where(users.c.user_id == actor_id)).scalar()
                names = roles_of(conn, actor_id)[0] if is_super is not None else ()
            self.roles[actor_id] = SUPER_USER_ROLE if is_super else (", ".join(names) or None)
        return {"actor": ADMINISTRATOR, "actor_role": self.roles[actor_id]}


def _hide(changes: str, hidden: frozenset[str]) -> str:
    """The stored `changes` JSON text with the profile fields this file leaves out shown as a secret is
    ("(not shown)" → "(changed)"): the record stays, its values do not. Parsed only when one may be named."""
    if not hidden or not any(f'"{name}"' in changes for name in hidden):
        return changes
    parsed = json.loads(changes)
    if not isinstance(parsed, dict):
        return changes
    return _dump({name: dict(SECRET_CHANGE) if name in hidden else value for name, value in parsed.items()})


def _audit_part(ctx: Context, user_id: str, hidden: frozenset[str]) -> Iterator[str]:
    actors = _Actors(ctx, user_id)
    index = {name: position for position, name in enumerate(COLUMNS)}
    first = True
    for rows in audit_rows(ctx.engine, target_id=user_id):
        chunk = []
        for row in rows:
            actor_id, channel = row[index["actor_id"]], row[index["channel"]]
            own = actor_id == user_id
            shown = {
                "id": row[index["id"]],
                "time": jsonable(row[index["time"]]),
                "action": row[index["action"]],
                **actors.describe(actor_id, channel),
                "channel": channel,
                "current_app": row[index["current_app"]],
                # Where an administrator worked from is theirs, not the person's (as on My activity).
                "remote_addr": row[index["remote_addr"]] if own else None,
                "user_agent": row[index["user_agent"]] if own else None,
                "restored_from": row[index["restored_from"]],
            }
            changes = _hide(row[-1], hidden) if row[-1] else "null"
            text = _dump(shown)
            chunk.append(("" if first else ",\n") + f'{text[:-1]}, "changes": {changes}}}')
            first = False
        yield "".join(chunk)


def export_user(ctx: Context, call: Call, user_id=None, *, password=None, reauth=None) -> Iterator[str]:
    """Everything held about the caller (or, for a super-user, `user_id`) as JSON text chunks.

    The caller's sign-in must be recent, else `password` (or a passkey's `reauth` answer) again: the rule
    of adding a passkey (`credentials.passkeys.confirm_recent_sign_in`). Checked and audited now, before
    the first chunk; the audit part is read in batches as it is written."""
    now = ctx.clock()
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
        subject_id = caller.user_id if user_id is None else user_id
        if subject_id != caller.user_id:  # an administrator's copy (SPEC §20): the user and their history
            require(caller, USERS_VIEW)
            require(caller, AUDIT_VIEW)
        signed_in = signed_in_at(conn, caller)
    try:
        confirm_recent_sign_in(ctx, call, caller.user, signed_in, password, now, reauth)
    except SSOError as error:
        if error.errors.get("password") != REAUTHENTICATE:
            raise
        raise SSOError.single(Kind.forbidden, Code.auth_invalid, "password", SIGN_IN_AGAIN) from None
    with writing(ctx.engine) as conn:
        row = load_user(conn, subject_id)
        if row is None:
            raise no_such_user()
        schema = load_schema(conn)
        profile = _profile_fields(conn, schema, row, caller)
        shown = {f["name"] for f in profile}
        hidden = frozenset(f.name for f in schema.fields if f.name not in shown)
        head = {
            "format": FORMAT,
            "version": VERSION,
            "schema": SCHEMA,
            "generated_at": jsonable(now),
            "produced_by": "self" if subject_id == caller.user_id else ADMINISTRATOR,
            "user": _user_part(row),
            "profile_fields": profile,
            "two_factor": _two_factor(conn, row),
            "terms": _terms(conn, row),
            "passkeys": _passkeys(conn, subject_id),
            "sessions": _sessions(conn, subject_id),
            "attributes": _attributes(conn, subject_id),
            "linked_api_clients": _linked(conn, subject_id),
            "pending_email_links": _pending_links(conn, subject_id, now),
        }
        record(
            conn, now=now, **call.audit(), action="export", actor_id=caller.user_id, target_id=subject_id, changes={}
        )
    return _document(ctx, head, subject_id, hidden)


def _document(ctx: Context, head: dict[str, Any], subject_id: str, hidden: frozenset[str]) -> Iterator[str]:
    text = json.dumps(head, ensure_ascii=False, indent=1)
    yield text[:-2] + ',\n "audit": [\n'
    yield from _audit_part(ctx, subject_id, hidden)
    yield "\n ]\n}\n"
