"""The required actions (SPEC §19) as the console leads a person through them, as data: each action's page,
the console endpoints that work on it, and its words. `auth.load_caller` reads it to send a signed-in person
with actions pending to the page of the first one, before anything else; it imports no console module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..i18n import lazy_gettext
from ..sso.kernel.required_actions import (
    ACCEPT_TERMS,
    ACTIONS,
    CHANGE_PASSWORD,
    COMPLETE_PROFILE,
    SET_UP_TWO_FACTOR,
    VERIFY_EMAIL,
)


@dataclass(frozen=True)
class Step:
    """One required action in the console: where it is done and what it is called."""

    action: str
    endpoint: str  # the page the person is sent to
    endpoints: frozenset[str]  # every console endpoint that works on it (its forms, its ceremonies)
    label: Any  # what the person is asked to do
    admin_label: Any  # how Manage user names it


STEPS = {
    s.action: s
    for s in (
        Step(
            CHANGE_PASSWORD,
            "web.change_password",
            frozenset({"web.change_password"}),
            lazy_gettext("Choose a new password"),
            lazy_gettext("Choose a new password"),
        ),
        Step(
            SET_UP_TWO_FACTOR,
            "web.two_factor",
            frozenset(
                {
                    "web.two_factor",
                    "web.two_factor_enable",
                    "web.passkeys",
                    "web.passkey_add_options",
                    "web.passkey_reauth_options",
                    "web.passkey_add",
                }
            ),
            lazy_gettext("Set up two-factor sign-in"),
            lazy_gettext("Set up two-factor sign-in (an app or a passkey)"),
        ),
        Step(
            VERIFY_EMAIL,
            "web.verify_email",
            frozenset({"web.verify_email", "web.email_change_confirm"}),
            lazy_gettext("Confirm your email address"),
            lazy_gettext("Confirm their email address"),
        ),
        Step(
            COMPLETE_PROFILE,
            "web.account",
            frozenset({"web.account", "web.account_save"}),
            lazy_gettext("Complete your profile"),
            lazy_gettext("Fill in every required profile field"),
        ),
        Step(
            ACCEPT_TERMS,
            "web.terms",
            frozenset({"web.terms"}),
            lazy_gettext("Accept the terms"),
            lazy_gettext("Accept the current terms"),
        ),
    )
}
assert tuple(STEPS) == ACTIONS, "a step for every action, in the order they are asked"

# What a person with actions pending may still reach: the way out, the language, the hub, static files.
ALWAYS = frozenset({"web.logout", "web.set_language", "web.required_actions", "web.verify_email_link"})


def allowed(pending: list[str], endpoint: str | None) -> frozenset[str] | None:
    """The actions this request works on (the call's `completes`): every one for the pages always allowed,
    the first pending action's on its own pages; None when the request must first go to that page."""
    if not pending:
        return frozenset()
    if endpoint in ALWAYS:
        return frozenset(ACTIONS)
    first = STEPS[pending[0]]
    return frozenset({first.action}) if endpoint in first.endpoints else None
