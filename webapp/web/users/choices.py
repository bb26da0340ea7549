"""What a super-user can do to users from Manage users, as data: the quick actions of one user's page,
the confirmation that says what lock, reject and delete will do, and the list's bulk actions.

The routes that act on them are in `actions.py`, `lifecycle.py` and `bulk.py`; the pages read these
tables for their buttons and words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...i18n import N_, Nn_, gettext, lazy_gettext, ngettext
from ...sso.accounts import guards
from ...sso.email.admin_emails import KINDS
from ...sso.kernel.attributes import ATTRIBUTES
from ...sso.kernel.presentation import UserData


@dataclass(frozen=True)
class QuickAction:
    """A change of one attribute on Manage user: one click, or (`confirm`) a click on the confirmation page
    that says what will happen."""

    action: str
    button: Any  # a lazily translated text
    name: str
    value: str
    done: Any
    danger: bool = False
    confirm: bool = False

    @property
    def target(self) -> bool | str:
        """The value the click stores (`value` is as a form sends it)."""
        return self.value == "true" if ATTRIBUTES[self.name].type == "bool" else self.value

    def applies(self, user: UserData) -> bool:
        """Whether the button is offered: the user is not already so."""
        return user[self.name] != self.target

    def refused_on_own_account(self) -> str | None:
        """Why the guard rails refuse this on one's own account (None: they do not)."""
        return guards.refused_on_own_account(self.name, self.target, datetime.now(UTC))


QUICK_ACTIONS = {
    a.action: a
    for a in (
        QuickAction("unlock", lazy_gettext("Unlock"), "is_locked", "false", lazy_gettext("Unlocked")),
        QuickAction(
            "lock", lazy_gettext("Lock…"), "is_locked", "true", lazy_gettext("Locked"), danger=True, confirm=True
        ),
        QuickAction("approve", lazy_gettext("Approve"), "approval_status", "approved", lazy_gettext("Approved")),
        QuickAction(
            "reject",
            lazy_gettext("Reject…"),
            "approval_status",
            "rejected",
            lazy_gettext("Rejected"),
            danger=True,
            confirm=True,
        ),
    )
}


@dataclass(frozen=True)
class SessionsLine:
    """A consequence that names the user's open sessions: its words when there are none, and as one message
    with a singular and a plural (`%(num)d` the number, `%(username)s` the user); `selection` is its wording
    for several users at once (`%(sessions)s`: how many in all, bulk.py)."""

    none: str
    one: str
    many: str
    selection: str

    def format(self, count: int, username: str) -> str:
        if count == 0:
            return gettext(self.none, username=username)
        return ngettext(self.one, self.many, count, username=username)


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page asks and says will happen (`%(username)s` is the user)."""

    action: str
    question: str
    button: str
    consequences: tuple[str | SessionsLine, ...]

    def lines(self, username: str, sessions: int) -> list[str]:
        """The consequences for one user with `sessions` open sessions."""
        return [
            line.format(sessions, username) if isinstance(line, SessionsLine) else gettext(line, username=username)
            for line in self.consequences
        ]

    def texts(self) -> list[str]:
        """The consequences as written for a selection of users (`%(username)s`, `%(sessions)s` to fill in)."""
        return [line.selection if isinstance(line, SessionsLine) else line for line in self.consequences]


CONFIRMATIONS = {
    c.action: c
    for c in (
        Confirmation(
            "lock",
            N_("Lock %(username)s?"),
            N_("Lock %(username)s"),
            (
                N_("%(username)s cannot log in until someone unlocks the account."),
                SessionsLine(
                    N_("They have no open session at the moment."),
                    *Nn_(
                        "Their %(num)d open session ends now; an application using it is told the account is locked.",
                        "Their %(num)d open sessions end now; an application using one is told the account is locked.",
                    ),
                    N_("Their %(sessions)s end now; an application using one is told the account is locked."),
                ),
                N_("Unlocking later lets them log in again (sessions ended now stay ended)."),
            ),
        ),
        Confirmation(
            "reject",
            N_("Reject %(username)s?"),
            N_("Reject %(username)s"),
            (
                SessionsLine(
                    N_("%(username)s cannot log in (they have no open session at the moment)."),
                    *Nn_(
                        "%(username)s cannot log in, and their %(num)d open session stops working.",
                        "%(username)s cannot log in, and their %(num)d open sessions stop working.",
                    ),
                    N_("%(username)s cannot log in, and their %(sessions)s stop working."),
                ),
                N_("You can approve the account again later."),
            ),
        ),
        Confirmation(
            "delete",
            N_("Delete %(username)s?"),
            N_("Delete %(username)s for good"),
            (
                SessionsLine(
                    N_("The account and everything of theirs are removed (they have no open session at the moment)."),
                    *Nn_(
                        "The account and everything of theirs are removed: their %(num)d open session ends now.",
                        "The account and everything of theirs are removed: their %(num)d open sessions end now.",
                    ),
                    N_("The account and everything of theirs are removed: their %(sessions)s end now."),
                ),
                N_("This cannot be undone. The audit history keeps a record of the account as it was."),
                N_("The username %(username)s becomes free for someone else."),
            ),
        ),
    )
}


def refused_on_own_account(action: str) -> str | None:
    """Why the guard rails refuse `action` (lock, reject, delete) on one's own account (SPEC §8), or None."""
    quick = QUICK_ACTIONS.get(action)
    return guards.OWN_DELETE if quick is None else quick.refused_on_own_account()


@dataclass(frozen=True)
class BulkChoice:
    """An action of the list's "Apply to selected" menu (the service's `bulk_action` name), how its result
    reads, and whether a confirmation page comes first (what cannot be undone in one click)."""

    action: str
    label: str
    verb: str  # "Lock": the confirmation's question and button, the result page's title
    done: str  # "locked": the result page's word for a user it was done to
    unchanged: str  # why nothing changed for a user ("already locked")
    confirm: bool = False


BULK_CHOICES = {
    c.action: c
    for c in (
        BulkChoice(
            "approve",
            lazy_gettext("Approve"),
            lazy_gettext("Approve"),
            lazy_gettext("approved"),
            lazy_gettext("already approved"),
        ),
        BulkChoice(
            "unlock",
            lazy_gettext("Unlock"),
            lazy_gettext("Unlock"),
            lazy_gettext("unlocked"),
            lazy_gettext("not locked"),
        ),
        BulkChoice(
            "lock",
            lazy_gettext("Lock…"),
            lazy_gettext("Lock"),
            lazy_gettext("locked"),
            lazy_gettext("already locked"),
            confirm=True,
        ),
        BulkChoice(
            "reject",
            lazy_gettext("Reject…"),
            lazy_gettext("Reject"),
            lazy_gettext("rejected"),
            lazy_gettext("already rejected"),
            confirm=True,
        ),
        BulkChoice(
            "sign_out",
            lazy_gettext("Sign out everywhere…"),
            lazy_gettext("Sign out"),
            lazy_gettext("signed out"),
            lazy_gettext("no sessions"),
            confirm=True,
        ),
        BulkChoice(
            "delete",
            lazy_gettext("Delete…"),
            lazy_gettext("Delete"),
            lazy_gettext("deleted"),
            lazy_gettext("nothing to delete"),
            confirm=True,
        ),
    )
}


@dataclass(frozen=True)
class EmailChoice:
    """A button of the Emails card: the service's kind, its label, and the flash after it was queued."""

    kind: str
    button: Any
    sent: Any  # `%(address)s`: where it went


EMAIL_CHOICES = {
    c.kind: c
    for c in (
        EmailChoice(
            "password_reset",
            lazy_gettext("Send a password-reset link"),
            lazy_gettext("A password-reset link is on its way to %(address)s."),
        ),
        EmailChoice(
            "signup_confirmation",
            lazy_gettext("Send the sign-up confirmation again"),
            lazy_gettext("The sign-up confirmation is on its way to %(address)s again."),
        ),
        EmailChoice(
            "verify_email",
            lazy_gettext("Send a verify-email link"),
            lazy_gettext("A verify-email link is on its way to %(address)s."),
        ),
    )
}
assert tuple(EMAIL_CHOICES) == KINDS

# The list's bulk bar also sends an administrator's emails (issue 27): at once, no confirmation (nothing is
# changed on the accounts); the result page says to whom it went and why not.
EMAIL_BULK_CHOICES = {
    c.action: c
    for c in (
        BulkChoice(
            "send_password_reset",
            lazy_gettext("Send a password-reset link"),
            lazy_gettext("Send a password-reset link"),
            lazy_gettext("sent"),
            lazy_gettext("not sent"),
        ),
        BulkChoice(
            "send_signup_confirmation",
            lazy_gettext("Send the sign-up confirmation again"),
            lazy_gettext("Send the sign-up confirmation again"),
            lazy_gettext("sent"),
            lazy_gettext("not sent"),
        ),
        BulkChoice(
            "send_verify_email",
            lazy_gettext("Send a verify-email link"),
            lazy_gettext("Send a verify-email link"),
            lazy_gettext("sent"),
            lazy_gettext("not sent"),
        ),
    )
}
BULK_CHOICES.update(EMAIL_BULK_CHOICES)
