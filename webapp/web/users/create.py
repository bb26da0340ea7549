"""Manage users → Create user: the identity boxes, a password (or none) and the new account's access."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, request, url_for

from ...i18n import gettext
from ...sso import SSOError
from ...sso.accounts.create import CREATE_KEYS
from ...sso.kernel.permissions import USERS_CREATE
from ..attribute_form import FieldView, for_create
from ..attribute_form.parse import parse_field
from ..attribute_form.values import MISSING
from ..attribute_form.view import IDENTITY
from ..auth import permission_required, service
from ..blueprint import bp
from ..field_table import ANY_USER, attribute, register
from ..forms import CreateUserForm
from ..refusals import form_errors, general_errors
from ..responses import ViewResponse, page, refusal

CREATE_TEXT = IDENTITY  # the attribute boxes of a new user; the rest are its access settings


@dataclass(frozen=True)
class SummaryItem:
    """A box outside the attribute fields listed in the error summary (`fields/_error_summary.html`)."""

    first_input_id: str
    label: str
    error: str


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required(USERS_CREATE)
def user_create() -> ViewResponse:
    """Create a user; empty optional fields stay not set."""
    form = CreateUserForm()
    texts = {name: request.form.get(name, "") for name in CREATE_TEXT}
    try:  # the profile fields (SPEC §16): the required ones must be given (the service says which are missing)
        profile_names = register(service().editable_profile_fields(ANY_USER))
    except SSOError as error:
        return refusal(error)
    profile_inputs = {name: parse_field(attribute(name), request.form) for name in profile_names}
    errors: dict[str, str] = {}
    created = None
    if request.method == "POST":
        data: dict[str, Any] = {"username": texts["username"]}
        data.update({name: texts[name] for name in CREATE_TEXT[1:] if texts[name] != ""})
        data.update(
            {
                name: item.value
                for name, item in profile_inputs.items()
                if item.value is not MISSING and item.value not in ("", [], None)
            }
        )
        if form.password.data:
            data["password"] = form.password.data
        data.update(
            password_must_change=form.password_must_change.data,
            is_locked=form.is_locked.data,
            auto_approve=form.auto_approve.data,
        )
        mismatch = {} if form.password_confirm.validate(form) else {"password_confirm": form.password_confirm.errors[0]}
        try:
            # Every mistake at once (a taken username with the values' and the required fields'), before
            # anything is written; boxes that differ are the form's own refusal, and then nothing is written.
            service().create_user(data, check_only=True)
            if not mismatch:
                created = service().create_user(data)
        except SSOError as error:
            refused = form_errors(error, (*CREATE_KEYS, *profile_names, "data"))
            if refused is None:
                return refusal(error)
            errors = refused
        errors = {**errors, **mismatch}
        if created is not None and not errors:
            flash(gettext("Created user %(username)s.", username=created["username"]), "success")
            return redirect(url_for("web.user_edit", user_id=created["user_id"]), 303)
    fields = [for_create(name, texts[name], errors.get(name)) for name in CREATE_TEXT]
    for name, item in profile_inputs.items():
        sent = item.value if isinstance(item.value, list) else MISSING
        fields.append(
            FieldView(name, "create", text=item.text or "", choice=item.choice, error=errors.get(name), sent=sent)
        )
    summary_extra = [
        SummaryItem(box.id, box.label.text, errors[name])
        for name, box in (("password", form.password), ("password_confirm", form.password_confirm))
        if errors.get(name)
    ]
    return page(
        "users/new.html",
        422 if errors else 200,
        form=form,
        fields=fields,
        errors=errors,
        summary_extra=summary_extra,
        general_errors=general_errors(errors, (*CREATE_TEXT, *profile_names, "password", "password_confirm")),
    )
