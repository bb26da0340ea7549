"""Passkeys in the console (SPEC §18): My account → Passkeys (add, rename, remove), "Sign in with a passkey" on
the login page, a passkey in place of the code at the two-factor step, and a super-user removing a user's.

The browser's part is static/js/passkeys.js: it asks `…/options` for a ceremony (the challenge's handle stays
in this browser's Flask session, so the ceremony is bound to it), lets the browser answer, and submits the
page's form with the answer in its `credential` field. Without JavaScript or WebAuthn that field is empty and
the page says what is needed; the password always works.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, request, session, url_for

from ..i18n import gettext, lazy_gettext, translate
from ..sso import Code, Kind, SSOError
from ..sso.kernel.attributes import PASSKEY_NAME_MAX
from ..sso.kernel.permissions import USERS_CREDENTIALS
from .auth import login_required, permission_required, service, start_session
from .blueprint import bp
from .login import CEREMONY_KEYS
from .refusals import form_errors
from .responses import ViewResponse, page, refusal, safe_next

NEEDS_SCRIPT = lazy_gettext("Passkeys need JavaScript and a browser that supports them. Your password works as always.")
ADD_FIELDS = ("name", "credential", "challenge_id", "password", "passkey")


def _refusal_json(error: SSOError):
    """A refused ceremony start, for the script: the field and what to tell the person."""
    field, message = next(iter(error.errors.items()), ("", "this request was refused"))
    if error.kind == Kind.unauthenticated:
        field, message = "", "your session has ended: log in again"
    status = {Kind.forbidden: 403, Kind.throttled: 429, Kind.unauthenticated: 401}.get(error.kind, 422)
    response = jsonify(field=field, message=message)
    response.status_code = status
    if error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


# --- My account → Passkeys -------------------------------------------------------------------------------------


def _page(status: int = 200, *, errors: dict | None = None, name: str = "", failure: str | None = None):
    found = service().list_passkeys(None)
    recent = service().sign_in_is_recent()
    return page(
        "account/passkeys.html",
        status,
        passkeys=found,
        needs_password=not recent or "password" in (errors or {}),
        errors=errors or {},
        name=name,
        failure=failure,
        name_max=PASSKEY_NAME_MAX,
    )


@bp.get("/account/passkeys")
@login_required
def passkeys() -> ViewResponse:
    """The person's passkeys, and adding one."""
    return _page()


def reauth_answer() -> dict | None:
    """The answer of one's own passkey that confirms it is you (instead of the password), if the form has one."""
    answer = request.form.get("reauth", "")
    if not answer:
        return None
    return {"challenge_id": session.pop(CEREMONY_KEYS["reauth"], None), "credential": answer}


@bp.post("/account/passkeys/reauth/options")
@login_required
def passkey_reauth_options():
    """For the script: options to confirm it is you with one of your passkeys instead of the password."""
    try:
        ceremony = service().passkey_reauth_options()
    except SSOError as error:
        return _refusal_json(error)
    session[CEREMONY_KEYS["reauth"]] = ceremony.challenge_id
    return jsonify(options=ceremony.options)


@bp.post("/account/passkeys/options")
@login_required
def passkey_add_options():
    """For the script: the options of a new passkey (a sign-in within 5 minutes, else the password)."""
    try:
        ceremony = service().passkey_register_options(request.form.get("password") or None, reauth=reauth_answer())
    except SSOError as error:
        return _refusal_json(error)
    session[CEREMONY_KEYS["register"]] = ceremony.challenge_id
    return jsonify(options=ceremony.options)


@bp.post("/account/passkeys")
@login_required
def passkey_add() -> ViewResponse:
    """Store the new passkey the browser made (its answer in `credential`), under the name typed."""
    name = request.form.get("name", "")
    credential = request.form.get("credential", "")
    handle = session.pop(CEREMONY_KEYS["register"], None)
    if not credential:
        return _page(422, name=name, failure=NEEDS_SCRIPT)
    try:
        added = service().passkey_register_verify(handle, credential, name)
    except SSOError as error:
        errors = form_errors(error, ADD_FIELDS)
        if errors is None:
            return refusal(error)
        if "challenge_id" in errors:
            errors = {"credential": "that took too long, or the page was used twice: add the passkey again"}
        return _page(422 if error.kind != Kind.conflict else 409, errors=errors, name=name)
    flash(gettext("Passkey “%(name)s” added. You can now sign in with it.", name=added.name), "success")
    return redirect(url_for("web.passkeys"), 303)


@bp.post("/account/passkeys/<passkey_id>/rename")
@login_required
def passkey_rename(passkey_id: str) -> ViewResponse:
    """Rename one of the person's passkeys."""
    try:
        renamed = service().rename_passkey(passkey_id, request.form.get("name", ""))
    except SSOError as error:
        if error.kind == Kind.not_found:
            abort(404)
        errors = form_errors(error, ("name",))
        if errors is None:
            return refusal(error)
        return _page(422, failure=gettext("Not renamed: the name %(reason)s.", reason=translate(errors["name"])))
    flash(gettext("Renamed to “%(name)s”.", name=renamed.name), "success")
    return redirect(url_for("web.passkeys"), 303)


@bp.post("/account/passkeys/<passkey_id>/remove")
@login_required
def passkey_remove(passkey_id: str) -> ViewResponse:
    """Remove one of the person's passkeys (a sign-in within 5 minutes, else the password)."""
    try:
        service().remove_passkey(passkey_id, password=request.form.get("password") or None, reauth=reauth_answer())
    except SSOError as error:
        if error.kind == Kind.not_found:
            abort(404)
        errors = form_errors(error, ("password", "passkey", "challenge_id", "credential"))
        if errors is None:
            return refusal(error)
        status = {Kind.forbidden: 403, Kind.throttled: 429}.get(error.kind, 422)
        return _page(
            status,
            errors=errors,
            failure=gettext("Not removed: %(reason)s.", reason=translate(next(iter(errors.values())))),
        )
    flash(gettext("Passkey removed. It no longer signs you in here."), "success")
    return redirect(url_for("web.passkeys"), 303)


# --- Manage user: an administrator (users.credentials) removes a user's passkey --------------------------------


@bp.post("/users/<user_id>/passkeys/<passkey_id>/remove")
@permission_required(USERS_CREDENTIALS)
def user_passkey_remove(user_id: str, passkey_id: str) -> ViewResponse:
    """Remove a user's passkey (e.g. a lost phone); audited."""
    try:
        service().remove_passkey(passkey_id, user_id=user_id)
    except SSOError as error:
        if error.kind == Kind.not_found and "passkey_id" in error.errors:
            abort(404)
        return refusal(error)
    flash(gettext("Passkey removed: it no longer signs this user in."), "success")
    return redirect(url_for("web.user_edit", user_id=user_id), 303)


# --- signing in ----------------------------------------------------------------------------------------------------


@bp.post("/login/passkey/options")
def passkey_login_options():
    """For the script: the options of a sign-in with a passkey (`purpose` login), or of the passkey at the
    two-factor step (`purpose` factor)."""
    purpose = request.form.get("purpose", "login")
    if purpose not in ("login", "factor"):
        return _refusal_json(SSOError.single(Kind.invalid, Code.invalid_input, "purpose", "must be login or factor"))
    try:
        ceremony = service().passkey_login_options(second_factor=purpose == "factor")
    except SSOError as error:
        return _refusal_json(error)
    session[CEREMONY_KEYS[purpose]] = ceremony.challenge_id
    return jsonify(options=ceremony.options)


def _login_page(status: int, failure: str, retry_after: int | None = None) -> ViewResponse:
    from .forms import LoginForm

    form = LoginForm(formdata=None, next=safe_next(request.form.get("next")) or "")
    response = page("auth/login.html", status, form=form, failure=failure)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.post("/login/passkey")
def login_passkey() -> ViewResponse:
    """Sign in with a passkey alone: the browser's answer in `credential`."""
    next_url = safe_next(request.form.get("next"))
    credential = request.form.get("credential", "")
    handle = session.pop(CEREMONY_KEYS["login"], None)
    if not credential:
        return _login_page(422, NEEDS_SCRIPT)
    try:
        result = service().login_with_passkey(handle, credential)
    except SSOError as error:
        code = error.sub_status[0] if error.sub_status else ""
        if error.kind == Kind.throttled:
            return _login_page(429, next(iter(error.errors.values())).capitalize() + ".", error.retry_after)
        if code in (Code.password_must_change, Code.password_expired):
            return _login_page(
                403, gettext("Your password must be changed first: log in with your password to choose a new one.")
            )
        if "challenge_id" in error.errors:
            return _login_page(422, gettext("That took too long, or the page was used twice. Try the passkey again."))
        if code == Code.invalid_operation:
            return _login_page(
                403, gettext("Signing in with a passkey alone is turned off here: log in with your password.")
            )
        if error.kind in (Kind.invalid, Kind.malformed):
            return _login_page(
                422,
                gettext(
                    "Your browser's answer could not be read. Try the passkey again, or log in with your password."
                ),
            )
        return _login_page(401, gettext("That passkey did not sign you in, or this account may not log in now."))
    return start_session(result.ust, next_url or url_for("web.account"))
