"""Sessions after login (SPEC §5, §9): logout and renewal."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update

from ..db import reading, writing
from ..models import sessions
from .authn import authenticate
from .context import Context


def logout(ctx: Context, cid, current_ust, current_app, remote_addr) -> None:
    """End the session behind `current_ust`; always succeeds, so USTs cannot be probed."""
    digest = ctx.codec.session_hash_of(current_ust)
    if digest is not None:
        with writing(ctx.engine) as conn:
            conn.execute(delete(sessions).where(sessions.c.session_hash == digest))


def renew(ctx: Context, cid, current_ust, current_app, remote_addr) -> datetime:
    """Extend a live session by the session lifetime; returns the new expiration time."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, current_ust, current_app)
    expiration = ctx.clock() + timedelta(seconds=ctx.settings["SSO_SESSION_TTL"])
    with writing(ctx.engine) as conn:
        conn.execute(update(sessions).where(sessions.c.id == caller.session_id)
                     .values(expiration_time=expiration))
    return expiration
