"""Users (SPEC §6): read, update, create and search accounts."""

from __future__ import annotations

from ...sso.accounts.create import CREATE_KEYS
from ...sso.accounts.search import SEARCH_KEYS
from ...sso.kernel.attributes import ATTRIBUTES
from ...sso.kernel.errors import Code
from ..schemas import SEARCH_OVERRIDES
from .table import PASSWORD_RULES, STEP_3, WIRE_ERRORS, Operation, codes

GET_USER = Operation(
    "get_user",
    "GET",
    "/user",
    "The current user, or `user_id` (users.view)",
    inputs=(),
    targets_user=True,
    api_checks_keys=True,
    result="user",
    errors=codes(WIRE_ERRORS, STEP_3, {404: (Code.user_id_unknown,), 422: (Code.invalid_input,)}),
)
UPDATE_USER = Operation(
    "update_user",
    "PATCH",
    "/user",
    "Update the current user, or `user_id` (each attribute's permission); answers the updated user",
    inputs=(*ATTRIBUTES, "required_actions"),
    list_inputs=("required_actions",),
    targets_user=True,
    if_match=True,
    result="user",
    profile_fields=True,
    errors=codes(
        WIRE_ERRORS,
        STEP_3,
        {
            403: (Code.invalid_input, Code.invalid_operation),
            404: (Code.user_id_unknown,),
            409: (Code.username_exists,),
            412: (Code.version_conflict,),
            422: (Code.no_data, Code.invalid_input),
        },
    ),
)
CREATE_USER = Operation(
    "create_user",
    "POST",
    "/user",
    "Create a user (users.create); answers the new user with its `user_id`",
    inputs=CREATE_KEYS,
    required=("username",),
    result="user",
    profile_fields=True,
    errors=codes(WIRE_ERRORS, STEP_3, {403: (Code.invalid_input,), 409: (Code.username_exists,), 422: PASSWORD_RULES}),
)
SEARCH = Operation(
    "search",
    "GET",
    "/user/search",
    "Search users (users.view), in Zato's result shape",
    inputs=SEARCH_KEYS,
    result="search",
    profile_fields=True,
    input_overrides=SEARCH_OVERRIDES,
    errors=codes(WIRE_ERRORS, STEP_3, {422: (Code.invalid_input,)}),
)
