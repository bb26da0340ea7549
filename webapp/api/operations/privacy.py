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
        "description": "the caller's password, needed when their sign-in is older than SSO_RECENT_SIGNIN_MINUTES",
    }
}
EXPORT_USER = Operation(
    "export_user",
    "GET",
    "/user/export",
    "Extension: everything held about the caller (or user_id, super-users; audited) as one JSON document "
    "(docs/export-schema-v1.json), streamed",
    inputs=("password",),
    targets_user=True,
    api_checks_keys=True,
    result="export",
    input_overrides=_PASSWORD,
    errors=codes(WIRE_ERRORS, STEP_3, {403: (Code.auth_invalid,), 404: (Code.user_id_unknown,)}),
)
