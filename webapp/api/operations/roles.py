"""Roles (SPEC §17): extensions beside Zato's endpoints, in the same envelope; the OpenAPI document marks
each with `x-extension` (no Zato server has them)."""

from __future__ import annotations

from typing import Any

from ...sso.kernel.attributes import ROLE_DESCRIPTION_MAX, ROLE_NAME_MAX
from ...sso.kernel.errors import Code
from ...sso.kernel.permissions import PERMISSIONS
from .table import STEP_3, WIRE_ERRORS, Operation, codes

_NAME = {"type": "string", "minLength": 1, "maxLength": ROLE_NAME_MAX, "pattern": "^[a-z][a-z0-9_.-]*$"}
ROLE_INPUTS: dict[str, dict[str, Any]] = {
    "name": {**_NAME, "description": "the role's name (it is not renamed)"},
    "description": {"type": "string", "maxLength": ROLE_DESCRIPTION_MAX},
    "permissions": {
        "type": "array",
        "uniqueItems": True,
        "items": {"enum": list(PERMISSIONS)},
        "description": "the role's permissions: "
        + "; ".join(f"`{name}` {meaning.lower()}" for name, meaning in PERMISSIONS.items()),
    },
    "role": {**_NAME, "description": "a role's name"},
}
# Refusals: no permission (E005001), a guard rail (E008001: handing out what one lacks, a stronger
# administrator, the last role manager, a role still held), bad input (E008002), no such role or user.
_ROLE_ERRORS = {
    403: (Code.auth_invalid, Code.invalid_operation),
    404: (Code.invalid_input, Code.user_id_unknown),
    409: (Code.invalid_input,),
    422: (Code.invalid_input, Code.no_data),
}


def _role_op(name: str, method: str, path: str, summary: str, result: str, **kw: Any) -> Operation:
    return Operation(
        name,
        method,
        path,
        "extension: " + summary,
        api_checks_keys=True,
        result=result,
        input_overrides=ROLE_INPUTS,
        list_inputs=("permissions",),
        errors=codes(WIRE_ERRORS, STEP_3, _ROLE_ERRORS),
        **kw,
    )


GET_ROLES = _role_op(
    "get_roles",
    "GET",
    "/role",
    "every role in `result` (roles.manage or users.view); with `name`, that role and its holders",
    "roles",
    inputs=("name",),
)
CREATE_ROLE = _role_op(
    "create_role",
    "POST",
    "/role",
    "create a role (roles.manage; only with permissions one holds)",
    "role",
    inputs=("name", "description", "permissions"),
    required=("name",),
)
UPDATE_ROLE = _role_op(
    "update_role",
    "PATCH",
    "/role",
    "change a role's description and/or permissions (roles.manage; holding all it had and gets)",
    "role",
    inputs=("name", "description", "permissions"),
    required=("name",),
)
DELETE_ROLE = _role_op(
    "delete_role",
    "DELETE",
    "/role",
    "delete a role nobody holds (roles.manage); while held, E008001 names the holders",
    "ok",
    inputs=("name",),
    required=("name",),
)
GET_USER_ROLES = _role_op(
    "get_user_roles",
    "GET",
    "/user/role",
    "the names of the roles of the caller or `user_id` (users.view), in `result`",
    "role_names",
    inputs=(),
    targets_user=True,
)
GRANT_ROLE = _role_op(
    "grant_role",
    "POST",
    "/user/role",
    "give `user_id` a role (roles.manage, holding all it carries); their roles in `result`",
    "role_names",
    inputs=("role",),
    required=("role",),
    targets_user=True,
    target_required=True,
)
REVOKE_ROLE = _role_op(
    "revoke_role",
    "DELETE",
    "/user/role",
    "take a role from `user_id` (roles.manage, holding all it carries); their roles in `result`",
    "role_names",
    inputs=("role",),
    required=("role",),
    targets_user=True,
    target_required=True,
)

ROLE_OPERATIONS = (GET_ROLES, CREATE_ROLE, UPDATE_ROLE, DELETE_ROLE, GET_USER_ROLES, GRANT_ROLE, REVOKE_ROLE)
