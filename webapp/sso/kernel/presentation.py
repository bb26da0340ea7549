"""How a stored user row is shown: the regular user's view and the super-user's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from .attributes import DERIVED, READ_ONLY, READABLE, SELF_READABLE, as_utc


class UserData(dict):
    """A user as shown to a caller; `.version` is kept for ETags even where the view hides it.

    `.usernames` names the other users the record points at (`locked_by`, `approval_status_mod_by`),
    where the reading service looked them up; it is never part of the wire format (nor are the role
    attributes below).
    """

    version: int = 0
    # Kept beside the view for SCIM (SPEC §21), never part of Zato's wire format:
    external_id: str | None = None
    last_modified: datetime | None = None
    usernames: Mapping[str, str] = MappingProxyType({})
    # SPEC §17, never on the wire: the caller's own permissions (`get_current_user`), or the roles of the
    # user read and whether they hold more than the reader (`get_user_by_id`).
    permissions: frozenset[str] = frozenset()
    role_names: tuple[str, ...] = ()
    stronger_than_reader: bool = False
    # SPEC §16/§21, never on the wire: the active profile fields' definitions and the names of those the caller
    # may edit on this user, where the reading service attached them (an update's `Computed` data).
    fields: tuple[Any, ...] = ()
    editable: frozenset[str] = frozenset()


# Write-only attributes (the TOTP key) are in neither view: they are never output.
FULL_VIEW = ("user_id", *READABLE, *(name for name in READ_ONLY if name != "user_id"))
SELF_VIEW = ("user_id", *SELF_READABLE)


def user_view(row: Any, full: bool, profile: Mapping[str, Any] | None = None) -> UserData:
    """The attributes of `row` that a caller sees: all of them for super-users (never a secret), then
    `profile`: the profile fields the caller may view (SPEC §16), beside the built-ins."""
    data = UserData()
    for name in FULL_VIEW if full else SELF_VIEW:
        value = derived(row, name) if name in DERIVED else row[name]
        data[name] = as_utc(value) if isinstance(value, datetime) else value
    if profile:
        data.update(profile)
    data.version = row["version"]
    data.external_id = row.get("external_id")
    modified = row.get("last_modified") or row.get("sign_up_time")
    data.last_modified = as_utc(modified) if isinstance(modified, datetime) else None
    return data


def derived(row: Any, name: str) -> Any:
    """A read-only value computed from the row (Zato's `is_approval_needed`: not yet approved)."""
    if name == "is_approval_needed":
        return row["approval_status"] != "approved"
    raise KeyError(name)


def wire_datetime(value: datetime) -> str:
    """A datetime as Zato writes it: naive UTC ISO 8601, microseconds only when not zero (SPEC §14)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def jsonable(value: Any) -> Any:
    """A value as it is written to JSON (datetimes as ISO 8601 UTC)."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat() if value.tzinfo is None else value.isoformat()
    return value
