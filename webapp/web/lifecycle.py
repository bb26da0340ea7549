"""Routes for super-users around an account's lifecycle (SPEC §8): the confirmation that says what lock,
reject and delete will do, delete itself, and signing a user out everywhere (SPEC §9)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, g, request, url_for

from ..sso import Code, SSOError
from ..sso.kernel.permissions import USERS_APPROVE, USERS_DELETE, USERS_LOCK, USERS_SESSIONS, USERS_VIEW
from .auth import caller_args, cid, permission_required, require, user_agent, users
from .blueprint import bp
from .manage import QUICK_ACTIONS, stored_edit_page
from .responses import ViewResponse, error_page, go, page, refusal


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


def _sessions_phrase(count: int) -> str:
    return {0: "open sessions (none at the moment)", 1: "1 open session"}.get(count, f"{count} open sessions")


# The permission each confirmation's action needs (SPEC §17).
CONFIRMATION_PERMISSIONS = {"lock": USERS_LOCK, "reject": USERS_APPROVE, "delete": USERS_DELETE}


@bp.get("/users/<user_id>/confirm")
@permission_required(USERS_VIEW)
def user_confirm(user_id: str) -> ViewResponse:
    """Ask before lock, reject or delete, saying what will happen (no JavaScript needed)."""
    confirmation = CONFIRMATIONS.get(request.args.get("action", ""))
    if confirmation is None:
        return error_page(400, "Unknown action", "Choose lock, reject or delete.")
    require(CONFIRMATION_PERMISSIONS[confirmation.action])
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
        question=confirmation.question.format(**words),
        button=confirmation.button.format(**words),
        consequences=[line.format(**words) for line in confirmation.consequences],
        version=request.args.get("version", str(user.version)),
        original=request.args.get("original"),
    )


@bp.post("/users/<user_id>/delete")
@permission_required(USERS_DELETE)
def user_delete(user_id: str) -> ViewResponse:
    """Delete a user (after the confirmation page): their record, sessions and the rest, for good."""
    try:
        username = users().get_user_by_id(cid(), user_id, *caller_args())["username"]
        users().delete_user(cid(), user_id, *caller_args(), channel="web", user_agent=user_agent())
    except SSOError as error:
        if Code.invalid_operation in error.sub_status:
            return stored_edit_page(user_id, 403, action_error="Not done: " + "; ".join(error.errors.values()))
        return refusal(error)
    flash(f"Deleted user {username}.", "success")
    return go(url_for("web.user_list"))


@bp.post("/users/<user_id>/sessions/end")
@permission_required(USERS_SESSIONS)
def user_end_sessions(user_id: str) -> ViewResponse:
    """Sign a user out everywhere (on one's own record: everywhere but here)."""
    try:
        count = users().end_sessions(cid(), user_id, *caller_args(), channel="web", user_agent=user_agent())
    except SSOError as error:
        return refusal(error)
    own = user_id == g.user["user_id"]
    if count:
        flash(
            f"Signed out {count} session{'s' if count != 1 else ''}{' (this one stays signed in)' if own else ''}.",
            "success",
        )
    else:
        flash(
            "Nothing to do: there were no other sessions." if own else "Nothing to do: there were no sessions.", "info"
        )
    return go(url_for("web.user_edit", user_id=user_id) + "#sessions-card")
