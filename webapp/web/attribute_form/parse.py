"""What the browser sent in an attribute form, coerced field by field; every value rule lives in webapp/sso.

Not a WTForms form: WTForms cannot tell an absent field (unchanged) from an empty one, or a cleared
one (NULL) from "".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from ...i18n import gettext, translate
from ...sso.kernel.attributes import Attribute
from ..field_table import as_attribute, attribute, profile_field
from .values import MISSING, canonical, decode_value, same

RESOLUTIONS = ("mine", "theirs")


@dataclass
class FieldInput:
    """One attribute as a form sent it. `value` is MISSING when the person left it unchanged."""

    name: str
    value: Any = MISSING  # what to send: str (service parses datetimes), bool, or None (clear)
    text: str | None = None  # the box's text as sent (None: the box was not sent, e.g. disabled)
    clear: bool = False
    choice: str = ""  # tri-state / select: "" is "unchanged"
    original: Any = MISSING  # the value the form was rendered from
    conflict_mine: Any = MISSING  # set when the form was re-rendered with a conflict on this field
    resolve: str | None = None  # "mine" / "theirs" for a conflict
    problem: str | None = None  # the input cannot be read (a form matter, not a value rule)

    @property
    def attr(self) -> Attribute:
        return attribute(self.name)


def parse_field(attr: Attribute, form: Mapping[str, str]) -> FieldInput:
    """Coerce one attribute's inputs: box/choice, clear checkbox, original, conflict resolution."""
    name = attr.name
    item = FieldInput(
        name,
        original=decode_value(attr, form.get(f"original_{name}")),
        conflict_mine=decode_value(attr, form.get(f"conflict_{name}")),
    )
    resolve = form.get(f"resolve_{name}")
    item.resolve = resolve if resolve in RESOLUTIONS else None
    if attr.type == "bool":
        item.choice = form.get(name, "")
        choices = {"true": True, "false": False}
        if item.choice in choices:
            item.value = choices[item.choice]
        elif item.choice:
            item.problem = gettext("choose unchanged, yes or no")
    elif attr.type == "enum":
        item.choice = form.get(name, "")
        item.clear = attr.nullable and f"clear_{name}" in form
        _clear_or(item, item.choice or MISSING)
    elif attr.type == "choices":
        # A hidden `choices_NAME` says the boxes were drawn: none ticked is then the empty set, not "unchanged".
        item.clear = attr.nullable and f"clear_{name}" in form
        chosen: Any = MISSING
        if f"choices_{name}" in form:
            getlist = getattr(form, "getlist", None)
            chosen = list(getlist(name)) if getlist else [form[name]] if name in form else []
        _clear_or(item, chosen or (MISSING if item.clear else chosen))
    else:
        item.text = form.get(name)
        item.clear = attr.nullable and f"clear_{name}" in form
        typed = bool(item.text) and canonical(attr, item.text) != item.original
        if item.clear and typed and item.original is None:
            # Not set before, so "clear" was ticked when the page came; typing a value (without
            # the script that disables the box) means that value.
            item.clear, item.value = False, canonical(attr, item.text)
        elif item.clear:
            item.value = None
            if typed:
                item.problem = gettext("either tick “clear” or type a new value, not both")
        elif item.text == "" and item.original is None and not attr.nullable:
            # No clear box: an empty box is how NULL is drawn, so an empty box over NULL is untouched.
            pass
        elif item.text == "" and _required(name):
            # A required field's box emptied: its value removed, which the service refuses as "is required"
            # (not as the empty text breaking the field's regex or type).
            item.value = None
        elif item.text is not None:
            item.value = canonical(attr, item.text)
    if item.conflict_mine is not MISSING and item.value is not MISSING and item.resolve is None:
        item.problem = item.problem or gettext("someone else changed this too: choose to keep yours or take theirs")
    return item


def retired_fields_sent(form: Any) -> list[str]:
    """The labels of retired profile fields that a form opened before they were retired carries a changed
    value of (nothing is written to a retired field: the person is told so, SPEC §16)."""
    labels = []
    for f in current_app.extensions["sso"].retired_profile_fields():
        if not any(key in form for key in (f.name, f"clear_{f.name}", f"choices_{f.name}")):
            continue
        attr = as_attribute(f)
        item = parse_field(attr, form)
        if item.value is MISSING or item.problem:
            continue
        if item.original is MISSING or canonical(attr, item.value) != item.original:
            labels.append(translate(f.label) or f.name)
    return labels


def _required(name: str) -> bool:
    """Whether `name` is a required profile field (built-in attributes have no such rule)."""
    f = profile_field(name)
    return f is not None and f.required


def _clear_or(item: FieldInput, chosen: Any) -> None:
    """A select or a set of boxes beside a "clear" box: a choice made while "clear" stayed ticked from a
    not-set value is that choice; a choice made and "clear" ticked on a value is a problem; else as chosen."""
    if not item.clear:
        item.value = chosen
    elif chosen is MISSING or chosen == []:
        item.value = None
    elif item.original is None:
        item.clear, item.value = False, chosen
    else:
        item.value = None
        item.problem = gettext("either tick “clear” or choose a new value, not both")


@dataclass
class AttributeForm:
    """The My account / Manage user form: fields, their originals and the version it was rendered at."""

    names: tuple[str, ...]
    fields: dict[str, FieldInput] = field(default_factory=dict)
    version: int | None = None
    version_problem: str | None = None

    @classmethod
    def parse(cls, names: tuple[str, ...], form: Mapping[str, str]) -> AttributeForm:
        """Read the fields `names` from a submitted form (absent inputs mean unchanged)."""
        parsed = cls(names, {name: parse_field(attribute(name), form) for name in names})
        raw_version = form.get("version", "")
        # ASCII digits only, at most 18 ("²".isdigit() is true; int() of 5000 digits raises)
        if re.fullmatch(r"[0-9]{1,18}", raw_version):
            parsed.version = int(raw_version)
        elif raw_version:  # sent but unreadable: refused, never taken for "no version" (a save without a check)
            parsed.version_problem = gettext("the form's version is not a number; reload the page and try again")
        return parsed

    def problems(self) -> dict[str, str]:
        """Inputs that could not be read, by field."""
        problems = {name: item.problem for name, item in self.fields.items() if item.problem}
        if self.version_problem:
            problems["version"] = self.version_problem
        return problems

    def has_all_originals(self) -> bool:
        """Whether every field came with the original value it was rendered from."""
        return all(item.original is not MISSING for item in self.fields.values())

    def originals(self, current: Mapping[str, Any] | None) -> dict[str, Any]:
        """Each field's original; a form without one is compared with what is stored now (`current`)."""
        originals = {}
        for name, item in self.fields.items():
            if item.original is not MISSING:
                originals[name] = item.original
            else:
                assert current is not None, "a form missing an original is compared with the stored user"
                originals[name] = canonical(item.attr, current[name])
        return originals

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
