"""The JSON API's operations (SPEC §6) as data: inputs, envelope and the errors each can answer.

The views read this table to parse requests and the OpenAPI document is generated from it, so
the two cannot disagree. Input names come from the service layer (`ATTRIBUTES`, `CREATE_KEYS`, ...);
only their wire schemas are described, in schemas.py. `table.py` says what an operation is; one
module per area defines its rows: `users`, `credentials`, `sessions`, `email`, `lifecycle`,
`attributes`, `linked`, `roles`, `privacy`. `OPERATIONS` below is the one table (its order is the OpenAPI document's).
"""

from __future__ import annotations

from ..schemas import CURRENT_APP, CURRENT_UST, TARGET_UST, USER_ID, UST
from .attributes import ATTR_OPERATIONS
from .credentials import CHANGE_PASSWORD, SET_TOTP
from .email import ACCESS_RESET, COMPLETE_RESET, CONFIRM_SIGNUP, REQUEST_RESET, SEND_ADMIN_EMAIL, SIGNUP
from .lifecycle import APPROVE_USER, DELETE_USER, LOCK_USER, REJECT_USER, UNLOCK_USER
from .linked import LINK, LINKS, UNLINK
from .passkeys import (
    LIST_PASSKEYS,
    PASSKEY_LOGIN_OPTIONS,
    PASSKEY_LOGIN_VERIFY,
    PASSKEY_REAUTH_OPTIONS,
    PASSKEY_REGISTER_OPTIONS,
    PASSKEY_REGISTER_VERIFY,
    REMOVE_PASSKEY,
)
from .privacy import CANCEL_DELETION, EXPORT_USER, RESTORE_VALUE, SCHEDULE_DELETION
from .roles import (
    CREATE_ROLE,
    DELETE_ROLE,
    GET_ROLES,
    GET_USER_ROLES,
    GRANT_ROLE,
    REVOKE_ROLE,
    ROLE_OPERATIONS,
    UPDATE_ROLE,
)
from .sessions import END_SESSIONS, GET_SESSION, LIST_SESSIONS, LOGIN, LOGOUT, RENEW_SESSION, VERIFY_SESSION
from .table import NEVER_MATCHES, PREFIX, TOKENS, Operation
from .terms import (
    ACCEPT_TERMS,
    CONFIRM_EMAIL_VERIFICATION,
    GET_TERMS,
    PUBLISH_TERMS,
    SEND_EMAIL_VERIFICATION,
    TERMS_OPERATIONS,
    USER_TERMS,
)
from .users import CREATE_USER, GET_USER, SEARCH, UPDATE_USER

__all__ = [
    "ACCEPT_TERMS",
    "ACCESS_RESET",
    "APPROVE_USER",
    "ATTR_OPERATIONS",
    "CANCEL_DELETION",
    "CHANGE_PASSWORD",
    "COMPLETE_RESET",
    "CONFIRM_EMAIL_VERIFICATION",
    "CONFIRM_SIGNUP",
    "CREATE_ROLE",
    "CREATE_USER",
    "CURRENT_APP",
    "CURRENT_UST",
    "DELETE_ROLE",
    "DELETE_USER",
    "END_SESSIONS",
    "EXPORT_USER",
    "GET_ROLES",
    "GET_SESSION",
    "GET_TERMS",
    "GET_USER",
    "GET_USER_ROLES",
    "GRANT_ROLE",
    "LINK",
    "LINKS",
    "LIST_PASSKEYS",
    "LIST_SESSIONS",
    "LOCK_USER",
    "LOGIN",
    "LOGOUT",
    "NEVER_MATCHES",
    "OPENAPI_PATH",
    "OPERATIONS",
    "PASSKEY_LOGIN_OPTIONS",
    "PASSKEY_LOGIN_VERIFY",
    "PASSKEY_REAUTH_OPTIONS",
    "PASSKEY_REGISTER_OPTIONS",
    "PASSKEY_REGISTER_VERIFY",
    "PREFIX",
    "PUBLISH_TERMS",
    "REJECT_USER",
    "REMOVE_PASSKEY",
    "RENEW_SESSION",
    "REQUEST_RESET",
    "RESTORE_VALUE",
    "REVOKE_ROLE",
    "SCHEDULE_DELETION",
    "SEARCH",
    "SEND_ADMIN_EMAIL",
    "SEND_EMAIL_VERIFICATION",
    "SET_TOTP",
    "SIGNUP",
    "TARGET_UST",
    "TERMS_OPERATIONS",
    "TOKENS",
    "UNLINK",
    "UNLOCK_USER",
    "UPDATE_ROLE",
    "UPDATE_USER",
    "USER_ID",
    "USER_TERMS",
    "UST",
    "VERIFY_SESSION",
    "Operation",
    "methods_by_path",
]

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
    SEND_ADMIN_EMAIL,
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
    RESTORE_VALUE,
    EXPORT_USER,
    SCHEDULE_DELETION,
    CANCEL_DELETION,
    LIST_PASSKEYS,
    REMOVE_PASSKEY,
    PASSKEY_REAUTH_OPTIONS,
    PASSKEY_REGISTER_OPTIONS,
    PASSKEY_REGISTER_VERIFY,
    PASSKEY_LOGIN_OPTIONS,
    PASSKEY_LOGIN_VERIFY,
    *ROLE_OPERATIONS,
    *TERMS_OPERATIONS,
)

OPENAPI_PATH = "/openapi.json"


def methods_by_path() -> dict[str, list[str]]:
    """The methods each API path answers (for 405 and `Allow`)."""
    table: dict[str, list[str]] = {PREFIX + OPENAPI_PATH: ["GET", "HEAD"]}
    for op in OPERATIONS:
        methods = table.setdefault(op.url, [])
        methods += [op.method, "HEAD"] if op.method == "GET" else [op.method]
    return {path: sorted(set(methods)) for path, methods in table.items()}
