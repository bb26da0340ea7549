"""The JSON API's operations (SPEC §6) as data: inputs, envelope and the errors each can answer.

The views read this table to parse requests and the OpenAPI document is generated from it, so
the two cannot disagree. Input names come from the service layer (`ATTRIBUTES`, `CREATE_KEYS`, ...);
only their wire schemas are described, in schemas.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..sso.accounts.create import CREATE_KEYS
from ..sso.accounts.search import SEARCH_KEYS
from ..sso.credentials.passwords import CHANGE_PASSWORD_KEYS, EXPIRY_DAYS_MAX
from ..sso.email.signup import SIGNUP_KEYS
from ..sso.kernel.attributes import ATTRIBUTES
from ..sso.kernel.errors import Code
from ..sso.sessions.login_metadata import METADATA_KEYS
from ..sso.zato.attributes import INPUTS as ATTR_INPUTS
from ..sso.zato.attributes import WRITE_OPS as WRITE_ATTR_OPS
from .schemas import (
    CURRENT_APP,
    CURRENT_UST,
    ENVELOPE_SCHEMAS,
    OTHER_INPUTS,
    PASSWORD_SCHEMA,
    SEARCH_OVERRIDES,
    TARGET_UST,
    USER_ID,
    UST,
    attribute_schema,
)

PREFIX = "/zato/sso"

TOKENS = (UST, CURRENT_UST, TARGET_UST)  # never accepted in a URL

# Expected-version sentinel: no stored version is ever 0 or below, so the service answers E011001.
NEVER_MATCHES = -1

STEP_3 = {
    401: (Code.session_invalid,),
    403: (Code.app_not_allowed, Code.user_locked, Code.sign_up_not_final, Code.auth_invalid),
    429: (Code.auth_invalid,),
}
PASSWORD_RULES = (
    Code.invalid_input,
    Code.password_rejected_word,
    Code.password_too_short,
    Code.password_too_long,
    Code.password_not_complex,
)
# Every operation can answer these: a malformed body or missing input, a body over the limit, and a
# database that did not answer in time (503, E008004 as for a failed email, `Retry-After`).
WIRE_ERRORS = {400: (Code.invalid_input,), 413: (Code.invalid_input,), 503: (Code.internal_error,)}
# Sign-in paused by the throttle (docs/SECURITY.md): E005001 with `Retry-After`.
PAUSED = {429: (Code.auth_invalid,)}


@dataclass(frozen=True)
class Operation:
    """One endpoint of the API."""

    name: str  # Flask endpoint and OpenAPI operationId
    method: str
    path: str
    summary: str
    inputs: tuple[str, ...]  # keys besides the envelope, as the service names them
    errors: Mapping[int, tuple[str, ...]]
    result: str  # "user", "login", "search", "totp" or "ok"
    required: tuple[str, ...] = ()
    uses_ust: bool = True
    targets_user: bool = False  # `user_id` is the envelope's target (absent or null = the caller)
    api_checks_keys: bool = False  # the API rejects unknown keys itself (the service call takes no dict)
    if_match: bool = False
    nested: tuple[str, ...] = ()  # inputs that may be lists or objects (attribute values, `data` lists)
    input_overrides: Mapping[str, dict] = field(default_factory=dict)
    list_inputs: tuple[str, ...] = ()  # keys whose value is a list of single values (sign-up's `app_list`)
    ust_key: str = UST  # Zato's session calls name the caller's UST `current_ust`
    target_required: bool = False  # `user_id` must be given (lifecycle calls)

    @property
    def url(self) -> str:
        return PREFIX + self.path

    @property
    def envelope(self) -> tuple[str, ...]:
        keys = (self.ust_key, CURRENT_APP) if self.uses_ust else (CURRENT_APP,)
        return keys + ((USER_ID,) if self.targets_user else ())

    @property
    def accepted(self) -> tuple[str, ...]:
        """Every key the operation accepts, envelope first."""
        return self.envelope + tuple(key for key in self.inputs if key not in self.envelope)

    @property
    def required_inputs(self) -> tuple[str, ...]:
        return (CURRENT_APP, *((USER_ID,) if self.target_required else ()), *self.required)

    def input_schema(self, key: str) -> dict[str, Any]:
        """The JSON Schema of one accepted key."""
        if key in self.input_overrides:
            return dict(self.input_overrides[key])
        if key in ENVELOPE_SCHEMAS:
            return dict(ENVELOPE_SCHEMAS[key])
        if key in ATTRIBUTES:
            return attribute_schema(ATTRIBUTES[key])
        return dict(OTHER_INPUTS[key])


def _codes(*parts: Mapping[int, tuple[str, ...]]) -> Mapping[int, tuple[str, ...]]:
    merged: dict[int, tuple[str, ...]] = {}
    for part in parts:
        for status, codes in part.items():
            merged[status] = tuple(dict.fromkeys((*merged.get(status, ()), *codes)))
    return MappingProxyType(dict(sorted(merged.items())))


# --- the operations ------------------------------------------------------------------------------------

_TOTP_CODE = {
    "type": ["string", "integer", "null"],
    "writeOnly": True,
    "description": "the current 6-digit code of the user's authenticator app, or one of their recovery "
    "codes; needed when two-factor sign-in is on (missing: E005008)",
}

LOGIN = Operation(
    "login",
    "POST",
    "/user/login",
    "Log in: returns a UST and its expiration time",
    inputs=("username", "password", "new_password", "totp_code", *METADATA_KEYS),
    required=("username", "password"),
    uses_ust=False,
    api_checks_keys=True,
    result="login",
    input_overrides={
        "username": {"type": ["string", "null"], "description": "empty or null: E005001"},
        "password": {"type": ["string", "null"], "writeOnly": True, "description": "empty or null: E005001"},
        "new_password": PASSWORD_SCHEMA,
        "totp_code": _TOTP_CODE,
        "remote_addr": {
            "type": "string",
            "description": "the end user's address, from an application in SSO_LOGIN_METADATA_APPS only (else E006001)",
        },
        "user_agent": {
            "type": "string",
            "description": "the end user's user agent, from an "
            "application in SSO_LOGIN_METADATA_APPS only (else E006001)",
        },
    },
    errors=_codes(
        WIRE_ERRORS,
        PAUSED,
        {
            403: (
                Code.app_not_allowed,
                Code.auth_invalid,
                Code.password_must_change,
                Code.password_expired,
                Code.totp_missing,
                Code.metadata_not_allowed,
            ),
            429: (Code.auth_invalid,),
            422: PASSWORD_RULES,
        },
    ),
)
LOGOUT = Operation(
    "logout",
    "POST",
    "/user/logout",
    "Log out (always ok, so USTs cannot be probed)",
    inputs=(),
    api_checks_keys=True,
    result="ok",
    errors=_codes(WIRE_ERRORS, {422: (Code.invalid_input,)}),
)
GET_USER = Operation(
    "get_user",
    "GET",
    "/user",
    "The current user, or `user_id` (super-users)",
    inputs=(),
    targets_user=True,
    api_checks_keys=True,
    result="user",
    errors=_codes(WIRE_ERRORS, STEP_3, {404: (Code.user_id_unknown,), 422: (Code.invalid_input,)}),
)
UPDATE_USER = Operation(
    "update_user",
    "PATCH",
    "/user",
    "Update the current user, or `user_id` (super-users); answers the updated user",
    inputs=tuple(ATTRIBUTES),
    targets_user=True,
    if_match=True,
    result="user",
    errors=_codes(
        WIRE_ERRORS,
        STEP_3,
        {
            403: (Code.invalid_input, Code.invalid_operation),
            404: (Code.user_id_unknown,),
            409: (Code.username_exists,),
            412: (Code.version_conflict,),
            422: (Code.no_data, Code.invalid_input),
        },
    ),
)
CREATE_USER = Operation(
    "create_user",
    "POST",
    "/user",
    "Create a user (super-users); answers the new user with its `user_id`",
    inputs=CREATE_KEYS,
    required=("username",),
    result="user",
    errors=_codes(WIRE_ERRORS, STEP_3, {409: (Code.username_exists,), 422: PASSWORD_RULES}),
)
CHANGE_PASSWORD = Operation(
    "change_password",
    "PATCH",
    "/user/password",
    "Change one's own password, or (super-users) anyone's",
    inputs=CHANGE_PASSWORD_KEYS,
    required=("new_password",),
    result="ok",
    input_overrides={
        "password_expiry": {
            "type": "integer",
            "minimum": 1,
            "maximum": EXPIRY_DAYS_MAX,
            "description": "days until the new password expires",
        }
    },
    errors=_codes(
        WIRE_ERRORS, STEP_3, PAUSED, {403: (Code.invalid_input,), 404: (Code.user_id_unknown,), 422: PASSWORD_RULES}
    ),
)
SET_TOTP = Operation(
    "set_totp",
    "PATCH",
    "/user/totp",
    "Set the TOTP key and label of the current user, or `user_id` (super-users)",
    inputs=("totp_key", "totp_label"),
    required=("totp_key", "totp_label"),
    targets_user=True,
    api_checks_keys=True,
    result="totp",
    input_overrides={
        "totp_key": {
            "type": ["string", "null"],
            "writeOnly": True,
            "description": "base32, at least 16 characters; empty or null: a new random key, "
            "answered once as `totp_key`",
        }
    },
    errors=_codes(
        WIRE_ERRORS, STEP_3, {403: (Code.invalid_input,), 404: (Code.user_id_unknown,), 422: (Code.invalid_input,)}
    ),
)
SEARCH = Operation(
    "search",
    "GET",
    "/user/search",
    "Search users (super-users), in Zato's result shape",
    inputs=SEARCH_KEYS,
    result="search",
    input_overrides=SEARCH_OVERRIDES,
    errors=_codes(WIRE_ERRORS, STEP_3, {422: (Code.invalid_input,)}),
)

_SIGNUP_USERNAME = (Code.username_invalid, Code.username_too_long, Code.username_has_whitespace)
_SIGNUP_EMAIL = (Code.email_invalid, Code.email_too_long, Code.email_has_whitespace, Code.email_missing)
SIGNUP = Operation(
    "signup",
    "POST",
    "/user/signup",
    "Sign up: a new account waiting for confirmation; answers its `confirm_token`",
    inputs=SIGNUP_KEYS,
    required=("username", "password", "app_list"),
    uses_ust=False,
    result="signup",
    list_inputs=("app_list",),
    input_overrides={
        "username": {"type": "string"},
        "email": {"type": ["string", "null"]},
        "password": {"type": "string", "writeOnly": True, "description": PASSWORD_SCHEMA["description"]},
    },
    errors=_codes(
        WIRE_ERRORS,
        {
            403: (Code.app_not_allowed, Code.no_signup),
            409: (Code.username_exists, Code.email_exists),
            422: (*_SIGNUP_USERNAME, *_SIGNUP_EMAIL, *PASSWORD_RULES),
        },
    ),
)
CONFIRM_SIGNUP = Operation(
    "confirm_signup",
    "PATCH",
    "/user/signup",
    "Confirm a sign-up with its `confirm_token`",
    inputs=("confirm_token",),
    required=("confirm_token",),
    uses_ust=False,
    api_checks_keys=True,
    result="ok",
    errors=_codes(
        WIRE_ERRORS,
        {
            403: (Code.app_not_allowed,),
            404: (Code.no_such_signup_token,),
            409: (Code.signup_confirmed,),
            422: (Code.invalid_input,),
        },
    ),
)
REQUEST_RESET = Operation(
    "request_password_reset",
    "POST",
    "/password/reset",
    "Email a password-reset link to the account `credential` names; always ok, so accounts cannot be probed",
    inputs=("credential",),
    required=("credential",),
    uses_ust=False,
    api_checks_keys=True,
    result="ok",
    errors=_codes(WIRE_ERRORS, {403: (Code.app_not_allowed,), 422: (Code.invalid_input,), 503: (Code.internal_error,)}),
)
ACCESS_RESET = Operation(
    "access_password_reset",
    "PATCH",
    "/password/reset",
    "Trade the emailed token for a `reset_key` (valid 30 minutes)",
    inputs=("token",),
    required=("token",),
    uses_ust=False,
    api_checks_keys=True,
    result="reset_key",
    errors=_codes(WIRE_ERRORS, {403: (Code.app_not_allowed, Code.password_reset_refused), 422: (Code.invalid_input,)}),
)
COMPLETE_RESET = Operation(
    "complete_password_reset",
    "DELETE",
    "/password/reset",
    "Set the new password with the token and its reset key; every session of the user ends",
    inputs=("token", "reset_key", "password"),
    required=("token", "reset_key", "password"),
    uses_ust=False,
    api_checks_keys=True,
    result="ok",
    input_overrides={"password": {"type": "string", "writeOnly": True, "description": PASSWORD_SCHEMA["description"]}},
    errors=_codes(WIRE_ERRORS, {403: (Code.app_not_allowed, Code.password_reset_refused), 422: PASSWORD_RULES}),
)

# --- the lifecycle (SPEC §8) ----------------------------------------------------------------------------

_TARGET_NEEDED = {404: (Code.user_id_unknown,), 422: (Code.invalid_input,)}


def _lifecycle(name: str, method: str, path: str, summary: str, result: str, *, removes_access: bool) -> Operation:
    own_access = {403: (Code.invalid_operation,)} if removes_access else {}
    return Operation(
        name,
        method,
        path,
        summary,
        inputs=(),
        targets_user=True,
        target_required=True,
        api_checks_keys=True,
        result=result,
        errors=_codes(WIRE_ERRORS, STEP_3, own_access, _TARGET_NEEDED),
    )


APPROVE_USER = _lifecycle(
    "approve_user",
    "POST",
    "/user/approve",
    "Approve a user (super-users); answers the user",
    "user",
    removes_access=False,
)
REJECT_USER = _lifecycle(
    "reject_user",
    "POST",
    "/user/reject",
    "Reject a user (super-users; never oneself); answers the user",
    "user",
    removes_access=True,
)
LOCK_USER = _lifecycle(
    "lock_user",
    "POST",
    "/user/lock",
    "Lock a user (super-users; never oneself): their sessions end; answers the user",
    "user",
    removes_access=True,
)
UNLOCK_USER = _lifecycle(
    "unlock_user",
    "DELETE",
    "/user/lock",
    "Unlock a user (super-users); sessions the lock ended stay ended; answers the user",
    "user",
    removes_access=False,
)
DELETE_USER = _lifecycle(
    "delete_user",
    "DELETE",
    "/user",
    "Delete a user and their sessions (super-users; never oneself); the audit keeps the record",
    "ok",
    removes_access=True,
)

# --- sessions (SPEC §9) ---------------------------------------------------------------------------------

_TARGET_SESSION = {403: (Code.auth_invalid,), 422: (Code.invalid_input,)}

VERIFY_SESSION = Operation(
    "verify_session",
    "POST",
    "/user/session",
    "Whether `target_ust` is usable now (super-users: anyone's; others: their own); never renews it",
    inputs=(TARGET_UST,),
    required=(TARGET_UST,),
    ust_key=CURRENT_UST,
    api_checks_keys=True,
    result="verify",
    errors=_codes(WIRE_ERRORS, STEP_3, _TARGET_SESSION),
)
GET_SESSION = Operation(
    "get_session",
    "GET",
    "/user/session",
    "The details of the live session behind `target_ust` (super-users: anyone's; others: their own)",
    inputs=(TARGET_UST,),
    required=(TARGET_UST,),
    ust_key=CURRENT_UST,
    api_checks_keys=True,
    result="session",
    errors=_codes(WIRE_ERRORS, STEP_3, _TARGET_SESSION, {404: (Code.session_invalid,)}),
)
RENEW_SESSION = Operation(
    "renew_session",
    "PATCH",
    "/user/session",
    "Renew the caller's session: it expires a session lifetime from now",
    inputs=(),
    api_checks_keys=True,
    result="renew",
    errors=_codes(WIRE_ERRORS, STEP_3, {422: (Code.invalid_input,)}),
)
LIST_SESSIONS = Operation(
    "list_sessions",
    "GET",
    "/user/session/list",
    "Live sessions, newest first, `is_current` marked: the caller's, `user_id`'s or `target_ust`'s owner's "
    "(another user's: super-users)",
    inputs=(CURRENT_UST, TARGET_UST),
    targets_user=True,
    api_checks_keys=True,
    result="sessions",
    input_overrides={
        TARGET_UST: {
            "type": "string",
            "writeOnly": True,
            "description": "list the sessions of this token's owner (Zato's form, with `current_ust`)",
        }
    },
    errors=_codes(
        WIRE_ERRORS,
        STEP_3,
        {403: (Code.auth_invalid,), 404: (Code.user_id_unknown, Code.session_invalid), 422: (Code.invalid_input,)},
    ),
)
END_SESSIONS = Operation(
    "end_sessions",
    "DELETE",
    "/user/session",
    "End one session (`session_id`: one's own, or anyone's as a super-user) or all of `user_id`'s (`all`: true; "
    "one's own: all but this one); answers how many ended",
    inputs=("session_id", "all"),
    targets_user=True,
    api_checks_keys=True,
    result="ended",
    errors=_codes(
        WIRE_ERRORS,
        STEP_3,
        {403: (Code.auth_invalid,), 404: (Code.user_id_unknown, Code.session_invalid), 422: (Code.invalid_input,)},
    ),
)

# --- attributes of a user or of a session (SPEC §12): one operation per method and path -----------------------

ATTR_METHODS = (
    ("POST", "", "create", "Create an attribute (name/value) or many (data)"),
    ("PATCH", "", "update", "Update an attribute or many"),
    ("PUT", "", "set", "Create or update an attribute or many"),
    ("DELETE", "", "delete", "Delete an attribute (name) or many (data: names)"),
    ("GET", "", "get", "An attribute and its times (found: false if absent), or many (result)"),
    ("GET", "/exists", "exists", "Whether an attribute exists (result), or many (result: name → bool)"),
    ("GET", "/names", "names", "The names of all live attributes (result)"),
)
ATTR_ERRORS = {
    403: (Code.auth_invalid, Code.invalid_input),
    404: (Code.user_id_unknown, Code.attr_missing),
    409: (Code.attr_exists,),
    422: (Code.invalid_input,),
}
SESSION_ENVELOPE = ("current_ust", "target_ust", USER_ID)


def _attr_operations() -> tuple[Operation, ...]:
    ops = []
    for method, suffix, action, summary in ATTR_METHODS:
        result = "ok" if action in WRITE_ATTR_OPS else "attr"
        ops.append(
            Operation(
                f"user_attr_{action}",
                method,
                "/user/attr" + suffix,
                summary + " of a user (user_id: super-users)",
                inputs=ATTR_INPUTS[action],
                targets_user=True,
                api_checks_keys=True,
                result=result,
                nested=("value", "data"),
                errors=_codes(WIRE_ERRORS, STEP_3, ATTR_ERRORS),
            )
        )
        ops.append(
            Operation(
                f"session_attr_{action}",
                method,
                "/session/attr" + suffix,
                summary + " of the session target_ust",
                inputs=(*SESSION_ENVELOPE, *ATTR_INPUTS[action]),
                required=("current_ust", "target_ust"),
                uses_ust=False,
                api_checks_keys=True,
                result=result,
                nested=("value", "data"),
                errors=_codes(WIRE_ERRORS, STEP_3, ATTR_ERRORS, {404: (Code.session_invalid,)}),
            )
        )
    return tuple(ops)


ATTR_OPERATIONS = _attr_operations()

_LINK_OVERRIDES: dict[str, dict[str, Any]] = {
    "auth_type": {"type": "string", "enum": ["zato.basic_auth", "basic_auth"]},
    "auth_username": {"type": "string", "description": "an API client's name"},
    "is_active": {"type": "boolean", "default": True},
}
_LINK_ERRORS = {
    403: (Code.auth_invalid,),
    404: (Code.user_id_unknown, Code.invalid_input),
    409: (Code.invalid_input,),
    422: (Code.invalid_input,),
}
LINK = Operation(
    "link",
    "POST",
    "/user/linked",
    "Link an API client (HTTP Basic) to user_id (super-users)",
    inputs=("auth_type", "auth_username", "is_active"),
    required=("auth_type", "auth_username"),
    targets_user=True,
    api_checks_keys=True,
    result="ok",
    input_overrides=_LINK_OVERRIDES,
    errors=_codes(WIRE_ERRORS, STEP_3, _LINK_ERRORS),
)
LINKS = Operation(
    "links",
    "GET",
    "/user/linked",
    "The credentials linked to user_id (super-users), in result",
    inputs=(),
    targets_user=True,
    api_checks_keys=True,
    result="links",
    errors=_codes(WIRE_ERRORS, STEP_3, _LINK_ERRORS),
)
UNLINK = Operation(
    "unlink",
    "DELETE",
    "/user/linked",
    "Unlink an API client from user_id (super-users)",
    inputs=("auth_type", "auth_username"),
    required=("auth_type", "auth_username"),
    targets_user=True,
    api_checks_keys=True,
    result="ok",
    input_overrides=_LINK_OVERRIDES,
    errors=_codes(WIRE_ERRORS, STEP_3, _LINK_ERRORS),
)

OPERATIONS: tuple[Operation, ...] = (
    LOGIN,
    LOGOUT,
    GET_USER,
    UPDATE_USER,
    CREATE_USER,
    CHANGE_PASSWORD,
    SET_TOTP,
    SEARCH,
    SIGNUP,
    CONFIRM_SIGNUP,
    REQUEST_RESET,
    ACCESS_RESET,
    COMPLETE_RESET,
    APPROVE_USER,
    REJECT_USER,
    LOCK_USER,
    UNLOCK_USER,
    DELETE_USER,
    VERIFY_SESSION,
    GET_SESSION,
    RENEW_SESSION,
    LIST_SESSIONS,
    END_SESSIONS,
    *ATTR_OPERATIONS,
    LINK,
    LINKS,
    UNLINK,
)

OPENAPI_PATH = "/openapi.json"


def methods_by_path() -> dict[str, list[str]]:
    """The methods each API path answers (for 405 and `Allow`)."""
    table: dict[str, list[str]] = {PREFIX + OPENAPI_PATH: ["GET", "HEAD"]}
    for op in OPERATIONS:
        methods = table.setdefault(op.url, [])
        methods += [op.method, "HEAD"] if op.method == "GET" else [op.method]
    return {path: sorted(set(methods)) for path, methods in table.items()}
