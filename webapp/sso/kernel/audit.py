"""The audit trail: one record per successful change, written in the change's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from . import events
from .attributes import APP_MAX, ATTRIBUTES, CID_MAX, REMOTE_ADDR_MAX, USER_AGENT_MAX, safe_text
from .presentation import jsonable
from .tables import audit

# schema: values cleared by a profile field's change; policy: the account policies' runs (issue 27)
CHANNELS = ("web", "api", "python", "cli", "scim", "schema", "policy")
SECRET_CHANGE = {"old": "(not shown)", "new": "(changed)"}  # how the audit shows a secret (password, TOTP key)


def change(old: Any, new: Any) -> dict[str, Any]:
    """One attribute's old and new value as stored in an audit record."""
    return {"old": jsonable(old), "new": jsonable(new)}


def attribute_change(name: str, old: Any, new: Any) -> dict[str, Any]:
    """One attribute's change as audited: a write-only attribute (a secret) only as "(changed)"."""
    return dict(SECRET_CHANGE) if ATTRIBUTES[name].write_only else change(old, new)


def record(
    conn: Connection,
    *,
    now: datetime,
    cid: Any,
    action: str,
    actor_id: str | None,
    target_id: str,
    channel: str,
    current_app: Any,
    remote_addr: Any,
    user_agent: Any,
    changes: dict[str, Any],
    restored_from: int | None = None,
) -> None:
    """Insert one audit record (never a secret: callers pass attribute values only)."""
    channel = channel if channel in CHANNELS else "python"
    conn.execute(
        _INSERT,
        {
            "time": now,
            "cid": safe_text(cid, CID_MAX),
            "action": action,
            "actor_id": actor_id,
            "target_id": target_id,
            "channel": channel,
            "current_app": safe_text(current_app, APP_MAX),
            "remote_addr": safe_text(remote_addr, REMOTE_ADDR_MAX),
            "user_agent": safe_text(user_agent, USER_AGENT_MAX),
            "changes": changes,
            "restored_from": restored_from,
        },
    )
    events.emit(events.CHANGE, action=action, channel=channel)


_INSERT = insert(audit)  # built once; the values come as parameters (statement cache)
