"""Console pages of the password reset (SPEC §11): "Forgot password?" and the link's "Choose a new password"."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for

from ..i18n import gettext, lazy_gettext
from ..sso import SSOError
from .auth import service
from .blueprint import bp
from .forms import ForgotPasswordForm, ResetPasswordForm, confirmation_errors
from .refusals import form_errors
from .responses import ViewResponse, page
from .signup import no_referrer

CREDENTIAL_LABELS = {
    "username": lazy_gettext("Username"),
    "email": lazy_gettext("Email"),
    "username_or_email": lazy_gettext("Username or email"),
}


@bp.route("/password/forgot", methods=["GET", "POST"])
def password_forgot() -> ViewResponse:
    """Ask for a reset link; the answer is the same whether or not an account matches."""
    form = ForgotPasswordForm()
    form.credential.label.text = CREDENTIAL_LABELS[current_app.config["SSO_PASSWORD_RESET_BY"]]
    if request.method == "GET":
        return page("auth/password_forgot.html", form=form)
    try:
        service().request_password_reset(form.credential.data or "")
    except SSOError:
        return page("auth/password_forgot.html", 422, form=form, errors={"credential": "is not valid"})
    return redirect(url_for("web.password_forgot_sent"), 303)


@bp.get("/password/forgot/sent")
def password_forgot_sent() -> ViewResponse:
    """Check your email."""
    return page("auth/password_forgot_sent.html", minutes=current_app.config["SSO_PASSWORD_RESET_MINUTES"])


def _invalid() -> ViewResponse:
    return no_referrer(page("auth/link_invalid.html", 404, what="password-reset", again=url_for("web.password_forgot")))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str) -> ViewResponse:
    """The emailed link: choose a new password (opening the link only reads)."""
    form = ResetPasswordForm()
    try:
        username = service().check_password_reset_link(token)
    except SSOError:
        return _invalid()
    if request.method == "GET":
        return no_referrer(page("auth/password_reset.html", form=form, username=username))
    errors: dict[str, str] | None = confirmation_errors(form)
    if not errors:
        try:
            service().reset_password_from_link(token, form.new_password.data or "")
        except SSOError as error:
            # The service names the password `password`; the form's box is `new_password`.
            errors = form_errors(error, ("password",))
            if errors is None:
                return _invalid()
            errors = {"new_password": errors["password"]}
        else:
            flash(gettext("Your new password is set, and you were signed out everywhere. Log in with it."), "success")
            return redirect(url_for("web.login"), 303)
    return no_referrer(page("auth/password_reset.html", 422, form=form, username=username, errors=errors))
