"""Forms: they coerce what the browser sent and carry the CSRF token; every rule lives in webapp/sso.

HTML limits (`maxlength`, `minlength`, `required`) come from the service's constants, so the page and
the server cannot disagree. The attribute edit form is not a WTForms form: WTForms cannot tell an
absent field (unchanged) from an empty one, or a cleared one (NULL) from "".
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, StringField
from wtforms.validators import Optional

from ..sso.attributes import ATTRIBUTES, PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX, Attribute
from .merge import canonical, same


class _Missing:
    """Marks a value the form did not carry (not the same as None, which is NULL)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
RESOLUTIONS = ("mine", "theirs")

_PASSWORD_KW = {"maxlength": PASSWORD_MAX, "minlength": PASSWORD_MIN, "autocomplete": "new-password"}


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("Username", id="login-username",
                           render_kw={"maxlength": USERNAME_MAX, "required": True, "autocomplete": "username",
                                      "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField("Password", id="login-password",
                             render_kw={"maxlength": PASSWORD_MAX, "required": True,
                                        "autocomplete": "current-password"})
    next = HiddenField(id="login-next")


class NewPasswordAtLoginForm(FlaskForm):
    """The forced password change at login: the sealed first step plus the new password."""

    pending = HiddenField(id="new-password-pending")
    next = HiddenField(id="new-password-next")
    new_password = PasswordField("New password", id="new-password", render_kw={**_PASSWORD_KW, "required": True})
    confirm_password = PasswordField("New password again", id="new-password-confirm",
                                     render_kw={**_PASSWORD_KW, "required": True})


class ChangePasswordForm(FlaskForm):
    """Changing one's own password."""

    old_password = PasswordField("Current password", id="old-password",
                                 render_kw={"maxlength": PASSWORD_MAX, "required": True,
                                            "autocomplete": "current-password"})
    new_password = PasswordField("New password", id="new-password", render_kw={**_PASSWORD_KW, "required": True})
    confirm_password = PasswordField("New password again", id="confirm-password",
                                     render_kw={**_PASSWORD_KW, "required": True})


class SetPasswordForm(FlaskForm):
    """A super-user setting another user's password."""

    new_password = PasswordField("New password", id="set-password", render_kw={**_PASSWORD_KW, "required": True})
    confirm_password = PasswordField("New password again", id="set-password-confirm",
                                     render_kw={**_PASSWORD_KW, "required": True})
    expiry_days = IntegerField("Expires after (days)", id="set-password-expiry-days", validators=[Optional()],
                               render_kw={"min": 1, "inputmode": "numeric"})
    must_change = BooleanField("Must choose a new password at next login", id="set-password-must-change")


class CreateUserForm(FlaskForm):
    """The inputs of a new user that are not attribute fields (those come from `_field.html`)."""

    password = PasswordField("Password", id="f-password", render_kw=_PASSWORD_KW)
    password_must_change = BooleanField("Must choose a new password at first login", id="f-password_must_change")
    is_locked = BooleanField("Locked", id="f-is_locked")
    auto_approve = BooleanField("Approved (can log in at once)", id="f-auto_approve", default=True)


# --- the attribute edit form -----------------------------------------------------------------------------


def encode_value(value: Any) -> str:
    """A canonical value as carried in a hidden field (JSON; datetimes as ISO 8601 to the second)."""
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%dT%H:%M:%S")
    return json.dumps(value)


def decode_value(attr: Attribute, raw: str | None) -> Any:
    """The canonical value a hidden field carries, or MISSING when it is absent or not ours."""
    if raw is None:
        return MISSING
    try:
        value = json.loads(raw)
    except ValueError:
        return MISSING
    if value is not None and not isinstance(value, (str, bool)):
        return MISSING
    return canonical(attr, value)


def box_text(attr: Attribute, value: Any) -> str:
    """What an input box shows for a canonical value ("" for NULL, which the clear box marks)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return str(value)


@dataclass
class FieldInput:
    """One attribute as a form sent it. `value` is MISSING when the person left it unchanged."""

    name: str
    value: Any = MISSING          # what to send: str (service parses datetimes), bool, or None (clear)
    text: str | None = None       # the box's text as sent (None: the box was not sent, e.g. disabled)
    clear: bool = False
    choice: str = ""              # tri-state / select: "" is "unchanged"
    original: Any = MISSING       # the value the form was rendered from
    conflict_mine: Any = MISSING  # set when the form was re-rendered with a conflict on this field
    resolve: str | None = None    # "mine" / "theirs" for a conflict
    problem: str | None = None    # the input cannot be read (a form matter, not a value rule)

    @property
    def attr(self) -> Attribute:
        return ATTRIBUTES[self.name]


def parse_field(attr: Attribute, form: Mapping[str, str]) -> FieldInput:
    """Coerce one attribute's inputs: box/choice, clear checkbox, original, conflict resolution."""
    name = attr.name
    item = FieldInput(name, original=decode_value(attr, form.get(f"original_{name}")),
                      conflict_mine=decode_value(attr, form.get(f"conflict_{name}")))
    resolve = form.get(f"resolve_{name}")
    item.resolve = resolve if resolve in RESOLUTIONS else None
    if attr.type == "bool":
        item.choice = form.get(name, "")
        choices = {"true": True, "false": False}
        if item.choice in choices:
            item.value = choices[item.choice]
        elif item.choice:
            item.problem = "choose unchanged, yes or no"
    elif attr.type == "enum":
        item.choice = form.get(name, "")
        if item.choice:
            item.value = item.choice
    else:
        item.text = form.get(name)
        item.clear = attr.nullable and f"clear_{name}" in form
        typed = bool(item.text) and canonical(attr, item.text) != item.original
        if item.clear and typed and item.original is None:
            # Not set before, so "clear" was ticked when the page came; typing a value (without
            # the script that disables the box) means that value.
            item.clear, item.value = False, item.text
        elif item.clear:
            item.value = None
            if typed:
                item.problem = "either tick “clear” or type a new value, not both"
        elif item.text is not None:
            item.value = item.text
    if item.conflict_mine is not MISSING and item.value is not MISSING and item.resolve is None:
        item.problem = item.problem or "someone else changed this too: choose to keep yours or take theirs"
    return item


@dataclass
class AttributeForm:
    """The My account / Manage user form: fields, their originals and the version it was rendered at."""

    names: tuple[str, ...]
    fields: dict[str, FieldInput] = field(default_factory=dict)
    version: int | None = None

    @classmethod
    def parse(cls, names: tuple[str, ...], form: Mapping[str, str]) -> "AttributeForm":
        """Read the fields `names` from a submitted form (absent inputs mean unchanged)."""
        parsed = cls(names, {name: parse_field(ATTRIBUTES[name], form) for name in names})
        raw_version = form.get("version", "")
        parsed.version = int(raw_version) if raw_version.isdigit() else None
        return parsed

    def problems(self) -> dict[str, str]:
        """Inputs that could not be read, by field."""
        return {name: item.problem for name, item in self.fields.items() if item.problem}

    def has_all_originals(self) -> bool:
        """Whether every field came with the original value it was rendered from."""
        return all(item.original is not MISSING for item in self.fields.values())

    def originals(self, current: Mapping[str, Any] | None) -> dict[str, Any]:
        """Each field's original; a form without one is compared with what is stored now."""
        return {name: item.original if item.original is not MISSING else canonical(item.attr, current[name])
                for name, item in self.fields.items()}

    def changes(self, originals: Mapping[str, Any]) -> dict[str, Any]:
        """Only what the person changed: sent values that differ from the originals.

        A conflict resolved with "take theirs" is not a change: theirs is already stored.
        """
        changed: dict[str, Any] = {}
        for name, item in self.fields.items():
            if item.value is MISSING or (item.conflict_mine is not MISSING and item.resolve == "theirs"):
                continue
            if not same(name, item.value, originals[name]):
                changed[name] = item.value
        return changed
