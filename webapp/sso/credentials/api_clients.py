"""API clients and linked credentials (SPEC §13, Zato's linked auth).

An API client is a named HTTP Basic credential (its secret kept only as an scrypt hash). A
super-user links it to a user; a JSON API call carrying that Basic credential then acts as the
user: the link's session is renewed, or a new one opened, and its UST is answered in the
`X-Zato-SSO-UST` header. The link keeps its session id sealed with the Fernet keys, so the
same session serves every call while it lives."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...db import reading, writing
from ..kernel.attributes import REMOTE_ADDR_MAX, USER_AGENT_MAX, safe_text, text_problem
from ..kernel.audit import record
from ..kernel.call import Call
from ..kernel.caller import authenticate, check_app, holder, refuse_if_unusable
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError, no_such_user
from ..kernel.hashing import dummy_hash, hash_password, verify_password
from ..kernel.permissions import USERS_ATTRIBUTES, require, require_over
from ..kernel.ratelimit import enforce as enforce_rate_limit
from ..kernel.rows import load_user, new_session_id
from ..kernel.tables import api_clients, linked_auths, sessions, users
from ..kernel.texts import _t
from ..kernel.tokens import session_hash
from .throttle import begin_attempt, succeeded

AUTH_TYPE = "zato.basic_auth"
AUTH_TYPES = (AUTH_TYPE, "basic_auth")  # the second is how Zato's own code spells it (SEC_DEF_TYPE.BASIC_AUTH)
API_CLIENT_NAME_MAX = 128
LINK_KEYS = ("auth_type", "auth_username", "is_active")
CLIENT_KEY = "api-client:"  # API clients are throttled under this prefix, apart from usernames


def _invalid(field: str, message: str) -> SSOError:
    return SSOError.single(Kind.invalid, Code.invalid_input, field, message)


CLIENT_TARGET = "api-client:"  # an audit record about an API client names it so (its target is no user)


def _client_target(name: str) -> str:
    return f"{CLIENT_TARGET}{name}"[:64]


def client_of_target(target_id: str | None) -> str | None:
    """The API client an audit record's target names (its name, cut to fit), or None for a user."""
    if target_id and target_id.startswith(CLIENT_TARGET):
        return target_id[len(CLIENT_TARGET) :]
    return None


# --- API clients (command line and console) -------------------------------------------------------------------


def check_client_name(name: Any) -> str:
    """A client name: 1–128 characters, no whitespace, no colon (HTTP Basic could not carry it)."""
    if (
        not isinstance(name, str)
        or not name
        or len(name) > API_CLIENT_NAME_MAX
        or text_problem(name)
        or ":" in name
        or any(char.isspace() for char in name)
    ):
        raise _invalid("name", f"must be 1 to {API_CLIENT_NAME_MAX} characters without whitespace or a colon")
    return name


def create_api_client(
    ctx: Context, call: Call, name: str, secret: str | None = None, *, actor_id: str | None = None
) -> str:
    """Create an API client; returns its secret (the one given, or a new random one, never stored)."""
    check_client_name(name)
    secret = secret or secrets.token_urlsafe(24)
    if len(secret) < 16:
        raise _invalid("secret", "must be at least 16 characters")
    now = ctx.clock()
    try:
        with writing(ctx.engine) as conn:
            conn.execute(
                insert(api_clients).values(
                    name=name,
                    secret_hash=hash_password(secret, ctx.settings["SSO_SCRYPT_N"]),
                    creation_time=now,
                    is_active=True,
                )
            )
            record(
                conn,
                now=now,
                **call.audit(),
                action="api_client_create",
                actor_id=actor_id,
                target_id=_client_target(name),
                changes={"api_client": {"old": None, "new": name}},
            )
    except IntegrityError:
        raise SSOError.single(
            Kind.conflict, Code.invalid_input, "name", _t("an API client of this name exists")
        ) from None
    return secret


def revoke_api_client(ctx: Context, call: Call, name: str, *, actor_id: str | None = None) -> None:
    """Delete an API client and its links (its sessions end too); unknown → E008002 (404)."""
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        link = conn.execute(select(linked_auths).where(linked_auths.c.auth_username == name)).mappings().first()
        if link is not None:
            _end_link_session(ctx, conn, link)
        if conn.execute(delete(api_clients).where(api_clients.c.name == name)).rowcount != 1:
            raise SSOError.single(Kind.not_found, Code.invalid_input, "name", _t("no such API client"))
        record(
            conn,
            now=now,
            **call.audit(),
            action="api_client_revoke",
            actor_id=actor_id,
            target_id=_client_target(name),
            changes={"api_client": {"old": name, "new": None}},
        )


def list_api_clients(ctx: Context) -> list[dict[str, Any]]:
    """Every API client with the user it is linked to (if any), by name."""
    query = (
        select(
            api_clients.c.name,
            api_clients.c.creation_time,
            api_clients.c.is_active,
            linked_auths.c.user_id,
            users.c.username,
            linked_auths.c.is_active.label("link_active"),
        )
        .select_from(
            api_clients.outerjoin(linked_auths, linked_auths.c.auth_username == api_clients.c.name).outerjoin(
                users, users.c.user_id == linked_auths.c.user_id
            )
        )
        .order_by(api_clients.c.name)
    )
    with reading(ctx.engine) as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def console_clients(ctx: Context, call: Call) -> list[dict[str, Any]]:
    """The API clients, for a holder of `users.attributes` (the console's list)."""
    holder(ctx, call, USERS_ATTRIBUTES)
    return list_api_clients(ctx)


def console_revoke(ctx: Context, call: Call, name) -> None:
    """Revoke an API client, for a holder of `users.attributes` (the console's button)."""
    revoke_api_client(ctx, call, name, actor_id=holder(ctx, call, USERS_ATTRIBUTES).user_id)


# --- links (JSON API, super-users) --------------------------------------------------------------------------------


def _super_user_and_target(ctx: Context, conn: Connection, call: Call, user_id):
    """The caller holding `users.attributes` and the target they are not weaker than (SPEC §17)."""
    caller = authenticate(ctx, conn, call)
    require(caller, USERS_ATTRIBUTES)
    if user_id is None:
        raise SSOError.single(Kind.missing, Code.invalid_input, "user_id", _t("is required"))
    target = load_user(conn, user_id) if isinstance(user_id, str) else None
    if target is None:
        raise no_such_user()
    require_over(conn, caller, target)
    return caller, target


def _link_inputs(data: Any, required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _invalid("data", "must be an object")
    missing = [key for key in required if key not in data]
    if missing:
        raise SSOError(Kind.missing, [Code.invalid_input], dict.fromkeys(missing, "is required"))
    errors = FieldErrors()
    for key in data:
        if key not in LINK_KEYS:
            errors.add(key[:128], _t("is not an input of this call"))
    if "auth_type" in data and data["auth_type"] not in AUTH_TYPES:
        errors.add("auth_type", f"must be {AUTH_TYPE}")
    if "auth_username" in data and not isinstance(data["auth_username"], str):
        errors.add("auth_username", _t("must be the name of an API client"))
    if "is_active" in data and type(data["is_active"]) is not bool:
        errors.add("is_active", _t("must be true or false"))
    errors.raise_if_any(Kind.invalid)
    return dict(data)


def link(ctx: Context, call: Call, user_id, data) -> None:
    """Link the API client `auth_username` to `user_id` (super-users)."""
    data = _link_inputs(data, ("auth_type", "auth_username"))
    now = ctx.clock()
    try:
        with writing(ctx.engine) as conn:
            caller, target = _super_user_and_target(ctx, conn, call, user_id)
            client = conn.execute(select(api_clients).where(api_clients.c.name == data["auth_username"])).first()
            if client is None:
                raise _invalid("auth_username", "no API client has this name (create it with sso create-api-client)")
            conn.execute(
                insert(linked_auths).values(
                    user_id=target["user_id"],
                    auth_type=AUTH_TYPE,
                    auth_username=data["auth_username"],
                    is_active=data.get("is_active", True),
                    creation_time=now,
                )
            )
            record(
                conn,
                now=now,
                **call.audit(),
                action="link",
                actor_id=caller.user_id,
                target_id=target["user_id"],
                changes={"linked_auth": {"old": None, "new": data["auth_username"]}},
            )
    except IntegrityError:
        raise SSOError.single(
            Kind.conflict, Code.invalid_input, "auth_username", _t("this API client is already linked to a user")
        ) from None


def links(ctx: Context, call: Call, user_id) -> list[dict[str, Any]]:
    """The credentials linked to `user_id` (super-users)."""
    with reading(ctx.engine) as conn:
        _, target = _super_user_and_target(ctx, conn, call, user_id)
        rows = conn.execute(
            select(
                linked_auths.c.auth_type,
                linked_auths.c.auth_username,
                linked_auths.c.user_id,
                linked_auths.c.is_active,
                linked_auths.c.creation_time,
            )
            .where(linked_auths.c.user_id == target["user_id"])
            .order_by(linked_auths.c.auth_username)
        ).mappings()
        return [{**row, "has_ext_principal": False} for row in rows]


def unlink(ctx: Context, call: Call, user_id, data) -> None:
    """Remove the link of `auth_username` to `user_id` (super-users); its session ends."""
    data = _link_inputs(data, ("auth_type", "auth_username"))
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        caller, target = _super_user_and_target(ctx, conn, call, user_id)
        row = (
            conn.execute(
                select(linked_auths).where(
                    linked_auths.c.user_id == target["user_id"], linked_auths.c.auth_username == data["auth_username"]
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise SSOError.single(Kind.not_found, Code.invalid_input, "auth_username", _t("is not linked to this user"))
        _end_link_session(ctx, conn, row)
        conn.execute(delete(linked_auths).where(linked_auths.c.id == row["id"]))
        record(
            conn,
            now=now,
            **call.audit(),
            action="unlink",
            actor_id=caller.user_id,
            target_id=target["user_id"],
            changes={"linked_auth": {"old": data["auth_username"], "new": None}},
        )


def _end_link_session(ctx: Context, conn, link_row) -> None:
    session_id = ctx.codec.open_session_id(link_row["session_token"]) if link_row["session_token"] else None
    if session_id is not None:
        conn.execute(delete(sessions).where(sessions.c.session_hash == session_hash(session_id)))


# --- a call made with the Basic credential -----------------------------------------------------------------------


def _denied() -> SSOError:
    return SSOError.single(Kind.forbidden, Code.auth_invalid)


def basic_session(ctx: Context, call: Call, name, secret) -> str:
    """The UST of the linked user's session for an API client's Basic credential (renewed or new)."""
    check_app(ctx, call.current_app)
    with reading(ctx.engine) as conn:
        row = (
            conn.execute(
                select(
                    api_clients.c.secret_hash,
                    api_clients.c.is_active.label("client_active"),
                    linked_auths.c.id.label("link_id"),
                    linked_auths.c.is_active.label("link_active"),
                    linked_auths.c.session_token,
                    users,
                )
                .select_from(
                    api_clients.join(linked_auths, linked_auths.c.auth_username == api_clients.c.name).join(
                        users, users.c.user_id == linked_auths.c.user_id
                    )
                )
                .where(api_clients.c.name == name)
            )
            .mappings()
            .first()
            if isinstance(name, str)
            else None
        )
    # Counted like a sign-in before the secret is checked (issue 31 #10): per (client, address), address,
    # and client name; an unknown name costs one scrypt like a wrong secret, so names cannot be told apart.
    now = ctx.clock()
    attempt = begin_attempt(
        ctx,
        CLIENT_KEY + (safe_text(name, API_CLIENT_NAME_MAX) or ""),
        call.remote_addr,
        now,
        field_name="authorization",
    )
    stored = row["secret_hash"] if row is not None else None
    checked = stored or dummy_hash(ctx.settings["SSO_SCRYPT_N"])
    if not verify_password(secret if isinstance(secret, str) else "", checked) or stored is None:
        raise _denied()
    assert row is not None, "a stored hash came from the link's row"
    with writing(ctx.engine) as conn:
        succeeded(conn, attempt, now)
    if (
        not row["client_active"]
        or not row["link_active"]
        or row["approval_status"] != "approved"
        or not row["is_active"]
    ):
        raise _denied()
    refuse_if_unusable(row, now)
    enforce_rate_limit(ctx, row, call.current_app)
    expiration = now + timedelta(seconds=ctx.settings["SSO_SESSION_TTL"])
    session_id = ctx.codec.open_session_id(row["session_token"]) if row["session_token"] else None
    with writing(ctx.engine) as conn:
        renewed = (
            session_id is not None
            and conn.execute(
                update(sessions)
                .where(sessions.c.session_hash == session_hash(session_id), sessions.c.expiration_time > now)
                .values(expiration_time=expiration)
            ).rowcount
            == 1
        )
        if not renewed:
            session_id = secrets.token_urlsafe(32)
            conn.execute(
                delete(sessions).where(sessions.c.user_id == row["user_id"], sessions.c.expiration_time <= now)
            )
            conn.execute(
                insert(sessions).values(
                    session_hash=session_hash(session_id),
                    session_id=new_session_id(),
                    last_use_time=now,
                    user_id=row["user_id"],
                    current_app=call.current_app,
                    remote_addr=safe_text(call.remote_addr, REMOTE_ADDR_MAX),
                    user_agent=safe_text(call.user_agent, USER_AGENT_MAX),
                    creation_time=now,
                    expiration_time=expiration,
                )
            )
            conn.execute(
                update(linked_auths)
                .where(linked_auths.c.id == row["link_id"])
                .values(session_token=ctx.codec.wrap(session_id))
            )
            record(
                conn,
                now=now,
                **call.audit(),
                action="login",
                actor_id=row["user_id"],
                target_id=row["user_id"],
                changes={"linked_auth": {"old": None, "new": name}},
            )
    assert session_id is not None, "renewed, or a new session just above"
    return ctx.codec.wrap(session_id)


__all__ = [
    "AUTH_TYPE",
    "basic_session",
    "create_api_client",
    "link",
    "links",
    "list_api_clients",
    "revoke_api_client",
    "unlink",
]
