"""Template helpers: how values, times, statuses and audit records read on a page (all escaped by Jinja)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask

from ..sso.credentials.api_clients import client_of_target
from ..sso.kernel.attributes import ATTRIBUTES
from .attribute_form.values import encode_value

CHOICE_LABELS = {
    "approved": "Approved",
    "rejected": "Rejected",
    "before_decision": "Waiting for a decision",
    "before_confirmation": "Waiting for confirmation",
    "final": "Final",
}
ACTION_LABELS = {
    "update": "Changed",
    "export": "Data downloaded",
    "deletion_scheduled": "Deletion scheduled",
    "deletion_cancelled": "Deletion cancelled",
    "create": "Created",
    "login": "Logged in",
    "change_password": "Password set",
    "signup": "Signed up",
    "confirm_signup": "Sign-up confirmed",
    "reset_requested": "Password reset requested",
    "password_reset": "Password reset by email",
    "recovery_codes": "New recovery codes",
    "delete": "Deleted",
    "end_session": "Signed out a session",
    "end_sessions": "Signed out sessions",
    "email_change_requested": "Email change requested (waiting for the link)",
    "api_client_create": "API client created",
    "api_client_revoke": "API client revoked",
    "link": "API client linked",
    "unlink": "API client unlinked",
    "import": "Imported from Zato",
    "user_attr_create": "User attribute created",
    "user_attr_update": "User attribute updated",
    "user_attr_set": "User attribute set",
    "user_attr_delete": "User attribute deleted",
    "session_attr_create": "Session attribute created",
    "session_attr_update": "Session attribute updated",
    "session_attr_set": "Session attribute set",
    "session_attr_delete": "Session attribute deleted",
    "profile_field": "Profile field defined or changed",
    "outbox_retry": "Email queued again",
    "role_grant": "Role granted",
    "role_revoke": "Role revoked",
    "role_create": "Role created",
    "role_update": "Role changed",
    "role_delete": "Role deleted",
    "passkey_add": "Passkey added",
    "passkey_rename": "Passkey renamed",
    "passkey_remove": "Passkey removed",
    "passkey_cloned": "Passkey refused: its sign count went back (a copy of it?)",
}
# Records that add or remove one thing show only the value it had ("new" or "old"), not "not set → value".
ONE_SIDED = {
    "create": "new",
    "api_client_create": "new",
    "api_client_revoke": "old",
    "link": "new",
    "unlink": "old",
    "passkey_add": "new",
    "passkey_remove": "old",
}
CHANNEL_LABELS = {
    "web": "web console",
    "api": "JSON API",
    "python": "Python API",
    "cli": "command line",
    "schema": "profile field change",
}
EXTRA_LABELS = {
    "password": "Password",
    "is_super_user": "Super-user",
    "recovery_codes": "Recovery codes",
    "recovery_codes_left": "Recovery codes left",
    "session": "Session",
    "sessions": "Open sessions",
    "api_client": "API client",
    "linked_auth": "Linked API client",
    "deletion_time": "Deletion scheduled on",
    "outbox_status": "Email status",
    "message": "Email",
    "passkey": "Passkey",
    "sign_count": "Sign count",
}

# (token in the user agent, name shown); the first match wins, so the more specific come first.
BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
    ("curl/", "curl"),
    ("python-requests/", "Python requests"),
)
SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def as_datetime(value: Any) -> datetime | None:
    """A datetime or ISO 8601 string as an aware UTC datetime (None when it is neither)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_time(value: Any) -> str:
    """`2030-01-31 12:00:05 UTC`, or the value as given when it is not a time."""
    moment = as_datetime(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ("" if value is None else str(value))


def iso_time(value: Any) -> str:
    """The machine-readable form for a <time datetime=...> attribute."""
    moment = as_datetime(value)
    return moment.isoformat() if moment else ""


def value_state(value: Any) -> str:
    """Which state a stored value is drawn as: "null" (not set), "empty" (""), "bool" or "text"."""
    if value is None:
        return "null"
    if value == "" and isinstance(value, str):
        return "empty"
    if isinstance(value, bool):
        return "bool"
    return "text"


def is_time(value: Any, name: str | None = None) -> bool:
    """Whether `value` reads as a time (kept on one line on the page)."""
    attr = ATTRIBUTES.get(name or "")
    return isinstance(value, datetime) or (attr is not None and attr.type == "datetime" and value is not None)


def format_value(value: Any, name: str | None = None) -> str:
    """A stored value in words: yes/no, choice labels, times in UTC, a set of options as a list."""
    if value is None:
        return "not set"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    attr = ATTRIBUTES.get(name or "")
    if attr is not None and attr.type == "datetime":
        return format_time(value)
    if isinstance(value, datetime):
        return format_time(value)
    if attr is not None and attr.type == "enum":
        return CHOICE_LABELS.get(value, str(value))
    if isinstance(value, list):  # a set of names, e.g. a user's roles or a role's permissions
        return ", ".join(map(str, value)) or "none"
    return str(value)


def attribute_label(name: str) -> str:
    """The label of an attribute (or of a non-attribute audit key)."""
    attr = ATTRIBUTES.get(name)
    if attr is not None:
        return attr.label
    return EXTRA_LABELS.get(name, name.replace("_", " ").capitalize())


def describe_browser(agent: str | None) -> str:
    """A user agent as a person reads it: "Firefox 120 on Linux" (or "Unknown browser")."""
    if not agent:
        return "Unknown browser"
    name = version = None
    for token, shown in BROWSERS:
        at = agent.find(token)
        if at >= 0:
            name = shown
            digits = agent[at + len(token) :].split(".")[0].split(" ")[0]
            version = digits if digits.isdigit() and token != "Version/" else None
            break
    system = next((shown for token, shown in SYSTEMS if token in agent), None)
    if name is None:
        name = agent.split("/")[0].split(" ")[0][:40] or "Unknown browser"
    return " ".join(filter(None, [name, version])) + (f" on {system}" if system else "")


def init_display(app: Flask) -> None:
    """Register the helpers as Jinja filters."""
    app.jinja_env.filters.update(
        time=format_time,
        iso_time=iso_time,
        value_state=value_state,
        show=format_value,
        is_time=is_time,
        attribute_label=attribute_label,
        jsonvalue=encode_value,
        browser=describe_browser,
        choice_label=lambda value: CHOICE_LABELS.get(value, value),
        action_label=lambda value: ACTION_LABELS.get(value, value),
        channel_label=lambda value: CHANNEL_LABELS.get(value, value),
        one_side=ONE_SIDED.get,
        api_client_name=client_of_target,
    )
