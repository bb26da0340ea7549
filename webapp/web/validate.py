"""Inline validation (htmx): one attribute field checked by the service's own value rule, as the field partial."""

from __future__ import annotations

from flask import abort, request

from ..sso.kernel.attributes import ATTRIBUTES, SELF_FORM_ATTRIBUTES, Attribute
from ..sso.kernel.permissions import USERS_CREATE, USERS_VIEW
from .attribute_form.parse import parse_field
from .attribute_form.values import MISSING
from .attribute_form.view import CONTEXTS, NEW, for_create, from_input
from .auth import login_required, require, service
from .blueprint import bp
from .field_table import ANY_USER, attribute, check, register
from .responses import ViewResponse, page
from .signup import signup_open


@bp.post("/validate/<context>/<name>")
@login_required
def validate_field(context: str, name: str) -> ViewResponse:
    """The field as it would show after a save: the service's value rule, without saving."""
    if context not in CONTEXTS:
        abort(404)
    if context != "account":
        require(USERS_CREATE if context == "create" else USERS_VIEW)
    attr = ATTRIBUTES.get(name)
    if attr is None:  # a profile field the caller may edit (SPEC §16): its own value rule
        # On My account the caller's own record; otherwise the fields the caller may edit on anyone's.
        fields = service().editable_profile_fields(None if context == "account" else ANY_USER)
        if name in register(f for f in fields if f.name == name):
            attr = attribute(name)
    if attr is None or not attr.on_forms or attr.type in ("bool", "enum", "choices"):
        abort(404)
    if context == "account" and name in ATTRIBUTES and name not in SELF_FORM_ATTRIBUTES:
        abort(404)
    return _checked(context, name, attr)


@bp.post("/validate-signup/<name>")
def validate_signup_field(name: str) -> ViewResponse:
    """A sign-up form's profile field checked by its value rule (no account yet: only while sign-up is open,
    and only the fields the sign-up form asks for)."""
    if not signup_open():
        abort(404)
    if name not in register(f for f in service().signup_profile_fields() if f.name == name):
        abort(404)
    attr = attribute(name)
    if attr.type in ("bool", "enum", "choices"):
        abort(404)
    return _checked("signup", name, attr)


def _checked(context: str, name: str, attr: Attribute) -> ViewResponse:
    if context in NEW:
        text = request.form.get(name, "")
        # An empty box of a new account's form is not given: a profile field then answers as not set.
        empty = text == "" and (attr.nullable or name not in ATTRIBUTES)
        _, message = check(name, None if empty else text)
        view = for_create(name, text, message)
        view.context = context
        return page("fields/_field.html", field=view)
    item = parse_field(attr, request.form)
    message = item.problem
    if message is None and item.value is not MISSING:
        _, message = check(name, item.value)
    return page("fields/_field.html", field=from_input(item, context, item.original, message))
