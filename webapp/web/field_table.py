"""The fields a console form may hold: the built-in attribute table, and this request's profile fields (SPEC §16).

Profile fields are defined in the database, so a request that draws or reads a form registers the ones it
shows (`register`), each as an `Attribute` of its console type; `attribute(name)` then finds either kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import abort, current_app, g

from ..i18n import gettext, translate
from ..sso.kernel.attributes import ATTRIBUTES, Attribute, check_value
from ..sso.kernel.profile_fields import SELF, TEXT_VALUE_MAX, ProfileField, check_field_value

ANY_USER = "(another user)"  # no user has this id: the fields a super-user edits on anyone's record

# A profile field's type as the console draws it ("enum": a select; the rest their own controls).
CONSOLE_TYPES = {"choice": "enum", "text": "text"}


def as_attribute(f: ProfileField) -> Attribute:
    """A profile field as the attribute forms see it."""
    return Attribute(
        f.name,
        CONSOLE_TYPES.get(f.type, f.type),
        f.nullable and not f.required,
        SELF in f.edit,
        max_length=(f.max_length or TEXT_VALUE_MAX) if f.type == "text" else None,
        min_length=f.min_length if f.type == "text" else None,
        choices=f.option_values,
        label=f.label,
    )


def register(fields: Iterable[ProfileField]) -> tuple[str, ...]:
    """Make `fields` known to this request's forms; returns their names, in form order."""
    known: dict[str, tuple[ProfileField, Attribute]] = g.setdefault("profile_attributes", {})
    names = []
    for f in fields:
        known[f.name] = (f, as_attribute(f))
        names.append(f.name)
    return tuple(names)


def profile_field(name: str) -> ProfileField | None:
    """The registered profile field `name`, or None."""
    found = g.get("profile_attributes", {}).get(name)
    return found[0] if found else None


def attribute(name: str) -> Attribute:
    """The built-in attribute or registered profile field `name` (KeyError when neither)."""
    if name in ATTRIBUTES:
        return ATTRIBUTES[name]
    return g.get("profile_attributes", {})[name][1]


def known(name: str) -> bool:
    return name in ATTRIBUTES or name in g.get("profile_attributes", {})


def check(name: str, value: Any) -> tuple[Any, str | None]:
    """The service's value rule for `name` (a built-in attribute or a registered profile field)."""
    f = profile_field(name)
    return check_field_value(f, value) if f is not None else check_value(ATTRIBUTES[name], value)


def groups_of(names: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Registered profile fields by their group (SPEC §16's sections), in form order; "Profile" when none."""
    sections: dict[str, list[str]] = {}
    for name in names:
        f = profile_field(name)
        if f is not None:
            sections.setdefault(f.group or gettext("Profile"), []).append(name)
    return list(sections.items())


def refuse_profile_fields_outside(editable: Iterable[str], form: Any, also: Iterable[str] = ()) -> None:
    """The 403 page, naming them, for a crafted form carrying an active profile field the caller may not edit
    here (one they may not even view too: SPEC §16 refuses a forbidden write, never drops it); `also`: the
    labels of built-in attributes refused alike, named in the same message."""
    allowed = set(editable)
    named = list(also) + [
        translate(f.label) or f.name
        for f in current_app.extensions["sso"].profile_fields()
        if f.name not in allowed
        and any(key in form for key in (f.name, f"clear_{f.name}", f"choices_{f.name}", f"resolve_{f.name}"))
    ]
    if named:
        abort(403, description=gettext("You may not change %(fields)s. Nothing was saved.", fields=", ".join(named)))
