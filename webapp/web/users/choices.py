"""What a super-user can do to users from Manage users, as data: the quick actions of one user's page,
the confirmation that says what lock, reject and delete will do, and the list's bulk actions.

The routes that act on them are in `actions.py`, `lifecycle.py` and `bulk.py`; the pages read these
tables for their buttons and words."""

from __future__ import annotations

from dataclasses import dataclass

from ...sso.kernel.attributes import ATTRIBUTES
from ...sso.kernel.presentation import UserData


@dataclass(frozen=True)
class QuickAction:
    """A change of one attribute on Manage user: one click, or (`confirm`) a click on the confirmation page
    that says what will happen."""

    action: str
    button: str
    name: str
    value: str
    done: str
    danger: bool = False
    confirm: bool = False

    @property
    def target(self) -> bool | str:
        """The value the click stores (`value` is as a form sends it)."""
        return self.value == "true" if ATTRIBUTES[self.name].type == "bool" else self.value

    def applies(self, user: UserData) -> bool:
        """Whether the button is offered: the user is not already so."""
        return user[self.name] != self.target


QUICK_ACTIONS = {
    a.action: a
    for a in (
        QuickAction("unlock", "Unlock", "is_locked", "false", "Unlocked"),
        QuickAction("lock", "Lock…", "is_locked", "true", "Locked", danger=True, confirm=True),
        QuickAction("approve", "Approve", "approval_status", "approved", "Approved"),
        QuickAction("reject", "Reject…", "approval_status", "rejected", "Rejected", danger=True, confirm=True),
    )
}


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page asks and says will happen."""

    action: str
    question: str
    button: str
    consequences: tuple[str, ...]


CONFIRMATIONS = {
    c.action: c
    for c in (
        Confirmation(
            "lock",
            "Lock {username}?",
            "Lock {username}",
            (
                "{username} cannot log in until someone unlocks the account.",
                "Their {sessions} end now; an application using one is told the account is locked.",
                "Unlocking later lets them log in again (those sessions stay ended).",
            ),
        ),
        Confirmation(
            "reject",
            "Reject {username}?",
            "Reject {username}",
            (
                "{username} cannot log in, and their {sessions} stop working.",
                "You can approve the account again later.",
            ),
        ),
        Confirmation(
            "delete",
            "Delete {username}?",
            "Delete {username} for good",
            (
                "The account and everything of theirs are removed: their {sessions} end now.",
                "This cannot be undone. The audit history keeps a record of the account as it was.",
                "The username {username} becomes free for someone else.",
            ),
        ),
    )
}


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
        BulkChoice("approve", "Approve", "Approve", "approved", "already approved"),
        BulkChoice("unlock", "Unlock", "Unlock", "unlocked", "not locked"),
        BulkChoice("lock", "Lock…", "Lock", "locked", "already locked", confirm=True),
        BulkChoice("reject", "Reject…", "Reject", "rejected", "already rejected", confirm=True),
        BulkChoice("sign_out", "Sign out everywhere…", "Sign out", "signed out", "no sessions", confirm=True),
        BulkChoice("delete", "Delete…", "Delete", "deleted", "nothing to delete", confirm=True),
    )
}
