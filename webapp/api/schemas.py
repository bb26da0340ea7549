"""The JSON API's wire schemas: the JSON Schema of every key an operation accepts (webapp/api/operations/),
from the service layer's tables (`ATTRIBUTES` and the limits of each use case)."""

from __future__ import annotations

from typing import Any

from ..sso.accounts.search import CUR_PAGE_MAX, ORDERS, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, SORTABLE
from ..sso.kernel.attributes import PASSWORD_MAX, PASSWORD_MIN, Attribute
from ..sso.kernel.profile_fields import CHOICES_MAX, TEXT_VALUE_MAX, ProfileField
from ..sso.kernel.required_actions import ACTIONS as REQUIRED_ACTIONS
from ..sso.zato.attributes import ATTR_NAME_MAX, EXPIRATION_MAX

UST, CURRENT_APP, USER_ID = "ust", "current_app", "user_id"
CURRENT_UST, TARGET_UST = "current_ust", "target_ust"


def _not_matching(chars: str) -> str:
    return "^[^" + chars + "]*$"


# Unicode category Cc is exactly U+0000–U+001F and U+007F–U+009F (the service's `text_problem`).
CONTROL_CHARS = "\\u0000-\\u001f\\u007f-\\u009f"
# What `str.isspace()` accepts outside Cc, spelt out: regex engines disagree on `\s`. Written out
# (building it from all 1.1M code points took 97 ms at every import); tests/core/test_worker_footprint.py
# checks it against str.isspace() over every code point.
SPACE_CODE_POINTS = (0x20, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
SPACE_CHARS = "".join(f"\\u{c:04x}" for c in SPACE_CODE_POINTS)


def attribute_schema(attr: Attribute) -> dict[str, Any]:
    """The JSON Schema of an updatable attribute, from the service's attribute table."""
    schema: dict[str, Any]
    if attr.type == "bool":
        schema = {"type": "boolean"}
    elif attr.type == "enum":
        schema = {"type": "string", "enum": list(attr.choices)}
    elif attr.type == "totp_key":
        schema = {
            "type": "string",
            "pattern": "^[A-Za-z2-7 =-]*$",
            "minLength": attr.min_length,
            "maxLength": attr.max_length,
            "writeOnly": True,
            "description": "base32 (spaces, hyphens and padding are ignored); stored encrypted, never answered",
        }
    elif attr.type == "datetime":
        schema = {"type": "string", "format": "date-time", "description": "ISO 8601; without an offset it is UTC"}
    else:
        schema = {"type": "string", "pattern": _not_matching(CONTROL_CHARS)}
        if attr.type == "username":
            schema["pattern"] = _not_matching(CONTROL_CHARS + SPACE_CHARS)
            schema["description"] = "no whitespace; unique, case-insensitively"
        if attr.type == "email":
            schema["description"] = "a valid email address (to remove it, send null)"
        if attr.min_length is not None:
            schema["minLength"] = attr.min_length
        if attr.max_length is not None:
            schema["maxLength"] = attr.max_length
    if attr.nullable:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


ENVELOPE_SCHEMAS: dict[str, dict[str, Any]] = {
    UST: {
        "type": ["string", "null"],
        "writeOnly": True,
        "description": "the session token; may instead come as `Authorization: Bearer` (both, and different: 400)",
    },
    CURRENT_UST: {
        "type": ["string", "null"],
        "writeOnly": True,
        "description": "the caller's session token (Zato's name for `ust` in session calls); may instead "
        "come as `Authorization: Bearer` (both, and different: 400)",
    },
    CURRENT_APP: {"type": "string", "description": "the calling application, one of those configured"},
    USER_ID: {"type": ["string", "null"], "description": "the target user; absent or null means the caller"},
}

PASSWORD_SCHEMA = {
    "type": "string",
    "minLength": PASSWORD_MIN,
    "maxLength": PASSWORD_MAX,
    "writeOnly": True,
    "description": "must not contain a common word",
}
_TEXT = {"type": "string"}

OTHER_INPUTS: dict[str, dict[str, Any]] = {
    "required_actions": {
        "type": "array",
        "uniqueItems": True,
        "items": {"enum": list(REQUIRED_ACTIONS)},
        "description": "extension (SPEC §19; users.credentials): what the user must do at their next sign-in, "
        "in full (an empty list clears them); change_password is password_must_change",
    },
    "password": PASSWORD_SCHEMA,
    "new_password": PASSWORD_SCHEMA,
    "old_password": {"type": "string", "writeOnly": True},
    "auto_approve": {"type": "boolean"},
    "must_change": {"type": "boolean"},
    "is_name_exact": {"type": "boolean", "default": True},
    "name_op": {"type": "string", "enum": ["and", "or"], "default": "and"},
    "paginate": {"type": "boolean", "default": True},
    "cur_page": {"type": "integer", "minimum": 1, "maximum": CUR_PAGE_MAX, "default": 1},
    "page_size": {
        "type": "integer",
        "minimum": 1,
        "default": PAGE_SIZE_DEFAULT,
        "description": f"larger than {PAGE_SIZE_MAX} counts as {PAGE_SIZE_MAX}",
    },
    "q": {"type": "string", "description": "free text: contained in the username, email or a name"},
    "app_list": {
        "type": "array",
        "items": {"type": "string"},
        "minItems": 1,
        "description": "the applications to sign up for; each must be in SSO_SIGNUP_APPS",
    },
    "confirm_token": {"type": "string", "writeOnly": True, "description": "the token the sign-up answered"},
    "credential": {"type": "string", "description": "a username or an email, as SSO_PASSWORD_RESET_BY says"},
    "token": {"type": "string", "writeOnly": True, "description": "the password-reset token (PRT) from the email"},
    "reset_key": {"type": "string", "writeOnly": True, "description": "the key the PATCH answered"},
    TARGET_UST: {"type": "string", "writeOnly": True, "description": "the session token asked about"},
    "session_id": {"type": "string", "description": "a session's public id, from the session list"},
    "all": {"type": "boolean", "description": "true: end every session of `user_id` (one's own: all but this one)"},
    "after": {
        "type": "string",
        "description": "extension: page by key, the rows after this (folded) username; "
        "a result's `next_after`; not with cur_page",
    },
    "is_rate_limit_active": {"type": "boolean", "description": "whether rate_limit_def is enforced"},
    "name": {
        "type": ["string", "null"],
        "minLength": 1,
        "maxLength": ATTR_NAME_MAX,
        "description": "an attribute's name (null beside `data`: absent, as Zato's client sends every key)",
    },
    "value": {"description": "any JSON value, at most 64 KiB as JSON"},
    "expiration": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": EXPIRATION_MAX,
        "description": "seconds from now until the attribute expires (null: never)",
    },
    # Zato's client sends every key, null for one it was not given: null is the default here too.
    "encrypt": {"type": ["boolean", "null"], "default": False, "description": "store the value encrypted"},
    "decrypt": {"type": ["boolean", "null"], "default": True, "description": "decrypt an encrypted value on get"},
    "decrypt_on_get": {
        "type": ["boolean", "null"],
        "default": True,
        "description": "Zato's name of `decrypt` (which wins when both are sent)",
    },
    "serialize_dt": {"type": ["boolean", "null"], "default": True, "description": "Zato's; datetimes are always text"},
    "data": {
        "type": ["array", "null"],
        "minItems": 1,
        "maxItems": 1000,
        "description": "many at once: objects {name, value, expiration?, encrypt?} to write, names otherwise "
        "(null beside `name`: absent, as Zato's client sends every key)",
    },
    "rate_limit_def": {
        "type": ["string", "null"],
        "maxLength": 4096,
        "description": "lines APP=N/UNIT (* = any app; UNIT s, m, h or d); the first match wins",
    },
}

SEARCH_OVERRIDES: dict[str, dict[str, Any]] = {
    USER_ID: _TEXT,
    **{
        name: {"type": "string"}
        for name in ("username", "email", "display_name", "first_name", "middle_name", "last_name")
    },
    "is_super_user": {"type": "boolean"},
    "is_totp_enabled": {"type": "boolean", "description": "two-factor sign-in on"},
    "deletion_scheduled": {
        "type": "boolean",
        "description": "extension: the owner scheduled the account's deletion (deletion_time set)",
    },
    "order_by": {
        "type": "string",
        "enum": list(SORTABLE),
        "default": "username",
        "description": "ties are broken by user id, so paging is stable",
    },
    "order": {"type": "string", "enum": list(ORDERS), "default": "asc", "description": "empty values sort last"},
    "with_last_sign_in": {
        "type": "boolean",
        "default": False,
        "description": "each result gains last_sign_in: the newest login's time, or null",
    },
}


def profile_field_schema(f: ProfileField) -> dict[str, Any]:
    """The JSON Schema of a profile field's value (SPEC §16), from its live definition."""
    schema: dict[str, Any]
    if f.type == "bool":
        schema = {"type": "boolean"}
    elif f.type == "integer":
        schema = {"type": "integer"}
        if f.minimum is not None:
            schema["minimum"] = f.minimum
        if f.maximum is not None:
            schema["maximum"] = f.maximum
    elif f.type == "date":
        schema = {"type": "string", "format": "date"}
    elif f.type == "choice":
        schema = {"type": "string", "enum": list(f.option_values)}
    elif f.type == "choices":
        schema = {
            "type": "array",
            "items": {"type": "string", "enum": list(f.option_values)},
            "maxItems": CHOICES_MAX,
            "uniqueItems": True,
        }
    else:
        schema = {"type": "string", "pattern": _not_matching(CONTROL_CHARS)}
        if f.type == "email":
            schema["format"] = "email"
        elif f.type == "url":
            schema["format"] = "uri"
            schema["pattern"] = "^[Hh][Tt][Tt][Pp][Ss]?://"
        elif f.type == "phone":
            schema["description"] = "international form (+ and the country code); answered in E.164"
        else:
            schema["maxLength"] = min(f.max_length or TEXT_VALUE_MAX, TEXT_VALUE_MAX)
            if f.min_length:
                schema["minLength"] = f.min_length
            if f.regex:
                schema["pattern"] = f.regex
    description = f"profile field: {f.label}" + (f" ({f.description})" if f.description else "")
    schema["description"] = description + (f"; {schema['description']}" if "description" in schema else "")
    if f.nullable and not f.required:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema
