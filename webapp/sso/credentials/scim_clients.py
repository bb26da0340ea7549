"""SCIM clients (SPEC §21): a directory (Entra ID, Okta…) provisioning users over `/scim/v2/`.

Each client is a name, a role and a bearer token printed once by `flask sso create-scim-client` and kept
only as its SHA-256 (32 random bytes: nothing to guess, so a fast hash is enough). `kernel/caller.py`
turns a token into the caller (`authenticate_scim_client`); this module creates, lists and revokes them,
each change audited like an API client's."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from ...db import reading, writing
from ..kernel.audit import record
from ..kernel.call import Call
from ..kernel.caller import holder
from ..kernel.context import Context
from ..kernel.errors import Code, Kind, SSOError
from ..kernel.permissions import USERS_ATTRIBUTES
from ..kernel.tables import roles, scim_clients
from ..kernel.texts import _t
from ..kernel.tokens import session_hash
from .api_clients import check_client_name

SCIM_TARGET = "scim-client:"  # an audit record about a SCIM client names it so (its target is no user)
ROLE_MAX = 128


def _target(name: str) -> str:
    return f"{SCIM_TARGET}{name}"[:64]


def _check_role(role: Any) -> str:
    if not isinstance(role, str) or not role.strip() or len(role) > ROLE_MAX or any(c.isspace() for c in role):
        raise SSOError.single(
            Kind.invalid, Code.invalid_input, "role", f"must be 1 to {ROLE_MAX} characters without whitespace"
        )
    return role


def create_scim_client(ctx: Context, call: Call, name: str, role: str, *, actor_id: str | None = None) -> str:
    """Create a SCIM client acting with `role`'s permissions (an existing role, SPEC §17); returns its bearer
    token (shown once, never stored)."""
    check_client_name(name)
    _check_role(role)
    token = secrets.token_urlsafe(32)
    now = ctx.clock()
    try:
        with writing(ctx.engine) as conn:
            if conn.execute(select(roles.c.name).where(roles.c.name == role)).first() is None:
                raise SSOError.single(Kind.invalid, Code.invalid_input, "role", _t("no such role"))
            conn.execute(
                insert(scim_clients).values(
                    name=name, token_hash=session_hash(token), role=role, creation_time=now, is_active=True
                )
            )
            record(
                conn,
                now=now,
                **call.audit(),
                action="scim_client_create",
                actor_id=actor_id,
                target_id=_target(name),
                changes={"scim_client": {"old": None, "new": name}, "role": {"old": None, "new": role}},
            )
    except IntegrityError:
        raise SSOError.single(
            Kind.conflict, Code.invalid_input, "name", _t("a SCIM client of this name exists")
        ) from None
    return token


def revoke_scim_client(ctx: Context, call: Call, name: str, *, actor_id: str | None = None) -> None:
    """Delete a SCIM client: its token stops working at once; unknown → E008002 (404)."""
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        if conn.execute(delete(scim_clients).where(scim_clients.c.name == name)).rowcount != 1:
            raise SSOError.single(Kind.not_found, Code.invalid_input, "name", _t("no such SCIM client"))
        record(
            conn,
            now=now,
            **call.audit(),
            action="scim_client_revoke",
            actor_id=actor_id,
            target_id=_target(name),
            changes={"scim_client": {"old": name, "new": None}},
        )


def list_scim_clients(ctx: Context) -> list[dict[str, Any]]:
    """Every SCIM client (name, role, creation time, active), by name; never a token."""
    query = select(
        scim_clients.c.name, scim_clients.c.role, scim_clients.c.creation_time, scim_clients.c.is_active
    ).order_by(scim_clients.c.name)
    with reading(ctx.engine) as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def console_scim_clients(ctx: Context, call: Call) -> list[dict[str, Any]]:
    """The SCIM clients, for a holder of `users.attributes` (the console's API clients page, as API clients)."""
    holder(ctx, call, USERS_ATTRIBUTES)
    return list_scim_clients(ctx)


def console_revoke(ctx: Context, call: Call, name) -> None:
    """Revoke a SCIM client, for a holder of `users.attributes` (the console's button)."""
    revoke_scim_client(ctx, call, name, actor_id=holder(ctx, call, USERS_ATTRIBUTES).user_id)
