"""Console pages of the password reset (SPEC §11): "Forgot password?" and the link's "Choose a new password"."""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField

from ..sso import Kind, SSOError
from ..sso.attributes import PASSWORD_MAX, PASSWORD_MIN
from .auth import cid, console_app, user_agent, users
from .blueprint import bp
from .pages import page

CREDENTIAL_LABELS = {"username": "Username", "email": "Email", "username_or_email": "Username or email"}
MISMATCH = "does not match the new password"
_PASSWORD_KW = {"maxlength": PASSWORD_MAX, "minlength": PASSWORD_MIN, "autocomplete": "new-password",
                "required": True}


class ForgotForm(FlaskForm):
    """The credential SSO_PASSWORD_RESET_BY names."""

    credential = StringField("Username", id="forgot-credential",
                             render_kw={"maxlength": 254, "required": True, "autocomplete": "username",
                                        "autocapitalize": "none", "spellcheck": "false"})


class ResetForm(FlaskForm):
    """The new password, twice."""

    password = PasswordField("New password", id="reset-password", render_kw=_PASSWORD_KW)
    confirm_password = PasswordField("New password again", id="reset-password-confirm", render_kw=_PASSWORD_KW)


def _no_referrer(response: Response) -> Response:
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/password/forgot", methods=["GET", "POST"])
def password_forgot() -> Response:
    """Ask for a reset link; the answer is the same whether or not an account matches."""
    form = ForgotForm()
    form.credential.label.text = CREDENTIAL_LABELS[current_app.config["SSO_PASSWORD_RESET_BY"]]
    if request.method == "GET":
        return page("auth/password_forgot.html", form=form)
    try:
        users().request_password_reset(cid(), form.credential.data or "", console_app(), request.remote_addr,
                                       channel="web", user_agent=user_agent())
    except SSOError as error:
        if error.kind == Kind.unavailable:
            return page("auth/password_forgot.html", 503, form=form, failure=error.errors.get("email"))
        return page("auth/password_forgot.html", 422, form=form, errors={"credential": "is not valid"})
    return redirect(url_for("web.password_forgot_sent"), 303)


@bp.get("/password/forgot/sent")
def password_forgot_sent() -> Response:
    """Check your email."""
    minutes = current_app.config["SSO_PASSWORD_RESET_MINUTES"]
    return page("auth/password_forgot_sent.html", minutes=minutes)


def _invalid() -> Response:
    return _no_referrer(page("auth/link_invalid.html", 404, what="password-reset",
                             again=url_for("web.password_forgot")))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str) -> Response:
    """The emailed link: choose a new password (opening the link only reads)."""
    form = ResetForm()
    try:
        username = users().check_password_reset_link(token)
    except SSOError:
        return _invalid()
    if request.method == "GET":
        return _no_referrer(page("auth/password_reset.html", form=form, username=username, token=token))
    if (form.password.data or "") != (form.confirm_password.data or ""):
        return _no_referrer(page("auth/password_reset.html", 422, form=form, username=username, token=token,
                                 errors={"confirm_password": MISMATCH}))
    try:
        users().reset_password_from_link(cid(), token, form.password.data or "", console_app(), request.remote_addr,
                                         channel="web", user_agent=user_agent())
    except SSOError as error:
        if error.kind == Kind.invalid:
            return _no_referrer(page("auth/password_reset.html", 422, form=form, username=username, token=token,
                                     errors=error.errors))
        return _invalid()
    flash("Your new password is set, and you were signed out everywhere. Log in with it.", "success")
    return redirect(url_for("web.login"), 303)
