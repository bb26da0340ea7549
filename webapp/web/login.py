"""Routes for everyone who is not yet in: the landing page, login (and its forced new password), logout."""
from __future__ import annotations

from flask import Response, flash, redirect, request, session, url_for

from ..sso import Code, Kind, SSOError
from .auth import UST_COOKIE, cid, clear_ust_cookie, console_app, signed_in, start_session, user_agent, users
from .blueprint import bp
from .forms import LoginForm, NewPasswordAtLoginForm, confirmation_errors
from .pending import open_pending, seal_pending
from .responses import form_errors, page, safe_next

MUST_CHOOSE_PASSWORD = {
    Code.password_must_change: "You must choose a new password before you continue.",
    Code.password_expired: "Your password has expired. Choose a new one to continue.",
}


@bp.get("/")
def index() -> Response:
    """The landing page: My account when logged in, else the login page."""
    return redirect(url_for("web.account" if UST_COOKIE in request.cookies else "web.login"))


def _after_login(result, next_url: str | None) -> Response:
    if Code.password_expiring in result.sub_status:
        flash("Your password expires soon. Choose a new one under Change password.", "warning")
    return start_session(result.ust, next_url or url_for("web.account"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """Log in; a password that must change (E003007) or has expired (E003004) leads to a new one."""
    form = LoginForm()
    next_url = safe_next(form.next.data or request.args.get("next"))
    form.next.data = next_url or ""
    if request.method == "GET":
        if signed_in():
            return redirect(next_url or url_for("web.account"))
        return page("auth/login.html", form=form)
    username, password = form.username.data or "", form.password.data or ""
    try:
        result = users().login(cid(), username, password, console_app(), request.remote_addr, user_agent(),
                               channel="web")
    except SSOError as error:
        code = error.sub_status[0] if error.sub_status else ""
        if code in MUST_CHOOSE_PASSWORD:
            choose = NewPasswordAtLoginForm(formdata=None, pending=seal_pending(username, password),
                                            next=next_url or "")
            return page("auth/new_password.html", form=choose, reason=MUST_CHOOSE_PASSWORD[code])
        # An empty username or password is a wrong credential to the service (Zato's E005001, SPEC §14);
        # the form still says which field is empty.
        if error.kind == Kind.malformed or (code == Code.auth_invalid and {"username", "password"} & set(error.errors)):
            return page("auth/login.html", 422, form=form, errors=error.errors)
        if error.kind == Kind.forbidden and code == Code.app_not_allowed:
            return page("auth/login.html", 503, form=form, failure="This console is not configured as an SSO "
                        "application: add SSO_CONSOLE_APP to SSO_APPS.")
        return page("auth/login.html", 401, form=form,
                    failure="Wrong username or password, or this account may not log in now.")
    return _after_login(result, next_url)


@bp.route("/login/new-password", methods=["GET", "POST"])
def login_new_password() -> Response:
    """Second step of a login that requires a new password."""
    if request.method == "GET":
        return redirect(url_for("web.login"))
    form = NewPasswordAtLoginForm()
    next_url = safe_next(form.next.data)
    pending = open_pending(form.pending.data)
    if pending is None:
        flash("That took too long. Log in again to choose your new password.", "error")
        return redirect(url_for("web.login"), 303)
    errors = confirmation_errors(form)
    if not errors:
        username, password = pending
        try:
            result = users().login(cid(), username, password, console_app(), request.remote_addr, user_agent(),
                                   form.new_password.data or "", channel="web")
        except SSOError as error:
            errors = form_errors(error, ("new_password",))
            if errors is None:
                flash("Your login could not be completed. Please log in again.", "error")
                return redirect(url_for("web.login"), 303)
        else:
            flash("Your new password is set.", "success")
            return _after_login(result, next_url)
    return page("auth/new_password.html", 422, form=form, errors=errors)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    """GET asks to confirm; POST ends the session and forgets the UST."""
    ust = request.cookies.get(UST_COOKIE)
    if request.method == "GET":
        return page("auth/logout.html") if ust else redirect(url_for("web.login"))
    if ust:
        users().logout(cid(), ust, console_app(), request.remote_addr)
    session.clear()
    flash("You have logged out.", "success")
    response = redirect(url_for("web.login"), 303)
    clear_ust_cookie(response)
    return response
