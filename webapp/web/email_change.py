"""My account's email change confirmed at the new address (SPEC §11, SSO_EMAIL_CHANGE_CONFIRM=1): the save's
write and its message, and the page the emailed link opens."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for

from ..i18n import gettext
from ..sso import SSOError
from ..sso.kernel.presentation import UserData
from .attribute_form import Outcome
from .auth import NotSignedIn, load_caller, service
from .blueprint import bp
from .responses import ViewResponse, flash_saved, go, page
from .signup import no_referrer

PENDING = "email_change_pending"


def write_own_account(changes: dict[str, Any], version: int, unchanged: dict[str, Any] | None = None) -> UserData:
    """My account's write: the service holds a new email back until its link is opened (when the setting is on).

    `unchanged` (a save after a lost race): the values the form merged against, re-checked by the service."""
    saved = service().save_own_account(changes, expected_version=None if unchanged else version, unchanged=unchanged)
    setattr(g, PENDING, saved.pending_email)
    return saved.user


def flash_account_saved(outcome: Outcome, location: str) -> ViewResponse:
    """`flash_saved`, except that an email waiting for its link is not "saved": say where the link went."""
    pending = g.pop(PENDING, None)
    if pending is None or "email" not in outcome.saved:
        return flash_saved(outcome, location)
    outcome.saved.remove("email")
    response = flash_saved(outcome, location) if outcome.saved else go(location)
    flash(
        gettext("We sent a confirmation to %(address)s; your email changes when you open the link.", address=pending),
        "info",
    )
    return response


def _invalid() -> ViewResponse:
    return no_referrer(page("auth/link_invalid.html", 404, what="email-change", again=url_for("web.account")))


def _signed_in_username() -> str | None:
    """Who is signed in on this browser, if anyone (the link's page is open to everyone)."""
    try:
        load_caller()
    except NotSignedIn:
        return None
    return g.user["username"]


@bp.route("/account/email/confirm/<token>", methods=["GET", "POST"])
def email_change_confirm(token: str) -> ViewResponse:
    """The emailed link: GET only reads (mail scanners fetch links); the button writes the new address, in the
    owner's session only: someone signed out is asked to sign in as the owner (and comes back here), anyone
    else signed in is told the link is not theirs (issue 31 #4)."""
    try:
        username, email = service().check_email_change_link(token)
    except SSOError:
        return _invalid()
    signed_in = _signed_in_username()
    context: dict[str, Any] = {"username": username, "email": email, "signed_in": signed_in}
    if signed_in is None:
        login = url_for("web.login", next=request.path)
        return no_referrer(
            page("account/email_confirm.html", 200 if request.method == "GET" else 401, login=login, **context)
        )
    if signed_in != username:
        return no_referrer(page("account/email_confirm.html", 403, **context))
    if request.method == "GET":
        return no_referrer(page("account/email_confirm.html", 200, **context))
    try:
        changed = service().confirm_email_change(token)
    except SSOError:
        return _invalid()
    flash(gettext("Your email address is now %(address)s.", address=changed.email), "success")
    return redirect(url_for("web.account"), 303)
