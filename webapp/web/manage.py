"""Routes for super-users: find users, create one, edit every attribute, quick actions, set a password."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import abort, current_app, flash, g, redirect, request, stream_with_context, url_for

from ..i18n import gettext, lazy_gettext, not_done
from ..sso import SSOError
from ..sso.accounts.create import CREATE_KEYS
from ..sso.accounts.export import FORMATS, MEDIA_TYPES
from ..sso.accounts.guards import OWN_DELETE, refused_on_own_account
from ..sso.accounts.search import SEARCH_KEYS
from ..sso.kernel.attributes import APPROVAL_STATUSES, ATTRIBUTES, FORM_ATTRIBUTES, SIGN_UP_STATUSES
from ..sso.kernel.presentation import UserData
from .attribute_form import AttributeForm, Editor, Outcome, conflict_message, for_create, save, views_after, views_for
from .attribute_form.view import IDENTITY, groups
from .auth import caller_args, cid, service, super_user_required, user_agent, users
from .blueprint import bp
from .devices import newest_sessions
from .display import attribute_label, format_value
from .forms import CreateUserForm, SetPasswordForm, confirmation_errors
from .names import usernames
from .responses import ViewResponse, error_page, flash_saved, form_errors, general_errors, page, refusal, wants_partial

PAGE_SIZE = 20
RECENT_CHANGES = 8  # the edit page's short list; the rest is on the history page
EDITABLE = FORM_ATTRIBUTES  # the TOTP attributes have their own controls (two_factor.py)
CREATE_TEXT = tuple(name for name in IDENTITY if name != "locale")  # a new user's boxes; the language follows theirs


@dataclass(frozen=True)
class SummaryItem:
    """A box outside the attribute fields listed in the error summary (`fields/_error_summary.html`)."""

    first_input_id: str
    label: str
    error: str


@dataclass(frozen=True)
class QuickAction:
    """A change of one attribute on Manage user: one click, or (`confirm`) a click on the confirmation page
    that says what will happen."""

    action: str
    button: Any  # a lazily translated text
    name: str
    value: str
    done: Any
    danger: bool = False
    confirm: bool = False

    @property
    def target(self) -> bool | str:
        """The value the click stores (`value` is as a form sends it)."""
        return self.value == "true" if ATTRIBUTES[self.name].type == "bool" else self.value

    def applies(self, user: UserData) -> bool:
        """Whether the button is offered: the user is not already so."""
        return user[self.name] != self.target

    def refused_on_own_account(self) -> str | None:
        """Why the guard rails refuse this on one's own account (None: they do not)."""
        return refused_on_own_account(self.name, self.target, datetime.now(UTC))


QUICK_ACTIONS = {
    a.action: a
    for a in (
        QuickAction("unlock", lazy_gettext("Unlock"), "is_locked", "false", lazy_gettext("Unlocked")),
        QuickAction(
            "lock", lazy_gettext("Lock…"), "is_locked", "true", lazy_gettext("Locked"), danger=True, confirm=True
        ),
        QuickAction("approve", lazy_gettext("Approve"), "approval_status", "approved", lazy_gettext("Approved")),
        QuickAction(
            "reject",
            lazy_gettext("Reject…"),
            "approval_status",
            "rejected",
            lazy_gettext("Rejected"),
            danger=True,
            confirm=True,
        ),
    )
}


def offered_actions(user: UserData) -> tuple[list[QuickAction], list[str]]:
    """The quick actions Manage user offers for `user`, and on one's own record what the guard rails refuse
    there (neither offered nor promised, SPEC §8): lock, reject and delete."""
    applicable = [a for a in QUICK_ACTIONS.values() if a.applies(user)]
    if user["user_id"] != g.user["user_id"]:
        return applicable, []
    refused = [a.refused_on_own_account() for a in QUICK_ACTIONS.values() if a.confirm]
    return [a for a in applicable if not a.refused_on_own_account()], [*filter(None, refused), OWN_DELETE]


@dataclass(frozen=True)
class BulkChoice:
    """An action of the list's "Apply to selected" menu (the service's `bulk_action` name), how its result
    reads, and whether a confirmation page comes first (what cannot be undone in one click)."""

    action: str
    label: str
    verb: str  # "Lock": the confirmation's question and button, the result page's title
    done: str  # "locked": the result page's word for a user it was done to
    unchanged: str  # why nothing changed for a user ("already locked")
    confirm: bool = False


BULK_CHOICES = {
    c.action: c
    for c in (
        BulkChoice(
            "approve",
            lazy_gettext("Approve"),
            lazy_gettext("Approve"),
            lazy_gettext("approved"),
            lazy_gettext("already approved"),
        ),
        BulkChoice(
            "unlock",
            lazy_gettext("Unlock"),
            lazy_gettext("Unlock"),
            lazy_gettext("unlocked"),
            lazy_gettext("not locked"),
        ),
        BulkChoice(
            "lock",
            lazy_gettext("Lock…"),
            lazy_gettext("Lock"),
            lazy_gettext("locked"),
            lazy_gettext("already locked"),
            confirm=True,
        ),
        BulkChoice(
            "reject",
            lazy_gettext("Reject…"),
            lazy_gettext("Reject"),
            lazy_gettext("rejected"),
            lazy_gettext("already rejected"),
            confirm=True,
        ),
        BulkChoice(
            "sign_out",
            lazy_gettext("Sign out everywhere…"),
            lazy_gettext("Sign out"),
            lazy_gettext("signed out"),
            lazy_gettext("no sessions"),
            confirm=True,
        ),
        BulkChoice(
            "delete",
            lazy_gettext("Delete…"),
            lazy_gettext("Delete"),
            lazy_gettext("deleted"),
            lazy_gettext("nothing to delete"),
            confirm=True,
        ),
    )
}


def user_editor(user_id: str, names: tuple[str, ...] = EDITABLE) -> Editor:
    """Any user's attributes, as a super-user edits them."""
    return Editor(
        names,
        "user",
        load=lambda: users().get_user_by_id(cid(), user_id, *caller_args()),
        write=lambda changes, version, unchanged=None: users().update_user_by_id(
            cid(),
            user_id,
            changes,
            *caller_args(),
            expected_version=None if unchanged else version,
            channel="web",
            user_agent=user_agent(),
            unchanged=unchanged,
        ),
    )


# --- the list ----------------------------------------------------------------------------------------------------


SORT_COLUMNS = {  # the list's sortable columns: query-string key → (search order_by, header)
    "username": lazy_gettext("Username"),
    "display_name": lazy_gettext("Display name"),
    "email": lazy_gettext("Email"),
    "approval_status": lazy_gettext("Approval"),
    "is_locked": lazy_gettext("Locked"),
    "sign_up_status": lazy_gettext("Sign-up"),
    "sign_up_time": lazy_gettext("Created"),
    "last_sign_in": lazy_gettext("Last sign-in"),
}
PAGE_SIZES = (20, 50, 100)
YES_NO = {"yes": True, "no": False}
LIST_STATE = ("q", "locked", "approval", "signup", "super", "totp", "sort", "dir", "size")


def _search_criteria(args) -> tuple[dict[str, Any], dict[str, str]]:
    """Search criteria from the query string, and what the filter form shows (unreadable values: the default)."""
    shown = {key: args.get(key, "").strip() for key in LIST_STATE}
    page_text = args.get("page", "1")
    size = int(shown["size"]) if shown["size"].isdigit() and int(shown["size"]) in PAGE_SIZES else PAGE_SIZE
    shown["size"] = str(size) if size != PAGE_SIZE else ""
    criteria: dict[str, Any] = {"page_size": size, "with_last_sign_in": True}
    sorted_otherwise = args.get("sort", "username") not in ("", "username") or args.get("dir") == "desc"
    if args.get("after") and not sorted_otherwise:  # paging by key (beyond the counted 10,000)
        criteria["after"] = args["after"]
    else:
        # ASCII digits only, and few of them: "³".isdigit() is true and int() of 5000 digits raises (issue 12)
        criteria["cur_page"] = int(page_text) if re.fullmatch(r"[0-9]{1,9}", page_text) and int(page_text) > 0 else 1
    if shown["q"]:
        criteria["q"] = shown["q"]
    for key, criterion in (("locked", "is_locked"), ("super", "is_super_user"), ("totp", "is_totp_enabled")):
        if shown[key] in YES_NO:
            criteria[criterion] = YES_NO[shown[key]]
        else:
            shown[key] = ""
    if shown["approval"]:
        criteria["approval_status"] = shown["approval"]
    if shown["signup"] in SIGN_UP_STATUSES:
        criteria["sign_up_status"] = shown["signup"]
    else:
        shown["signup"] = ""
    if shown["sort"] in SORT_COLUMNS and shown["sort"] != "username":
        criteria["order_by"] = shown["sort"]
    else:
        shown["sort"] = ""
    if shown["dir"] == "desc":
        criteria["order"] = "desc"
    else:
        shown["dir"] = ""
    return criteria, shown


@bp.get("/users")
@super_user_required
def user_list() -> ViewResponse:
    """Users: searched by username, email or name; filtered; sorted by any column; paged."""
    return list_page(request.args, back=request.full_path.rstrip("?"))


def list_page(
    args,
    *,
    back: str,
    status: int = 200,
    selected: frozenset[str] = frozenset(),
    bulk_action: str = "",
    bulk_error: str | None = None,
) -> ViewResponse:
    """The list for the query string `args`; `back` is its address (where a bulk action's pages lead back
    to). A refused bulk action shows it again with its message (`bulk_error`) and the same boxes ticked."""
    criteria, shown = _search_criteria(args)
    errors: dict[str, str] | None = {}
    try:
        result = users().search(cid(), criteria, *caller_args())
    except SSOError as error:
        errors, result = form_errors(error, SEARCH_KEYS), None
        if errors is None:
            return refusal(error)
    status = 422 if errors else status

    def list_url(**changes: Any) -> str:
        state = {**shown, "page": None, **changes}
        return url_for("web.user_list", **{key: value for key, value in state.items() if value})

    def page_url(number: int | None = 1, after: str | None = None) -> str:
        if after and (shown["sort"] or shown["dir"]):  # key paging follows the username order only
            number, after = ((result or {}).get("cur_page") or 1) + 1, None
        return list_url(page=number if number and number > 1 else None, after=after or None)

    def sort_url(key: str) -> str:
        """The header's link: sort by `key`, or flip the direction when it is the current sort."""
        current = shown["sort"] or "username"
        flip = key == current and shown["dir"] != "desc"
        return list_url(sort=key if key != "username" else None, dir="desc" if flip else None)

    context = {
        "result": result,
        "shown": shown,
        "errors": errors,
        "page_url": page_url,
        "sort_url": sort_url,
        "sort_columns": SORT_COLUMNS,
        "page_sizes": PAGE_SIZES,
        "default_size": PAGE_SIZE,
        "approval_statuses": APPROVAL_STATUSES,
        "sign_up_statuses": SIGN_UP_STATUSES,
        "back": back,
        "bulk_choices": BULK_CHOICES,
        "selected": selected,
        "bulk_action": bulk_action,
        "bulk_error": bulk_error,
    }
    return page("users/_rows.html" if wants_partial() else "users/list.html", status, **context)


# --- creating ------------------------------------------------------------------------------------------------


@bp.route("/users/new", methods=["GET", "POST"])
@super_user_required
def user_create() -> ViewResponse:
    """Create a user; empty optional fields stay not set."""
    form = CreateUserForm()
    texts = {name: request.form.get(name, "") for name in CREATE_TEXT}
    errors: dict[str, str] = {}
    created = None
    if request.method == "POST":
        data: dict[str, Any] = {"username": texts["username"]}
        data.update({name: texts[name] for name in CREATE_TEXT[1:] if texts[name] != ""})
        if form.password.data:
            data["password"] = form.password.data
        data.update(
            password_must_change=form.password_must_change.data,
            is_locked=form.is_locked.data,
            auto_approve=form.auto_approve.data,
        )
        mismatch = {} if form.password_confirm.validate(form) else {"password_confirm": form.password_confirm.errors[0]}
        try:
            # Boxes that differ are the form's own refusal: the service still checks the rest, so every
            # mistake is reported at once, but writes nothing.
            created = users().create_user(
                cid(), data, *caller_args(), channel="web", user_agent=user_agent(), check_only=bool(mismatch)
            )
        except SSOError as error:
            refused = form_errors(error, (*CREATE_KEYS, "data"))
            if refused is None:
                return refusal(error)
            errors = refused
        errors = {**errors, **mismatch}
        if created is not None and not errors:
            flash(gettext("Created user %(username)s.", username=created["username"]), "success")
            return redirect(url_for("web.user_edit", user_id=created["user_id"]), 303)
    fields = [for_create(name, texts[name], errors.get(name)) for name in CREATE_TEXT]
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
        general_errors=general_errors(errors, (*CREATE_TEXT, "password", "password_confirm")),
    )


# --- editing -------------------------------------------------------------------------------------------------


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
    }
    context["quick_actions"], context["own_refusals"] = offered_actions(user)
    context["sessions"], context["sessions_total"] = newest_sessions(
        users().list_sessions(cid(), user["user_id"], *caller_args())
    )
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


@bp.post("/users/<user_id>/quick")
@super_user_required
def user_quick_action(user_id: str) -> ViewResponse:
    """Lock, unlock, approve or reject in one click (merged like any save; a conflict writes nothing)."""
    action = QUICK_ACTIONS.get(request.form.get("action", ""))
    if action is None:
        return error_page(400, gettext("Unknown action"), gettext("Choose lock, unlock, approve or reject."))
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
@super_user_required
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
            users().change_password(cid(), data, *caller_args(), channel="web", user_agent=user_agent())
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
