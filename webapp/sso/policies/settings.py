"""The account policies' settings (issue 27, SPEC §19): one row per policy in `sso_policy`, set by a caller holding
`policies.manage`, each change audited old → new (action `policy_change`, target `policy:NAME`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ...db import reading, writing
from ..kernel.audit import change, record
from ..kernel.call import Call
from ..kernel.caller import Caller, authenticate
from ..kernel.context import Context
from ..kernel.errors import Code, FieldErrors, Kind, SSOError
from ..kernel.permissions import POLICIES_MANAGE, require
from ..kernel.tables import policies
from ..kernel.texts import _t

LOCK_INACTIVE = "lock_inactive"  # lock accounts without a sign-in for N days
DELETE_UNCONFIRMED = "delete_unconfirmed"  # delete sign-ups never confirmed after N days
WARN_BEFORE = "warn_before"  # email a warning N days before either
NAMES = (LOCK_INACTIVE, DELETE_UNCONFIRMED, WARN_BEFORE)
ACTIONS = (LOCK_INACTIVE, DELETE_UNCONFIRMED)  # the policies that act on accounts (the warning only writes)
DEFAULT_DAYS = {LOCK_INACTIVE: 90, DELETE_UNCONFIRMED: 30, WARN_BEFORE: 7}
MAX_DAYS = 36500  # a hundred years: more is a typo, and the date arithmetic stays in range


@dataclass(frozen=True)
class Policy:
    """One policy as stored (a policy never set is off, with its default days)."""

    name: str
    enabled: bool
    days: int
    modified_time: datetime | None = None
    modified_by: str | None = None


def load(conn: Connection) -> dict[str, Policy]:
    """Every policy, in NAMES order (those never set: off, default days)."""
    stored = {row.name: row for row in conn.execute(select(policies))}
    found = {}
    for name in NAMES:
        row = stored.get(name)
        found[name] = (
            Policy(name, bool(row.is_enabled), row.days, row.modified_time, row.modified_by)
            if row is not None
            else Policy(name, False, DEFAULT_DAYS[name])
        )
    return found


def check_name(name: Any) -> str:
    """`name` if it names a policy, else E008002 naming `name`."""
    if not isinstance(name, str) or name not in NAMES:
        raise SSOError.single(
            Kind.invalid, Code.invalid_input, "name", _t("must be one of %(choices)s", choices=", ".join(NAMES))
        )
    return name


def check_values(enabled: Any, days: Any) -> tuple[bool, int]:
    """(enabled, days) checked, every problem at once: E008002 naming `enabled` and/or `days` (N ≤ 0 refused)."""
    errors = FieldErrors()
    if not isinstance(enabled, bool):
        errors.add("enabled", _t("must be true or false"))
    if type(days) is not int:
        errors.add("days", _t("must be a whole number of days"))
    elif days <= 0:
        errors.add("days", _t("must be at least 1 day"))
    elif days > MAX_DAYS:
        errors.add("days", _t("must be at most %(num)d days", num=MAX_DAYS))
    errors.raise_if_any(Kind.invalid)
    return enabled, days


def manager(ctx: Context, call: Call) -> Caller:
    """The caller, if they hold `policies.manage` (else E005001 naming the permission)."""
    with reading(ctx.engine) as conn:
        caller = authenticate(ctx, conn, call)
    require(caller, POLICIES_MANAGE)
    return caller


def get_policies(ctx: Context, call: Call) -> dict[str, Policy]:
    """Every policy's settings (policies.manage)."""
    manager(ctx, call)
    with reading(ctx.engine) as conn:
        return load(conn)


def set_policy(ctx: Context, call: Call, name: Any, *, enabled: Any, days: Any) -> Policy:
    """Switch policy `name` on or off and set its days (policies.manage); audited old → new. A call that changes
    nothing writes nothing."""
    name = check_name(name)
    enabled, days = check_values(enabled, days)
    caller = manager(ctx, call)
    now = ctx.clock()
    with writing(ctx.engine) as conn:
        before = load(conn)[name]
        if (before.enabled, before.days) == (enabled, days):
            return before
        values = {"is_enabled": enabled, "days": days, "modified_time": now, "modified_by": caller.user_id}
        if before.modified_time is None:
            conn.execute(insert(policies).values(name=name, **values))
        else:
            conn.execute(update(policies).where(policies.c.name == name).values(**values))
        changes = {}
        if before.enabled != enabled:
            changes["enabled"] = change(before.enabled, enabled)
        if before.days != days:
            changes["days"] = change(before.days, days)
        record(
            conn,
            now=now,
            **call.audit(),
            action="policy_change",
            actor_id=caller.user_id,
            target_id=f"policy:{name}",
            changes=changes,
        )
    return Policy(name, enabled, days, now, caller.user_id)
