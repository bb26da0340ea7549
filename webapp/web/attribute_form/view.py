"""What `fields/_field.html` draws for one attribute, from a user or from a sent form; the form's groups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import url_for

from ...i18n import gettext, lazy_gettext, translate
from ...sso.kernel.attributes import ATTRIBUTES, NAME_ATTRIBUTES, Attribute
from ..field_table import attribute, groups_of, profile_field
from .parse import AttributeForm, FieldInput
from .save import Editor, Outcome
from .values import MISSING, box_text, canonical, encode_value

CONTEXTS = ("account", "user", "create")  # My account, Manage user, New user
NEW = ("create", "signup")  # the forms of a new account (sign-up: its own validation, for anyone)
IDENTITY = ("username", "email", *NAME_ATTRIBUTES, "locale")  # who the user is; the rest is access

HELP = {
    "username": lazy_gettext("Used to log in. No spaces."),
    "email": lazy_gettext("To remove the address, tick “clear”."),
    "display_name": lazy_gettext("The name shown to others."),
    "password_expiry": lazy_gettext("Date and time in UTC. Tick “never expires” for no expiry."),
    "is_locked": lazy_gettext("A locked user cannot log in or use their sessions."),
    "password_must_change": lazy_gettext("The user must choose a new password at their next login."),
}
# A browser may fill in one's own details; never another user's (the Manage user form).
OWN_AUTOCOMPLETE = {
    "username": "username",
    "email": "email",
    "first_name": "given-name",
    "middle_name": "additional-name",
    "last_name": "family-name",
    "display_name": "nickname",
}
CONFLICT_MESSAGE = lazy_gettext(
    "Someone else saved %(subject)s while you were editing, and changed some of the same fields. "
    "Nothing was saved. For each field marked below, keep yours or take theirs, then save again."
)


@dataclass
class FieldView:
    """Everything `fields/_field.html` needs to draw one attribute's control, its state and its messages."""

    name: str
    context: str
    text: str = ""
    clear: bool = False
    choice: str = ""
    original: Any = MISSING
    error: str | None = None
    conflict_mine: Any = MISSING
    conflict_theirs: Any = MISSING
    resolve: str | None = None
    sent: Any = MISSING  # a set of options as sent (the boxes' state after an error)
    view_only: bool = False  # shown, not editable: the reader's roles do not allow changing it (SPEC §17)

    @property
    def attr(self) -> Attribute:
        return attribute(self.name)

    @property
    def label(self) -> str:
        return translate(self.attr.label) or self.name

    @property
    def value_type(self) -> str:
        """The attribute's type ("text", "email", "username", "bool", "enum", "datetime")."""
        return self.attr.type

    @property
    def input_id(self) -> str:
        return f"f-{self.name}"

    @property
    def first_input_id(self) -> str:
        """Where a link to this field lands (a yes/no field's first radio button)."""
        return f"{self.input_id}-unchanged" if self.value_type == "bool" else self.input_id

    @property
    def clearable(self) -> bool:
        return self.attr.nullable and self.context not in NEW

    @property
    def for_new(self) -> bool:
        """A field of a new account's form (nothing stored yet: "not set" rather than "unchanged")."""
        return self.context in NEW

    @property
    def tristate(self) -> bool:
        return self.value_type in ("bool", "enum", "choices")

    @property
    def selected(self) -> list[str]:
        """A set of options' ticked boxes: what was sent, else what is stored."""
        if isinstance(self.sent, list):
            return self.sent
        return self.original if isinstance(self.original, list) else []

    @property
    def autocomplete(self) -> str:
        return OWN_AUTOCOMPLETE.get(self.name, "off") if self.context == "account" else "off"

    @property
    def validate_url(self) -> str:
        if self.context == "signup":
            return url_for("web.validate_signup_field", name=self.name)
        return url_for("web.validate_field", context=self.context, name=self.name)

    @property
    def has_original(self) -> bool:
        return self.original is not MISSING

    @property
    def original_json(self) -> str:
        return encode_value(self.original)

    @property
    def in_conflict(self) -> bool:
        return self.conflict_theirs is not MISSING

    @property
    def conflict_json(self) -> str:
        return encode_value(self.conflict_mine)

    @property
    def help(self) -> str | None:
        if self.context in NEW and self.attr.nullable:
            return gettext("Optional: leave empty for not set.")
        found = profile_field(self.name)
        if found is not None and found.required and self.context in NEW:
            return " ".join(filter(None, (gettext("Required."), translate(found.description))))
        return (
            (translate(found.description) or None)
            if found is not None
            else (str(HELP[self.name]) if self.name in HELP else None)
        )

    @property
    def described_by(self) -> str:
        ids = [f"{self.input_id}-state"] if self.has_original and not self.tristate else []
        if self.help:
            ids.append(f"{self.input_id}-help")
        if self.in_conflict:
            ids.append(f"{self.input_id}-conflict")
        ids.append(f"{self.input_id}-error")
        return " ".join(ids)


def in_console_words(attr: Attribute, message: str | None) -> str | None:
    """A value rule's message as the console's controls put it: a date is typed in the picker's own format,
    so the API's "ISO 8601" wording would mislead."""
    if message and attr.type == "datetime" and "ISO 8601" in message:
        if attr.nullable:
            return gettext("must be a whole date and time, as the picker shows it, or tick “Never expires”")
        return gettext("must be a whole date and time, as the picker shows it")
    return message


def from_user(name: str, context: str, user: Mapping[str, Any]) -> FieldView:
    """A field showing what is stored for `user`."""
    value = canonical(attribute(name), user[name])
    return FieldView(name, context, text=box_text(value), clear=value is None, original=value)


def view_only(name: str, user: Mapping[str, Any], context: str = "user") -> FieldView:
    """A field its reader may see but not change: its value as text, no control."""
    view = from_user(name, context, user)
    view.view_only = True
    return view


def from_input(item: FieldInput, context: str, original: Any, error: str | None = None) -> FieldView:
    """A field showing what the person sent (after an error, or while typing)."""
    # A box that was not sent (disabled by a ticked "clear") keeps showing the stored value, so that
    # unticking "clear" gives it back instead of leaving an empty box that would save "".
    shown = None if original is MISSING else original
    text = item.text if item.text is not None else box_text(shown)
    view = FieldView(
        item.name,
        context,
        text=text,
        clear=item.clear,
        choice=item.choice,
        original=original,
        error=in_console_words(item.attr, error or item.problem),
        resolve=item.resolve,
        sent=item.value if isinstance(item.value, list) else MISSING,
    )
    if item.conflict_mine is not MISSING and item.value is not MISSING:
        view.conflict_mine, view.conflict_theirs = item.conflict_mine, original
    return view


def for_create(name: str, text: str = "", error: str | None = None) -> FieldView:
    """A field of the create-user form (no original, no clear box: empty means not set)."""
    return FieldView(name, "create", text=text, error=error)


def groups(fields: list[FieldView]) -> list[tuple[str, list[FieldView]]]:
    """The Manage user form's fieldsets: Identity, then Access, then the profile fields' groups (SPEC §16)."""
    by_name = {f.name: f for f in fields}
    builtin = [f for f in fields if f.name in ATTRIBUTES]
    sections = [
        (gettext("Identity"), [f for f in builtin if f.name in IDENTITY]),
        (gettext("Access"), [f for f in builtin if f.name not in IDENTITY]),
    ]
    return sections + [(title, [by_name[n] for n in names]) for title, names in groups_of(by_name)]


def profile_groups(fields: list[FieldView]) -> list[tuple[str, list[FieldView]]]:
    """Only the profile fields' groups (My account draws its built-ins itself)."""
    by_name = {f.name: f for f in fields}
    return [(title, [by_name[n] for n in names]) for title, names in groups_of(by_name)]


def conflict_message(outcome: Outcome | None, subject: str) -> str | None:
    """The notice above a form whose save met someone else's changes to the same fields."""
    return str(CONFLICT_MESSAGE % {"subject": subject}) if outcome and outcome.conflicts else None


def views_for(editor: Editor, user: Mapping[str, Any]) -> list[FieldView]:
    """Fields showing what is stored."""
    return [from_user(name, editor.context, user) for name in editor.names]


def views_after(editor: Editor, form: AttributeForm, outcome: Outcome) -> tuple[list[FieldView], int | None]:
    """Fields after a refused save, and the version the form should carry.

    After a conflict the form is rebased on what is stored now: each field's original becomes the
    current value, fields the person did not change show the current value, and every conflicting
    field asks "keep yours / take theirs". After any other error the form keeps its originals.
    """
    current = outcome.current
    views: list[FieldView] = []
    if outcome.conflicts and current is not None:
        for name in editor.names:
            item = form.fields[name]
            theirs = canonical(item.attr, current[name])
            if name in outcome.sent or name in outcome.conflicts:
                view = from_input(item, editor.context, theirs)
                if name in outcome.conflicts:
                    mine, _ = outcome.conflicts[name]
                    view.conflict_mine, view.conflict_theirs = canonical(item.attr, mine), theirs
                    view.resolve = None
                view.error = None
            else:
                view = from_user(name, editor.context, current)
            views.append(view)
        return views, current.version
    for name in editor.names:
        item = form.fields[name]
        if item.original is not MISSING:
            original = item.original
        elif current is not None:
            original = canonical(item.attr, current[name])
        else:
            original = MISSING
        views.append(from_input(item, editor.context, original, outcome.errors.get(name)))
    return views, form.version
