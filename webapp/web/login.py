"""Routes for everyone who is not yet in: the landing page, login (its forced new password and its two-factor
code), logout."""

from __future__ import annotations

from flask import flash, redirect, request, session, url_for

from ..i18n import PICKED_KEY, gettext, lazy_gettext, ngettext, sentence
from ..sso import Code, Kind, SSOError
from .auth import service, signed_in, start_session
from .blueprint import bp
from .forms import CodeAtLoginForm, LoginForm, NewPasswordAtLoginForm, confirmation_errors
from .pending import forget_pending, open_pending, seal_pending
from .refusals import form_errors
from .responses import ViewResponse, page, safe_next
from .session_cookie import UST_COOKIE, clear_ust_cookie

# The Flask-session keys holding the handle of a passkey ceremony's challenge (web/passkeys.py, SPEC §18).
CEREMONY_KEYS = {
    "register": "passkey_register",
    "login": "passkey_login",
    "factor": "passkey_factor",
    "reauth": "passkey_reauth",
}
WRONG_CODE = lazy_gettext("That code is not right, or it was used already. Wait for the next code and try again.")
MUST_CHOOSE_PASSWORD = {
    Code.password_must_change: lazy_gettext("You must choose a new password before you continue."),
    Code.password_expired: lazy_gettext("Your password has expired. Choose a new one to continue."),
}


@bp.get("/")
def index() -> ViewResponse:
    """The landing page: My account when logged in, else the login page."""
    return redirect(url_for("web.account" if UST_COOKIE in request.cookies else "web.login"))


def _after_login(result, next_url: str | None) -> ViewResponse:
    if Code.password_expiring in result.sub_status:
        flash(gettext("Your password expires soon. Choose a new one under Change password."), "warning")
    return start_session(result.ust, next_url or url_for("web.account"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ViewResponse:
    """Log in; a password that must change (E003007) or has expired (E003004) leads to a new one, and
    two-factor sign-in (E005008) to the code step."""
    form = LoginForm()
    next_url = safe_next(form.next.data or request.args.get("next"))
    form.next.data = next_url or ""
    if request.method != "POST":  # GET, and HEAD (which CSRF does not cover) never acts
        if signed_in():
            return redirect(next_url or url_for("web.account"))
        return page("auth/login.html", form=form)
    username, password = form.username.data or "", form.password.data or ""
    try:
        result = service().login(username, password)
    except SSOError as error:
        code = error.sub_status[0] if error.sub_status else ""
        if code == Code.totp_missing:
            return code_step(seal_pending(username, password), next_url)
        if code in MUST_CHOOSE_PASSWORD:
            choose = NewPasswordAtLoginForm(
                formdata=None, pending=seal_pending(username, password), next=next_url or ""
            )
            return page("auth/new_password.html", form=choose, reason=MUST_CHOOSE_PASSWORD[code])
        if error.kind == Kind.throttled:  # "sign-in paused, try again in N minutes", the same for anyone
            response = page("auth/login.html", 429, form=form, failure=sentence(next(iter(error.errors.values()))))
            response.headers["Retry-After"] = str(error.retry_after)
            return response
        # An empty username or password is a wrong credential to the service (Zato's E005001, SPEC §14);
        # the form still says which field is empty.
        if error.kind == Kind.malformed or (code == Code.auth_invalid and {"username", "password"} & set(error.errors)):
            return page("auth/login.html", 422, form=form, errors=error.errors)
        if error.kind == Kind.forbidden and code == Code.app_not_allowed:
            return page(
                "auth/login.html",
                503,
                form=form,
                failure=gettext(
                    "This console is not configured as an SSO application: add SSO_CONSOLE_APP to SSO_APPS."
                ),
            )
        return page(
            "auth/login.html",
            401,
            form=form,
            failure=gettext("Wrong username or password, or this account may not log in now."),
        )
    return _after_login(result, next_url)


@bp.route("/login/new-password", methods=["GET", "POST"])
def login_new_password() -> ViewResponse:
    """Second step of a login that requires a new password."""
    if request.method != "POST":  # GET, and HEAD (which CSRF does not cover) never acts
        return redirect(url_for("web.login"))
    form = NewPasswordAtLoginForm()
    next_url = safe_next(form.next.data)
    pending = open_pending(form.pending.data)
    if pending is None:
        flash(gettext("That took too long. Log in again to choose your new password."), "error")
        return redirect(url_for("web.login"), 303)
    errors: dict[str, str] | None = confirmation_errors(form)
    if not errors:
        username, password, new_password = pending.username, pending.password, form.new_password.data or ""
        try:
            result = service().login(username, password, new_password)
        except SSOError as error:
            if Code.totp_missing in error.sub_status:
                return code_step(seal_pending(username, password, new_password), next_url)
            errors = form_errors(error, ("new_password",))
            if errors is None:
                forget_pending()
                flash(gettext("Your login could not be completed. Please log in again."), "error")
                return redirect(url_for("web.login"), 303)
        else:
            flash(gettext("Your new password is set."), "success")
            return _after_login(result, next_url)
    return page("auth/new_password.html", 422, form=form, errors=errors)


# --- the code step of two-factor sign-in --------------------------------------------------------------------


def code_step(pending: str, next_url: str | None, status: int = 200, failure: str | None = None) -> ViewResponse:
    """The page that asks for the two-factor code, carrying the sealed first step."""
    form = CodeAtLoginForm(formdata=None, pending=pending, next=next_url or "")
    return page("auth/code.html", status, form=form, failure=failure)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> ViewResponse:
    """Second step of a login with two-factor sign-in: the code from the app, or a recovery code."""
    if request.method == "GET":
        return redirect(url_for("web.login"))
    form = CodeAtLoginForm()
    next_url = safe_next(form.next.data)
    sealed = form.pending.data or ""
    pending = open_pending(sealed)
    if pending is None:
        flash(gettext("That took too long. Please log in again."), "error")
        return redirect(url_for("web.login"), 303)
    if request.form.get("credential"):
        return _passkey_instead(sealed, next_url)
    code = (form.code.data or "").strip()
    if not code:
        return code_step(sealed, next_url, 422, gettext("Enter the code from your app, or a recovery code."))
    try:
        result = service().login(pending.username, pending.password, pending.new_password, code)
    except SSOError as error:
        if error.sub_status == [Code.auth_invalid] and not error.errors:
            return code_step(sealed, next_url, 401, WRONG_CODE)
        forget_pending()
        flash(gettext("Your login could not be completed. Please log in again."), "error")
        return redirect(url_for("web.login"), 303)
    forget_pending()
    if pending.new_password is not None:
        flash(gettext("Your new password is set."), "success")
    if result.recovery_codes_left is not None:
        flash(
            ngettext(
                "You used a recovery code; %(num)d left. Make new ones under Two-factor sign-in when you run low.",
                "You used a recovery code; %(num)d left. Make new ones under Two-factor sign-in when you run low.",
                result.recovery_codes_left,
            ),
            "warning",
        )
    return _after_login(result, next_url)


def _passkey_instead(sealed: str, next_url: str | None) -> ViewResponse:
    """At the code step: the login with a passkey in place of the code (SPEC §18)."""
    pending = open_pending(sealed)
    if pending is None:
        flash(gettext("That took too long. Please log in again."), "error")
        return redirect(url_for("web.login"), 303)
    credential = request.form.get("credential", "")
    answer = {"challenge_id": session.pop(CEREMONY_KEYS["factor"], None), "credential": credential}
    try:
        result = service().login(pending.username, pending.password, pending.new_password, passkey=answer)
    except SSOError as error:
        if error.sub_status == [Code.auth_invalid] and not error.errors:
            return code_step(
                sealed, next_url, 401, gettext("That passkey is not one of this account's. Try another, or the code.")
            )
        if error.sub_status == [Code.invalid_input]:
            return code_step(
                sealed, next_url, 422, gettext("That took too long, or the page was used twice. Try the passkey again.")
            )
        flash(gettext("Your login could not be completed. Please log in again."), "error")
        return redirect(url_for("web.login"), 303)
    if pending.new_password is not None:
        flash(gettext("Your new password is set."), "success")
    return _after_login(result, next_url)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> ViewResponse:
    """GET asks to confirm; POST ends the session and forgets the UST."""
    ust = request.cookies.get(UST_COOKIE)
    if request.method != "POST":  # GET and HEAD only ask (CSRF covers POST, never HEAD: issue 12)
        return page("auth/logout.html") if ust else redirect(url_for("web.login"))
    if ust:
        service(ust).logout()
    language = session.get(PICKED_KEY)
    session.clear()
    if language:
        session[PICKED_KEY] = language
    flash(gettext("You have logged out."), "success")
    response = redirect(url_for("web.login"), 303)
    clear_ust_cookie(response)
    return response
