"""Routes for super-users around an account's lifecycle (SPEC §8): the confirmation that says what lock,
reject and delete will do, delete itself, and signing a user out everywhere (SPEC §9)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, g, request, url_for

from ..i18n import gettext, lazy_gettext, ngettext, not_done
from ..sso import Code, SSOError
from .auth import caller_args, cid, super_user_required, user_agent, users
from .blueprint import bp
from .manage import QUICK_ACTIONS, stored_edit_page
from .responses import ViewResponse, error_page, go, page, refusal


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page asks and says will happen."""

    action: str
    question: Any  # lazily translated texts with {username} and {sessions}
    button: Any
    consequences: tuple[Any, ...]


# The line a selection words otherwise (bulk.py): it names one user.
USERNAME_FREE = lazy_gettext("The username {username} becomes free for someone else.")

CONFIRMATIONS = {
    c.action: c
    for c in (
        Confirmation(
            "lock",
            lazy_gettext("Lock {username}?"),
            lazy_gettext("Lock {username}"),
            (
                lazy_gettext("{username} cannot log in until someone unlocks the account."),
                lazy_gettext("Their {sessions} end now; an application using one is told the account is locked."),
                lazy_gettext("Unlocking later lets them log in again (those sessions stay ended)."),
            ),
        ),
        Confirmation(
            "reject",
            lazy_gettext("Reject {username}?"),
            lazy_gettext("Reject {username}"),
            (
                lazy_gettext("{username} cannot log in, and their {sessions} stop working."),
                lazy_gettext("You can approve the account again later."),
            ),
        ),
        Confirmation(
            "delete",
            lazy_gettext("Delete {username}?"),
            lazy_gettext("Delete {username} for good"),
            (
                lazy_gettext("The account and everything of theirs are removed: their {sessions} end now."),
                lazy_gettext("This cannot be undone. The audit history keeps a record of the account as it was."),
                USERNAME_FREE,
            ),
        ),
    )
}


def _sessions_phrase(count: int) -> str:
    if count == 0:
        return gettext("open sessions (none at the moment)")
    return ngettext("%(num)d open session", "%(num)d open sessions", count)


@bp.get("/users/<user_id>/confirm")
@super_user_required
def user_confirm(user_id: str) -> ViewResponse:
    """Ask before lock, reject or delete, saying what will happen (no JavaScript needed)."""
    confirmation = CONFIRMATIONS.get(request.args.get("action", ""))
    if confirmation is None:
        return error_page(400, gettext("Unknown action"), gettext("Choose lock, reject or delete."))
    try:
        user = users().get_user_by_id(cid(), user_id, *caller_args())
        sessions = users().list_sessions(cid(), user_id, *caller_args())
    except SSOError as error:
        return refusal(error)
    words = {"username": user["username"], "sessions": _sessions_phrase(len(sessions))}
    quick = QUICK_ACTIONS.get(confirmation.action)
    return page(
        "users/confirm.html",
        user=user,
        confirmation=confirmation,
        quick=quick,
        question=str(confirmation.question).format(**words),
        button=str(confirmation.button).format(**words),
        consequences=[str(line).format(**words) for line in confirmation.consequences],
        version=request.args.get("version", str(user.version)),
        original=request.args.get("original"),
    )


@bp.post("/users/<user_id>/delete")
@super_user_required
def user_delete(user_id: str) -> ViewResponse:
    """Delete a user (after the confirmation page): their record, sessions and the rest, for good."""
    try:
        username = users().get_user_by_id(cid(), user_id, *caller_args())["username"]
        users().delete_user(cid(), user_id, *caller_args(), channel="web", user_agent=user_agent())
    except SSOError as error:
        if Code.invalid_operation in error.sub_status:
            return stored_edit_page(user_id, 403, action_error=not_done(error.errors.values()))
        return refusal(error)
    flash(gettext("Deleted user %(username)s.", username=username), "success")
    return go(url_for("web.user_list"))


@bp.post("/users/<user_id>/sessions/end")
@super_user_required
def user_end_sessions(user_id: str) -> ViewResponse:
    """Sign a user out everywhere (on one's own record: everywhere but here)."""
    try:
        count = users().end_sessions(cid(), user_id, *caller_args(), channel="web", user_agent=user_agent())
    except SSOError as error:
        return refusal(error)
    own = user_id == g.user["user_id"]
    if count:
        if own:
            message = ngettext(
                "Signed out %(num)d session (this one stays signed in).",
                "Signed out %(num)d sessions (this one stays signed in).",
                count,
            )
        else:
            message = ngettext("Signed out %(num)d session.", "Signed out %(num)d sessions.", count)
        flash(message, "success")
    else:
        flash(
            gettext("Nothing to do: there were no other sessions.")
            if own
            else gettext("Nothing to do: there were no sessions."),
            "info",
        )
    return go(url_for("web.user_edit", user_id=user_id) + "#sessions-card")
