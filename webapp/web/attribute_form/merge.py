"""My changes against what someone else saved meanwhile: what can still be sent, and what conflicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .values import same


@dataclass
class MergePlan:
    """What to send after someone else saved: mergeable changes, and per-field conflicts (mine, theirs)."""

    changes: dict[str, Any] = field(default_factory=dict)
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    changed_by_others: list[str] = field(default_factory=list)


def plan_merge(
    changes: Mapping[str, Any], originals: Mapping[str, Any], current: Mapping[str, Any], names: tuple[str, ...]
) -> MergePlan:
    """Merge my `changes` (made against `originals`) onto `current`.

    For a field I changed: still as I found it → send mine; already what I want → nothing to send;
    anything else → a conflict. Fields I did not change are not sent, whatever happened to them.
    """
    plan = MergePlan()
    for name, mine in changes.items():
        theirs = current[name]
        if same(name, theirs, originals[name]):
            plan.changes[name] = mine
        elif not same(name, theirs, mine):
            plan.conflicts[name] = (mine, theirs)
    plan.changed_by_others = [
        name for name in names if name not in changes and not same(name, current[name], originals[name])
    ]
    return plan
