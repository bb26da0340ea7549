"""Routes for a logged-in person: My account (own attributes, recent activity) and change password."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for

from ..i18n import gettext
from ..sso import SSOError
from ..sso.kernel.attributes import SELF_FORM_ATTRIBUTES
from .attribute_form import AttributeForm, Editor, Outcome, conflict_message, save, views_after, views_for
from .attribute_form.parse import retired_fields_sent
from .attribute_form.view import FieldView, view_only
from .auth import login_required, service
from .blueprint import bp
from .devices import newest_sessions
from .email_change import flash_account_saved, write_own_account
from .field_table import refuse_profile_fields_outside, register
from .forms import ChangePasswordForm, confirmation_errors
from .names import usernames
from .refusals import form_errors, general_errors
from .responses import ViewResponse, page, refusal, wants_partial

HISTORY_ROWS = 10  # the newest; the rest is on My activity


def account_editor() -> Editor:
    """The caller's own self-editable attributes."""
    return Editor(
        SELF_FORM_ATTRIBUTES + register(service().editable_profile_fields()),
        "account",
        load=lambda: service().get_current_user(),
        write=write_own_account,
    )


def with_view_only(fields: list[FieldView]) -> list[FieldView]:
    """My account's fields: the built-ins, then every profile field I may view in form order, those I may not
    change drawn view-only (SPEC §16, §17: never a control that the save would refuse)."""
    controls = {field.name: field for field in fields}
    readable = service().readable_profile_fields()
    view_only_names = register(f for f in readable if f.name not in controls)
    profile = [
        controls[f.name] if f.name in controls else view_only(f.name, g.user, "account")
        for f in readable
        if f.name in controls or f.name in view_only_names
    ]
    shown = {field.name for field in profile}
    return [field for field in fields if field.name not in shown] + profile


def _account_page(fields: list, version, status: int = 200, outcome: Outcome | None = None) -> ViewResponse:
    history = service().history(None, limit=HISTORY_ROWS)
    fields = with_view_only(fields)
    context = {
        "fields": fields,
        "version": version,
        "outcome": outcome,
        "conflict_message": conflict_message(outcome, gettext("this account")),
        "general_errors": general_errors(
            outcome.errors if outcome else {}, (*SELF_FORM_ATTRIBUTES, *(f.name for f in fields))
        ),
        "history": history,
        "names": usernames(records=history),
    }
    context["devices"], context["devices_total"] = newest_sessions(service().list_sessions(None))
    template = "account/_form_response.html" if wants_partial() else "account/account.html"
    return page(template, status, **context)


@bp.get("/account")
@login_required
def account() -> ViewResponse:
    """My account: my own attributes and my recent activity."""
    return _account_page(views_for(account_editor(), g.user), g.user.version)


@bp.post("/account")
@login_required
def account_save() -> ViewResponse:
    """Save only what I changed on My account."""
    editor = account_editor()
    # A crafted form: the page draws no control for a field one may only view (or not even that).
    refuse_profile_fields_outside(editor.names, request.form)
    form = AttributeForm.parse(editor.names, request.form)
    try:
        outcome = save(editor, form)
    except SSOError as error:
        return refusal(error)
    outcome.retired = retired_fields_sent(request.form)
    if outcome.status == 200:
        return flash_account_saved(outcome, url_for("web.account"))
    fields, version = views_after(editor, form, outcome)
    return _account_page(fields, version, outcome.status, outcome)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ViewResponse:
    """Change my own password (the current one is required)."""
    form = ChangePasswordForm()
    if request.method != "POST":  # GET, and HEAD (which CSRF does not cover) never acts
        return page("account/password.html", form=form)
    errors: dict[str, str] | None = confirmation_errors(form)
    if not errors:
        data = {"old_password": form.old_password.data or "", "new_password": form.new_password.data or ""}
        try:
            service().change_password(data)
        except SSOError as error:
            errors = form_errors(error, data)
            if errors is None:
                return refusal(error)
        else:
            flash(gettext("Your password has been changed."), "success")
            return redirect(url_for("web.account"), 303)
    return page("account/password.html", 422, form=form, errors=errors)
