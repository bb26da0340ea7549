"""What an operation of the JSON API is (`Operation`) and the error sets many of them share.

Each area's module (users, credentials, sessions, email, lifecycle, attributes, linked) defines its
rows with these; the package's `__init__` puts them in one table, `OPERATIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ...sso.kernel.attributes import ATTRIBUTES
from ...sso.kernel.errors import Code
from ..schemas import (
    CURRENT_APP,
    CURRENT_UST,
    ENVELOPE_SCHEMAS,
    OTHER_INPUTS,
    TARGET_UST,
    USER_ID,
    UST,
    attribute_schema,
)

PREFIX = "/zato/sso"

TOKENS = (UST, CURRENT_UST, TARGET_UST)  # never accepted in a URL

# Expected-version sentinel: no stored version is ever 0 or below, so the service answers E011001.
NEVER_MATCHES = -1

STEP_3 = {
    401: (Code.session_invalid,),
    403: (Code.app_not_allowed, Code.user_locked, Code.sign_up_not_final, Code.auth_invalid, Code.actions_required),
    429: (Code.auth_invalid,),
}
PASSWORD_RULES = (
    Code.invalid_input,
    Code.password_rejected_word,
    Code.password_too_short,
    Code.password_too_long,
    Code.password_not_complex,
)
# Every operation can answer these: a malformed body or missing input, a body over the limit, and a
# database that did not answer in time (503, E008004 as for a failed email, `Retry-After`).
WIRE_ERRORS = {400: (Code.invalid_input,), 413: (Code.invalid_input,), 503: (Code.internal_error,)}
# Sign-in paused by the throttle (docs/SECURITY.md): E005001 with `Retry-After`.
PAUSED = {429: (Code.auth_invalid,)}


@dataclass(frozen=True)
class Operation:
    """One endpoint of the API."""

    name: str  # Flask endpoint and OpenAPI operationId
    method: str
    path: str
    summary: str
    inputs: tuple[str, ...]  # keys besides the envelope, as the service names them
    errors: Mapping[int, tuple[str, ...]]
    result: str  # "user", "login", "search", "totp" or "ok"
    required: tuple[str, ...] = ()
    uses_ust: bool = True
    targets_user: bool = False  # `user_id` is the envelope's target (absent or null = the caller)
    api_checks_keys: bool = False  # the API rejects unknown keys itself (the service call takes no dict)
    if_match: bool = False
    nested: tuple[str, ...] = ()  # inputs that may be lists or objects (attribute values, `data` lists)
    input_overrides: Mapping[str, dict] = field(default_factory=dict)
    list_inputs: tuple[str, ...] = ()  # keys whose value is a list of single values (sign-up's `app_list`)
    ust_key: str = UST  # Zato's session calls name the caller's UST `current_ust`
    target_required: bool = False  # `user_id` must be given (lifecycle calls)
    profile_fields: bool = False  # also takes the profile fields (SPEC §16; the OpenAPI document adds them live)

    @property
    def url(self) -> str:
        return PREFIX + self.path

    @property
    def envelope(self) -> tuple[str, ...]:
        keys = (self.ust_key, CURRENT_APP) if self.uses_ust else (CURRENT_APP,)
        return keys + ((USER_ID,) if self.targets_user else ())

    @property
    def accepted(self) -> tuple[str, ...]:
        """Every key the operation accepts, envelope first."""
        return self.envelope + tuple(key for key in self.inputs if key not in self.envelope)

    @property
    def required_inputs(self) -> tuple[str, ...]:
        return (CURRENT_APP, *((USER_ID,) if self.target_required else ()), *self.required)

    def input_schema(self, key: str) -> dict[str, Any]:
        """The JSON Schema of one accepted key."""
        if key in self.input_overrides:
            return dict(self.input_overrides[key])
        if key in ENVELOPE_SCHEMAS:
            return dict(ENVELOPE_SCHEMAS[key])
        if key in ATTRIBUTES:
            return attribute_schema(ATTRIBUTES[key])
        return dict(OTHER_INPUTS[key])


def codes(*parts: Mapping[int, tuple[str, ...]]) -> Mapping[int, tuple[str, ...]]:
    """The error codes an operation answers by status, from the sets it shares with others."""
    merged: dict[int, tuple[str, ...]] = {}
    for part in parts:
        for status, codes_ in part.items():
            merged[status] = tuple(dict.fromkeys((*merged.get(status, ()), *codes_)))
    return MappingProxyType(dict(sorted(merged.items())))
