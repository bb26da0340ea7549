"""Inline validation (htmx): one attribute field checked by the service's own value rule, as the field partial."""

from __future__ import annotations

from flask import abort, request

from ..sso.kernel.attributes import ATTRIBUTES, SELF_FORM_ATTRIBUTES, check_value
from ..sso.kernel.permissions import USERS_CREATE, USERS_VIEW
from .attribute_form.parse import parse_field
from .attribute_form.values import MISSING
from .attribute_form.view import CONTEXTS, for_create, from_input
from .auth import login_required, require
from .blueprint import bp
from .responses import ViewResponse, page


@bp.post("/validate/<context>/<name>")
@login_required
def validate_field(context: str, name: str) -> ViewResponse:
    """The field as it would show after a save: the service's value rule, without saving."""
    attr = ATTRIBUTES.get(name)
    if context not in CONTEXTS or attr is None or not attr.on_forms or attr.type in ("bool", "enum"):
        abort(404)
    if context == "account" and name not in SELF_FORM_ATTRIBUTES:
        abort(404)
    if context != "account":
        require(USERS_CREATE if context == "create" else USERS_VIEW)
    if context == "create":
        text = request.form.get(name, "")
        _, message = check_value(attr, None if text == "" and attr.nullable else text)
        return page("fields/_field.html", field=for_create(name, text, message))
    item = parse_field(attr, request.form)
    message = item.problem
    if message is None and item.value is not MISSING:
        _, message = check_value(attr, item.value)
    return page("fields/_field.html", field=from_input(item, context, item.original, message))
