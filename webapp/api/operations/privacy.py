"""Privacy and history (SPEC §20), extensions to Zato's API: restore a value from the audit history, download
a person's data, schedule and cancel the deletion of one's account."""

from __future__ import annotations

from typing import Any

from ...sso.kernel.errors import Code
from .table import STEP_3, WIRE_ERRORS, Operation, codes

_RESTORE_OVERRIDES: dict[str, dict[str, Any]] = {
    "record_id": {"type": "integer", "minimum": 1, "description": "the audit record whose old value to restore"},
    "attribute": {"type": "string", "description": "the attribute that record changed"},
    "force": {
        "type": "boolean",
        "default": False,
        "description": "restore even though the field has changed since that record (E011001 otherwise)",
    },
}
RESTORE_VALUE = Operation(
    "restore_value",
    "POST",
    "/user/restore",
    "Extension: set an attribute of the caller or user_id back to the old value of one audited change; "
    "answers the updated user",
    inputs=("record_id", "attribute", "force"),
    required=("record_id", "attribute"),
    targets_user=True,
    api_checks_keys=True,
    result="user",
    input_overrides=_RESTORE_OVERRIDES,
    errors=codes(
        WIRE_ERRORS,
        STEP_3,
        {
            403: (Code.invalid_input, Code.invalid_operation),
            404: (Code.invalid_input, Code.user_id_unknown),
            409: (Code.username_exists,),
            412: (Code.version_conflict,),
            422: (Code.invalid_input,),
        },
    ),
)

_PASSWORD = {
    "password": {
        "type": "string",
        "writeOnly": True,
        "description": "the caller's password, needed when their sign-in is older than 5 minutes",
    }
}
_EXPORT_INPUTS = {
    **_PASSWORD,
    "passkey": {
        "type": ["object", "null"],
        "writeOnly": True,
        "description": "instead of password (in a JSON body): {challenge_id, credential}, one's own passkey "
        "answering passkey/reauth/options (null: none given)",
    },
}
EXPORT_USER = Operation(
    "export_user",
    "GET",
    "/user/export",
    "Extension: everything held about the caller (or user_id, super-users; audited) as one JSON document "
    "(docs/export-schema-v1.json), streamed; a sign-in older than 5 minutes sends `password`, or `passkey` "
    "({challenge_id, credential} answering passkey/reauth/options) in a JSON body",
    inputs=("password", "passkey"),
    targets_user=True,
    api_checks_keys=True,
    result="export",
    nested=("passkey",),
    input_overrides=_EXPORT_INPUTS,
    errors=codes(
        WIRE_ERRORS, STEP_3, {403: (Code.auth_invalid,), 404: (Code.user_id_unknown,), 422: (Code.invalid_input,)}
    ),
)
SCHEDULE_DELETION = Operation(
    "schedule_deletion",
    "POST",
    "/user/deletion",
    "Extension: schedule the deletion of one's own account SSO_DELETE_GRACE_DAYS ahead (the password again): "
    "locked at once, sessions ended, a keep-my-account link emailed; answers `deletion_time`",
    inputs=("password",),
    required=("password",),
    api_checks_keys=True,
    result="deletion",
    input_overrides={"password": {"type": "string", "writeOnly": True, "description": "the caller's password"}},
    errors=codes(
        WIRE_ERRORS,
        STEP_3,
        {403: (Code.auth_invalid, Code.invalid_operation), 412: (Code.version_conflict,), 422: (Code.invalid_input,)},
    ),
)
CANCEL_DELETION = Operation(
    "cancel_deletion",
    "DELETE",
    "/user/deletion",
    "Extension: cancel a scheduled deletion: an administrator's `{ust, user_id}`, or the owner's `{token, "
    "password}` from the emailed link (their account is locked, so they hold no UST)",
    inputs=("token", "password"),
    targets_user=True,
    api_checks_keys=True,
    result="ok",
    input_overrides={
        "token": {"type": "string", "writeOnly": True, "description": "the token of the emailed keep-my-account link"},
        "password": {"type": "string", "writeOnly": True, "description": "the owner's password, with `token`"},
    },
    errors=codes(
        WIRE_ERRORS,
        STEP_3,
        {403: (Code.auth_invalid,), 404: (Code.invalid_input, Code.user_id_unknown), 422: (Code.invalid_input,)},
    ),
)
