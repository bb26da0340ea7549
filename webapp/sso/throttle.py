"""Failed-login throttling per username and per client address (SPEC §5)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from ..db import writing
from ..models import login_failures
from .attributes import fold, safe_text
from .context import Context


def throttle_keys(username: str, remote_addr: Any) -> list[str]:
    """The keys a login attempt is counted under."""
    return [f"u:{fold(username)}"[:512], f"a:{safe_text(remote_addr, 256)}"]


def is_throttled(ctx: Context, conn: Connection, keys: list[str], now: datetime) -> bool:
    """Whether any key has reached the failure limit within the window."""
    limit = ctx.settings["SSO_LOGIN_MAX_FAILURES"]
    if limit <= 0:
        return False
    since = now - timedelta(seconds=ctx.settings["SSO_LOGIN_FAILURE_WINDOW"])
    for key in keys:
        count = conn.execute(select(func.count()).select_from(login_failures).where(
            login_failures.c.key == key, login_failures.c.time > since)).scalar_one()
        if count >= limit:
            return True
    return False


def record_failure(ctx: Context, keys: list[str], now: datetime) -> None:
    """Count one failed attempt under every key (and forget the marks that left the window)."""
    if ctx.settings["SSO_LOGIN_MAX_FAILURES"] <= 0:
        return
    since = now - timedelta(seconds=ctx.settings["SSO_LOGIN_FAILURE_WINDOW"])
    with writing(ctx.engine) as conn:
        conn.execute(delete(login_failures).where(login_failures.c.time <= since))
        conn.execute(insert(login_failures), [{"key": key, "time": now} for key in keys])
