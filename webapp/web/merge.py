"""Only-what-changed updates: compare a form with its originals and with what is stored now.

Values are compared in one canonical form per attribute, so an untouched field never looks changed
(datetimes to the second: a datetime-local box shows no microseconds, and may drop ":00" seconds).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..sso.attributes import ATTRIBUTES, Attribute, parse_datetime, utc_naive


def canonical(attr: Attribute, value: Any) -> Any:
    """`value` as compared for `attr`: datetimes naive UTC to the second; unparseable text stays text."""
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
    attr = ATTRIBUTES[name]
    left, right = canonical(attr, left), canonical(attr, right)
    if type(left) is not type(right):
        return False
    return left == right


@dataclass
class MergePlan:
    """What to send after someone else saved: mergeable changes, and per-field conflicts (mine, theirs)."""

    changes: dict[str, Any] = field(default_factory=dict)
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    already_done: list[str] = field(default_factory=list)
    changed_by_others: list[str] = field(default_factory=list)


def plan_merge(changes: Mapping[str, Any], originals: Mapping[str, Any], current: Mapping[str, Any],
               names: tuple[str, ...]) -> MergePlan:
    """Merge my `changes` (made against `originals`) onto `current`.

    For a field I changed: still as I found it → send mine; already what I want → nothing to send;
    anything else → a conflict. Fields I did not change are not sent, whatever happened to them.
    """
    plan = MergePlan()
    for name, mine in changes.items():
        theirs = current[name]
        if same(name, theirs, originals[name]):
            plan.changes[name] = mine
        elif same(name, theirs, mine):
            plan.already_done.append(name)
        else:
            plan.conflicts[name] = (mine, theirs)
    plan.changed_by_others = [name for name in names
                              if name not in changes and not same(name, current[name], originals[name])]
    return plan
