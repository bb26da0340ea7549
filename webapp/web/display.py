"""Template helpers: how values, times, statuses and audit records read on a page (all escaped by Jinja)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask

from ..i18n import LANGUAGE_NAMES, SOURCE_LOCALE, current_locale, format_datetime, gettext, lazy_gettext, translate
from ..sso.credentials.api_clients import client_of_target
from ..sso.kernel.attributes import ATTRIBUTES
from .attribute_form.values import encode_value
from .field_table import attribute, known, profile_field

CHOICE_LABELS = {
    **LANGUAGE_NAMES,
    "approved": lazy_gettext("Approved"),
    "rejected": lazy_gettext("Rejected"),
    "before_decision": lazy_gettext("Waiting for a decision"),
    "before_confirmation": lazy_gettext("Waiting for confirmation"),
    "final": lazy_gettext("Final"),
}
ACTION_LABELS = {
    "update": lazy_gettext("Changed"),
    "export": lazy_gettext("Data downloaded"),
    "deletion_scheduled": lazy_gettext("Deletion scheduled"),
    "deletion_cancelled": lazy_gettext("Deletion cancelled"),
    "create": lazy_gettext("Created"),
    "login": lazy_gettext("Logged in"),
    "change_password": lazy_gettext("Password set"),
    "signup": lazy_gettext("Signed up"),
    "confirm_signup": lazy_gettext("Sign-up confirmed"),
    "reset_requested": lazy_gettext("Password reset requested"),
    "password_reset": lazy_gettext("Password reset by email"),
    "reset_link_sent": lazy_gettext("Password-reset link sent by an administrator"),
    "signup_link_sent": lazy_gettext("Sign-up confirmation sent again by an administrator"),
    "verify_link_sent": lazy_gettext("Verify-email link sent by an administrator"),
    "policy_warning": lazy_gettext("Warned by an account policy"),
    "policy_change": lazy_gettext("Account policy changed"),
    "recovery_codes": lazy_gettext("New recovery codes"),
    "delete": lazy_gettext("Deleted"),
    "end_session": lazy_gettext("Signed out a session"),
    "end_sessions": lazy_gettext("Signed out sessions"),
    "email_change_requested": lazy_gettext("Email change requested (waiting for the link)"),
    "api_client_create": lazy_gettext("API client created"),
    "api_client_revoke": lazy_gettext("API client revoked"),
    "link": lazy_gettext("API client linked"),
    "unlink": lazy_gettext("API client unlinked"),
    "import": lazy_gettext("Imported from Zato"),
    "user_attr_create": lazy_gettext("User attribute created"),
    "user_attr_update": lazy_gettext("User attribute updated"),
    "user_attr_set": lazy_gettext("User attribute set"),
    "user_attr_delete": lazy_gettext("User attribute deleted"),
    "session_attr_create": lazy_gettext("Session attribute created"),
    "session_attr_update": lazy_gettext("Session attribute updated"),
    "session_attr_set": lazy_gettext("Session attribute set"),
    "session_attr_delete": lazy_gettext("Session attribute deleted"),
    "profile_field": lazy_gettext("Profile field defined or changed"),
    "outbox_retry": lazy_gettext("Email queued again"),
    "scim_client_create": lazy_gettext("SCIM client created"),
    "scim_client_revoke": lazy_gettext("SCIM client revoked"),
    "role_grant": lazy_gettext("Role granted"),
    "role_revoke": lazy_gettext("Role revoked"),
    "role_create": lazy_gettext("Role created"),
    "role_update": lazy_gettext("Role changed"),
    "role_delete": lazy_gettext("Role deleted"),
    "passkey_add": lazy_gettext("Passkey added"),
    "terms_publish": lazy_gettext("Terms published"),
    "terms_asked": lazy_gettext("Users asked to accept the terms"),
    "terms_accept": lazy_gettext("Terms accepted"),
    "bulk_required_action": lazy_gettext("Required action for a filter"),
    "verify_email_sent": lazy_gettext("Email confirmation link sent"),
    "email_verified": lazy_gettext("Email address confirmed"),
    "passkey_rename": lazy_gettext("Passkey renamed"),
    "passkey_remove": lazy_gettext("Passkey removed"),
    "passkey_cloned": lazy_gettext("Passkey refused: its sign count went back (a copy of it?)"),
}
# Records that add or remove one thing show only the value it had ("new" or "old"), not "not set → value".
ONE_SIDED = {
    "create": "new",
    "reset_link_sent": "new",
    "signup_link_sent": "new",
    "verify_link_sent": "new",
    "policy_warning": "new",
    "api_client_create": "new",
    "api_client_revoke": "old",
    "link": "new",
    "unlink": "old",
    "passkey_add": "new",
    "passkey_remove": "old",
}
CHANNEL_LABELS = {
    "web": lazy_gettext("web console"),
    "api": lazy_gettext("JSON API"),
    "python": lazy_gettext("Python API"),
    "cli": lazy_gettext("command line"),
    "schema": lazy_gettext("profile field change"),
    "policy": lazy_gettext("account policy"),
}
EXTRA_LABELS = {
    "password": lazy_gettext("Password"),
    "email_sent": lazy_gettext("Email sent to"),
    "email_verified": lazy_gettext("Email address confirmed"),
    "policy_warning": lazy_gettext("Warning sent"),
    "is_super_user": lazy_gettext("Super-user"),
    "recovery_codes": lazy_gettext("Recovery codes"),
    "recovery_codes_left": lazy_gettext("Recovery codes left"),
    "session": lazy_gettext("Session"),
    "sessions": lazy_gettext("Open sessions"),
    "api_client": lazy_gettext("API client"),
    "linked_auth": lazy_gettext("Linked API client"),
    "passkey": lazy_gettext("Passkey"),
    "sign_count": lazy_gettext("Sign count"),
    "deletion_time": lazy_gettext("Deletion scheduled on"),
    "roles": lazy_gettext("Roles"),
    "permissions": lazy_gettext("Permissions"),
}
# How the audit shows a secret's change (kernel/audit.py's SECRET_CHANGE), in the page's language.
SECRET_WORDS = {"(not shown)": lazy_gettext("(not shown)"), "(changed)": lazy_gettext("(changed)")}
SECRETS = ("password", "recovery_codes")  # audit keys of secrets that are not attributes

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
    """A time in UTC as this page's language writes it (`2030-01-31 12:00:05 UTC` in English, `31.01.2030,
    12:00:05 UTC` in German), or the value as given when it is not a time."""
    moment = as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    if current_locale() == SOURCE_LOCALE:
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{format_datetime(moment, 'medium')} UTC"


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
    if attr is None:  # an audit key of a time that is no attribute (deletion_time): known by its name and value
        return isinstance(value, datetime) or ((name or "").endswith("_time") and as_datetime(value) is not None)
    return isinstance(value, datetime) or (attr.type == "datetime" and value is not None)


def format_value(value: Any, name: str | None = None) -> str:
    """A stored value in words: yes/no, choice labels, times in UTC, a set of options as a list."""
    if value is None:
        return gettext("not set")
    f = profile_field(name) if name else None
    if f is not None and f.type in ("choice", "choices"):  # an option by its label (the stored value if gone)
        labels = dict(f.options)
        if isinstance(value, list):
            return ", ".join(labels.get(item, str(item)) for item in value) or gettext("none")
        if isinstance(value, str) and value in labels:
            return labels[value]
    if isinstance(value, list):
        return ", ".join(_item_words(item) for item in value) or gettext("none")
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    attr = ATTRIBUTES.get(name or "")
    if (attr is not None and attr.type == "datetime") or is_time(value, name):
        return format_time(value)
    if isinstance(value, datetime):
        return format_time(value)
    if attr is not None and attr.type == "enum":
        return str(CHOICE_LABELS.get(value, str(value)))
    if isinstance(value, list):  # a set of names, e.g. a user's roles or a role's permissions
        return ", ".join(map(str, value)) or gettext("none")
    # The audit's words for a value not shown: a secret's, and a profile field's the reader may not view or that
    # is sensitive (no built-in attribute of that name, so an ordinary value is never taken for them).
    if isinstance(value, str) and value in SECRET_WORDS and (attr is None or attr.write_only or name in SECRETS):
        return str(SECRET_WORDS[value])
    return str(value)


def _item_words(item: Any) -> str:
    """One item of a listed value: an option of a field's definition as "Label (value)"."""
    if isinstance(item, dict) and "value" in item and "label" in item:
        return f"{item['label']} ({item['value']})" if item["label"] != item["value"] else str(item["value"])
    return str(item)


def attribute_label(name: str) -> str:
    """The label of an attribute (or of a non-attribute audit key)."""
    attr = ATTRIBUTES.get(name)
    if attr is not None:
        return translate(attr.label) or name
    if known(name):  # a profile field this request registered: the administrator's words, in this language if given
        return translate(attribute(name).label) or name
    if name in EXTRA_LABELS:
        return str(EXTRA_LABELS[name])
    return name.replace("_", " ").capitalize()


def describe_browser(agent: str | None) -> str:
    """A user agent as a person reads it: "Firefox 120 on Linux" (or "Unknown browser")."""
    if not agent:
        return gettext("Unknown browser")
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
        name = agent.split("/")[0].split(" ")[0][:40] or gettext("Unknown browser")
    browser = " ".join(filter(None, [name, version]))
    return gettext("%(browser)s on %(system)s", browser=browser, system=system) if system else browser


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
        choice_label=lambda value: str(CHOICE_LABELS.get(value, value)),
        action_label=lambda value: str(ACTION_LABELS.get(value, value)),
        channel_label=lambda value: str(CHANNEL_LABELS.get(value, value)),
        one_side=ONE_SIDED.get,
        api_client_name=client_of_target,
    )
