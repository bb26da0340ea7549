"""Routes for super-users around an account's lifecycle (SPEC §8): the confirmation that says what lock,
reject and delete will do, delete itself, and signing a user out everywhere (SPEC §9)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, g, request, url_for

from ..i18n import N_, Nn_, gettext, ngettext, not_done
from ..sso import Code, SSOError
from ..sso.accounts.guards import OWN_DELETE
from .auth import caller_args, cid, super_user_required, user_agent, users
from .blueprint import bp
from .manage import QUICK_ACTIONS, stored_edit_page
from .responses import ViewResponse, error_page, go, page, refusal


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
    """Why the guard rails refuse `action` on one's own account (SPEC §8), or None."""
    quick = QUICK_ACTIONS.get(action)
    return OWN_DELETE if quick is None else quick.refused_on_own_account()


@bp.get("/users/<user_id>/confirm")
@super_user_required
def user_confirm(user_id: str) -> ViewResponse:
    """Ask before lock, reject or delete, saying what will happen (no JavaScript needed); on one's own record,
    say that it will not be done (the guard rails refuse it), and offer no button."""
    confirmation = CONFIRMATIONS.get(request.args.get("action", ""))
    if confirmation is None:
        return error_page(400, gettext("Unknown action"), gettext("Choose lock, reject or delete."))
    try:
        user = users().get_user_by_id(cid(), user_id, *caller_args())
        sessions = users().list_sessions(cid(), user_id, *caller_args())
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
