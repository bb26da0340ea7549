"""Profile fields (SPEC §16): an organisation's own user attributes, defined in the database.

Beside the attribute table of `attributes.py`, and with the same habits: each rule lives here once (a
definition's rules, a value's rules, who may view and edit), the services and the faces import them.
A value is stored as one row of `sso_profile_value` per user and field, in the typed column of its
type (docs/DECISIONS.md says why).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import regex as regex_package

from .attributes import ATTRIBUTES, EMAIL_MAX, READ_ONLY, fold, is_valid_email, text_problem
from .errors import FieldErrors
from .texts import (
    LOCALES,
    SOURCE_LOCALE,
    Localized,
    _t,
    at_least_characters,
    at_most_characters,
    text_of_at_most_characters,
)

MAX_FIELDS = 100
TEXT_VALUE_MAX = 4096  # characters of one text value (SPEC §16: at most 4 KiB)
CHOICES_MAX = 50  # options of a choice / choices field, and values of a choices value
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
LABEL_MAX = 256
DESCRIPTION_MAX = 1024
REGEX_MAX = 512
# Seconds one value may take to match a field's regex (a catastrophic pattern must not tie up a worker).
REGEX_TIMEOUT = 0.1
OPTION_MAX = 256
URL_MAX = 2048
PHONE_MAX = 64
SCIM_PATH_MAX = 512
GROUP_MAX = 128

TYPES = ("text", "email", "url", "phone", "integer", "bool", "date", "choice", "choices")
STRING_TYPES = ("text", "email", "url", "phone", "choice")  # a SCIM string

# SCIM (SPEC §21): a field's `scim_path` names an attribute of the enterprise extension (RFC 7643 §4.3), or
# one of our own extension schema for the rest. `manager` is a reference to another User, no field's value.
SCIM_ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SCIM_PROFILE = "urn:ietf:params:scim:schemas:extension:sso:2.0:User"
SCIM_ENTERPRISE_ATTRIBUTES = ("employeeNumber", "costCenter", "organization", "division", "department")
SCIM_ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
SELF = "self"  # the person the record is about, in a field's view and edit sets

# Never a field's name: the envelope and response keys of the wire, the built-in and read-only
# attributes, and every column of the user table (they share the user's mapping in the service).
RESERVED_NAMES = frozenset(
    {
        "ust",
        "current_ust",
        "target_ust",
        "current_app",
        "user_id",
        "cid",
        "status",
        "sub_status",
        "errors",
        "result",
        "details",
        "password",
        "old_password",
        "new_password",
        "totp_code",
        "auto_approve",
        "app_list",
        "is_rate_limit_active",
        "rate_limit_def",
        "password_hash",
        "totp_last_step",
        "deletion_time",
        "required_actions",
        "locale",
        "roles",
        *ATTRIBUTES,
        *READ_ONLY,
        *(f"{name}_search" for name in ATTRIBUTES),
    }
)

# The keys of a definition, as the administration, the export and the audit name them.
DEFINITION_KEYS = (
    "name",
    "label",
    "description",
    "translations",
    "type",
    "min_length",
    "max_length",
    "regex",
    "regex_message",
    "minimum",
    "maximum",
    "options",
    "nullable",
    "required",
    "unique",
    "view",
    "edit",
    "searchable",
    "list_column",
    "sensitive",
    "group",
    "position",
    "scim_path",
    "retired",
)
FLAGS = ("nullable", "required", "unique", "searchable", "list_column", "sensitive", "retired")
# A change of these can make stored values break the definition: the administration runs a dry run first.
TIGHTENING_KEYS = ("type", "min_length", "max_length", "regex", "minimum", "maximum", "options", "required", "unique")


@dataclass(frozen=True)
class ProfileField:
    """One profile field's definition, as stored."""

    id: int
    name: str
    label: str
    type: str
    description: str = ""
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    regex_message: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    nullable: bool = True
    required: bool = False
    unique: bool = False
    view: tuple[str, ...] = (SELF,)
    edit: tuple[str, ...] = (SELF,)
    searchable: bool = False
    list_column: bool = False
    sensitive: bool = False
    group: str = ""
    position: int = 0
    scim_path: str | None = None
    retired: bool = False
    version: int = 1
    # locale → {"label": ..., "description": ...}: the label and description in the other shipped languages
    # (`label` and `description` are `Localized` with them); None when there are none
    translations: Mapping[str, Mapping[str, str]] | None = field(default=None, hash=False)

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.options)

    def definition(self) -> dict[str, Any]:
        """The definition as the export, the audit and the administration's forms show it."""
        shown: dict[str, Any] = {}
        for key in DEFINITION_KEYS:
            value = getattr(self, key)
            if key == "options":
                value = [{"value": v, "label": label} for v, label in value]
            elif key in ("view", "edit"):
                value = list(value)
            elif key == "translations":
                value = {locale: dict(texts) for locale, texts in value.items()} if value else None
            else:
                value = str(value) if isinstance(value, Localized) else value
            shown[key] = value
        return shown


@dataclass(frozen=True)
class ProfileSchema:
    """Every defined field (retired ones included), in form order."""

    fields: tuple[ProfileField, ...] = ()
    by_name: Mapping[str, ProfileField] = field(default_factory=dict)
    version: int = 0  # the schema version these definitions were read at (sso_profile_schema; 0: unknown)

    @classmethod
    def of(cls, fields: Iterable[ProfileField], *, version: int = 0) -> ProfileSchema:
        ordered = tuple(sorted(fields, key=lambda f: (f.position, f.name)))
        return cls(ordered, {f.name: f for f in ordered}, version)

    @property
    def active(self) -> tuple[ProfileField, ...]:
        return tuple(f for f in self.fields if not f.retired)

    def get(self, name: str) -> ProfileField | None:
        """The active field called `name`, or None."""
        found = self.by_name.get(name)
        return None if found is None or found.retired else found

    def names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.active)

    def visible(
        self, values: Mapping[str, Any], *, super_user: bool, is_self: bool, roles: Iterable[str] = ()
    ) -> dict[str, Any]:
        """The fields a caller may view, each with its value as the wire shows it (None: not set)."""
        return {
            f.name: wire_value(f, values.get(f.name))
            for f in self.active
            if may(f.view, super_user=super_user, is_self=is_self, roles=roles)
        }


def may(allowed: Iterable[str], *, super_user: bool, is_self: bool, roles: Iterable[str] = ()) -> bool:
    """Whether a caller is among a field's `view` or `edit` set: super-users always; `self` is the person
    the record is about; role names match the caller's roles (SPEC §17, once callers hold them)."""
    if super_user:
        return True
    allowed = set(allowed)
    return (is_self and SELF in allowed) or bool(allowed.intersection(roles))


# --- values --------------------------------------------------------------------------------------------


def wire_value(f: ProfileField, value: Any) -> Any:
    """A stored value as JSON shows it (a date as YYYY-MM-DD, choices as a list)."""
    if value is None:
        return None
    if f.type == "date":
        return value.isoformat()
    if f.type == "choices":
        return list(value)
    return value


def check_field_value(f: ProfileField, value: Any) -> tuple[Any, str | None]:
    """Validate one value for field `f`: (value to store, None) or (None, message)."""
    if value is None:
        if f.required:
            return None, _t("is required")
        return (None, None) if f.nullable else (None, _t("may not be empty (null)"))
    checker = _CHECKERS[f.type]
    return checker(f, value)


def _text(f: ProfileField, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return None, _t("must be a string")
    problem = text_problem(value)
    if problem:
        return None, problem
    if len(value) > TEXT_VALUE_MAX:
        return None, at_most_characters(TEXT_VALUE_MAX)
    if f.max_length is not None and len(value) > f.max_length:
        return None, at_most_characters(f.max_length)
    if f.min_length is not None and len(value) < f.min_length:
        return None, at_least_characters(f.min_length)
    if f.regex:
        try:
            matched = _compiled(f.regex).fullmatch(value, timeout=REGEX_TIMEOUT)
        except TimeoutError:
            return None, _t("could not be checked against the field's pattern in time (the pattern is too slow)")
        if not matched:
            return None, f.regex_message or _t("is not in the expected form")
    return value, None


def _email(f: ProfileField, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return None, _t("must be a string")
    if len(value) > EMAIL_MAX:
        return None, at_most_characters(EMAIL_MAX)
    if text_problem(value) or not is_valid_email(value):
        return None, _t("must be a valid email address (to remove it, clear the field)")
    return value, None


def _url(f: ProfileField, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return None, _t("must be a string")
    if len(value) > URL_MAX:
        return None, at_most_characters(URL_MAX)
    if text_problem(value) or any(char.isspace() for char in value):
        return None, _t("must be an http or https address")
    try:
        parts = urlsplit(value)
    except ValueError:
        return None, _t("must be an http or https address")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None, _t("must be an http or https address")
    return value, None


def _phone(f: ProfileField, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return None, _t("must be a string")
    if len(value) > PHONE_MAX or text_problem(value):
        return None, _t("must be a phone number in international form, e.g. %(example)s", example="+44 20 7946 0958")
    import phonenumbers  # here, not at import: its metadata is loaded only where phones are checked

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return None, _t("must be a phone number in international form, e.g. %(example)s", example="+44 20 7946 0958")
    if not phonenumbers.is_valid_number(number):
        return None, _t("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


INTEGER_LIMIT = 2**63 - 1  # what a BIGINT holds on both databases


def _integer(f: ProfileField, value: Any) -> tuple[Any, str | None]:
    if type(value) is not int:
        return None, _t("must be a whole number")
    if not -INTEGER_LIMIT <= value <= INTEGER_LIMIT:
        return None, _t("is too large")
    if f.minimum is not None and value < f.minimum:
        return None, _t("must be at least %(limit)s", limit=f.minimum)
    if f.maximum is not None and value > f.maximum:
        return None, _t("must be at most %(limit)s", limit=f.maximum)
    return value, None


def _bool(f: ProfileField, value: Any) -> tuple[Any, str | None]:
    return (value, None) if type(value) is bool else (None, _t("must be true or false"))


def _date(f: ProfileField, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, datetime):
        return None, _t("must be a date (YYYY-MM-DD), without a time")
    if isinstance(value, date):
        return value, None
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value), None
        except ValueError:
            pass
    return None, _t("must be a date (YYYY-MM-DD)")


def _choice(f: ProfileField, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str) and value in f.option_values:
        return value, None
    return None, _t("must be one of: %(choices)s", choices=", ".join(f.option_values))


def _choices(f: ProfileField, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        return None, _t("must be a list of options")
    if len(value) > CHOICES_MAX:
        return None, _t("must hold at most %(num)d options", num=CHOICES_MAX)
    unknown = [item for item in value if item not in f.option_values]
    if unknown:
        return None, _t("must hold only these options: %(choices)s", choices=", ".join(f.option_values))
    chosen = set(value)
    return [option for option in f.option_values if option in chosen], None  # the definition's order, once each


_CHECKERS = {
    "text": _text,
    "email": _email,
    "url": _url,
    "phone": _phone,
    "integer": _integer,
    "bool": _bool,
    "date": _date,
    "choice": _choice,
    "choices": _choices,
}

_REGEX_CACHE: dict[str, Any] = {}


def _compiled(pattern: str) -> Any:
    """`pattern` compiled by the `regex` package (Python's `re` syntax; matching takes a timeout)."""
    if pattern not in _REGEX_CACHE:
        _REGEX_CACHE[pattern] = regex_package.compile(pattern)
    return _REGEX_CACHE[pattern]


# Values that make a backtracking pattern such as (a|aa)+$ or (\w+\s?)+$ take exponential time: a run of one
# character and then one that breaks the match.
_SLOW_PROBES = tuple(char * 32 + end for char in "a0 x.-_@" for end in ("!", "\u0000"))


def _too_slow(pattern: str) -> bool:
    """Whether `pattern` times out on one of the probes (checked when a definition sets or changes it)."""
    compiled = _compiled(pattern)
    try:
        for probe in _SLOW_PROBES:
            compiled.fullmatch(probe, timeout=REGEX_TIMEOUT)
            compiled.search(probe, timeout=REGEX_TIMEOUT)
    except TimeoutError:
        return True
    return False


def check_profile_values(
    schema: ProfileSchema, data: Mapping[str, Any], errors: FieldErrors, *, prefix: str = ""
) -> dict[str, Any]:
    """Validate every profile value in `data` (keys already known to be active fields); collect problems."""
    clean: dict[str, Any] = {}
    for name, value in data.items():
        f = schema.by_name[name]
        stored, message = check_field_value(f, value)
        if message:
            errors.add(prefix + name, message)
        else:
            clean[name] = stored
    return clean


# --- storage -------------------------------------------------------------------------------------------

VALUE_COLUMN = {
    "text": "text_value",
    "email": "text_value",
    "url": "text_value",
    "phone": "text_value",
    "choice": "text_value",
    "integer": "int_value",
    "bool": "bool_value",
    "date": "date_value",
    "choices": "json_value",
}
VALUE_COLUMNS = ("text_value", "int_value", "bool_value", "date_value", "json_value")
KEY_MAX = 255  # the search and unique keys: a prefix of the folded value (longer text still compares whole)


def search_key(f: ProfileField, value: Any) -> str | None:
    """What exact search compares: text folded as the built-ins' search columns are; others canonical."""
    if value is None:
        return None
    if f.type in ("text", "email", "url", "choice"):
        return fold(value)[:KEY_MAX]
    if f.type == "phone":
        return value
    if f.type == "bool":
        return "true" if value else "false"
    if f.type == "integer":
        return _sortable_integer(value)
    if f.type == "date":
        return value.isoformat()
    joined = "|" + "|".join(value) + "|"  # choices: searched by membership (LIKE '%|option|%')
    return joined if len(joined) <= KEY_MAX else None


def _sortable_integer(value: int) -> str:
    """An integer as a string that sorts as the number does (sign, then 19 digits, negatives complemented)."""
    if value >= 0:
        return f"p{value:019d}"
    return f"n{INTEGER_LIMIT + value:019d}"


def value_columns(f: ProfileField, value: Any) -> dict[str, Any]:
    """The columns one value writes: its typed column, its search key and (for a unique field) its unique key."""
    columns: dict[str, Any] = dict.fromkeys(VALUE_COLUMNS)
    columns[VALUE_COLUMN[f.type]] = value
    key = search_key(f, value)
    columns["search_key"] = key
    columns["unique_key"] = key if f.unique else None
    return columns


def stored_value(f: ProfileField, row: Any) -> Any:
    """The value a stored row holds for field `f`."""
    value = row[VALUE_COLUMN[f.type]]
    if f.type == "date" and isinstance(value, datetime):
        return value.date()
    if f.type == "choices" and value is not None:
        return list(value)
    return value


# --- definitions ---------------------------------------------------------------------------------------


def check_definition(
    data: Mapping[str, Any],
    *,
    current: ProfileField | None,
    schema: ProfileSchema,
    role_names: Iterable[str] | None = None,
) -> dict[str, Any]:
    """A definition's values checked (every problem at once, each naming its key): the clean definition,
    with the current one's values for the keys `data` does not carry. Raises SSOError (E008002, 422).
    `role_names` (the roles that exist): a view or edit set may name no other role, except one the current
    definition already names (a role deleted since does not block every other change of the field)."""
    from .errors import Kind

    errors = FieldErrors()
    for key in data:
        if key not in DEFINITION_KEYS:
            errors.add(str(key)[:128], _t("is not a key of a profile field's definition"))
    errors.raise_if_any(Kind.invalid)
    merged = {**(current.definition() if current else _DEFAULTS), **data}
    clean: dict[str, Any] = {}

    name = merged.get("name")
    if current is not None and name != current.name:
        errors.add("name", _t("cannot be changed (define a new field instead)"))
    elif not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        errors.add("name", _t("must start with a lowercase letter and hold only a-z, 0-9 and _ (at most 63)"))
    elif name in RESERVED_NAMES:
        errors.add("name", _t("is the name of a built-in attribute or a key of the API"))
    elif current is None and name in schema.by_name:
        errors.add("name", _t("is already the name of a profile field"))
    else:
        clean["name"] = name
    if current is None and len(schema.fields) >= MAX_FIELDS:
        errors.add("name", _t("no more than %(num)d profile fields can be defined", num=MAX_FIELDS))

    for key, limit, required in (
        ("label", LABEL_MAX, True),
        ("description", DESCRIPTION_MAX, False),
        ("group", GROUP_MAX, False),
    ):
        value = merged.get(key)
        value = "" if value is None and not required else value
        if not isinstance(value, str) or text_problem(value) or len(value) > limit or (required and not value.strip()):
            errors.add(
                key,
                text_of_at_most_characters(limit, not_empty=True) if required else text_of_at_most_characters(limit),
            )
        else:
            clean[key] = value

    clean["translations"] = check_translations(merged.get("translations"), errors)

    kind = merged.get("type")
    if kind not in TYPES:
        errors.add("type", _t("must be one of: %(choices)s", choices=", ".join(TYPES)))
    else:
        clean["type"] = kind

    for key in FLAGS:
        value = merged.get(key, False)
        if type(value) is not bool:
            errors.add(key, _t("must be true or false"))
        else:
            clean[key] = value

    for key in ("min_length", "max_length"):
        value = merged.get(key)
        if value is not None and (type(value) is not int or not 0 <= value <= TEXT_VALUE_MAX):
            errors.add(key, _t("must be a whole number from 0 to %(num)d, or empty", num=TEXT_VALUE_MAX))
        else:
            clean[key] = value if kind == "text" else None
    if (clean.get("min_length") or 0) > (clean.get("max_length") or TEXT_VALUE_MAX):
        errors.add("min_length", _t("must not be more than the maximum length"))

    for key in ("minimum", "maximum"):
        value = merged.get(key)
        if value is not None and (type(value) is not int or abs(value) > INTEGER_LIMIT):
            errors.add(key, _t("must be a whole number, or empty"))
        else:
            clean[key] = value if kind == "integer" else None
    if None not in (clean.get("minimum"), clean.get("maximum")) and clean["minimum"] > clean["maximum"]:
        errors.add("minimum", _t("must not be more than the maximum"))

    regex = merged.get("regex") or None
    if regex is not None:
        if not isinstance(regex, str) or len(regex) > REGEX_MAX or text_problem(regex):
            errors.add("regex", _t("must be a regular expression of at most %(num)d characters", num=REGEX_MAX))
            regex = None
        else:
            try:
                re.compile(regex)  # Python's syntax, as documented ...
                regex_package.compile(regex)  # ... and what the values are matched with
            except (re.error, regex_package.error) as e:
                errors.add("regex", _t("is not a valid regular expression (%(reason)s)", reason=str(e)))
                regex = None
            else:
                if (current is None or regex != current.regex) and _too_slow(regex):
                    errors.add("regex", _t("is too slow to check (it backtracks catastrophically); simplify it"))
                    regex = None
    clean["regex"] = regex if kind == "text" else None
    message = merged.get("regex_message") or None
    if message is not None and (not isinstance(message, str) or len(message) > LABEL_MAX or text_problem(message)):
        errors.add("regex_message", text_of_at_most_characters(LABEL_MAX))
    else:
        clean["regex_message"] = message if clean["regex"] else None

    options = _check_options(merged.get("options"), kind, errors)
    clean["options"] = options

    for key in ("view", "edit"):
        value = merged.get(key)
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(item, str) and (item == SELF or NAME_PATTERN.fullmatch(item)) for item in value
        ):
            errors.add(key, _t("must be a list of 'self' and role names"))
            continue
        known = {SELF, *(role_names or ()), *(getattr(current, key) if current else ())}
        unknown = [item for item in dict.fromkeys(value) if item not in known]
        if role_names is not None and unknown:
            errors.add(key, _t("names no role: %(names)s", names=", ".join(unknown)))
        else:
            clean[key] = list(dict.fromkeys(value))

    position = merged.get("position", 0)
    if type(position) is not int or not 0 <= position <= 1_000_000:
        errors.add("position", _t("must be a whole number from 0 to %(num)d", num=1_000_000))
    else:
        clean["position"] = position

    scim_path = merged.get("scim_path") or None
    if scim_path is not None and (
        not isinstance(scim_path, str) or len(scim_path) > SCIM_PATH_MAX or text_problem(scim_path)
    ):
        errors.add("scim_path", f"must be text of at most {SCIM_PATH_MAX} characters")
    elif scim_path is not None:
        problem = scim_path_problem(scim_path, kind, clean.get("name", name), schema)
        if problem:
            errors.add("scim_path", problem)
        else:
            clean["scim_path"] = canonical_scim_path(scim_path)
    else:
        clean["scim_path"] = None

    if clean.get("required") and clean.get("nullable"):
        clean["nullable"] = False  # a required field holds a value: it cannot be cleared
    if clean.get("unique") and kind in ("bool", "choices"):
        errors.add("unique", _t("a %(type)s field cannot be unique", type=kind))
    errors.raise_if_any(Kind.invalid)
    return clean


def split_scim_path(path: str) -> tuple[str, str] | None:
    """(schema URN, attribute) of a `scim_path` of the enterprise extension or our own one (attribute as
    written, the URN as we write it), or None for any other path."""
    for urn in (SCIM_ENTERPRISE, SCIM_PROFILE):
        if path[: len(urn) + 1].lower() == urn.lower() + ":":
            attribute = path[len(urn) + 1 :]
            if urn == SCIM_ENTERPRISE:
                known = {name.lower(): name for name in SCIM_ENTERPRISE_ATTRIBUTES}
                return (urn, known[attribute.lower()]) if attribute.lower() in known else None
            return (urn, attribute) if SCIM_ATTRIBUTE.fullmatch(attribute) else None
    return None


def canonical_scim_path(path: str) -> str:
    """A valid `scim_path` as it is stored: the URN and an enterprise attribute written as RFC 7643 writes them."""
    parts = split_scim_path(path)
    return path if parts is None else f"{parts[0]}:{parts[1]}"


def scim_path_problem(path: str, kind: Any, name: Any, schema: ProfileSchema) -> str | None:
    """Why `path` cannot be the `scim_path` of field `name` of type `kind` (a message naming the field, so an
    import of many definitions says which), or None."""
    field_name = f"field {str(name)[:64]!r}" if isinstance(name, str) else "this field"
    parts = split_scim_path(path)
    if parts is None:
        enterprise = ", ".join(SCIM_ENTERPRISE_ATTRIBUTES)
        return (
            f"{path[:96]!r} ({field_name}) is no SCIM attribute this service maps: it must be "
            f"{SCIM_ENTERPRISE}:ATTRIBUTE (one of {enterprise}) or {SCIM_PROFILE}:NAME "
            "(NAME: a letter, then letters, digits, - or _)"
        )
    if parts[0] == SCIM_ENTERPRISE and kind not in STRING_TYPES:
        return f"the enterprise extension's {parts[1]} is a string: {field_name} must be of type " + ", ".join(
            STRING_TYPES
        )
    canonical = f"{parts[0]}:{parts[1]}".lower()
    for other in schema.fields:
        if other.name != name and other.scim_path and other.scim_path.lower() == canonical:
            return f"is already the SCIM path of the profile field {other.name!r} ({field_name} needs another)"
    return None


def _check_options(value: Any, kind: Any, errors: FieldErrors) -> list[dict[str, str]]:
    if kind not in ("choice", "choices"):
        return []
    if not isinstance(value, (list, tuple)) or not value:
        errors.add("options", _t("must list at least one option"))
        return []
    if len(value) > CHOICES_MAX:
        errors.add("options", _t("must list at most %(num)d options", num=CHOICES_MAX))
        return []
    options: list[dict[str, str]] = []
    for item in value:
        if isinstance(item, str):
            item = {"value": item, "label": item}
        if not isinstance(item, Mapping) or set(item) - {"value", "label"}:
            errors.add("options", _t("each option must be a value and a label"))
            return []
        option_value, label = item.get("value"), item.get("label") or item.get("value")
        if not all(
            isinstance(v, str) and v and len(v) <= OPTION_MAX and not text_problem(v) for v in (option_value, label)
        ):
            errors.add(
                "options", _t("each option's value and label must be text of 1 to %(num)d characters", num=OPTION_MAX)
            )
            return []
        options.append({"value": str(option_value), "label": str(label)})
    if len({o["value"] for o in options}) != len(options):
        errors.add("options", _t("each option's value must be different"))
        return []
    return options


_DEFAULTS: dict[str, Any] = {
    "description": "",
    "translations": None,
    "min_length": None,
    "max_length": None,
    "regex": None,
    "regex_message": None,
    "minimum": None,
    "maximum": None,
    "options": [],
    "nullable": True,
    "required": False,
    "unique": False,
    "view": [SELF],
    "edit": [SELF],
    "searchable": False,
    "list_column": False,
    "sensitive": False,
    "group": "",
    "position": 0,
    "scim_path": None,
    "retired": False,
}


def field_from_row(row: Any) -> ProfileField:
    """A stored definition row as a ProfileField."""
    translations = row.get("translations") or None
    return ProfileField(
        id=row["id"],
        name=row["name"],
        label=Localized(row["label"], _translated(translations, "label")),
        type=row["type"],
        description=Localized(row["description"] or "", _translated(translations, "description")),
        translations=translations,
        min_length=row["min_length"],
        max_length=row["max_length"],
        regex=row["regex"],
        regex_message=row["regex_message"],
        minimum=row["minimum"],
        maximum=row["maximum"],
        options=tuple((o["value"], o["label"]) for o in row["options"] or ()),
        nullable=row["nullable"],
        required=row["required"],
        unique=row["is_unique"],
        view=tuple(row["view"] or ()),
        edit=tuple(row["edit"] or ()),
        searchable=row["searchable"],
        list_column=row["list_column"],
        sensitive=row["sensitive"],
        group=row["field_group"] or "",
        position=row["position"],
        scim_path=row["scim_path"],
        retired=row["retired"],
        version=row["version"],
    )


def definition_columns(clean: Mapping[str, Any]) -> dict[str, Any]:
    """A clean definition as the columns of sso_profile_field."""
    columns = {key: clean[key] for key in DEFINITION_KEYS if key in clean}
    columns["is_unique"] = columns.pop("unique")
    columns["field_group"] = columns.pop("group")
    return columns


# --- translations of the label and description (SPEC §16: "what people read (per language, §22)") ------------

TRANSLATED_LOCALES = tuple(locale for locale in LOCALES if locale != SOURCE_LOCALE)
TRANSLATED_KEYS = {"label": LABEL_MAX, "description": DESCRIPTION_MAX}


def check_translations(value: Any, errors: FieldErrors) -> dict[str, dict[str, str]] | None:
    """A definition's `translations` checked ({"de": {"label": ..., "description": ...}, ...}; each problem
    named `translations.LOCALE.KEY`): the clean mapping without empty texts, or None when nothing is left."""
    if value is None:
        return None
    locales = ", ".join(TRANSLATED_LOCALES)
    if not isinstance(value, Mapping):
        errors.add("translations", _t("must map languages (%(locales)s) to a label and a description", locales=locales))
        return None
    clean: dict[str, dict[str, str]] = {}
    for locale, texts in value.items():
        where = f"translations.{str(locale)[:16]}"
        if locale not in TRANSLATED_LOCALES:
            errors.add(where, _t("is not a language to translate into (%(locales)s)", locales=locales))
            continue
        if not isinstance(texts, Mapping):
            errors.add(where, _t("must map languages (%(locales)s) to a label and a description", locales=locales))
            continue
        for key, text in texts.items():
            limit = TRANSLATED_KEYS.get(key)
            if limit is None:
                errors.add(f"{where}.{str(key)[:32]}", _t("only a label and a description are translated"))
            elif text is None or text == "":
                continue  # not translated: the source text is shown
            elif not isinstance(text, str) or text_problem(text) or len(text) > limit or not text.strip():
                errors.add(f"{where}.{key}", text_of_at_most_characters(limit))
            else:
                clean.setdefault(locale, {})[key] = text
    return {locale: clean[locale] for locale in TRANSLATED_LOCALES if locale in clean} or None


def _translated(translations: Mapping[str, Mapping[str, str]] | None, key: str) -> dict[str, str]:
    """locale → the translation of `key` ("label" or "description") where there is one."""
    return {locale: texts[key] for locale, texts in (translations or {}).items() if texts.get(key)}
