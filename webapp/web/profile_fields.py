"""Profile fields (SPEC §16) for holders of `schema.manage` (super-users hold it): the list, add, edit (with
the dry run of a tightening change), reorder, retire and delete (typing the field's name). The rules are the
service's; this only reads forms."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, request, url_for

from ..i18n import gettext, lazy_gettext
from ..sso import SSOError
from ..sso.kernel.permissions import SCHEMA_MANAGE
from ..sso.kernel.profile_fields import FLAGS, SELF, TRANSLATED_KEYS, TRANSLATED_LOCALES, TYPES, ProfileField
from ..sso.kernel.texts import _t
from .auth import permission_required, service
from .blueprint import bp
from .refusals import form_errors
from .responses import ViewResponse, error_page, page, refusal

DEFINITION_FLAGS = tuple(flag for flag in FLAGS if flag != "retired")
NUMBERS = ("min_length", "max_length", "minimum", "maximum", "position")
TEXTS = ("label", "description", "type", "regex", "regex_message", "group", "scim_path")
# The label and description in the other shipped languages: inputs named as the service names their errors.
TRANSLATION_INPUTS = tuple(f"translations.{locale}.{key}" for locale in TRANSLATED_LOCALES for key in TRANSLATED_KEYS)
FORM_KEYS = (*TEXTS, *NUMBERS, "options", *DEFINITION_FLAGS, "view", "edit", *TRANSLATION_INPUTS)
FLAG_LABELS = {
    "nullable": lazy_gettext("Nullable"),
    "required": lazy_gettext("Required"),
    "unique": lazy_gettext("Unique"),
    "searchable": lazy_gettext("Searchable"),
    "list_column": lazy_gettext("List column"),
    "sensitive": lazy_gettext("Sensitive"),
}
FLAG_HELP = {
    "nullable": lazy_gettext("May be cleared (no value)."),
    "required": lazy_gettext("Every user must have a value (asked at sign-up and create)."),
    "unique": lazy_gettext("No two users share a value (case-insensitive for text)."),
    "searchable": lazy_gettext("A filter of the user list and of user/search."),
    "list_column": lazy_gettext("A column of the user list."),
    "sensitive": lazy_gettext("Audited only as “(changed)”; left out of CSV exports."),
}
# What each type is called on the pages (the value, the type's name in the API and the export, stays English).
TYPE_LABELS = {
    "text": lazy_gettext("Text"),
    "email": lazy_gettext("Email address"),
    "url": lazy_gettext("Web address (http or https)"),
    "phone": lazy_gettext("Phone number"),
    "integer": lazy_gettext("Whole number"),
    "bool": lazy_gettext("Yes or no"),
    "date": lazy_gettext("Date"),
    "choice": lazy_gettext("One option of a list"),
    "choices": lazy_gettext("Several options of a list"),
}


def definition_from_form(form: Mapping[str, str], *, new: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The definition a form describes, and the inputs that cannot be read (by key)."""
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    if new:
        data["name"] = form.get("name", "").strip()
    for key in TEXTS:
        data[key] = form.get(key, "").strip() or (None if key in ("regex", "regex_message", "scim_path") else "")
    for key in NUMBERS:
        text = form.get(key, "").strip()
        if not text:
            data[key] = 0 if key == "position" else None
        elif re.fullmatch(r"-?[0-9]{1,19}", text):
            data[key] = int(text)
        else:
            problems[key] = _t("must be a whole number")
    options = []
    for line in form.get("options", "").splitlines():
        if line.strip():
            value, _, label = line.partition("=")
            options.append({"value": value.strip(), "label": label.strip() or value.strip()})
    data["options"] = options
    for key in DEFINITION_FLAGS:
        data[key] = key in form
    for key in ("view", "edit"):
        roles = [role.strip() for role in form.get(f"{key}_roles", "").split(",") if role.strip()]
        data[key] = ([SELF] if f"{key}_self" in form else []) + roles
    if not new and "position" not in form:
        data.pop("position")
    data["translations"] = translations_from_form(form)
    return data, problems


def form_values(f: ProfileField | None) -> dict[str, Any]:
    """What the edit form shows for `f` (a new field: the defaults)."""
    if f is None:
        return {"type": "text", "nullable": True, "view_self": True, "edit_self": True}
    shown = f.definition()
    shown["options"] = "\n".join(
        o["value"] if o["label"] == o["value"] else f"{o['value']} = {o['label']}" for o in shown["options"]
    )
    for key in ("view", "edit"):
        shown[f"{key}_self"] = SELF in shown[key]
        shown[f"{key}_roles"] = ", ".join(role for role in shown[key] if role != SELF)
    shown.update(translation_values(f))
    return shown


def _edit_page(
    f: ProfileField | None, values: Mapping[str, Any], errors: Mapping[str, str], status: int = 200, dry_run=None
) -> ViewResponse:
    return page(
        "profile_fields/edit.html",
        status,
        field=f,
        values=values,
        errors=errors,
        types=TYPES,
        flags=DEFINITION_FLAGS,
        flag_help=FLAG_HELP,
        flag_labels=FLAG_LABELS,
        type_labels=TYPE_LABELS,
        dry_run=dry_run,
    )


def _sent_values(form: Mapping[str, str]) -> dict[str, Any]:
    shown: dict[str, Any] = {key: form.get(key, "") for key in (*TEXTS, *NUMBERS, "options", "name")}
    for key in DEFINITION_FLAGS:
        shown[key] = key in form
    for key in ("view", "edit"):
        shown[f"{key}_self"] = f"{key}_self" in form
        shown[f"{key}_roles"] = form.get(f"{key}_roles", "")
    shown.update({key: form.get(key, "") for key in TRANSLATION_INPUTS})
    return shown


@bp.get("/profile-fields")
@permission_required(SCHEMA_MANAGE)
def profile_fields() -> ViewResponse:
    """Every profile field, in form order, with what can be done to each."""
    try:
        fields = service().profile_fields()
    except SSOError as error:
        return refusal(error)
    return page("profile_fields/list.html", fields=fields, type_labels=TYPE_LABELS)


@bp.get("/profile-fields/new")
@permission_required(SCHEMA_MANAGE)
def profile_field_new() -> ViewResponse:
    """The form for a new field."""
    return _edit_page(None, form_values(None), {})


@bp.post("/profile-fields/new")
@permission_required(SCHEMA_MANAGE)
def profile_field_create() -> ViewResponse:
    """Add a field (immediate: no stored value can break a new field)."""
    data, problems = definition_from_form(request.form, new=True)
    if problems:
        return _edit_page(None, _sent_values(request.form), problems, 422)
    try:
        created = service().define_profile_field(data)
    except SSOError as error:
        errors = form_errors(error, ("name", *FORM_KEYS))
        if errors is None:
            return refusal(error)
        return _edit_page(None, _sent_values(request.form), errors, 422)
    flash(gettext("Profile field %(name)s added.", name=created.name), "success")
    return redirect(url_for("web.profile_fields"), 303)


def _no_such_field(name: str) -> ViewResponse:
    return error_page(404, gettext("No such profile field"), gettext("No profile field is called %(name)s.", name=name))


def _field(name: str) -> ProfileField | None:
    return next((f for f in service().profile_fields() if f.name == name), None)


@bp.get("/profile-fields/<name>")
@permission_required(SCHEMA_MANAGE)
def profile_field_edit(name: str) -> ViewResponse:
    """One field's definition, to change."""
    try:
        f = _field(name)
    except SSOError as error:
        return refusal(error)
    if f is None:
        return _no_such_field(name)
    return _edit_page(f, form_values(f), {})


@bp.post("/profile-fields/<name>")
@permission_required(SCHEMA_MANAGE)
def profile_field_save(name: str) -> ViewResponse:
    """Change a field. A change stored values break shows the dry run first and is refused while any do,
    unless the administrator ticks "clear the values that break it" (nullable fields only)."""
    try:
        f = _field(name)
        if f is None:
            return _no_such_field(name)
        data, problems = definition_from_form(request.form, new=False)
        if problems:
            return _edit_page(f, _sent_values(request.form), problems, 422)
        clear = request.form.get("clear_violations") == "yes"
        found = service().profile_field_dry_run(name, data)
        if found.count and not clear:
            return _edit_page(f, _sent_values(request.form), {}, 409, dry_run=found)
        service().change_profile_field(name, data, clear_violations=clear)
    except SSOError as error:
        errors = form_errors(error, ("name", *FORM_KEYS))
        if errors is None:
            return refusal(error)
        return _edit_page(f, _sent_values(request.form), errors, 422)
    flash(gettext("Profile field %(name)s saved.", name=name), "success")
    return redirect(url_for("web.profile_fields"), 303)


@bp.post("/profile-fields/<name>/retire")
@permission_required(SCHEMA_MANAGE)
def profile_field_retire(name: str) -> ViewResponse:
    """Retire a field (hidden, no writes, values kept) or bring it back."""
    retired = request.form.get("retired") != "no"
    try:
        service().retire_profile_field(name, retired=retired)
    except SSOError as error:
        return refusal(error)
    if retired:
        flash(gettext("Profile field %(name)s retired.", name=name), "success")
    else:
        flash(gettext("Profile field %(name)s brought back.", name=name), "success")
    return redirect(url_for("web.profile_fields"), 303)


@bp.post("/profile-fields/<name>/move")
@permission_required(SCHEMA_MANAGE)
def profile_field_move(name: str) -> ViewResponse:
    """Move a field one place up or down in the forms' order."""
    try:
        names = [f.name for f in service().profile_fields()]
        if name in names:
            index = names.index(name)
            other = index - 1 if request.form.get("direction") == "up" else index + 1
            if 0 <= other < len(names):
                names[index], names[other] = names[other], names[index]
                service().reorder_profile_fields(names)
    except SSOError as error:
        return refusal(error)
    return redirect(url_for("web.profile_fields", _anchor=f"field-row-{name}"), 303)


@bp.get("/profile-fields/<name>/delete")
@permission_required(SCHEMA_MANAGE)
def profile_field_delete_confirm(name: str) -> ViewResponse:
    """Ask for the field's name before deleting it and every value of it."""
    return page("profile_fields/delete.html", name=name, error=None)


@bp.post("/profile-fields/<name>/delete")
@permission_required(SCHEMA_MANAGE)
def profile_field_delete(name: str) -> ViewResponse:
    """Delete a field and its values, once its name was typed."""
    try:
        service().delete_profile_field(name, request.form.get("confirm", "").strip())
    except SSOError as error:
        errors = form_errors(error, ("confirm",))
        if errors is None:
            return refusal(error)
        return page("profile_fields/delete.html", 422, name=name, error=errors.get("confirm"))
    flash(gettext("Profile field %(name)s deleted, with its values.", name=name), "success")
    return redirect(url_for("web.profile_fields"), 303)


# --- the label and description in other languages (SPEC §16, §22) ----------------------------------------------


def translations_from_form(form: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The `translations` the form's inputs describe (an empty input: not translated, the source text is shown)."""
    found: dict[str, dict[str, str]] = {}
    for locale in TRANSLATED_LOCALES:
        for key in TRANSLATED_KEYS:
            text = form.get(f"translations.{locale}.{key}", "").strip()
            if text:
                found.setdefault(locale, {})[key] = text
    return found


def translation_values(f: ProfileField) -> dict[str, str]:
    """The translation inputs' values for `f`."""
    given = f.translations or {}
    return {
        f"translations.{locale}.{key}": given.get(locale, {}).get(key, "")
        for locale in TRANSLATED_LOCALES
        for key in TRANSLATED_KEYS
    }
