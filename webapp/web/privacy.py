"""My account → Your data (SPEC §20): download my data (a JSON file, streamed) and, for administrators, the
same file for a user from Manage user (audited). A sign-in older than SSO_RECENT_SIGNIN_MINUTES asks for
the password again on the same page."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, stream_with_context, url_for

from ..sso import SSOError
from ..sso.kernel.errors import Code
from .auth import login_required, service, super_user_required
from .blueprint import bp
from .responses import ViewResponse, page, refusal


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
        recent_minutes=settings()["SSO_RECENT_SIGNIN_MINUTES"],
        self_delete=settings()["SSO_SELF_DELETE"],
        grace_days=settings()["SSO_DELETE_GRACE_DAYS"],
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
@super_user_required
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
