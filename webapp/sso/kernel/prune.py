"""Retention: delete what has expired (sessions, failed-login marks, audit records past
`SSO_AUDIT_RETENTION_DAYS`), in small batches, safe to run from cron while the service runs.

Each area adds its table as one `Rule` in `RULES`: a table, its time column, and when a row of it has
expired. Every batch is its own short write transaction, and the DELETE repeats the time condition on
the rows themselves, so a row renewed between the batch's SELECT and its DELETE (a session extended by
its user, on PostgreSQL's READ COMMITTED) is re-checked and kept: nothing live is removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from ...db import writing
from .context import Context
from .tables import audit, email_tokens, login_failures, mail_requests, outbox, sessions

BATCH = 500

# When a row expires: given the settings and now, the cutoff before which rows go (None: keep all).
Cutoff = Callable[[dict[str, Any], datetime], datetime | None]


@dataclass(frozen=True)
class Rule:
    """Rows of `table` whose `time_column` is before the cutoff are expired."""

    name: str
    table: Any  # a Table; the models module types its tables as FromClause, which delete() does not take
    time_column: str
    cutoff: Cutoff
    key: str = "id"
    only: Callable[[Any], Any] | None = None  # a further condition on the table's rows (a WHERE clause)


def _audit_cutoff(settings: dict[str, Any], now: datetime) -> datetime | None:
    days = settings.get("SSO_AUDIT_RETENTION_DAYS", 0)
    return now - timedelta(days=days) if days > 0 else None


RULES: list[Rule] = [
    Rule("expired sessions", sessions, "expiration_time", lambda settings, now: now),
    Rule(
        "login-failure marks",
        login_failures,
        "time",
        lambda settings, now: now - timedelta(seconds=settings["SSO_LOGIN_FAILURE_WINDOW"]),
        only=lambda table: table.c.key.not_like("k:%"),
    ),
    # `k:` marks remember an address a user signed in from (the throttle spares it the per-username delay).
    Rule(
        "known sign-in addresses",
        login_failures,
        "time",
        lambda settings, now: now - timedelta(days=settings["SSO_LOGIN_KNOWN_ADDRESS_DAYS"]),
        only=lambda table: table.c.key.like("k:%"),
    ),
    Rule("audit records", audit, "time", _audit_cutoff),
    # A reset key may be used up to 30 minutes after its token expired; a day later nothing can use it.
    Rule("email tokens", email_tokens, "expiration_time", lambda settings, now: now - timedelta(days=1)),
    Rule(
        "mail-request marks",
        mail_requests,
        "time",
        lambda settings, now: now - timedelta(seconds=settings["SSO_PASSWORD_RESET_WINDOW"]),
    ),
    # Sent messages (their bodies already emptied) stay a while for the console; queued and failed ones stay.
    Rule(
        "sent messages",
        outbox,
        "sent_time",
        lambda settings, now: now - timedelta(days=settings.get("SSO_OUTBOX_KEEP_DAYS", 7)),
        only=lambda table: table.c.status == "sent",
    ),
]


def prune_rule(ctx: Context, rule: Rule, now: datetime, batch: int = BATCH) -> int:
    """Delete `rule`'s expired rows in batches; returns how many went."""
    cutoff = rule.cutoff(ctx.settings, now)
    if cutoff is None:
        return 0
    table = rule.table
    expired = table.c[rule.time_column] < cutoff
    if rule.only is not None:
        expired = expired & rule.only(table)
    removed = 0
    while True:
        with writing(ctx.engine) as conn:
            ids = select(table.c[rule.key]).where(expired).order_by(table.c[rule.key]).limit(batch)
            result = conn.execute(delete(table).where(expired, table.c[rule.key].in_(ids.scalar_subquery())))
        removed += result.rowcount
        if result.rowcount < batch:
            return removed


def prune(ctx: Context, rules: list[Rule] | None = None, batch: int = BATCH) -> dict[str, int]:
    """Apply every rule once; returns the number of rows removed per rule name."""
    now = ctx.clock()
    return {rule.name: prune_rule(ctx, rule, now, batch) for rule in (RULES if rules is None else rules)}
