"""Manage users → one user: every attribute (merged with others' saves), the recent changes, the
sessions, and the audit history as a download."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, request, stream_with_context, url_for

from ...i18n import gettext
from ...sso import SSOError
from ...sso.accounts.export import FORMATS, MEDIA_TYPES
from ...sso.accounts.guards import OWN_DELETE
from ...sso.kernel.attributes import FORM_ATTRIBUTES
from ...sso.kernel.presentation import UserData
from ..attribute_form import AttributeForm, Editor, Outcome, conflict_message, save, views_after, views_for
from ..attribute_form.view import groups
from ..auth import service, super_user_required
from ..blueprint import bp
from ..devices import newest_sessions
from ..forms import SetPasswordForm
from ..names import usernames
from ..refusals import general_errors
from ..responses import ViewResponse, flash_saved, page, refusal, wants_partial
from .choices import QUICK_ACTIONS, QuickAction

RECENT_CHANGES = 8  # the edit page's short list; the rest is on the history page
EDITABLE = FORM_ATTRIBUTES  # the TOTP attributes have their own controls (two_factor.py)


def user_editor(user_id: str, names: tuple[str, ...] = EDITABLE) -> Editor:
    """Any user's attributes, as a super-user edits them."""
    return Editor(
        names,
        "user",
        load=lambda: service().get_user_by_id(user_id),
        write=lambda changes, version, unchanged=None: service().update_user(
            user_id, changes, expected_version=None if unchanged else version, unchanged=unchanged
        ),
    )


def offered_actions(user: UserData) -> tuple[list[QuickAction], list[str]]:
    """The quick actions Manage user offers for `user`, and on one's own record what the guard rails refuse
    there (neither offered nor promised, SPEC §8): lock, reject and delete."""
    applicable = [a for a in QUICK_ACTIONS.values() if a.applies(user)]
    if user["user_id"] != g.user["user_id"]:
        return applicable, []
    refused = [a.refused_on_own_account() for a in QUICK_ACTIONS.values() if a.confirm]
    return [a for a in applicable if not a.refused_on_own_account()], [*filter(None, refused), OWN_DELETE]


def _edit_page(
    user: UserData,
    fields: list,
    version,
    status: int = 200,
    outcome: Outcome | None = None,
    password_form: SetPasswordForm | None = None,
    password_errors: dict | None = None,
    action_error: str | None = None,
) -> ViewResponse:
    history = service().history_page(user["user_id"], limit=RECENT_CHANGES, changes_only=True)["records"]
    context = {
        "user": user,
        "fields": fields,
        "groups": groups(fields),
        "version": version,
        "outcome": outcome,
        "conflict_message": conflict_message(outcome, gettext("this user")),
        "general_errors": general_errors(outcome.errors if outcome else {}, EDITABLE),
        "is_self": user["user_id"] == g.user["user_id"],
        "history": history,
        "names": usernames(records=history, user=user),
        "user_attributes": service().list_attributes(user["user_id"]),
        "passkeys": service().list_passkeys(user["user_id"]),
    }
    context["quick_actions"], context["own_refusals"] = offered_actions(user)
    context["sessions"], context["sessions_total"] = newest_sessions(service().list_sessions(user["user_id"]))
    if wants_partial() and password_form is None and action_error is None:
        return page("users/_form_response.html", status, **context)
    return page(
        "users/edit.html",
        status,
        password_form=password_form or SetPasswordForm(formdata=None),
        password_errors=password_errors or {},
        action_error=action_error,
        **context,
    )


def stored_edit_page(user_id: str, status: int = 200, **extra: Any) -> ViewResponse:
    """Manage user showing what is stored now (`extra`: a refused quick action or set-password)."""
    editor = user_editor(user_id)
    try:
        user = editor.load()
    except SSOError as error:
        return refusal(error)
    return _edit_page(user, views_for(editor, user), user.version, status, **extra)


@bp.get("/users/<user_id>")
@super_user_required
def user_edit(user_id: str) -> ViewResponse:
    """Manage one user: every attribute, quick actions, set-password and the audit history."""
    return stored_edit_page(user_id)


@bp.post("/users/<user_id>")
@super_user_required
def user_save(user_id: str) -> ViewResponse:
    """Save only what the super-user changed."""
    editor = user_editor(user_id)
    form = AttributeForm.parse(editor.names, request.form)
    try:
        outcome = save(editor, form)
        if outcome.status == 200:  # saved (or nothing to save): a 303 that reads and renders nothing more
            return flash_saved(outcome, url_for("web.user_edit", user_id=user_id))
        user = outcome.current or editor.load()
    except SSOError as error:
        return refusal(error)
    fields, version = views_after(editor, form, outcome)
    return _edit_page(user, fields, version, outcome.status, outcome)


@bp.get("/users/<user_id>/history.<fmt>")
@super_user_required
def user_history_download(user_id: str, fmt: str) -> ViewResponse:
    """Every change made to this user, oldest first, as a CSV or JSON-lines download (streamed)."""
    if fmt not in FORMATS:
        abort(404)
    try:
        chunks = service().export_history(user_id, fmt=fmt)
    except SSOError as error:
        return refusal(error)
    response = current_app.response_class(stream_with_context(chunks), mimetype=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{user_id}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response
