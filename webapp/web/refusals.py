"""What a refusal means to the console, decided without rendering anything: `NotSignedIn` (raised by
`auth.py`, answered by the blueprint), why a session ended, what was not found, and the one decision every
form makes about a refused call (`form_errors`: re-render with field errors, or answer a refusal page).

`responses.py` renders these answers; `auth.py` and `attribute_form/save.py` import only this module,
so neither needs `responses.py` (no import circle)."""

from __future__ import annotations

from collections.abc import Iterable

from ..i18n import N_, gettext, translate
from ..sso import Code, Kind, SSOError


class NotSignedIn(Exception):
    """This request has no live session: no UST cookie, or the service refused it (`error`)."""

    def __init__(self, error: SSOError | None = None):
        super().__init__(str(error or "no UST cookie"))
        self.error = error


class ActionsPending(Exception):
    """The signed-in person has required actions to do first (SPEC §19): `location` is the page of the first."""

    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


SESSION_END_MESSAGES = {
    Code.session_invalid: N_("Your session has ended. Please log in again."),
    Code.user_locked: N_("Your account is locked. Ask an administrator to unlock it."),
    Code.sign_up_not_final: N_("Your sign-up is not complete yet."),
    Code.auth_invalid: N_("Your password has expired. Log in to choose a new one."),
    Code.app_not_allowed: N_("This console is not configured as an SSO application (SSO_CONSOLE_APP)."),
}

# A 404 page's title and message by what the service did not find (the error's code, then its field).
NOT_FOUND_BY_CODE = {
    Code.user_id_unknown: (N_("No such user"), N_("There is no user with this id. They may have been removed.")),
    Code.session_invalid: (N_("No such session"), N_("This session has ended or never existed.")),
    Code.no_such_signup_token: (N_("No such sign-up"), N_("This sign-up link is not known or has expired.")),
}
NOT_FOUND_BY_FIELD = {
    "name": (N_("No such API client"), N_("There is no API client with this name. It may have been revoked.")),
    "auth_username": (N_("No such API client"), N_("This API client is not linked to this user.")),
}


def ends_session(error: SSOError) -> bool:
    """Whether the refusal is about the caller's session (answered by sending them to log in)."""
    code = error.sub_status[0] if error.sub_status else ""
    return error.kind == Kind.unauthenticated or (not error.errors and code in SESSION_END_MESSAGES)


def session_end_message(error: SSOError) -> str:
    """Why the caller's session ended, for the login page."""
    code = error.sub_status[0] if error.sub_status else Code.session_invalid
    return gettext(SESSION_END_MESSAGES.get(code, SESSION_END_MESSAGES[Code.session_invalid]))


def not_found_words(error: SSOError) -> tuple[str, str]:
    """The title and message of the 404 page for `error`: what was not found."""
    for code in error.sub_status:
        if code in NOT_FOUND_BY_CODE:
            title, message = NOT_FOUND_BY_CODE[code]
            return gettext(title), gettext(message)
    for name in error.errors:
        if name in NOT_FOUND_BY_FIELD:
            title, message = NOT_FOUND_BY_FIELD[name]
            return gettext(title), gettext(message)
    described = "; ".join(translate(message) or "" for message in error.errors.values())
    return gettext("Not found"), (
        (described[:1].upper() + described[1:] + ".") if described else gettext("There is nothing here.")
    )


def form_errors(error: SSOError, fields: Iterable[str]) -> dict[str, str] | None:
    """The messages to show beside a form's `fields` (a re-render), or None: answer `refusal(error)`.

    A refusal is about the form when it names fields and every name is one the form has; anything
    else (no session, no permission, no such user, a message about what the form does not carry) is not.
    """
    if error.kind == Kind.unauthenticated or not error.errors or not set(error.errors) <= set(fields):
        return None
    return dict(error.errors)


def form_status(error: SSOError) -> int:
    """The status of a form re-render after a refusal about its fields."""
    return {Kind.forbidden: 403, Kind.not_found: 404, Kind.unavailable: 503}.get(error.kind, 422)


def general_errors(errors: dict[str, str], shown_beside_fields: Iterable[str]) -> dict[str, str]:
    """The messages that no field on the form shows (listed above the form)."""
    beside = set(shown_beside_fields)
    return {name: message for name, message in errors.items() if name not in beside}
