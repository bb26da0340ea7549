"""How one attribute field is shown: the state `_field.html` renders, from a user or from a sent form."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import url_for

from ..sso.attributes import ATTRIBUTES, Attribute
from .forms import MISSING, FieldInput, box_text, encode_value
from .merge import canonical

CONTEXTS = ("account", "user", "create")

HELP = {
    "username": "Used to log in. No spaces.",
    "email": "To remove the address, tick “clear”.",
    "display_name": "The name shown to others.",
    "password_expiry": "Date and time in UTC. Tick “never expires” for no expiry.",
    "is_locked": "A locked user cannot log in or use their sessions.",
    "password_must_change": "The user must choose a new password at their next login.",
}


@dataclass
class FieldView:
    """Everything `_field.html` needs to draw one attribute's control, its state and its messages."""

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

    @property
    def attr(self) -> Attribute:
        return ATTRIBUTES[self.name]

    @property
    def label(self) -> str:
        return self.attr.label

    @property
    def kind(self) -> str:
        return self.attr.type

    @property
    def input_id(self) -> str:
        return f"f-{self.name}"

    @property
    def clearable(self) -> bool:
        return self.attr.nullable and self.context != "create"

    @property
    def tristate(self) -> bool:
        return self.kind in ("bool", "enum")

    @property
    def validates_inline(self) -> bool:
        return not self.tristate

    @property
    def validate_url(self) -> str:
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
        if self.context == "create" and self.attr.nullable:
            return "Optional: leave empty for not set."
        return HELP.get(self.name)

    @property
    def described_by(self) -> str:
        ids = [f"{self.input_id}-state"] if self.has_original and not self.tristate else []
        if self.help:
            ids.append(f"{self.input_id}-help")
        if self.in_conflict:
            ids.append(f"{self.input_id}-conflict")
        ids.append(f"{self.input_id}-error")
        return " ".join(ids)


def from_user(name: str, context: str, user: Mapping[str, Any]) -> FieldView:
    """A field showing what is stored for `user`."""
    attr = ATTRIBUTES[name]
    value = canonical(attr, user[name])
    return FieldView(name, context, text=box_text(attr, value), clear=value is None, original=value)


def from_input(item: FieldInput, context: str, original: Any, error: str | None = None) -> FieldView:
    """A field showing what the person sent (after an error, or while typing)."""
    attr = item.attr
    # A box that was not sent (disabled by a ticked "clear") keeps showing the stored value, so that
    # unticking "clear" gives it back instead of leaving an empty box that would save "".
    shown = None if original is MISSING else original
    text = item.text if item.text is not None else box_text(attr, shown)
    view = FieldView(item.name, context, text=text, clear=item.clear, choice=item.choice, original=original,
                     error=error or item.problem, resolve=item.resolve)
    if item.conflict_mine is not MISSING and item.value is not MISSING:
        view.conflict_mine, view.conflict_theirs = item.conflict_mine, original
    return view


def for_create(name: str, text: str = "", error: str | None = None) -> FieldView:
    """A field of the create-user form (no original, no clear box: empty means not set)."""
    return FieldView(name, "create", text=text, error=error)
