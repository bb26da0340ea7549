"""Sessions (SPEC §6, §9): log in and out; verify, read, renew, list and end sessions."""

from __future__ import annotations

from ...sso.kernel.errors import Code
from ...sso.sessions.login_metadata import METADATA_KEYS
from ..schemas import CURRENT_UST, PASSWORD_SCHEMA, TARGET_UST
from .table import PASSWORD_RULES, PAUSED, STEP_3, WIRE_ERRORS, Operation, codes

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
    inputs=("username", "password", "new_password", "totp_code", "passkey", *METADATA_KEYS),
    required=("username", "password"),
    uses_ust=False,
    api_checks_keys=True,
    result="login",
    nested=("passkey",),
    input_overrides={
        "passkey": {
            "type": ["object", "null"],
            "writeOnly": True,
            "description": "extension (SPEC §18): in place of totp_code, {challenge_id, credential} from "
            "passkey/login/options with second_factor: true and a passkey of this user (null: none)",
        },
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
    errors=codes(
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
            422: (*PASSWORD_RULES, Code.invalid_input),
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
    errors=codes(WIRE_ERRORS, {422: (Code.invalid_input,)}),
)

_TARGET_SESSION = {403: (Code.auth_invalid,), 422: (Code.invalid_input,)}

VERIFY_SESSION = Operation(
    "verify_session",
    "POST",
    "/user/session",
    "Whether `target_ust` is usable now (users.view: anyone's; others: their own); never renews it",
    inputs=(TARGET_UST,),
    required=(TARGET_UST,),
    ust_key=CURRENT_UST,
    api_checks_keys=True,
    result="verify",
    errors=codes(WIRE_ERRORS, STEP_3, _TARGET_SESSION),
)
GET_SESSION = Operation(
    "get_session",
    "GET",
    "/user/session",
    "The details of the live session behind `target_ust` (users.view: anyone's; others: their own)",
    inputs=(TARGET_UST,),
    required=(TARGET_UST,),
    ust_key=CURRENT_UST,
    api_checks_keys=True,
    result="session",
    errors=codes(WIRE_ERRORS, STEP_3, _TARGET_SESSION, {404: (Code.session_invalid,)}),
)
RENEW_SESSION = Operation(
    "renew_session",
    "PATCH",
    "/user/session",
    "Renew the caller's session: it expires a session lifetime from now",
    inputs=(),
    api_checks_keys=True,
    result="renew",
    errors=codes(WIRE_ERRORS, STEP_3, {422: (Code.invalid_input,)}),
)
LIST_SESSIONS = Operation(
    "list_sessions",
    "GET",
    "/user/session/list",
    "Live sessions, newest first, `is_current` marked: the caller's, `user_id`'s or `target_ust`'s owner's "
    "(another user's: users.view)",
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
    errors=codes(
        WIRE_ERRORS,
        STEP_3,
        {403: (Code.auth_invalid,), 404: (Code.user_id_unknown, Code.session_invalid), 422: (Code.invalid_input,)},
    ),
)
END_SESSIONS = Operation(
    "end_sessions",
    "DELETE",
    "/user/session",
    "End one session (`session_id`: one's own, or anyone's with users.sessions) or all of `user_id`'s (`all`: true; "
    "one's own: all but this one); answers how many ended",
    inputs=("session_id", "all"),
    targets_user=True,
    api_checks_keys=True,
    result="ended",
    errors=codes(
        WIRE_ERRORS,
        STEP_3,
        {
            403: (Code.auth_invalid, Code.invalid_operation),
            404: (Code.user_id_unknown, Code.session_invalid),
            422: (Code.invalid_input,),
        },
    ),
)
