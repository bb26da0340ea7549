"""Manage users → one user's actions besides the form: a quick action (lock, unlock, approve, reject: one
attribute, merged like any save) and setting their password."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for

from ...i18n import gettext, not_done
from ...sso import SSOError
from ...sso.kernel.permissions import USERS_CREDENTIALS, USERS_VIEW, attribute_permission
from ..attribute_form import AttributeForm, save
from ..auth import permission_required, require, service
from ..blueprint import bp
from ..display import attribute_label, format_value
from ..forms import SetPasswordForm, confirmation_errors
from ..refusals import form_errors
from ..responses import ViewResponse, error_page, refusal
from .choices import QUICK_ACTIONS
from .edit import stored_edit_page, user_editor


@bp.post("/users/<user_id>/quick")
@permission_required(USERS_VIEW)
def user_quick_action(user_id: str) -> ViewResponse:
    """Lock, unlock, approve or reject in one click (merged like any save; a conflict writes nothing)."""
    action = QUICK_ACTIONS.get(request.form.get("action", ""))
    if action is None:
        return error_page(400, gettext("Unknown action"), gettext("Choose lock, unlock, approve or reject."))
    require(attribute_permission(action.name))
    name, value = action.name, action.value
    form = AttributeForm.parse(
        (name,),
        {
            name: value,
            "version": request.form.get("version", ""),
            **({f"original_{name}": request.form[f"original_{name}"]} if f"original_{name}" in request.form else {}),
        },
    )
    editor = user_editor(user_id, (name,))
    try:
        outcome = save(editor, form)
    except SSOError as error:
        return refusal(error)
    location = url_for("web.user_edit", user_id=user_id)
    if outcome.status == 200:
        if outcome.saved:
            flash(f"{action.done}.", "success")
        else:
            flash(
                gettext(
                    "Nothing to do: %(field)s was already %(value)s.",
                    field=attribute_label(name),
                    value=format_value(action.target, name),
                ),
                "info",
            )
        return redirect(location, 303)
    if outcome.conflicts:
        _mine, theirs = outcome.conflicts[name]
        message = gettext(
            "Someone else changed %(field)s to “%(value)s” meanwhile. Nothing was written; check and try again.",
            field=attribute_label(name),
            value=format_value(theirs, name),
        )
    else:
        message = not_done(outcome.errors.values())
    return stored_edit_page(user_id, outcome.status, action_error=message)


@bp.post("/users/<user_id>/password")
@permission_required(USERS_CREDENTIALS)
def user_set_password(user_id: str) -> ViewResponse:
    """Set another user's password (optionally: expiry in days, must change at next login)."""
    if user_id == g.user["user_id"]:
        flash(gettext("To change your own password, give your current one here."), "info")
        return redirect(url_for("web.change_password"), 303)
    form = SetPasswordForm()
    errors = confirmation_errors(form)
    if form.expiry_days.raw_data and form.expiry_days.raw_data[0] and form.expiry_days.data is None:
        errors["password_expiry"] = gettext("must be a whole number of days")
    if not errors:
        data: dict[str, Any] = {
            "new_password": form.new_password.data or "",
            "user_id": user_id,
            "must_change": bool(form.must_change.data),
        }
        if form.expiry_days.data is not None:
            data["password_expiry"] = form.expiry_days.data
        try:
            service().change_password(data)
        except SSOError as error:
            refused = form_errors(error, ("new_password", "password_expiry", "must_change", "data"))
            if refused is None:
                return refusal(error)
            errors = refused
        else:
            flash(
                gettext("Password set. They must choose a new one at their next login.")
                if data["must_change"]
                else gettext("Password set."),
                "success",
            )
            return redirect(url_for("web.user_edit", user_id=user_id), 303)
    return stored_edit_page(user_id, 422, password_form=form, password_errors=errors)
