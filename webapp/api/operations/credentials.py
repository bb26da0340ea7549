"""Credentials (SPEC §6, §10): change a password, set a two-factor key."""

from __future__ import annotations

from ...sso.credentials.passwords import CHANGE_PASSWORD_KEYS, EXPIRY_DAYS_MAX
from ...sso.kernel.errors import Code
from .table import PASSWORD_RULES, PAUSED, STEP_3, WIRE_ERRORS, Operation, codes

CHANGE_PASSWORD = Operation(
    "change_password",
    "PATCH",
    "/user/password",
    "Change one's own password, or (users.credentials) anyone's",
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
    errors=codes(
        WIRE_ERRORS,
        STEP_3,
        PAUSED,
        {403: (Code.invalid_input, Code.invalid_operation), 404: (Code.user_id_unknown,), 422: PASSWORD_RULES},
    ),
)
SET_TOTP = Operation(
    "set_totp",
    "PATCH",
    "/user/totp",
    "Set the TOTP key and label of the current user, or `user_id` (users.credentials)",
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
    errors=codes(
        WIRE_ERRORS,
        STEP_3,
        {403: (Code.invalid_input, Code.invalid_operation), 404: (Code.user_id_unknown,), 422: (Code.invalid_input,)},
    ),
)
