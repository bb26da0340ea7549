"""Privacy and history (SPEC §20), extensions to Zato's API: restore a value from the audit history."""

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
