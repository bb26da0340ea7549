"""Console pages of sign-up (SPEC §11): "Create an account", "Check your email", and the link's "Confirm"."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, session, url_for

from ..i18n import gettext
from ..sso import Code, SSOError
from ..sso.email.signup import may_sign_up
from .attribute_form.parse import FieldInput, parse_field
from .attribute_form.values import MISSING
from .attribute_form.view import FieldView
from .auth import console_app, service
from .blueprint import bp
from .field_table import attribute, register
from .forms import SignupForm, confirmation_errors
from .refusals import form_errors
from .responses import ViewResponse, page, refusal

SENT_TO = "signup_sent_to"
FIELDS = ("username", "email", "display_name", "password", "confirm_password")


def signup_open() -> bool:
    """Whether the console's app is a sign-up app (the login page then offers "Create an account")."""
    return may_sign_up(current_app.extensions["sso"].ctx, console_app())


@bp.app_context_processor
def _signup_flag() -> dict:
    return {"signup_open": signup_open}


def no_referrer(response: ViewResponse) -> ViewResponse:
    """A page whose address carries a token tells no other site where it came from."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> ViewResponse:
    """Create an account: the service checks everything, then emails a confirmation link. The required
    profile fields a person may edit themselves are asked too (SPEC §16), each drawn from its type."""
    if not signup_open():
        abort(404)
    form = SignupForm()
    try:
        profile_names = register(service().signup_profile_fields())
    except SSOError as error:
        return refusal(error)
    profile_inputs = {name: parse_field(attribute(name), request.form) for name in profile_names}
    if request.method == "GET":
        return page("auth/signup.html", form=form, profile_fields=_profile_views(profile_inputs, {}))
    mismatch = confirmation_errors(form)
    data = {
        "username": form.username.data or "",
        "email": form.email.data or None,
        "password": form.password.data or "",
        "app_list": [console_app()],
    }
    if form.display_name.data:
        data["display_name"] = form.display_name.data
    data.update(
        {
            name: item.value
            for name, item in profile_inputs.items()
            if item.value is not MISSING and item.value not in ("", [], None)
        }
    )  # an empty box is not given: the service names each required field left out
    try:
        # Every mistake at once (a taken username or email with the rest, and the form's own two boxes that
        # differ), before anything is written or sent.
        service().signup(data, send_link=True, check_only=True)
        if not mismatch:
            service().signup(data, send_link=True)
    except SSOError as error:
        refused = form_errors(error, (*FIELDS, *profile_names))
        if refused is None:
            return refusal(error)
        return _refused(form, profile_inputs, {**refused, **mismatch})
    if mismatch:
        return _refused(form, profile_inputs, mismatch)
    session[SENT_TO] = data["email"]
    return redirect(url_for("web.signup_sent"), 303)


def _profile_views(inputs: dict[str, FieldInput], errors: dict[str, str]) -> list[FieldView]:
    """The sign-up form's profile fields, with what was sent and their errors."""
    return [
        FieldView(
            name,
            "signup",
            text=item.text or "",
            choice=item.choice,
            error=errors.get(name) or item.problem,
            sent=item.value if isinstance(item.value, list) else MISSING,
        )
        for name, item in inputs.items()
    ]


def _refused(form: SignupForm, inputs: dict[str, FieldInput], errors: dict[str, str]) -> ViewResponse:
    """The form again (422) with every mistake at its box and in a summary above, in the form's order (the
    profile fields after the display name, where the page draws them)."""
    fields = _profile_views(inputs, errors)
    boxes = [
        {"first_input_id": box.id, "label": box.label.text, "error": errors[box.name]}
        for box in form
        if box.name in errors
    ]
    split = sum(1 for box in form if box.name in errors and box.name in ("username", "email", "display_name"))
    profile = [{"first_input_id": f.first_input_id, "label": f.label, "error": f.error} for f in fields if f.error]
    summary = boxes[:split] + profile + boxes[split:]
    return page("auth/signup.html", 422, form=form, errors=errors, summary=summary, profile_fields=fields)


@bp.get("/signup/sent")
def signup_sent() -> ViewResponse:
    """Check your email."""
    return page(
        "auth/signup_sent.html", email=session.get(SENT_TO), hours=current_app.config["SSO_SIGNUP_CONFIRM_HOURS"]
    )


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
def signup_confirm(token: str) -> ViewResponse:
    """The emailed link: GET only reads (mail scanners fetch links); the button confirms."""
    try:
        if request.method == "GET":
            return no_referrer(page("auth/signup_confirm.html", username=service().check_signup_link(token)))
        confirmed = service().confirm_signup(token)
    except SSOError as error:
        if Code.signup_confirmed in error.sub_status:
            flash(gettext("This account is already confirmed. You can log in."), "info")
            return redirect(url_for("web.login"), 303)
        return no_referrer(
            page("auth/link_invalid.html", 404, what="sign-up", again=url_for("web.signup") if signup_open() else None)
        )
    session.pop(SENT_TO, None)
    if confirmed.approval_status == "approved":
        flash(gettext("Your account is confirmed. Log in with your username and password."), "success")
        return redirect(url_for("web.login"), 303)
    return no_referrer(page("auth/signup_confirmed.html", username=confirmed.username))
