"""My account → Your data (SPEC §20): download my data (a JSON file, streamed) and, for administrators, the
same file for a user from Manage user (audited); a sign-in older than 5 minutes asks for
the password again on the same page. Delete my account (the password and a ticked confirmation; the page
says what happens and when), the emailed keep-my-account link, and Manage user's cancel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, flash, g, request, stream_with_context, url_for
from flask_babel import format_date

from ..i18n import SOURCE_LOCALE, current_locale, gettext, not_done, sentence
from ..sso import SSOError
from ..sso.kernel.context import utcnow
from ..sso.kernel.errors import Code
from ..sso.kernel.permissions import AUDIT_VIEW, USERS_DELETE
from .auth import login_required, permission_required, service
from .blueprint import bp
from .passkeys import reauth_answer
from .refusals import form_errors
from .responses import ViewResponse, go, page, refusal
from .session_cookie import clear_ust_cookie

# What a refused re-authentication names: the password, or the passkey's answer (its challenge, its credential).
REAUTH_FIELDS = ("password", "passkey", "challenge_id", "credential")


def settings() -> dict[str, Any]:
    return current_app.extensions["sso"].ctx.settings


def _file(chunks, name: str) -> ViewResponse:
    response = current_app.response_class(stream_with_context(chunks), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _day(moment) -> str:
    """A day as this page's language writes it (2030-01-31 in English, 31.01.2030 in German)."""
    if current_locale() == SOURCE_LOCALE:
        return moment.strftime("%Y-%m-%d")
    return format_date(moment, "medium")


def privacy_page(status: int = 200, **context: Any) -> ViewResponse:
    """The Your data page, with `errors` (field → message) where a form was refused. A person with a passkey
    may confirm the download with it instead of the password (static/js/passkeys.js)."""
    return page(
        "account/privacy.html",
        status,
        recent_minutes=5,  # credentials.passkeys.RECENT_SIGN_IN, the rule for adding a passkey too
        self_delete=settings()["SSO_SELF_DELETE"],
        grace_days=settings()["SSO_DELETE_GRACE_DAYS"],
        due_text=_day(utcnow() + timedelta(days=settings()["SSO_DELETE_GRACE_DAYS"])),
        has_passkeys=bool(service().list_passkeys(None)),
        errors=context.pop("errors", {}),
        **context,
    )


@bp.get("/account/privacy")
@login_required
def account_privacy() -> ViewResponse:
    """Your data: download it, or delete the account."""
    return privacy_page()


@bp.post("/account/export")
@login_required
def account_export() -> ViewResponse:
    """The file of everything held about me (the password, or one of my passkeys, again when my sign-in is not
    recent)."""
    password = request.form.get("password") or None
    try:
        chunks = service().export_user(None, password=password, reauth=reauth_answer())
    except SSOError as error:
        errors = form_errors(error, REAUTH_FIELDS)
        if errors is None:
            return refusal(error)
        status = 403 if Code.auth_invalid in error.sub_status else 422
        return privacy_page(status, errors={"export-password": next(iter(errors.values()))})
    return _file(chunks, f"my-data-{g.user['username']}.json")


@bp.post("/users/<user_id>/export")
@permission_required(AUDIT_VIEW)
def user_export(user_id: str) -> ViewResponse:
    """An administrator's copy of a user's data file (a request received by post); audited."""
    password = request.form.get("password") or None
    try:
        chunks = service().export_user(user_id, password=password, reauth=reauth_answer())
    except SSOError as error:
        errors = form_errors(error, REAUTH_FIELDS)
        if errors is None:
            return refusal(error)
        return page(
            "users/export_password.html",
            403 if Code.auth_invalid in error.sub_status else 422,
            user_id=user_id,
            message=sentence(next(iter(errors.values()))),
            action=url_for("web.user_export", user_id=user_id),
            has_passkeys=bool(service().list_passkeys(None)),
        )
    return _file(chunks, f"user-data-{user_id}.json")


@bp.post("/users/<user_id>/deletion/cancel")
@permission_required(USERS_DELETE)
def user_cancel_deletion(user_id: str) -> ViewResponse:
    """Cancel the deletion a person scheduled (their account is unlocked again when the schedule locked it)."""
    try:
        service().cancel_deletion(user_id)
    except SSOError as error:
        return refusal(error)
    flash(gettext("Deletion cancelled: the account is kept."), "success")
    return go(url_for("web.user_edit", user_id=user_id))


@bp.post("/account/delete")
@login_required
def account_delete() -> ViewResponse:
    """Schedule the deletion of my account (the password and a ticked confirmation); I am signed out."""
    if not settings()["SSO_SELF_DELETE"]:
        return privacy_page(403, errors={"delete-password": gettext("Deleting your own account is turned off here.")})
    errors = {}
    if request.form.get("confirm") != "1":
        errors["delete-confirm"] = gettext("Tick this box to confirm that you want your account deleted.")
    password = request.form.get("password", "")
    if not password:
        errors["delete-password"] = gettext("Give your password to confirm it is you.")
    if errors:
        return privacy_page(422, errors=errors)
    email = g.user["email"]
    try:
        due = service().schedule_deletion(password)
    except SSOError as error:
        if error.errors.get("password"):
            return privacy_page(403, errors={"delete-password": error.errors["password"]})
        if Code.invalid_operation in error.sub_status:
            return privacy_page(403, errors={"delete-password": not_done(error.errors.values())})
        return refusal(error)
    response = page("account/deletion_scheduled.html", due=due, email=email)
    clear_ust_cookie(response)
    return response


@bp.route("/account/keep/<token>", methods=["GET", "POST"])
def keep_account(token: str) -> ViewResponse:
    """The emailed link: with the password, cancel my scheduled deletion and unlock my account."""
    try:
        username = service().check_keep_link(token)
    except SSOError:
        return page("auth/link_invalid.html", 404, what="keep-my-account")
    error = None
    if request.method == "POST":
        try:
            service().keep_account(token, request.form.get("password", ""))
        except SSOError as refused:
            if not refused.errors.get("password"):
                return page("auth/link_invalid.html", 404, what="keep-my-account")
            error = refused.errors["password"]
        else:
            flash(gettext("Your account is kept and unlocked. Sign in to use it."), "success")
            return go(url_for("web.login"))
    return page("account/keep.html", 403 if error else 200, username=username, error=error)
