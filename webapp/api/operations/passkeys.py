"""Passkeys (SPEC §18; extensions): list and remove, and the two ceremonies for apps that run their own pages."""

from __future__ import annotations

from ...sso.kernel.errors import Code
from ...sso.sessions.login_metadata import METADATA_KEYS
from .table import PAUSED, STEP_3, WIRE_ERRORS, Operation, codes

_CREDENTIAL = {
    "type": ["object", "string"],
    "writeOnly": True,
    "description": "the browser's answer (PublicKeyCredential.toJSON(), or that JSON as text), at most 32 KiB",
}
_CHALLENGE_ID = {"type": "string", "maxLength": 128, "description": "from the options call (single use, 5 minutes)"}
_REAUTH = {
    "type": ["object", "null"],
    "writeOnly": True,
    "description": "instead of password: {challenge_id, credential}, one's own passkey answering "
    "passkey/reauth/options (null: none given)",
}
_PASSKEY_ERRORS = {404: (Code.user_id_unknown, Code.invalid_input), 422: (Code.invalid_input,)}
LIST_PASSKEYS = Operation(
    "list_passkeys",
    "GET",
    "/user/passkey",
    "The passkeys of the current user, or `user_id` (super-users), in result (never a key)",
    inputs=(),
    targets_user=True,
    api_checks_keys=True,
    result="passkeys",
    errors=codes(WIRE_ERRORS, STEP_3, _PASSKEY_ERRORS),
)
REMOVE_PASSKEY = Operation(
    "remove_passkey",
    "DELETE",
    "/user/passkey",
    "Remove a passkey: one's own (a sign-in within 5 minutes, else `password`), or a user's (super-users)",
    inputs=("passkey_id", "password", "passkey"),
    required=("passkey_id",),
    targets_user=True,
    api_checks_keys=True,
    result="ok",
    nested=("passkey",),
    input_overrides={
        "passkey": _REAUTH,
        "passkey_id": {"type": "string", "maxLength": 64},
        "password": {
            "type": ["string", "null"],
            "writeOnly": True,
            "description": "one's current password (see summary); null: none given",
        },
    },
    errors=codes(WIRE_ERRORS, STEP_3, PAUSED, _PASSKEY_ERRORS),
)
PASSKEY_REGISTER_OPTIONS = Operation(
    "passkey_register_options",
    "POST",
    "/user/passkey/register/options",
    "Begin adding a passkey to one's own account: challenge_id and the options for navigator.credentials.create",
    inputs=("password", "passkey"),
    api_checks_keys=True,
    result="passkey_options",
    nested=("passkey",),
    input_overrides={
        "passkey": _REAUTH,
        "password": {
            "type": ["string", "null"],
            "writeOnly": True,
            "description": "one's current password, needed when the sign-in is older than 5 minutes (null: none given)",
        },
    },
    errors=codes(WIRE_ERRORS, STEP_3, PAUSED, {422: (Code.invalid_input,)}),
)
PASSKEY_REAUTH_OPTIONS = Operation(
    "passkey_reauth_options",
    "POST",
    "/user/passkey/reauth/options",
    "Confirm it is you with one of your own passkeys (instead of the password, after 5 minutes): challenge_id "
    "and the options for navigator.credentials.get",
    inputs=(),
    api_checks_keys=True,
    result="passkey_options",
    errors=codes(WIRE_ERRORS, STEP_3, {422: (Code.invalid_input,)}),
)
PASSKEY_REGISTER_VERIFY = Operation(
    "passkey_register_verify",
    "POST",
    "/user/passkey/register/verify",
    "Finish adding a passkey: the browser's answer and the passkey's name; answers the passkey",
    inputs=("challenge_id", "credential", "name"),
    required=("challenge_id", "credential", "name"),
    api_checks_keys=True,
    result="passkey",
    nested=("credential",),
    input_overrides={
        "challenge_id": _CHALLENGE_ID,
        "credential": _CREDENTIAL,
        "name": {"type": "string", "minLength": 1, "maxLength": 64, "description": "what the person calls it"},
    },
    errors=codes(WIRE_ERRORS, STEP_3, {409: (Code.invalid_input,), 422: (Code.invalid_input,)}),
)
PASSKEY_LOGIN_OPTIONS = Operation(
    "passkey_login_options",
    "POST",
    "/user/passkey/login/options",
    "Begin signing in with a passkey: challenge_id and the options for navigator.credentials.get",
    inputs=("second_factor",),
    uses_ust=False,
    api_checks_keys=True,
    result="passkey_options",
    input_overrides={
        "second_factor": {
            "type": "boolean",
            "default": False,
            "description": "true: for user/login's `passkey`, in place of a TOTP code",
        }
    },
    errors=codes(WIRE_ERRORS, {403: (Code.app_not_allowed, Code.invalid_operation), 422: (Code.invalid_input,)}),
)
PASSKEY_LOGIN_VERIFY = Operation(
    "passkey_login_verify",
    "POST",
    "/user/passkey/login/verify",
    "Sign in with a passkey alone (user verification required): returns a UST and its expiration time",
    inputs=("challenge_id", "credential", *METADATA_KEYS),
    required=("challenge_id", "credential"),
    uses_ust=False,
    api_checks_keys=True,
    result="login",
    nested=("credential",),
    input_overrides={
        "challenge_id": _CHALLENGE_ID,
        "credential": _CREDENTIAL,
        "remote_addr": {"type": "string", "description": "as for user/login"},
        "user_agent": {"type": "string", "description": "as for user/login"},
    },
    errors=codes(
        WIRE_ERRORS,
        PAUSED,
        {
            403: (
                Code.app_not_allowed,
                Code.auth_invalid,
                Code.invalid_operation,
                Code.password_must_change,
                Code.password_expired,
                Code.metadata_not_allowed,
            ),
            422: (Code.invalid_input,),
        },
    ),
)
