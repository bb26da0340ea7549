"""API clients linked to a user (Zato's linked auth): link, list, unlink."""

from __future__ import annotations

from typing import Any

from ...sso.kernel.errors import Code
from .table import STEP_3, WIRE_ERRORS, Operation, codes

_LINK_OVERRIDES: dict[str, dict[str, Any]] = {
    "auth_type": {"type": "string", "enum": ["zato.basic_auth", "basic_auth"]},
    "auth_username": {"type": "string", "description": "an API client's name"},
    "is_active": {"type": "boolean", "default": True},
}
_LINK_ERRORS = {
    403: (Code.auth_invalid, Code.invalid_operation),
    404: (Code.user_id_unknown, Code.invalid_input),
    409: (Code.invalid_input,),
    422: (Code.invalid_input,),
}
LINK = Operation(
    "link",
    "POST",
    "/user/linked",
    "Link an API client (HTTP Basic) to user_id (users.attributes)",
    inputs=("auth_type", "auth_username", "is_active"),
    required=("auth_type", "auth_username"),
    targets_user=True,
    api_checks_keys=True,
    result="ok",
    input_overrides=_LINK_OVERRIDES,
    errors=codes(WIRE_ERRORS, STEP_3, _LINK_ERRORS),
)
LINKS = Operation(
    "links",
    "GET",
    "/user/linked",
    "The credentials linked to user_id (users.attributes), in result",
    inputs=(),
    targets_user=True,
    api_checks_keys=True,
    result="links",
    errors=codes(WIRE_ERRORS, STEP_3, _LINK_ERRORS),
)
UNLINK = Operation(
    "unlink",
    "DELETE",
    "/user/linked",
    "Unlink an API client from user_id (users.attributes)",
    inputs=("auth_type", "auth_username"),
    required=("auth_type", "auth_username"),
    targets_user=True,
    api_checks_keys=True,
    result="ok",
    input_overrides=_LINK_OVERRIDES,
    errors=codes(WIRE_ERRORS, STEP_3, _LINK_ERRORS),
)
