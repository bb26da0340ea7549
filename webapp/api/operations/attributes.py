"""Attributes of a user or of a session (SPEC §12): one operation per method and path."""

from __future__ import annotations

from ...sso.kernel.errors import Code
from ...sso.zato.attributes import ACCEPTED as ATTR_INPUTS
from ...sso.zato.attributes import IGNORED as ATTR_IGNORED
from ...sso.zato.attributes import WRITE_OPS as WRITE_ATTR_OPS
from ..schemas import USER_ID
from .table import STEP_3, WIRE_ERRORS, Operation, codes

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
    403: (Code.auth_invalid, Code.invalid_input, Code.invalid_operation),
    404: (Code.user_id_unknown, Code.attr_missing),
    409: (Code.attr_exists,),
    422: (Code.invalid_input,),
}
SESSION_ENVELOPE = ("current_ust", "target_ust", USER_ID)


def _attr_operations() -> tuple[Operation, ...]:
    ops = []
    for method, suffix, action, summary in ATTR_METHODS:
        result = "ok" if action in WRITE_ATTR_OPS else "attr"
        # Zato's one input set on every method: what a method does not use is accepted and ignored.
        ignored = {key: {"description": "Zato's; accepted and not used by this call"} for key in ATTR_IGNORED[action]}
        ops.append(
            Operation(
                f"user_attr_{action}",
                method,
                "/user/attr" + suffix,
                summary + " of a user (user_id: users.attributes)",
                inputs=ATTR_INPUTS[action],
                targets_user=True,
                api_checks_keys=True,
                result=result,
                nested=("value", "data"),
                input_overrides=ignored,
                errors=codes(WIRE_ERRORS, STEP_3, ATTR_ERRORS),
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
                input_overrides=ignored,
                errors=codes(WIRE_ERRORS, STEP_3, ATTR_ERRORS, {404: (Code.session_invalid,)}),
            )
        )
    return tuple(ops)


ATTR_OPERATIONS = _attr_operations()
