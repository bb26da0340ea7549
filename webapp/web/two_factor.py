"""Two-factor sign-in in the console (SPEC §10): My account → Two-factor sign-in, and a super-user turning a
user's TOTP off. The login's code step is in login.py. Every rule is the service's (webapp/sso/totp.py)."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, url_for

from ..i18n import gettext, translate
from ..sso import Kind, SSOError
from ..sso.credentials.two_factor import grouped_key, new_totp_key, provisioning_uri, qr_svg
from ..sso.kernel.permissions import USERS_CREDENTIALS
from .auth import login_required, permission_required, service
from .blueprint import bp
from .forms import CurrentPasswordForm, EnableTotpForm
from .pending import seal, unseal
from .refusals import form_errors
from .responses import ViewResponse, page, refusal

ENROL_PURPOSE, ENROL_TTL = "totp enrolment", 1800  # seconds to scan the key and type its first code


# --- My account → Two-factor sign-in ----------------------------------------------------------------------------


def _enrolment(key: str) -> dict:
    """What the page shows of a new key: the QR code (SVG made here) and the key as text."""
    issuer = current_app.config["SSO_TOTP_ISSUER"]
    uri = provisioning_uri(key, g.user["username"], issuer)
    svg = qr_svg(uri, gettext("QR code of your new two-factor key"))
    svg = svg.replace("<svg ", '<svg role="img" aria-labelledby="totp-qr-title" ', 1).replace(
        "<title>", '<title id="totp-qr-title">', 1
    )
    return {"qr_svg": svg, "key_text": grouped_key(key), "issuer": issuer}


def _page(
    status: int = 200,
    *,
    enable: EnableTotpForm | None = None,
    errors: dict | None = None,
    codes: list[str] | None = None,
    failure: str | None = None,
) -> ViewResponse:
    state = service().totp_status(None)
    context: dict = {
        "state": state,
        "errors": errors or {},
        "codes": codes,
        "failure": failure,
        "regenerate": CurrentPasswordForm(formdata=None, prefix="regenerate"),
        "disable": CurrentPasswordForm(formdata=None, prefix="disable"),
    }
    if not state.is_enabled and codes is None:
        if enable is None:
            key = new_totp_key()
            enable = EnableTotpForm(formdata=None, sealed_key=seal({"k": key}, ENROL_PURPOSE))
        else:
            sealed = unseal(enable.sealed_key.data, ENROL_PURPOSE, ENROL_TTL) or {}
            assert isinstance(sealed.get("k"), str), "two_factor_enable re-renders only a form whose key it opened"
            key = sealed["k"]
        context.update(_enrolment(key), enable=enable)
    return page("account/two_factor.html", status, **context)


@bp.get("/account/two-factor")
@login_required
def two_factor() -> ViewResponse:
    """The person's two-factor sign-in: a new key to enrol when it is off, recovery codes and turning off when on."""
    return _page()


@bp.post("/account/two-factor/enable")
@login_required
def two_factor_enable() -> ViewResponse:
    """Turn it on: the current password and a code of the new key; the recovery codes are shown once."""
    form = EnableTotpForm()
    sealed = unseal(form.sealed_key.data, ENROL_PURPOSE, ENROL_TTL)
    if sealed is None or not isinstance(sealed.get("k"), str):
        flash(gettext("That key is too old. Here is a new one: scan it again."), "error")
        return redirect(url_for("web.two_factor"), 303)
    data = {"password": form.password.data or "", "totp_key": sealed["k"], "totp_code": form.totp_code.data or ""}
    label = (form.totp_label.data or "").strip()
    if label:
        data["totp_label"] = label
    try:
        codes = service().enable_totp(data)
    except SSOError as error:
        errors = form_errors(error, ("totp_code", "password", "totp_label"))
        if errors is None:
            return refusal(error)
        return _page(429 if error.kind == Kind.throttled else 422, enable=form, errors=errors)
    flash(gettext("Two-factor sign-in is on. From now on, logging in asks for a code from your app."), "success")
    g.steps_box_hidden = True  # the step just done; the codes page's Done button leads on to the next one
    return _page(codes=codes)


@bp.post("/account/two-factor/recovery-codes")
@login_required
def two_factor_recovery_codes() -> ViewResponse:
    """Ten new recovery codes (the old ones stop working), shown once."""
    form = CurrentPasswordForm(prefix="regenerate")
    try:
        codes = service().regenerate_recovery_codes(form.password.data or "")
    except SSOError as error:
        if form_errors(error, ("password", "is_totp_enabled")) is None:
            return refusal(error)
        if error.kind == Kind.throttled:
            return _page(429, failure=gettext("No new codes: %(reason)s.", reason=translate(error.errors["password"])))
        return _page(
            422,
            failure=gettext("No new codes: your current password is not right.")
            if "password" in error.errors
            else gettext("No new codes: two-factor sign-in is off."),
        )
    flash(gettext("New recovery codes are ready; the old ones no longer work."), "success")
    return _page(codes=codes)


@bp.post("/account/two-factor/disable")
@login_required
def two_factor_disable() -> ViewResponse:
    """Turn one's own two-factor sign-in off (the current password confirms it)."""
    form = CurrentPasswordForm(prefix="disable")
    try:
        service().disable_totp(None, form.password.data or "")
    except SSOError as error:
        if form_errors(error, ("password",)) is None:
            return refusal(error)
        if error.kind == Kind.throttled:
            return _page(429, failure=gettext("Still on: %(reason)s.", reason=translate(error.errors["password"])))
        return _page(422, failure=gettext("Still on: your current password is not right."))
    flash(gettext("Two-factor sign-in is off. Logging in now asks only for your password."), "success")
    return redirect(url_for("web.two_factor"), 303)


# --- Manage user: a super-user turns it off -------------------------------------------------------------------


@bp.post("/users/<user_id>/two-factor/disable")
@permission_required(USERS_CREDENTIALS)
def user_two_factor_disable(user_id: str) -> ViewResponse:
    """Turn a user's two-factor sign-in off (e.g. they lost their phone and their recovery codes)."""
    try:
        service().disable_totp(user_id, None)
    except SSOError as error:
        return refusal(error)
    flash(gettext("Two-factor sign-in is off for this user: they log in with their password alone."), "success")
    return redirect(url_for("web.user_edit", user_id=user_id), 303)
