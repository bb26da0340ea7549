"""Self-service by email (SPEC §11): sign up and confirm it; reset a forgotten password. And an administrator's
emails to a user (SPEC §19): a password-reset link, the sign-up confirmation again, a verify-email link."""

from __future__ import annotations

from ...sso.email.admin_emails import KINDS
from ...sso.email.signup import SIGNUP_KEYS
from ...sso.kernel.errors import Code
from ..schemas import PASSWORD_SCHEMA
from .table import PASSWORD_RULES, STEP_3, WIRE_ERRORS, Operation, codes

_SIGNUP_USERNAME = (Code.username_invalid, Code.username_too_long, Code.username_has_whitespace)
_SIGNUP_EMAIL = (Code.email_invalid, Code.email_too_long, Code.email_has_whitespace, Code.email_missing)
SIGNUP = Operation(
    "signup",
    "POST",
    "/user/signup",
    "Sign up: a new account waiting for confirmation; answers its `confirm_token`",
    inputs=SIGNUP_KEYS,
    required=("username", "password", "app_list"),
    uses_ust=False,
    result="signup",
    list_inputs=("app_list",),
    input_overrides={
        "username": {"type": "string"},
        "email": {"type": ["string", "null"]},
        "password": {"type": "string", "writeOnly": True, "description": PASSWORD_SCHEMA["description"]},
    },
    errors=codes(
        WIRE_ERRORS,
        {
            403: (Code.app_not_allowed, Code.no_signup),
            409: (Code.username_exists, Code.email_exists),
            422: (*_SIGNUP_USERNAME, *_SIGNUP_EMAIL, *PASSWORD_RULES),
        },
    ),
)
CONFIRM_SIGNUP = Operation(
    "confirm_signup",
    "PATCH",
    "/user/signup",
    "Confirm a sign-up with its `confirm_token`",
    inputs=("confirm_token",),
    required=("confirm_token",),
    uses_ust=False,
    api_checks_keys=True,
    result="ok",
    errors=codes(
        WIRE_ERRORS,
        {
            403: (Code.app_not_allowed,),
            404: (Code.no_such_signup_token,),
            409: (Code.signup_confirmed,),
            422: (Code.invalid_input,),
        },
    ),
)
REQUEST_RESET = Operation(
    "request_password_reset",
    "POST",
    "/password/reset",
    "Email a password-reset link to the account `credential` names; always ok, so accounts cannot be probed",
    inputs=("credential",),
    required=("credential",),
    uses_ust=False,
    api_checks_keys=True,
    result="ok",
    errors=codes(WIRE_ERRORS, {403: (Code.app_not_allowed,), 422: (Code.invalid_input,), 503: (Code.internal_error,)}),
)
ACCESS_RESET = Operation(
    "access_password_reset",
    "PATCH",
    "/password/reset",
    "Trade the emailed token for a `reset_key` (valid 30 minutes)",
    inputs=("token",),
    required=("token",),
    uses_ust=False,
    api_checks_keys=True,
    result="reset_key",
    errors=codes(WIRE_ERRORS, {403: (Code.app_not_allowed, Code.password_reset_refused), 422: (Code.invalid_input,)}),
)
COMPLETE_RESET = Operation(
    "complete_password_reset",
    "DELETE",
    "/password/reset",
    "Set the new password with the token and its reset key; every session of the user ends",
    inputs=("token", "reset_key", "password"),
    required=("token", "reset_key", "password"),
    uses_ust=False,
    api_checks_keys=True,
    result="ok",
    input_overrides={"password": {"type": "string", "writeOnly": True, "description": PASSWORD_SCHEMA["description"]}},
    errors=codes(WIRE_ERRORS, {403: (Code.app_not_allowed, Code.password_reset_refused), 422: PASSWORD_RULES}),
)

SEND_ADMIN_EMAIL = Operation(
    "send_admin_email",
    "POST",
    "/user/email/send",
    "Extension: email `user_id` a password-reset link (users.credentials), the sign-up confirmation again "
    "(users.approve) or a verify-email link (users.credentials); queued in the outbox, audited, throttled per user "
    "(429 naming SSO_ADMIN_EMAIL_MAX_PER_USER)",
    inputs=("kind",),
    required=("kind",),
    targets_user=True,
    target_required=True,
    api_checks_keys=True,
    result="ok",
    input_overrides={"kind": {"type": "string", "enum": list(KINDS), "description": "which email to send"}},
    errors=codes(
        WIRE_ERRORS,
        STEP_3,
        {
            403: (Code.invalid_operation,),
            404: (Code.user_id_unknown,),
            409: (Code.signup_confirmed,),
            422: (Code.invalid_input,),
            429: (Code.invalid_input,),
        },
    ),
)
