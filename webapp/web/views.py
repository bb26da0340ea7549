"""Routes for everyone: login, logout, My account, change password, inline field validation."""
from __future__ import annotations

from flask import Response, abort, flash, g, redirect, request, session, url_for

from ..sso import Code, Kind, SSOError
from ..sso.attributes import ATTRIBUTES, SELF_EDITABLE, check_value
from . import fields as fv
from .auth import (UST_COOKIE, caller_args, cid, clear_ust_cookie, console_app, login_required, open_pending,
                   safe_next, seal_pending, start_session, user_agent, users, wants_partial)
from .blueprint import bp, flash_saved, refusal
from .editing import Editor, Outcome, save, views_after, views_for
from .forms import MISSING, AttributeForm, ChangePasswordForm, LoginForm, NewPasswordAtLoginForm, parse_field
from .names import history_targets, usernames
from .pages import error_page, page

MUST_CHOOSE_PASSWORD = {
    Code.password_must_change: "You must choose a new password before you continue.",
    Code.password_expired: "Your password has expired. Choose a new one to continue.",
}
MISMATCH = "does not match the new password"
CONFLICT_MESSAGE = ("Someone else saved this account while you were editing, and changed some of the same fields. "
                    "Nothing was saved. For each field marked below, keep yours or take theirs, then save again.")


@bp.get("/")
def index() -> Response:
    """The landing page: My account when logged in, else the login page."""
    return redirect(url_for("web.account" if UST_COOKIE in request.cookies else "web.login"))


# --- login and logout ----------------------------------------------------------------------------------------


def _logged_in() -> bool:
    ust = request.cookies.get(UST_COOKIE)
    if not ust:
        return False
    try:
        users().get_current_user(cid(), ust, console_app(), request.remote_addr)
    except SSOError:
        return False
    return True


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
        if _logged_in():
            return redirect(next_url or url_for("web.account"))
        return page("login.html", form=form)
    username, password = form.username.data or "", form.password.data or ""
    try:
        result = users().login(cid(), username, password, console_app(), request.remote_addr, user_agent(),
                               channel="web")
    except SSOError as error:
        code = error.sub_status[0] if error.sub_status else ""
        if code in MUST_CHOOSE_PASSWORD:
            choose = NewPasswordAtLoginForm(formdata=None, pending=seal_pending(username, password),
                                            next=next_url or "")
            return page("login_new_password.html", form=choose, reason=MUST_CHOOSE_PASSWORD[code])
        if error.kind == Kind.malformed:
            return page("login.html", 422, form=form, errors=error.errors)
        if error.kind == Kind.forbidden and code == Code.app_not_allowed:
            return page("login.html", 503, form=form, failure="This console is not configured as an SSO "
                        "application: add SSO_CONSOLE_APP to SSO_APPS.")
        return page("login.html", 401, form=form,
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
    errors: dict[str, str] = {}
    if (form.new_password.data or "") != (form.confirm_password.data or ""):
        errors["confirm_password"] = MISMATCH
    else:
        username, password = pending
        try:
            result = users().login(cid(), username, password, console_app(), request.remote_addr, user_agent(),
                                   form.new_password.data or "", channel="web")
        except SSOError as error:
            if "new_password" not in error.errors:
                flash("Your login could not be completed. Please log in again.", "error")
                return redirect(url_for("web.login"), 303)
            errors = dict(error.errors)
        else:
            flash("Your new password is set.", "success")
            return _after_login(result, next_url)
    return page("login_new_password.html", 422, form=form, errors=errors)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    """GET asks to confirm; POST ends the session and forgets the UST."""
    ust = request.cookies.get(UST_COOKIE)
    if request.method == "GET":
        return page("logout.html") if ust else redirect(url_for("web.login"))
    if ust:
        users().logout(cid(), ust, console_app(), request.remote_addr)
    session.clear()
    flash("You have logged out.", "success")
    response = redirect(url_for("web.login"), 303)
    clear_ust_cookie(response)
    return response


# --- My account ----------------------------------------------------------------------------------------------


def account_editor() -> Editor:
    """The caller's own self-editable attributes."""
    return Editor(
        SELF_EDITABLE, "account",
        load=lambda: users().get_current_user(cid(), *caller_args()),
        write=lambda changes, version: users().update_current_user(
            cid(), changes, *caller_args(), expected_version=version, channel="web", user_agent=user_agent()),
    )


def _account_page(fields: list, version, status: int = 200, outcome: Outcome | None = None) -> Response:
    context = {"fields": fields, "version": version, "outcome": outcome,
               "conflict_message": CONFLICT_MESSAGE if outcome and outcome.conflicts else None,
               "general_errors": _general_errors(outcome, SELF_EDITABLE)}
    history = users().history(cid(), None, *caller_args(), limit=20)
    names = usernames(history_targets(history), records=history)
    if wants_partial():
        return page("_account_form_response.html", status, history=history, names=names, **context)
    return page("account.html", status, history=history, names=names, **context)


def _general_errors(outcome: Outcome | None, names) -> dict[str, str]:
    if outcome is None:
        return {}
    return {name: message for name, message in outcome.errors.items() if name not in names}


@bp.get("/account")
@login_required
def account() -> Response:
    """My account: my own attributes and my recent activity."""
    editor = account_editor()
    return _account_page(views_for(editor, g.user), g.user.version)


@bp.post("/account")
@login_required
def account_save() -> Response:
    """Save only what I changed on My account."""
    editor = account_editor()
    form = AttributeForm.parse(editor.names, request.form)
    try:
        outcome = save(editor, form)
    except SSOError as error:
        return refusal(error)
    if outcome.status == 200:
        return flash_saved([ATTRIBUTES[name].label for name in outcome.saved],
                           [ATTRIBUTES[name].label for name in outcome.merged_with], url_for("web.account"),
                           "Nothing to save: you did not change anything." if not outcome.sent
                           else "Nothing to save: those values were already stored.")
    fields, version = views_after(editor, form, outcome)
    return _account_page(fields, version, outcome.status, outcome)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response:
    """Change my own password (the current one is required)."""
    form = ChangePasswordForm()
    if request.method == "GET":
        return page("password.html", form=form)
    errors: dict[str, str] = {}
    if (form.new_password.data or "") != (form.confirm_password.data or ""):
        errors["confirm_password"] = MISMATCH
    else:
        data = {"old_password": form.old_password.data or "", "new_password": form.new_password.data or ""}
        try:
            users().change_password(cid(), data, *caller_args(), channel="web", user_agent=user_agent())
        except SSOError as error:
            if not error.errors or not set(error.errors) <= {"old_password", "new_password"}:
                return refusal(error)
            errors = dict(error.errors)
        else:
            flash("Your password has been changed.", "success")
            return redirect(url_for("web.account"), 303)
    return page("password.html", 422, form=form, errors=errors)


# --- inline validation (htmx) ----------------------------------------------------------------------------------


@bp.post("/validate/<context>/<name>")
@login_required
def validate_field(context: str, name: str) -> Response:
    """One field checked by the service's own value rule, answered as the field partial."""
    attr = ATTRIBUTES.get(name)
    if context not in fv.CONTEXTS or attr is None or attr.type in ("bool", "enum"):
        abort(404)
    if context == "account" and name not in SELF_EDITABLE:
        abort(404)
    if context != "account" and not g.is_super_user:
        return error_page(403, "Not allowed", "Only super-users can manage users.")
    if context == "create":
        text = request.form.get(name, "")
        _, message = check_value(attr, None if text == "" and attr.nullable else text)
        return page("_field.html", field=fv.for_create(name, text, message))
    item = parse_field(attr, request.form)
    message = item.problem
    if message is None and item.value is not MISSING:
        _, message = check_value(attr, item.value)
    return page("_field.html", field=fv.from_input(item, context, item.original, message))
