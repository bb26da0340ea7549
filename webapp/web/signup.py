"""Console pages of sign-up (SPEC §11): "Create an account", "Check your email", and the link's "Confirm"."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField

from ..sso import Code, Kind, SSOError
from ..sso.attributes import EMAIL_MAX, NAME_MAX, PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX
from ..sso.signup import may_sign_up
from .auth import cid, console_app, user_agent, users
from .blueprint import bp
from .pages import page

SENT_TO = "signup_sent_to"
MISMATCH = "does not match the password"
_PASSWORD_KW = {"maxlength": PASSWORD_MAX, "minlength": PASSWORD_MIN, "autocomplete": "new-password",
                "required": True}


class SignupForm(FlaskForm):
    """What a person gives to open an account; every rule is the service's."""

    username = StringField("Username", id="signup-username",
                           render_kw={"maxlength": USERNAME_MAX, "required": True, "autocomplete": "username",
                                      "autocapitalize": "none", "spellcheck": "false"})
    email = EmailField("Email", id="signup-email",
                       render_kw={"maxlength": EMAIL_MAX, "required": True, "autocomplete": "email"})
    display_name = StringField("Display name (optional)", id="signup-display-name",
                               render_kw={"maxlength": NAME_MAX, "autocomplete": "name"})
    password = PasswordField("Password", id="signup-password", render_kw=_PASSWORD_KW)
    confirm_password = PasswordField("Password again", id="signup-password-confirm", render_kw=_PASSWORD_KW)


def signup_open() -> bool:
    """Whether the console's app is a sign-up app (the login page then offers "Create an account")."""
    return may_sign_up(current_app.extensions["sso"].ctx, console_app())


@bp.app_context_processor
def _signup_flag() -> dict:
    return {"signup_open": signup_open}


def _no_referrer(response: Response) -> Response:
    """A page whose address carries a token tells no other site where it came from."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Response:
    """Create an account: the service checks everything, then emails a confirmation link."""
    if not signup_open():
        abort(404)
    form = SignupForm()
    if request.method == "GET":
        return page("auth/signup.html", form=form)
    if (form.password.data or "") != (form.confirm_password.data or ""):
        return page("auth/signup.html", 422, form=form, errors={"confirm_password": MISMATCH})
    data = {"username": form.username.data or "", "email": form.email.data or None,
            "password": form.password.data or "", "app_list": [console_app()]}
    if form.display_name.data:
        data["display_name"] = form.display_name.data
    try:
        users().signup(cid(), data, console_app(), request.remote_addr, channel="web", user_agent=user_agent(),
                       send_link=True)
    except SSOError as error:
        if error.kind == Kind.unavailable:
            return page("auth/signup.html", 503, form=form, failure=error.errors.get("email"))
        if error.kind in (Kind.invalid, Kind.conflict, Kind.malformed) and error.errors:
            return page("auth/signup.html", 409 if error.kind == Kind.conflict else 422, form=form,
                        errors=error.errors)
        abort(404)
    session[SENT_TO] = data["email"]
    return redirect(url_for("web.signup_sent"), 303)


@bp.get("/signup/sent")
def signup_sent() -> Response:
    """Check your email."""
    hours = current_app.config["SSO_SIGNUP_CONFIRM_HOURS"]
    return page("auth/signup_sent.html", email=session.get(SENT_TO), hours=hours)


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
def signup_confirm(token: str) -> Response:
    """The emailed link: GET only reads (mail scanners fetch links); the button confirms."""
    try:
        if request.method == "GET":
            return _no_referrer(page("auth/signup_confirm.html", username=users().check_signup_link(token)))
        confirmed = users().confirm_signup(cid(), token, console_app(), request.remote_addr, channel="web",
                                           user_agent=user_agent())
    except SSOError as error:
        code = error.sub_status[0] if error.sub_status else ""
        if code == Code.signup_confirmed:
            flash("This account is already confirmed. You can log in.", "info")
            return redirect(url_for("web.login"), 303)
        return _no_referrer(page("auth/link_invalid.html", 404, what="sign-up",
                                 again=url_for("web.signup") if signup_open() else None))
    session.pop(SENT_TO, None)
    if confirmed.approval_status == "approved":
        flash("Your account is confirmed. Log in with your username and password.", "success")
        return redirect(url_for("web.login"), 303)
    return _no_referrer(page("auth/signup_confirmed.html", username=confirmed.username))
