"""Terms (SPEC §19), extensions to Zato's API: the current version, publishing one, accepting it, and a
user's acceptances."""

from __future__ import annotations

from typing import Any

from ...sso.accounts.terms import TERMS_MAX, VERSION_MAX
from ...sso.kernel.errors import Code
from .table import STEP_3, WIRE_ERRORS, Operation, codes

_TERMS_INPUTS: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "minLength": 1, "maxLength": TERMS_MAX, "description": "the terms, in Markdown"},
    "require_acceptance": {
        "type": "boolean",
        "default": False,
        "description": "every active user gets the accept_terms required action",
    },
    "version": {
        "type": "integer",
        "minimum": 1,
        "maximum": VERSION_MAX,
        "description": "a version of the terms (to accept: the current one)",
    },
}
_ERRORS = codes(WIRE_ERRORS, STEP_3, {403: (Code.auth_invalid, Code.actions_required), 422: (Code.invalid_input,)})

GET_TERMS = Operation(
    "get_terms",
    "GET",
    "/terms",
    "Extension: the current terms (`version`, `text`, `html` sanitised, `published_time`, `requires_acceptance`), "
    "or the `version` asked for; `version` null before any was published. Allowed while accept_terms waits",
    inputs=("version",),
    api_checks_keys=True,
    input_overrides=_TERMS_INPUTS,
    result="terms",
    errors=codes(_ERRORS, {404: (Code.invalid_input,)}),
)
PUBLISH_TERMS = Operation(
    "publish_terms",
    "POST",
    "/terms",
    "Extension: publish a new version of the terms (policies.manage); with require_acceptance, every active "
    "user must accept it (`users_asked` says how many)",
    inputs=("text", "require_acceptance"),
    required=("text",),
    api_checks_keys=True,
    input_overrides=_TERMS_INPUTS,
    result="terms_published",
    errors=_ERRORS,
)
ACCEPT_TERMS = Operation(
    "accept_terms",
    "POST",
    "/terms/accept",
    "Extension: accept the current version of the terms (clears the accept_terms required action)",
    inputs=("version",),
    required=("version",),
    api_checks_keys=True,
    input_overrides=_TERMS_INPUTS,
    result="terms_accepted",
    errors=_ERRORS,
)
USER_TERMS = Operation(
    "user_terms",
    "GET",
    "/user/terms",
    "Extension: the versions of the terms the caller (or user_id, users.view) accepted: `result` of "
    "{version, time, remote_addr}",
    inputs=(),
    targets_user=True,
    api_checks_keys=True,
    result="terms_acceptances",
    errors=codes(_ERRORS, {404: (Code.user_id_unknown,)}),
)
SEND_EMAIL_VERIFICATION = Operation(
    "send_email_verification",
    "POST",
    "/user/email/verify",
    "Extension: email a single-use link to the caller's current address that confirms it (the verify_email "
    "required action); `email` says where it went. At most once a minute",
    inputs=(),
    api_checks_keys=True,
    result="email_sent",
    errors=_ERRORS,
)
CONFIRM_EMAIL_VERIFICATION = Operation(
    "confirm_email_verification",
    "PATCH",
    "/user/email/verify",
    "Extension: confirm the address with the link's `token` (no session needed); clears verify_email",
    inputs=("token",),
    required=("token",),
    uses_ust=False,
    api_checks_keys=True,
    input_overrides={"token": {"type": "string", "writeOnly": True, "description": "the token of the emailed link"}},
    result="ok",
    errors=codes(WIRE_ERRORS, {403: (Code.app_not_allowed,), 422: (Code.invalid_input,)}),
)
TERMS_OPERATIONS = (
    GET_TERMS,
    PUBLISH_TERMS,
    ACCEPT_TERMS,
    USER_TERMS,
    SEND_EMAIL_VERIFICATION,
    CONFIRM_EMAIL_VERIFICATION,
)
