"""The user attribute table of SPEC §3 and the value rules; the one place each rule lives."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

from email_validator import EmailNotValidError, validate_email

from .errors import FieldErrors
from .texts import LOCALES, _t, at_most_characters

USERNAME_MAX = 128
EMAIL_MAX = 254
PERSON_NAME_MAX = 256
LOCALE_MAX = 35  # the longest BCP 47 tag RFC 5646 asks implementations to store
PASSWORD_MIN = 8
PASSWORD_MAX = 256
TOTP_KEY_MIN = 16
TOTP_KEY_MAX = 128
PASSKEY_NAME_MAX = 64  # what a person calls one of their passkeys (SPEC §18)
# The request metadata stored beside the attributes, and the counters' keys: kernel/tables.py declares those columns
# with these widths, and `safe_text` cuts a value to them.
CID_MAX = 256
APP_MAX = 256
REMOTE_ADDR_MAX = 256
USER_AGENT_MAX = 1024
KEY_MAX = 512  # a login-throttle, rate-limit or mail-request key
USER_ID_MAX = 64  # the width of a user id column (`zusr…` ids are 28 characters)
EXTERNAL_ID_MAX = 256  # a directory's own id for a user (SCIM's externalId, SPEC §21)
# A role's name (SPEC §17): `^[a-z][a-z0-9_.-]*$`, at most 48 characters, so that the audit's target
# `role:NAME` fits its 64-character column. (Its own column is 64 wide.)
ROLE_NAME_MAX = 48
ROLE_NAME_COLUMN = 64
ROLE_DESCRIPTION_MAX = 512
BASE32_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

SIGN_UP_STATUSES = ("before_confirmation", "final")
APPROVAL_STATUSES = ("approved", "rejected", "before_decision")


@dataclass(frozen=True)
class Attribute:
    """One updatable user attribute: its type, limits and who may write it."""

    name: str
    type: str  # "text", "email", "username", "bool", "enum", "datetime", "totp_key"
    nullable: bool
    self_editable: bool
    max_length: int | None = None
    min_length: int | None = None
    choices: tuple[str, ...] = ()
    searchable: bool = False  # has a case-folded search column kept in step with it
    label: str = ""  # a Text (webapp.sso.kernel.texts): English here, translated by the console
    write_only: bool = False  # a secret: stored encrypted, never shown, audited as "(changed)"
    on_forms: bool = True  # edited on the attribute forms (False: a page of its own manages it)
    on_zato_wire: bool = True  # shown in Zato's user views (False: kept for another face, e.g. SCIM's externalId)


ATTRIBUTES: dict[str, Attribute] = {
    a.name: a
    for a in (
        Attribute("username", "username", False, True, USERNAME_MAX, 1, searchable=True, label=_t("Username")),
        Attribute("email", "email", True, True, EMAIL_MAX, searchable=True, label=_t("Email")),
        Attribute("display_name", "text", True, True, PERSON_NAME_MAX, searchable=True, label=_t("Display name")),
        Attribute("first_name", "text", True, True, PERSON_NAME_MAX, searchable=True, label=_t("First name")),
        Attribute("middle_name", "text", True, True, PERSON_NAME_MAX, searchable=True, label=_t("Middle name")),
        Attribute("last_name", "text", True, True, PERSON_NAME_MAX, searchable=True, label=_t("Last name")),
        Attribute("locale", "enum", True, True, choices=LOCALES, label=_t("Language")),
        Attribute("is_locked", "bool", False, False, label=_t("Locked")),
        Attribute("password_expiry", "datetime", True, False, label=_t("Password expiry")),
        Attribute("password_must_change", "bool", False, False, label=_t("Password must change")),
        Attribute("sign_up_status", "enum", False, False, choices=SIGN_UP_STATUSES, label=_t("Sign-up status")),
        Attribute("approval_status", "enum", False, False, choices=APPROVAL_STATUSES, label=_t("Approval status")),
        Attribute("is_totp_enabled", "bool", False, True, label=_t("Two-factor sign-in"), on_forms=False),
        Attribute("totp_label", "text", True, True, PERSON_NAME_MAX, label=_t("Two-factor label"), on_forms=False),
        Attribute(
            "external_id", "text", True, False, EXTERNAL_ID_MAX, label="External ID", on_forms=False, on_zato_wire=False
        ),
        Attribute(
            "totp_key",
            "totp_key",
            False,
            True,
            TOTP_KEY_MAX,
            TOTP_KEY_MIN,
            label=_t("Two-factor key"),
            write_only=True,
            on_forms=False,
        ),
    )
}

SELF_EDITABLE = tuple(name for name, a in ATTRIBUTES.items() if a.self_editable)
READABLE = tuple(name for name, a in ATTRIBUTES.items() if not a.write_only and a.on_zato_wire)
SELF_READABLE = tuple(name for name in SELF_EDITABLE if not ATTRIBUTES[name].write_only)
FORM_ATTRIBUTES = tuple(name for name, a in ATTRIBUTES.items() if a.on_forms)
SELF_FORM_ATTRIBUTES = tuple(name for name in SELF_EDITABLE if ATTRIBUTES[name].on_forms)
WRITE_ONLY = tuple(name for name, a in ATTRIBUTES.items() if a.write_only)
NAME_ATTRIBUTES = ("display_name", "first_name", "middle_name", "last_name")

READ_ONLY = (
    "user_id",
    "is_super_user",
    "is_active",
    "is_internal",
    "creation_ctx",
    "locked_time",
    "locked_by",
    "approval_status_mod_time",
    "approval_status_mod_by",
    "password_is_set",
    "password_last_set",
    "sign_up_time",
    "version",
    "is_approval_needed",
    "deletion_time",  # a deletion the person scheduled is due then (SPEC §20)
)
# Read-only values computed from a row rather than stored in a column of their own.
DERIVED = ("is_approval_needed",)


def search_column(name: str) -> str:
    """The case-folded companion column of a searchable attribute."""
    return f"{name}_search"


@overload
def fold(value: str) -> str: ...
@overload
def fold(value: None) -> None: ...
def fold(value: str | None) -> str | None:
    """The form stored in search columns and compared: NFKC, case-folded (Unicode's NFKC_Casefold
    in effect), so `JOSÉ`, `josé` and `jose\u0301` are one name (None stays None)."""
    if value is None:
        return None
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())


# Characters a username may not hold: format characters (zero-width spaces and joiners, bidi
# overrides and isolates, the BOM), private-use and unassigned code points, line and paragraph
# separators. They make two different usernames look the same.
USERNAME_REFUSED_CATEGORIES = ("Cf", "Co", "Cn", "Zl", "Zp")


def username_problem(value: str) -> str | None:
    """Why `value` cannot be a username beyond the text rules, or None."""
    if any(unicodedata.category(char) in USERNAME_REFUSED_CATEGORIES for char in value):
        return _t("must not contain invisible, formatting or text-direction characters")
    return None


def utc_naive(value: datetime) -> datetime:
    """A datetime as naive UTC, the form stored in the database (naive input is taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """A stored naive-UTC datetime as an aware UTC one, for output."""
    return None if value is None else value.replace(tzinfo=UTC)


def parse_datetime(value: Any) -> datetime:
    """A datetime or ISO 8601 string as naive UTC; raises ValueError when it is neither."""
    if not isinstance(value, (datetime, str)):
        raise ValueError(_t("must be an ISO 8601 date and time"))
    try:
        if isinstance(value, str) and "\x00" in value:  # fromisoformat would stop reading at the NUL
            raise ValueError("NUL")
        return utc_naive(value if isinstance(value, datetime) else datetime.fromisoformat(value.strip()))
    except (ValueError, OverflowError):  # OverflowError: an offset that moves it outside years 1-9999
        raise ValueError(_t("must be an ISO 8601 date and time, e.g. 2030-01-31T12:00:00Z")) from None


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored as text (control characters, lone surrogates), or None."""
    for char in value:
        if unicodedata.category(char) == "Cc":
            return _t("must not contain control characters")
        if "\ud800" <= char <= "\udfff":
            return _t("must not contain unpaired surrogate characters")
    return None


def safe_text(value: Any, limit: int) -> str | None:
    """Request metadata (cid, address, user agent) as text any database stores: at most `limit`
    characters, control characters and lone surrogates replaced by U+FFFD (None stays None)."""
    if value is None:
        return None
    return "".join("\ufffd" if unicodedata.category(char) in ("Cc", "Cs") else char for char in str(value)[:limit])


def check_value(attr: Attribute, value: Any) -> tuple[Any, str | None]:
    """Validate one value for `attr`: (value to store, None) or (None, message)."""
    if value is None:
        return (None, None) if attr.nullable else (None, _t("may not be empty (null)"))
    if attr.type == "bool":
        return (value, None) if type(value) is bool else (None, _t("must be true or false"))
    if attr.name == "locale":
        return locale_value(value)
    if attr.type == "enum":
        if isinstance(value, str) and value in attr.choices:
            return value, None
        return None, _t("must be one of: %(choices)s", choices=", ".join(attr.choices))
    if attr.type == "datetime":
        try:
            return parse_datetime(value), None
        except ValueError as e:
            return None, e.args[0]
    if not isinstance(value, str):
        return None, _t("must be a string")
    if attr.type == "totp_key":
        return totp_key_value(value)
    problem = text_problem(value) or (username_problem(value) if attr.type == "username" else None)
    if problem:
        return None, problem
    if attr.type == "username":
        value = unicodedata.normalize("NFKC", value)  # stored in its compatibility-composed form
    if attr.max_length is not None and len(value) > attr.max_length:
        return None, at_most_characters(attr.max_length)
    if attr.type == "username":
        if not value:
            return None, _t("may not be empty")
        if any(char.isspace() for char in value):
            return None, _t("must not contain whitespace")
    if attr.type == "email" and "=?" in value:
        return None, _t("must not contain an encoded word (=?...?=): write the address itself")
    if attr.type == "email" and not is_valid_email(value):
        return None, _t("must be a valid email address (to remove it, clear the field)")
    return value, None


# A BCP 47 language tag (RFC 5646) in its common shapes: language, then script, region or variant subtags.
LANGUAGE_TAG = re.compile(
    r"[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
)


def locale_value(value: Any) -> tuple[str | None, str | None]:
    """(tag, None) for a shipped language (matched case-insensitively, stored as listed), else (None, why):
    not a language tag at all, or a tag of a language the product does not ship."""
    if not isinstance(value, str):
        return None, _t("must be a string")
    if len(value) > LOCALE_MAX or not LANGUAGE_TAG.fullmatch(value):
        return None, _t("must be a language tag (BCP 47), e.g. %(example)s", example=LOCALES[1])
    for tag in LOCALES:
        if tag.lower() == value.lower():
            return tag, None
    return None, _t("must be one of the offered languages: %(choices)s", choices=", ".join(LOCALES))


def normal_totp_key(value: str) -> str:
    """A TOTP key as stored: upper case, without the spaces, hyphens and padding people copy with it."""
    return "".join(char for char in value if char not in " -=").upper()


def totp_key_value(value: str) -> tuple[str | None, str | None]:
    """(normalised key, None) for a valid base32 TOTP key, else (None, message). The message never quotes it."""
    if len(value) > TOTP_KEY_MAX:
        return None, at_most_characters(TOTP_KEY_MAX)
    key = normal_totp_key(value)
    if any(char not in BASE32_CHARS for char in key):
        return None, _t("must be base32 (the letters A-Z and the digits 2-7)")
    if len(key) < TOTP_KEY_MIN:
        return None, _t("must be at least %(num)d base32 characters", num=TOTP_KEY_MIN)
    if len(key) % 8 in (1, 3, 6):  # no whole number of bytes is this long in base32
        return None, _t("is not a whole base32 key (a character is missing or extra)")
    return key, None


def is_valid_email(value: str) -> bool:
    """Whether `value` is a syntactically valid email address (no DNS look-up) without an RFC 2047 encoded
    word (`=?utf-8?q?...?=`), which a mail header would show decoded: as other recipients."""
    if "=?" in value:
        return False
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def check_values(data: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    """Validate every value in `data` (keys already known to be attributes); collect problems."""
    clean: dict[str, Any] = {}
    for name, value in data.items():
        stored, message = check_value(ATTRIBUTES[name], value)
        if message:
            errors.add(name, message)
        else:
            clean[name] = stored
    return clean
