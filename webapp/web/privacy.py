"""My account → Your data (SPEC §20): download my data (a JSON file, streamed) and, for administrators, the
same file for a user from Manage user (audited); a sign-in older than 5 minutes asks for
the password again on the same page. Delete my account (the password and a ticked confirmation; the page
says what happens and when), the emailed keep-my-account link, and Manage user's cancel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, flash, g, request, stream_with_context, url_for

from ..sso import SSOError
from ..sso.kernel.context import utcnow
from ..sso.kernel.errors import Code
from ..sso.kernel.permissions import AUDIT_VIEW, USERS_DELETE
from .auth import login_required, permission_required, service
from .blueprint import bp
from .responses import ViewResponse, go, page, refusal
from .session_cookie import clear_ust_cookie


def settings() -> dict[str, Any]:
    return current_app.extensions["sso"].ctx.settings


def _file(chunks, name: str) -> ViewResponse:
    response = current_app.response_class(stream_with_context(chunks), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def privacy_page(status: int = 200, **context: Any) -> ViewResponse:
    """The Your data page, with `errors` (field → message) where a form was refused."""
    return page(
        "account/privacy.html",
        status,
        recent_minutes=5,  # credentials.passkeys.RECENT_SIGN_IN, the rule for adding a passkey too
        self_delete=settings()["SSO_SELF_DELETE"],
        grace_days=settings()["SSO_DELETE_GRACE_DAYS"],
        due_text=(utcnow() + timedelta(days=settings()["SSO_DELETE_GRACE_DAYS"])).strftime("%Y-%m-%d"),
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
    """The file of everything held about me (the password again when my sign-in is not recent)."""
    password = request.form.get("password") or None
    try:
        chunks = service().export_user(None, password=password)
    except SSOError as error:
        if Code.auth_invalid in error.sub_status and "password" in error.errors:
            return privacy_page(403, errors={"export-password": error.errors["password"]})
        return refusal(error)
    return _file(chunks, f"my-data-{g.user['username']}.json")


@bp.post("/users/<user_id>/export")
@permission_required(AUDIT_VIEW)
def user_export(user_id: str) -> ViewResponse:
    """An administrator's copy of a user's data file (a request received by post); audited."""
    password = request.form.get("password") or None
    try:
        chunks = service().export_user(user_id, password=password)
    except SSOError as error:
        if Code.auth_invalid in error.sub_status and "password" in error.errors:
            return page(
                "users/export_password.html",
                403,
                user_id=user_id,
                message=error.errors["password"],
                action=url_for("web.user_export", user_id=user_id),
            )
        return refusal(error)
    return _file(chunks, f"user-data-{user_id}.json")


@bp.post("/users/<user_id>/deletion/cancel")
@permission_required(USERS_DELETE)
def user_cancel_deletion(user_id: str) -> ViewResponse:
    """Cancel the deletion a person scheduled (their account is unlocked again when the schedule locked it)."""
    try:
        service().cancel_deletion(user_id)
    except SSOError as error:
        return refusal(error)
    flash("Deletion cancelled: the account is kept.", "success")
    return go(url_for("web.user_edit", user_id=user_id))


@bp.post("/account/delete")
@login_required
def account_delete() -> ViewResponse:
    """Schedule the deletion of my account (the password and a ticked confirmation); I am signed out."""
    if not settings()["SSO_SELF_DELETE"]:
        return privacy_page(403, errors={"delete-password": "Deleting your own account is turned off here."})
    errors = {}
    if request.form.get("confirm") != "1":
        errors["delete-confirm"] = "Tick this box to confirm that you want your account deleted."
    password = request.form.get("password", "")
    if not password:
        errors["delete-password"] = "Give your password to confirm it is you."
    if errors:
        return privacy_page(422, errors=errors)
    email = g.user["email"]
    try:
        due = service().schedule_deletion(password)
    except SSOError as error:
        if error.errors.get("password"):
            return privacy_page(403, errors={"delete-password": error.errors["password"]})
        if Code.invalid_operation in error.sub_status:
            return privacy_page(403, errors={"delete-password": "Not done: " + "; ".join(error.errors.values())})
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
            flash("Your account is kept and unlocked. Sign in to use it.", "success")
            return go(url_for("web.login"))
    return page("account/keep.html", 403 if error else 200, username=username, error=error)
