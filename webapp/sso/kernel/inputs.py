"""What every call checks of its input before anything else: a mapping, only known keys, the required ones."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from .attributes import READ_ONLY
from .errors import Code, FieldErrors, Kind, SSOError
from .texts import _t


def unknown_key_message(key: Any) -> str:
    """Why `key` cannot be in an update's data."""
    if key in ("password", "old_password", "new_password"):
        return "passwords change only through the change-password call"
    if key in READ_ONLY:
        return "is read-only"
    return "is not an attribute that can be updated"


def require_mapping(data: Any) -> Mapping:
    """E008003 unless `data` is a non-empty mapping."""
    if not isinstance(data, Mapping) or not data:
        raise SSOError.single(Kind.invalid, Code.no_data, "data", _t("no attributes to update were given"))
    return data


def reject_unknown(
    data: Mapping, allowed: Collection[str], describe: Callable[[Any], str] = unknown_key_message
) -> None:
    """E008002 naming every key of `data` that is not in `allowed`."""
    errors = FieldErrors()
    for key in data:
        if not isinstance(key, str) or key not in allowed:
            errors.add(str(key)[:128], describe(key))
    errors.raise_if_any(Kind.invalid)


def require_input(data: Mapping, *names: str) -> None:
    """400 naming every required input missing from `data`."""
    missing = {name: "is required" for name in names if name not in data}
    if missing:
        raise SSOError(Kind.malformed, [Code.invalid_input], missing)
