"""Restore a value (SPEC §20) from a history page: a small POST form under each change the caller may edit
now. A field changed since that record shows the conflict screen (what the record replaced, what is stored
now) with *Restore anyway* and *Keep the current value*. Plain POST/redirect/GET: the same with and without
JavaScript."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, request, url_for

from ..i18n import gettext
from ..sso import Code, SSOError
from ..sso.accounts.restore import field_restorable, may_restore
from ..sso.kernel.attributes import ATTRIBUTES
from ..sso.kernel.permissions import USERS_VIEW, attribute_permission
from ..sso.kernel.texts import _t
from .auth import login_required, permission_required, service
from .blueprint import bp
from .display import attribute_label
from .field_table import profile_field, register
from .responses import ViewResponse, go, page, refusal, safe_next


@bp.app_template_global()
def restore_url(record: dict[str, Any], name: str, subject_id: str | None) -> str | None:
    """Where the *Restore this value* form of one change posts, or None when the caller may not restore it
    (not an update of the page's subject, a secret, a field they may not edit)."""
    user = g.get("user")
    if user is None or record.get("action") != "update" or record.get("target_id") != subject_id:
        return None
    own = subject_id == user["user_id"]
    permissions = g.get("permissions") or frozenset()
    if name not in ATTRIBUTES:
        # A profile field: the page registered those the caller may edit on this record (SPEC §16's edit set).
        f = profile_field(name)
        if f is None or not field_restorable(f):
            return None
        return url_for("web.account_restore") if own else url_for("web.user_restore", user_id=subject_id)
    if not may_restore(name, permissions=permissions, own_record=own):
        return None
    by_permission = attribute_permission(name) in permissions
    if name == "email" and not by_permission and current_app.extensions["sso"].ctx.settings["SSO_EMAIL_CHANGE_CONFIRM"]:
        return None  # a new address is confirmed by email first (My account's own form)
    if not own:
        return url_for("web.user_restore", user_id=subject_id)
    return url_for("web.account_restore")


def _form() -> tuple[int | None, str, bool, str]:
    text = request.form.get("record_id", "")
    record_id = int(text) if text.isdigit() and len(text) <= 18 else None
    back = safe_next(request.form.get("next"))
    return record_id, request.form.get("attribute", ""), request.form.get("force") == "1", back or ""


def _restore(user_id: str | None, fallback: str) -> ViewResponse:
    record_id, attribute, force, back = _form()
    back = back or fallback
    if attribute not in ATTRIBUTES:
        register(f for f in service().editable_profile_fields(user_id) if f.name == attribute)  # its label
    try:
        service().restore_value(record_id, attribute, user_id=user_id, force=force)
    except SSOError as error:
        if Code.version_conflict in error.sub_status and record_id is not None:
            try:
                preview = service().restore_preview(record_id, attribute, user_id=user_id)
            except SSOError as again:
                return refusal(again)
            return page(
                "history/restore_conflict.html",
                409,
                preview=preview,
                label=attribute_label(attribute),
                action=request.path,
                back=back,
            )
        if record_id is None:
            return refusal(SSOError.single("invalid", Code.invalid_input, "record_id", _t("is not a record id")))
        return refusal(error)
    flash(
        gettext(
            "Restored %(field)s to the value it had before record %(record)s.",
            field=attribute_label(attribute),
            record=record_id,
        ),
        "success",
    )
    return go(back)


@bp.post("/users/<user_id>/restore")
@permission_required(USERS_VIEW)
def user_restore(user_id: str) -> ViewResponse:
    """Restore one attribute of a user to the old value of one of their audit records."""
    return _restore(user_id, url_for("web.user_history", user_id=user_id))


@bp.post("/account/restore")
@login_required
def account_restore() -> ViewResponse:
    """Restore one of my self-editable attributes to the old value of one of my audit records."""
    return _restore(None, url_for("web.account_history"))
