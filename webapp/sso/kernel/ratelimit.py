"""Per-user rate limits (SPEC §14, Zato's `is_rate_limit_active` / `rate_limit_def`).

A definition is lines `APP=N/UNIT` (`*` = any app; UNIT `s`, `m`, `h` or `d`); the first line naming
the caller's app (or `*`) decides. Each user's count lives in the database (`sso_rate_hit`), one row
per user and rule, so every worker and node counts the same requests: a fixed window, bumped by
one atomic upsert."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case

from ...db import writing
from .attributes import KEY_MAX
from .context import Context
from .errors import FieldErrors, RateLimited
from .tables import rate_hits
from .texts import _t, text_of_at_most_characters

RATE_LIMIT_KEYS = ("is_rate_limit_active", "rate_limit_def")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEF_MAX = 4096
_LINE = re.compile(r"\s*([^=\s]+)\s*=\s*([0-9]{1,9})\s*/\s*([smhd])\s*")


@dataclass(frozen=True)
class Rule:
    """One line of a definition: at most `limit` requests per `unit` for `app` (`*` = any)."""

    app: str
    limit: int
    unit: str

    @property
    def seconds(self) -> int:
        return UNIT_SECONDS[self.unit]


def _upsert_insert(dialect: str):
    """The dialect's INSERT with ON CONFLICT; imported on use, so a SQLite worker never loads the
    PostgreSQL dialect (about 2 MiB)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def parse(definition: str) -> list[Rule]:
    """The rules of a definition, in order; raises ValueError naming the first bad line."""
    rules = []
    for number, line in enumerate(definition.splitlines(), 1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None or int(match.group(2)) < 1:
            raise ValueError(f"line {number} must read APP=N/UNIT (N at least 1, UNIT s, m, h or d), e.g. *=100/m")
        rules.append(Rule(match.group(1), int(match.group(2)), match.group(3)))
    return rules


def rule_for(definition: str | None, current_app: Any) -> Rule | None:
    """The first rule that applies to `current_app`, or None (no limit)."""
    try:
        rules = parse(definition or "")
    except ValueError:
        return None  # only valid definitions are stored; an odd legacy one limits nothing
    return next((rule for rule in rules if rule.app in ("*", current_app)), None)


def check_rate_limit_input(data: Mapping[str, Any], errors: FieldErrors) -> dict[str, Any]:
    """The rate-limit columns given in `data` (create, import), validated; problems go to `errors`."""
    columns: dict[str, Any] = {}
    if "is_rate_limit_active" in data:
        if type(data["is_rate_limit_active"]) is not bool:
            errors.add("is_rate_limit_active", _t("must be true or false"))
        else:
            columns["is_rate_limit_active"] = data["is_rate_limit_active"]
    if "rate_limit_def" in data:
        value = data["rate_limit_def"]
        if value is None:
            columns["rate_limit_def"] = None
        elif not isinstance(value, str) or len(value) > DEF_MAX:
            errors.add("rate_limit_def", text_of_at_most_characters(DEF_MAX))
        else:
            try:
                parse(value)
            except ValueError as e:
                errors.add("rate_limit_def", str(e))
            else:
                columns["rate_limit_def"] = value
    return columns


def enforce(ctx: Context, user: Mapping[Any, Any], current_app: Any) -> None:
    """Count one request of `user` to `current_app`; RateLimited (429) when over the limit."""
    if not user.get("is_rate_limit_active"):
        return
    rule = rule_for(user.get("rate_limit_def"), current_app)
    if rule is None:
        return
    enforce_rule(ctx, f"{user['user_id']}|{rule.app}|{rule.limit}/{rule.unit}", rule)


def enforce_rule(ctx: Context, key: str, rule: Rule) -> None:
    """Count one request under `key`; RateLimited (429) when `rule`'s window is full."""
    key = key[:KEY_MAX]
    now = ctx.clock()
    start = _window_start(now, rule.seconds)
    with writing(ctx.engine) as conn:
        count = _bump(conn, key, start)
    if count > rule.limit:
        retry = (start + timedelta(seconds=rule.seconds) - now).total_seconds()
        raise RateLimited(int(retry) + (0 if retry == int(retry) else 1))


# Leased counting (a SCIM client's rate, SPEC §21): a worker takes a block of its window's allowance in one upsert
# and spends it without asking the database again, so a directory's steady traffic costs one upsert in
# LEASE_SHARE requests instead of one each. What every worker and node takes still adds up in the one row:
# together they never serve more than the limit in a window (a block left unspent when its window ends is
# simply not served: the limit errs low, by less than a block per worker).
LEASE_SHARE = 100  # a block is a hundredth of the limit (6000/m: 60 requests), at least 1
LEASE_MAX = 1000
_leases: dict[tuple[int, str], tuple[datetime, int]] = {}  # (engine, key) -> (window start, requests left)
_leases_lock = threading.Lock()


def lease_size(rule: Rule) -> int:
    return max(1, min(rule.limit // LEASE_SHARE, LEASE_MAX))


def enforce_leased(ctx: Context, key: str, rule: Rule) -> None:
    """Count one request under `key` against `rule`, from this worker's lease of the window's allowance
    (a new lease, one upsert, when it is spent or its window ended); RateLimited (429) when the window's
    allowance is all taken."""
    key = key[:KEY_MAX]
    now = ctx.clock()
    start = _window_start(now, rule.seconds)
    slot = (id(ctx.engine), key)
    with _leases_lock:
        held = _leases.get(slot)
        if held is not None and held[0] == start and held[1] > 0:
            _leases[slot] = (start, held[1] - 1)
            return
    size = lease_size(rule)
    with writing(ctx.engine) as conn:
        count = _bump(conn, key, start, size)
    granted = min(size, rule.limit - (count - size))
    if granted <= 0:
        retry = (start + timedelta(seconds=rule.seconds) - now).total_seconds()
        raise RateLimited(int(retry) + (0 if retry == int(retry) else 1))
    with _leases_lock:
        _leases[slot] = (start, granted - 1)


def _window_start(now: datetime, seconds: int) -> datetime:
    epoch = datetime(1970, 1, 1)
    elapsed = int((now - epoch).total_seconds())
    return epoch + timedelta(seconds=elapsed - elapsed % seconds)


def _bump(conn: Connection, key: str, start: datetime, by: int = 1) -> int:
    """One atomic upsert: a new window starts at `by`, the current one goes up by `by`; returns the count."""
    insert = _upsert_insert(conn.dialect.name)
    statement = insert(rate_hits).values(key=key, window_start=start, count=by)
    same_window = rate_hits.c.window_start == statement.excluded.window_start
    upsert = statement.on_conflict_do_update(
        index_elements=[rate_hits.c.key],
        set_={
            "count": case((same_window, rate_hits.c.count + statement.excluded.count), else_=statement.excluded.count),
            "window_start": statement.excluded.window_start,
        },
    ).returning(rate_hits.c.count)
    return conn.execute(upsert).scalar_one()
