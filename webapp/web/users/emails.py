"""Manage users → one user's Emails card (issue 27, SPEC §19): send them a password-reset link, the sign-up
confirmation again, or a verify-email link. Each button offered only where the reader's permissions allow it and
the user's state makes sense of it; the service checks both again, and its refusal (throttled included) is shown
on the page."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from ...i18n import gettext, not_done
from ...sso import SSOError
from ...sso.email.admin_emails import PERMISSION_OF
from ...sso.kernel.errors import Kind
from ..auth import permission_required, service
from ..blueprint import bp
from ..refusals import form_errors
from ..responses import ViewResponse, error_page
from ..responses import refusal as refusal_page
from .choices import EMAIL_CHOICES
from .edit import stored_edit_page


@bp.post("/users/<user_id>/email")
@permission_required(*set(PERMISSION_OF.values()))
def user_send_email(user_id: str) -> ViewResponse:
    """Queue one of the administrator's emails to this user; the page says where it went, or why not."""
    choice = EMAIL_CHOICES.get(request.form.get("kind", ""))
    if choice is None:
        return error_page(400, gettext("Unknown email"), gettext("Choose one of the emails the page offers."))
    try:
        sent = service().send_admin_email(user_id, choice.kind)
    except SSOError as error:
        errors = form_errors(error, ("kind",))
        if errors is None:
            return refusal_page(error)
        status = 429 if error.kind in (Kind.throttled,) else 409 if error.kind == Kind.conflict else 422
        return stored_edit_page(user_id, status, action_error=not_done(errors.values()))
    flash(str(choice.sent) % {"address": sent.email}, "success")
    return redirect(url_for("web.user_edit", user_id=user_id), 303)
