"""Attribute values as the form compares and carries them.

Values are compared in one canonical form per attribute, so an untouched field never looks changed
(datetimes to the second: a datetime-local box shows no microseconds, and may drop ":00" seconds).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from ...sso.kernel.attributes import Attribute, parse_datetime, utc_naive
from ..field_table import attribute


class _Missing:
    """Marks a value the form did not carry (not the same as None, which is NULL)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def canonical(attr: Attribute, value: Any) -> Any:
    """`value` as compared for `attr`: datetimes naive UTC to the second; a whole number typed in a box as
    the number; unparseable text stays text."""
    if attr.type == "integer" and isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value.strip()):
        return int(value.strip())
    if attr.type != "datetime" or value is None:
        return value
    if isinstance(value, datetime):
        return utc_naive(value).replace(microsecond=0)
    if isinstance(value, str):
        try:
            return parse_datetime(value).replace(microsecond=0)
        except ValueError:
            return value
    return value


def same(name: str, left: Any, right: Any) -> bool:
    """Whether two values of attribute `name` are the same value (None and "" never are)."""
    attr = attribute(name)
    left, right = canonical(attr, left), canonical(attr, right)
    if type(left) is not type(right):
        return False
    return left == right


def encode_value(value: Any) -> str:
    """A canonical value as carried in a hidden field (JSON; datetimes as ISO 8601 to the second)."""
    if isinstance(value, datetime):
        value = seconds_text(value)
    return json.dumps(value)


def decode_value(attr: Attribute, raw: str | None) -> Any:
    """The canonical value a hidden field carries, or MISSING when it is absent or not ours."""
    if raw is None:
        return MISSING
    try:
        value = json.loads(raw)
    except ValueError:
        return MISSING
    if isinstance(value, list) and attr.type == "choices" and all(isinstance(item, str) for item in value):
        return value
    if value is not None and not isinstance(value, (str, bool)) and not (attr.type == "integer" and type(value) is int):
        return MISSING
    return canonical(attr, value)


def box_text(value: Any) -> str:
    """What an input box shows for a canonical value ("" for NULL, which the clear box marks)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return seconds_text(value)
    return str(value)


def seconds_text(moment: datetime) -> str:
    """ISO 8601 to the second with a four-digit year: strftime's %Y writes the year 1 as "1" on glibc, which
    neither a datetime-local box nor our own parser reads back (a stored year-1 expiry made every save fail)."""
    return moment.replace(tzinfo=None, microsecond=0).isoformat()
