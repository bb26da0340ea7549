"""Manage users → one user's lifecycle (SPEC §8): the confirmation that says what lock,
reject and delete will do (its words are `choices.CONFIRMATIONS`), delete itself, and signing a user out
everywhere (SPEC §9)."""

from __future__ import annotations

from flask import flash, g, request, url_for

from ...i18n import gettext, ngettext, not_done
from ...sso import Code, SSOError
from ...sso.kernel.permissions import USERS_APPROVE, USERS_DELETE, USERS_LOCK, USERS_SESSIONS, USERS_VIEW
from ..auth import permission_required, require, service
from ..blueprint import bp
from ..responses import ViewResponse, error_page, go, page, refusal
from .choices import CONFIRMATIONS, QUICK_ACTIONS, refused_on_own_account
from .edit import stored_edit_page

# The permission each confirmation's action needs (SPEC §17).
CONFIRMATION_PERMISSIONS = {"lock": USERS_LOCK, "reject": USERS_APPROVE, "delete": USERS_DELETE}


@bp.get("/users/<user_id>/confirm")
@permission_required(USERS_VIEW)
def user_confirm(user_id: str) -> ViewResponse:
    """Ask before lock, reject or delete, saying what will happen (no JavaScript needed); on one's own record,
    say that it will not be done (the guard rails refuse it), and offer no button."""
    confirmation = CONFIRMATIONS.get(request.args.get("action", ""))
    if confirmation is None:
        return error_page(400, gettext("Unknown action"), gettext("Choose lock, reject or delete."))
    require(CONFIRMATION_PERMISSIONS[confirmation.action])
    try:
        user = service().get_user_by_id(user_id)
        sessions = service().list_sessions(user_id)
    except SSOError as error:
        return refusal(error)
    username = user["username"]
    refused = refused_on_own_account(confirmation.action) if user_id == g.user["user_id"] else None
    return page(
        "users/confirm.html",
        403 if refused else 200,
        user=user,
        confirmation=confirmation,
        quick=QUICK_ACTIONS.get(confirmation.action),
        question=gettext(confirmation.question, username=username),
        button=gettext(confirmation.button, username=username),
        consequences=[] if refused else confirmation.lines(username, len(sessions)),
        refused=refused,
        version=request.args.get("version", str(user.version)),
        original=request.args.get("original"),
    )


@bp.post("/users/<user_id>/delete")
@permission_required(USERS_DELETE)
def user_delete(user_id: str) -> ViewResponse:
    """Delete a user (after the confirmation page): their record, sessions and the rest, for good."""
    try:
        username = service().get_user_by_id(user_id)["username"]
        service().delete_user(user_id)
    except SSOError as error:
        if Code.invalid_operation in error.sub_status:
            return stored_edit_page(user_id, 403, action_error=not_done(error.errors.values()))
        return refusal(error)
    flash(gettext("Deleted user %(username)s.", username=username), "success")
    return go(url_for("web.user_list"))


@bp.post("/users/<user_id>/sessions/end")
@permission_required(USERS_SESSIONS)
def user_end_sessions(user_id: str) -> ViewResponse:
    """Sign a user out everywhere (on one's own record: everywhere but here)."""
    try:
        count = service().end_sessions(user_id)
    except SSOError as error:
        return refusal(error)
    own = user_id == g.user["user_id"]
    if count:
        if own:
            done = ngettext(
                "Signed out %(num)d session (this one stays signed in).",
                "Signed out %(num)d sessions (this one stays signed in).",
                count,
            )
        else:
            done = ngettext("Signed out %(num)d session.", "Signed out %(num)d sessions.", count)
        flash(done, "success")
    else:
        flash(
            gettext("Nothing to do: there were no other sessions.")
            if own
            else gettext("Nothing to do: there were no sessions."),
            "info",
        )
    return go(url_for("web.user_edit", user_id=user_id) + "#sessions-card")
