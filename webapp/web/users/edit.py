"""Manage users → one user: the attributes the reader may change (merged with others' saves) and the
others view-only, the recent changes, the sessions, the roles, and the audit history as a download. A page
offers only what its reader's permissions allow (SPEC §17: `allowed_on`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, g, request, stream_with_context, url_for

from ...i18n import gettext
from ...sso import SSOError
from ...sso.accounts.export import FORMATS, MEDIA_TYPES
from ...sso.accounts.guards import OWN_DELETE
from ...sso.email.admin_emails import PERMISSION_OF as EMAIL_PERMISSION
from ...sso.email.admin_emails import refusal as email_refusal
from ...sso.kernel.attributes import ATTRIBUTES, FORM_ATTRIBUTES
from ...sso.kernel.permissions import (
    AUDIT_VIEW,
    ROLES_MANAGE,
    USERS_ATTRIBUTES,
    USERS_CREDENTIALS,
    USERS_DELETE,
    USERS_SESSIONS,
    USERS_VIEW,
    attribute_permission,
)
from ...sso.kernel.presentation import UserData
from ..attribute_form import AttributeForm, Editor, Outcome, conflict_message, save, views_after, views_for
from ..attribute_form.parse import retired_fields_sent
from ..attribute_form.view import groups, view_only
from ..auth import may, permission_required, service
from ..blueprint import bp
from ..devices import newest_sessions
from ..display import attribute_label
from ..field_table import refuse_profile_fields_outside, register
from ..forms import SetPasswordForm
from ..names import usernames
from ..refusals import general_errors
from ..responses import ViewResponse, flash_saved, page, refusal, wants_partial
from ..roles import role_choices
from ..steps import STEPS
from .choices import EMAIL_CHOICES, QUICK_ACTIONS, EmailChoice, QuickAction

RECENT_CHANGES = 8  # the edit page's short list; the rest is on the history page
EDITABLE = FORM_ATTRIBUTES  # the TOTP attributes have their own controls (two_factor.py)


@dataclass(frozen=True)
class Allowed:
    """What the signed-in person may do on one Manage user page (SPEC §17): the page offers only that."""

    fields: tuple[str, ...]  # the attributes they may change; the others are shown view-only
    delete: bool
    password: bool  # set password, turn two-factor off
    sessions: bool
    attributes: bool  # see the free-form attributes
    history_download: bool
    roles: bool  # grant and revoke roles

    def quick(self, action: QuickAction) -> bool:
        return action.name in self.fields


def allowed_on(user: UserData) -> Allowed:
    """What the caller may do to `user`: nothing that changes a stronger administrator (the service refuses
    it anyway; the page does not offer it), and on anyone else what their permissions allow."""
    acts = not user.stronger_than_reader
    return Allowed(
        fields=fields_allowed(user["user_id"]) if acts else (),
        delete=acts and may(USERS_DELETE),
        password=acts and may(USERS_CREDENTIALS),
        sessions=acts and may(USERS_SESSIONS),
        attributes=may(USERS_ATTRIBUTES),
        history_download=may(AUDIT_VIEW),
        roles=acts and may(ROLES_MANAGE),
    )


def fields_allowed(user_id: str) -> tuple[str, ...]:
    """The attributes the caller's permissions let them change on `user_id` (on their own record, the
    self-editable ones too), before knowing whether the user is stronger (the service refuses that)."""
    own = user_id == g.user["user_id"]
    builtin = tuple(
        name for name in EDITABLE if may(attribute_permission(name)) or (own and ATTRIBUTES[name].self_editable)
    )
    # The profile fields whose edit set holds the caller (SPEC §16), made known to this request's forms.
    return builtin + register(service().editable_profile_fields(user_id))


def with_view_only(fields: list, user: UserData) -> list:
    """The form's fields in their order: those the caller may change as controls, the others view-only (the
    profile fields the caller may view on this record but not edit too, SPEC §16–§17)."""
    controls = {field.name: field for field in fields}
    readable = service().readable_profile_fields(user["user_id"])
    view_only_names = set(register(f for f in readable if f.name not in controls))
    profile = [
        controls.get(f.name) or view_only(f.name, user)
        for f in readable
        if f.name in controls or f.name in view_only_names
    ]
    shown = {field.name for field in profile}
    profile += [field for field in fields if field.name not in EDITABLE and field.name not in shown]
    return [controls.get(name) or view_only(name, user) for name in EDITABLE] + profile


def refuse_fields_outside(allowed: tuple[str, ...], form: Mapping[str, str], user_id: str | None = None) -> None:
    """The 403 page for a crafted form that carries an attribute (or, given `user_id`, a profile field) the
    caller may not change (nothing is written; the page never draws a control)."""
    sent = [
        name
        for name in EDITABLE
        if name not in allowed and (name in form or f"clear_{name}" in form or f"resolve_{name}" in form)
    ]
    labels = [attribute_label(name) for name in sent]
    if user_id is not None:
        refuse_profile_fields_outside(allowed, form, labels)
    if labels:
        abort(403, description=gettext("You may not change %(fields)s. Nothing was saved.", fields=", ".join(labels)))


def user_editor(user_id: str, names: tuple[str, ...] = EDITABLE) -> Editor:
    """Any user's attributes (`names`: those the caller may change), as an administrator edits them."""
    return Editor(
        names,
        "user",
        load=lambda: service().get_user_by_id(user_id),
        write=lambda changes, version, unchanged=None: service().update_user(
            user_id, changes, expected_version=None if unchanged else version, unchanged=unchanged
        ),
    )


def offered_actions(user: UserData, allowed: Allowed) -> tuple[list[QuickAction], list[str]]:
    """The quick actions Manage user offers for `user` (those the reader's permissions allow, SPEC §17),
    and on one's own record what the guard rails refuse there (neither offered nor promised, SPEC §8):
    lock, reject and delete."""
    applicable = [a for a in QUICK_ACTIONS.values() if a.applies(user) and allowed.quick(a)]
    if user["user_id"] != g.user["user_id"]:
        return applicable, []
    refused = [a.refused_on_own_account() for a in QUICK_ACTIONS.values() if a.confirm]
    return [a for a in applicable if not a.refused_on_own_account()], [*filter(None, refused), OWN_DELETE]


def offered_emails(user: UserData) -> list[EmailChoice]:
    """The emails Manage user offers for `user`: the reader's permissions allow them and they make sense now."""
    if user.stronger_than_reader:
        return []
    return [c for c in EMAIL_CHOICES.values() if may(EMAIL_PERMISSION[c.kind]) and email_refusal(user, c.kind) is None]


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
    allowed = allowed_on(user)
    fields = with_view_only(fields, user)
    context = {
        "user": user,
        "allowed": allowed,
        "fields": fields,
        "groups": groups(fields),
        "version": version,
        "outcome": outcome,
        "conflict_message": conflict_message(outcome, gettext("this user")),
        # A profile field's error shows beside it and in the one summary, never in a second box.
        "general_errors": general_errors(outcome.errors if outcome else {}, (*EDITABLE, *(f.name for f in fields))),
        "is_self": user["user_id"] == g.user["user_id"],
        "history": history,
        "names": usernames(records=history, user=user),
        "user_attributes": service().list_attributes(user["user_id"]) if allowed.attributes else [],
        "passkeys": service().list_passkeys(user["user_id"]) if allowed.password else [],
        "roles": role_choices(user) if allowed.roles or user.role_names else [],
        "admin_emails": offered_emails(user),
        "steps": STEPS,
        "acceptances": [] if user.stronger_than_reader else service().terms_acceptances(user["user_id"]),
    }
    context["quick_actions"], context["own_refusals"] = offered_actions(user, allowed)
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
    try:
        user = user_editor(user_id).load()
    except SSOError as error:
        return refusal(error)
    editor = user_editor(user_id, allowed_on(user).fields)
    return _edit_page(user, views_for(editor, user), user.version, status, **extra)


@bp.get("/users/<user_id>")
@permission_required(USERS_VIEW)
def user_edit(user_id: str) -> ViewResponse:
    """Manage one user: every attribute, quick actions, set-password and the audit history."""
    return stored_edit_page(user_id)


@bp.post("/users/<user_id>")
@permission_required(USERS_VIEW)
def user_save(user_id: str) -> ViewResponse:
    """Save only what the administrator changed (a field they may not change: the 403 page)."""
    allowed = fields_allowed(user_id)
    refuse_fields_outside(allowed, request.form, user_id)
    editor = user_editor(user_id, allowed)
    form = AttributeForm.parse(editor.names, request.form)
    try:
        outcome = save(editor, form)
        outcome.retired = retired_fields_sent(request.form)
        if outcome.status == 200:  # saved (or nothing to save): a 303 that reads and renders nothing more
            return flash_saved(outcome, url_for("web.user_edit", user_id=user_id))
        user = outcome.current or editor.load()
    except SSOError as error:
        return refusal(error)
    fields, version = views_after(editor, form, outcome)
    return _edit_page(user, fields, version, outcome.status, outcome)


@bp.get("/users/<user_id>/history.<fmt>")
@permission_required(AUDIT_VIEW)
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
